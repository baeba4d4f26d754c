#pragma once
/// The stream hub: Redis Streams through hiredis (docs/design.md, layer 2).
/// Keys (docs/contracts/redis.md): streams `md:tick:<SYM>`, `md:book:<SYM>`,
/// `md:bar1m:<SYM>`, `sig:<SYM>`, `exec:orders`, `exec:fills`; the hash
/// `risk:halt`; consumer groups `signal`, `logger`, `bridge`.
///
/// Every object owns one connection and is used from one thread. A lost
/// connection (Redis restarted, network) is re-established with back-off
/// inside each call, up to `ReconnectPolicy::give_up_after`; only then does the
/// call fail.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace quant::stream {

/// Back-off between reconnect attempts: `first_delay`, doubling up to
/// `max_delay`; a call fails once `give_up_after` has passed with no reply.
struct ReconnectPolicy {
  std::chrono::milliseconds first_delay{50};
  std::chrono::milliseconds max_delay{2000};
  std::chrono::milliseconds give_up_after{60000};
};

/// Where the Redis server is, and how patiently to talk to it.
struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::chrono::milliseconds connect_timeout{2000};
  /// Longest wait for a reply (plus a blocking read's `block`): a server that
  /// stops answering without closing the socket counts as a lost connection.
  std::chrono::milliseconds reply_timeout{10000};
  ReconnectPolicy reconnect;
};

/// Key names.
std::string tick_key(std::string_view symbol);    ///< md:tick:<SYM>
std::string book_key(std::string_view symbol);    ///< md:book:<SYM>
std::string bar_key(std::string_view symbol);     ///< md:bar1m:<SYM>
std::string signal_key(std::string_view symbol);  ///< sig:<SYM>
inline constexpr std::string_view kOrders = "exec:orders";
inline constexpr std::string_view kFills = "exec:fills";
inline constexpr std::string_view kHalt = "risk:halt";
/// quant live's state at each bar close, per symbol (stream/metrics.h).
inline constexpr std::string_view kMetrics = "mon:metrics";

/// A stream id "<ms>-<seq>", ordered as Redis orders them.
struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  static Expected<StreamId> parse(std::string_view text);
  std::string str() const;
  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Entry {
  std::string stream;
  StreamId id;
  Fields fields;
  /// The value of `name`, or "" when absent.
  std::string_view field(std::string_view name) const;
  /// The value of `name` as a whole decimal integer; nullopt when absent or
  /// not one ("12x3" is not 123).
  std::optional<std::int64_t> integer(std::string_view name) const;
};

/// Pipelined XADD. `add` queues; `flush` sends the queue in one round trip.
class Producer {
 public:
  /// `maxlen` > 0: each XADD trims with `MAXLEN ~ maxlen`.
  static Expected<Producer> connect(const Endpoint& endpoint, std::size_t maxlen = 1'000'000);
  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  ~Producer();

  /// Queues XADD with a Redis-assigned id.
  void add(std::string_view stream, Fields fields);
  /// Queues XADD with an explicit id: a producer that retries after a crash
  /// passes the same id, and the duplicate is refused instead of doubled.
  void add(std::string_view stream, StreamId id, Fields fields);
  std::size_t queued() const;

  struct Added {
    std::optional<StreamId> id;  ///< empty when `duplicate`
    bool duplicate = false;      ///< an explicit id at or below the stream's last: already there
  };
  /// Sends every queued XADD; results in queue order. On a lost connection it
  /// reconnects and sends again what had no reply (explicit ids make that safe;
  /// a Redis-assigned id can be doubled when the reply, not the command, was
  /// lost). Fails when the reconnect policy gives up (the queue is kept for a
  /// later flush) or when Redis refuses an entry for another reason than a
  /// duplicate (the error names the stream; the whole queue was sent).
  Expected<std::vector<Added>> flush();

  /// The last entry of a stream (XREVRANGE + - COUNT 1), nullopt when empty or missing.
  Expected<std::optional<Entry>> last(std::string_view stream);

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// One consumer of a consumer group over one or more streams.
class Consumer {
 public:
  /// Creates the group on each stream when missing (XGROUP CREATE … MKSTREAM),
  /// starting at `start` ("0" = from the beginning, "$" = only new entries).
  static Expected<Consumer> connect(const Endpoint& endpoint, std::string group, std::string consumer,
                                    std::vector<std::string> streams, std::string_view start = "0");
  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();

