#pragma once
/// `quant live`: the LiveEngine between the Redis hub and a journal on disk.
///
///   md:tick:<SYM>, md:bar1m:<SYM>, exec:fills ──(consumer group `signal`)──►
///   LiveEngine ──► journal (fsync) ──► exec:orders ──► quant bridge ──► terminal
///
/// Several engines may split the symbols on one hub, each with its own group,
/// session, state dir and order stream (`exec:orders:<name>`, which the bridge
/// discovers); leases in Redis refuse overlaps (engine_leases.h, README.md).
///
/// Nothing is lost and nothing is done twice when any process is killed:
/// - Inputs are read in stream-id order across the streams (the bridge gives
///   every message one global id), so the engine sees the terminal's order.
/// - What an input changed (a minute started, a bar closed, a report applied,
///   a halt) is journaled as a step; orders are journaled (fsync) before they
///   leave; an input is acknowledged (XACK) only once its steps are synced
///   (at once when they caused orders, else within `sync_every`). Tick
///   entries that only fed the half-built bar are covered by a cursor record.
/// - At start the journal is replayed through a fresh engine (deterministic:
///   the same steps give the same orders, checked), orders journaled but not
///   yet in exec:orders are published again under their ids (explicit stream
///   ids: a duplicate is refused), the half-built bar is rebuilt from the tick
///   stream, and entries at or below the journal's cursors are skipped.
/// - Then the venue's positions are asked for; when the answer differs from
///   the books, trading halts (`risk:halt`) with the difference as reason.
/// - `risk:halt`: set when a book's breaker trips; while set, the books are
///   halted (no entries, positions flattened) — also across a new trading day,
///   whose session start clears the books' own halt: the flag puts it back at
///   once (a journaled step); only `quant halt --clear` lifts it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"
#include "live/live_engine.h"
#include "live/live_metrics.h"
#include "live/order_route.h"
#include "stream/stream.h"

namespace quant::live {

struct ServiceConfig {
  stream::Endpoint redis;
  std::string state_dir;  ///< journal.jsonl lives here
  /// The session: the client order id prefix (LiveConfig::id_prefix); a
  /// journal belongs to one session and refuses another.
  std::string session = "L";
  /// The consumer group on md:*:<SYM> and exec:fills: one per engine (a
  /// group shared by two engines would give each fill to one of them).
  std::string group = "signal";
  std::string consumer = "live";
  /// Where orders go for `quant bridge`: exec:orders (one engine), or an
  /// engine's own `exec:orders:<name>` when several share the hub (registered
  /// in stream::kOrderStreams, which the bridge reads).
  std::string orders_stream = std::string(stream::kOrders);
  /// Leases of the session, group, order stream and symbols (engine_leases.h):
  /// renewed every third of this; another engine waits this long after a kill.
  std::chrono::milliseconds lease_ttl{10000};
  /// Where a new consumer group starts: "$" = only what is published from now
  /// on (production), "0" = everything in the streams (a replay started first).
  std::string start_id = "$";
  std::size_t read_count = 512;
  std::chrono::milliseconds block{50};
  /// A batch with orders is synced at once (its orders leave after the
  /// fsync); the steps of other batches are synced, and their inputs
  /// acknowledged, at least this often.
  std::chrono::milliseconds sync_every{200};
  std::chrono::milliseconds halt_poll{500};
  std::function<bool()> should_stop;
  std::function<void(const std::string&)> log;
  /// Orders over another route than exec:orders (the FIX venue); null = the
  /// MT5 bridge's way. With a route the orders leave through it after their
  /// fsync, its reports are inputs like the streams' (journaled with their
  /// sequence number, so a restart asks the venue for the ones after the
  /// last journaled) and each is also published to exec:fills (origin `fix`,
  /// skipped by this consumer) for the logger. Not owned.
  OrderRoute* route = nullptr;
  /// Written at exit: every order sent (id,symbol,side,type,tif,purpose,qty,price,stop_price with
  /// the last stop), for comparing with a backtest's orders.csv. Empty = none.
  std::string orders_csv;
  /// Prometheus metrics (live_metrics.h); null = none. Not owned.
  LiveMetrics* metrics = nullptr;
};

struct ServiceStats {
  std::int64_t entries = 0;          ///< stream entries processed
  std::int64_t skipped = 0;          ///< entries at or below the journal's cursors (already processed)
  std::int64_t orders = 0;           ///< order messages published (new, cancel, replace)
  std::int64_t recovered_steps = 0;  ///< journal steps replayed at start
  std::int64_t republished = 0;      ///< journaled orders published again at start
  std::int64_t reconciliations = 0;  ///< positions snapshots compared
  std::int64_t route_reports = 0;    ///< reports applied from the route (FIX)
  bool halted = false;
};

/// Runs until `should_stop` (or an error: Redis gone past its reconnect
/// policy, the journal unwritable, a journal that does not replay to the
/// same orders).
Expected<ServiceStats> run_live(LiveEngine& engine, const ServiceConfig& config);

}  // namespace quant::live
