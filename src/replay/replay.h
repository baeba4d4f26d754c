#pragma once
/// `quant replay`: a simulated MetaTrader 5 terminal. It connects to the
/// platform as the Expert Advisor would (bridge protocol,
/// execution/bridge_protocol.h), replays lake bars or trades as ticks and
/// bars, and fills the platform's orders with the backtest's fill simulator
/// (`Terminal`). Used by end-to-end parity tests, fault tests and paper
/// trading; README.md describes the message flow, lock-step and durability.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "execution/bridge_protocol.h"
#include "replay/event_source.h"
#include "replay/terminal.h"

namespace quant::replay {

/// Where a long replay is, for a progress line.
struct ReplayProgress {
  std::int64_t events = 0;       ///< processed (replayed silently or sent)
  std::int64_t events_sent = 0;  ///< events whose data went to the platform
  std::int64_t orders = 0;
  std::int64_t fills = 0;
  Timestamp at{};  ///< the last event's time
};

/// Orders over another channel than the bridge: the FIX acceptor of `quant
/// replay --venue fix` (src/fix). The platform's requests arrive through it,
/// and the Terminal's reports (order_ack, fill) leave through it; market data,
/// marks and positions stay on the bridge.
class OrderChannel {
 public:
  virtual ~OrderChannel() = default;
  /// Requests that arrived (order_new, order_cancel, order_replace), waiting up to `wait` for the first.
  virtual std::vector<bridge::Body> poll(std::chrono::milliseconds wait) = 0;
  /// Returns once every request the platform sent before now has arrived
  /// (lock-step: a mark on the bridge may overtake the orders sent before it
  /// on the channel). An error when the channel cannot tell.
  virtual Expected<void> sync() = 0;
  /// The Terminal's reports: the answers to `request`, or (null) what a market event caused.
  virtual Expected<void> send(const bridge::Body* request, const std::vector<bridge::Body>& reports) = 0;
};

struct ReplayConfig {
  std::vector<InstrumentSetup> instruments;  ///< in symbol order (ties between symbols go in this order)
  ReplayMode mode = ReplayMode::Bars;
  std::string host = "127.0.0.1";
  int port = 5555;
  double speed = 0;                    ///< N × real time by event time; 0 = as fast as possible
  bool lockstep = false;               ///< wait for the platform's mark after each tick (bars mode) and bar
  std::string state_dir;               ///< durable journal; empty = in memory only
  std::string fingerprint = "replay";  ///< the replay's identity, checked against the journal's
  std::int64_t server_utc_offset_s = 0;
  std::chrono::milliseconds heartbeat{1000};        ///< a hb when nothing was sent for this long
  std::chrono::milliseconds silence_timeout{5000};  ///< platform silence that counts as a dead connection
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds retry_min{100}, retry_max{2000};  ///< connect back-off
  std::chrono::milliseconds progress_every{3000};
  /// Orders and their reports over this channel instead of the bridge (null: the bridge). Not owned.
  OrderChannel* orders = nullptr;
  /// Retries, reconnects and protocol oddities (one line each); may be empty.
  std::function<void(const std::string&)> log;
  /// Called every `progress_every`; may be empty.
  std::function<void(const ReplayProgress&)> progress;
  /// Polled between events and while waiting: true stops the replay at once
  /// (nothing more is sent or written; tests use it as a kill). May be empty.
  std::function<bool()> should_stop;
};

struct ReplayStats {
  ReplayProgress progress;
  std::int64_t connections = 0;
  bool stopped = false;  ///< should_stop ended it
  execution::bridge::PositionsMsg final_positions;
};

/// Runs the replay to the end of the data (or should_stop): connects with
/// back-off and reconnects for ever; each connection replays the events from
/// the start (`events()` opens them), silently up to what the platform's
/// resume says it has, injecting the journaled orders at their event indices.
/// Fails on a journal or data error (not on network errors: those reconnect).
Expected<ReplayStats> run_replay(const ReplayConfig& config, const EventSourceFactory& events);

}  // namespace quant::replay