  /// The next entries, in stream-id order across all the streams (with ids
  /// from one producer's counter, that is the order they were produced in).
  /// First this consumer's own pending entries (delivered before a crash,
  /// never acknowledged), then new ones (`>`), blocking up to `block` when
  /// there is nothing. When a stream's answer was cut at `count`, entries of
  /// other streams with higher ids are held back for the next call, so the
  /// merged order is never violated.
  /// An entry returned and not yet acknowledged is not returned again by this
  /// object (a new Consumer with the same name gets it back as pending).
  /// After a reconnect or a claim_stale() it reads pending again first. When
  /// the group has gone (NOGROUP: Redis restarted without persistence) it is
  /// recreated at the last id this object fetched from each stream, else "0":
  /// at-least-once, never skipping what was added meanwhile.
  Expected<std::vector<Entry>> read(std::size_t count, std::chrono::milliseconds block);
  /// XACK: call only once the entries are processed.
  Expected<void> ack(const std::vector<Entry>& entries);
  Expected<void> ack(std::string_view stream, const std::vector<StreamId>& ids);
  /// XAUTOCLAIM: takes over entries other consumers of the group left
  /// pending for at least `min_idle`; they come back from the next read().
  Expected<std::size_t> claim_stale(std::chrono::milliseconds min_idle, std::size_t count = 1000);
  /// Entries delivered to the group and not acknowledged, over all streams (XPENDING).
  Expected<std::int64_t> pending();

 private:
  struct Impl;
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Reads a stream range (XRANGE), for start-up checks and tools.
Expected<std::vector<Entry>> read_range(const Endpoint& endpoint, std::string_view stream, std::string_view from = "-",
                                        std::string_view to = "+", std::size_t count = 0);

/// One consumer group of a stream, as XINFO GROUPS reports it.
struct GroupInfo {
  std::string stream;
  std::string group;
  std::int64_t consumers = 0;
  std::int64_t pending = 0;  ///< delivered, not yet acknowledged
  /// Entries not yet delivered to the group (Redis 7's `lag`); -1 when Redis
  /// cannot tell (an entry deleted from the range, or Redis < 7).
  std::int64_t lag = -1;
};
/// XINFO GROUPS of each stream, pipelined over one connection; a stream that
/// does not exist (yet) has no groups. For monitoring: pass an endpoint with
/// a short give_up_after, so a scrape does not wait a minute for a dead Redis.
Expected<std::vector<GroupInfo>> group_info(const Endpoint& endpoint, const std::vector<std::string>& streams);

/// The `risk:halt` flag (a hash: reason, time, equity). Set when the daily
/// breaker trips; every component refuses new entries while it exists;
/// only an explicit command clears it.
struct Halt {
  std::string reason;
  std::string time;  ///< ISO-8601 UTC
  double equity = 0;
  std::string by;  ///< who set it ("live", "operator")
};
Expected<void> set_halt(const Endpoint& endpoint, const Halt& halt);
/// Sets `halt` only when no halt is set, in one step (no other writer can
/// slip in between a read and the write): nullopt = set; else the halt that
/// was already there, left as it was (e.g. the breaker's reason and time).
Expected<std::optional<Halt>> set_halt_if_absent(const Endpoint& endpoint, const Halt& halt);
Expected<std::optional<Halt>> read_halt(const Endpoint& endpoint);
/// True when a flag was there.
Expected<bool> clear_halt(const Endpoint& endpoint);

// ---- several live engines on one hub (registry.cpp) ----

/// A set: the order streams besides `exec:orders` (one per live engine that
/// has its own, `exec:orders:<name>`); `quant bridge` reads every member.
inline constexpr std::string_view kOrderStreams = "exec:order-streams";
/// The consumer group of `quant bridge` on every order stream.
inline constexpr std::string_view kBridgeGroup = "bridge";

/// Makes `stream` an order stream the bridge reads: creates the group
/// `group` on it from its start ("0", MKSTREAM) when missing — before the
/// first entry is added, so the bridge misses none whenever it discovers the
/// stream — then adds it to kOrderStreams. Idempotent.
Expected<void> register_order_stream(const Endpoint& endpoint, std::string_view stream, std::string_view group);
/// The members of kOrderStreams, sorted.
Expected<std::vector<std::string>> order_streams(const Endpoint& endpoint);

/// Leases: each key is taken for `owner` (SET … PX ttl) when it is free or
/// already `owner`'s, atomically for all keys (a Lua script): when any is
/// another owner's, none is taken. Returns each key's owner after the call
/// (== `owner` for every key on success). Renewing is calling it again.
Expected<std::vector<std::string>> claim(const Endpoint& endpoint, const std::vector<std::string>& keys,
                                         std::string_view owner, std::chrono::milliseconds ttl);
/// Deletes the keys still held by `owner` (others are left alone).
Expected<void> release(const Endpoint& endpoint, const std::vector<std::string>& keys, std::string_view owner);

}  // namespace quant::stream
