#pragma once
/// The platform side of `quant bridge` (docs/contracts/bridge.md): between one
/// MT5 terminal (the Expert Advisor, or `quant replay`) and the Redis hub.
///
/// Inbound (terminal → Redis): tick, book, bar → `md:tick|book|bar1m:<SYM>`;
/// order_ack, fill, positions → `exec:fills`. Every entry carries `type`,
/// `msg` (the line exactly as received) and `recv_ns` (bridge receive time,
/// Unix ns), under an explicit id `<n>-1` from one counter shared by every
/// stream the bridge writes, so a consumer merging them sees the terminal's
/// order. What a reconnecting terminal sends again is dropped: ticks at or
/// before the resume point, bars at or before the last bar, fills by exec_id,
/// acks by (cl_ord_id, exec_type, ord_status, stop_price).
///
/// Outbound (Redis → terminal): consumer group `bridge` on `exec:orders` and
/// on every order stream listed in the set `exec:order-streams` (read at
/// start and every `discover_interval`: one `exec:orders:<name>` per live
/// engine when several split the symbols; each keeps its own ids, so entries
/// are known by stream and id). Entries carry `msg`, an encoded
/// order_new/order_cancel/order_replace/positions request/hb. An order_new is acknowledged (XACK) only once the
/// terminal's order_ack for its cl_ord_id is in Redis; until then it is sent
/// again to every new connection (the EA dedupes by cl_ord_id). Everything
/// else is acknowledged once written to the socket. While `risk:halt` exists,
/// an order_new with purpose `entry` is not forwarded: the bridge publishes a
/// rejected order_ack itself.
///
/// run() sleeps in poll() on the terminal's socket and an eventfd; a reader
/// thread blocks in XREADGROUP on exec:orders and wakes it, so an order is
/// forwarded as soon as it is in Redis. Everything else (socket, producer,
/// XACK) happens on run()'s thread. Not thread-safe; stop it through the flag
/// given to run().

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "monitor/metrics.h"
#include "stream/stream.h"

namespace quant::execution::bridge {

struct BridgeServiceConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 5555;  ///< 0 = any free port (see BridgeService::port())
  stream::Endpoint redis;
  std::string consumer = "bridge-1";                   ///< consumer name within the group `bridge`
  std::size_t maxlen = 1'000'000;                      ///< XADD MAXLEN ~ per stream
  std::chrono::milliseconds heartbeat_interval{1000};  ///< hb to the terminal when nothing else was sent
  std::chrono::milliseconds peer_timeout{5000};        ///< silence after which the terminal is dropped
  std::chrono::milliseconds hello_timeout{5000};       ///< wait for the terminal's hello after connecting
  std::chrono::milliseconds halt_refresh{200};         ///< `risk:halt` is read at most this often
  std::chrono::milliseconds poll_interval{20};         ///< longest sleep per loop turn (an order or a message wakes it)
  /// exec:order-streams (the order streams of engines that split the symbols) is read this often.
  std::chrono::milliseconds discover_interval{1000};
  /// Prometheus metrics (docs/monitoring.md: quant_bridge_*); null = none. Not owned.
  monitor::Registry* metrics = nullptr;
};

/// Receives one progress/log line (no newline). Default: stderr, "bridge: " prefixed.
using BridgeLog = std::function<void(const std::string&)>;

class BridgeService {
 public:
  /// Listens, connects to Redis (producer, consumer group `bridge` on
  /// exec:orders starting at new entries when the group is created) and loads
  /// the dedupe state from exec:fills. Fails naming the address.
  static Expected<std::unique_ptr<BridgeService>> create(BridgeServiceConfig config, BridgeLog log = {});
  ~BridgeService();
  BridgeService(const BridgeService&) = delete;
  BridgeService& operator=(const BridgeService&) = delete;

  /// The port listened on.
  int port() const;

  /// Serves terminals, one at a time, until `stop` is true. Fails only when
  /// Redis cannot be reached within the endpoint's reconnect policy.
  Expected<void> run(const std::atomic<bool>& stop);

  struct Counters {
    std::int64_t connections = 0;        ///< terminals that completed the hello
    std::int64_t published = 0;          ///< entries added to Redis
    std::int64_t duplicates = 0;         ///< inbound messages dropped as already published
    std::int64_t forwarded = 0;          ///< exec:orders entries written to a terminal
    std::int64_t halted = 0;             ///< entries rejected because of risk:halt
    std::int64_t dropped_terminals = 0;  ///< connections ended by an error or silence
  };
  /// Read after run() returned (or from run()'s thread).
  Counters counters() const;

 private:
  struct Impl;
  explicit BridgeService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quant::execution::bridge
