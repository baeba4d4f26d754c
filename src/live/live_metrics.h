#pragma once
/// quant live's Prometheus metrics (the full list with meanings:
/// docs/monitoring.md). The live service reports what it sees (inputs, bar
/// closes, orders, reports, the books after each batch); this turns it into
/// series labelled by the configured symbols only. Used from the service's
/// thread; the registry's scrape reads the values atomically.
///
/// Clocks: every latency is wall time against wall time, so a replay of
/// history (whose market times are years old) gives the same meaningful
/// figures as production:
/// - feed latency = live's receipt − the terminal's send time (`t_ms` of the
///   bridge message; the hub hop alone: receipt − the bridge's `recv_ns`);
/// - exchange latency = live's receipt − a tick's exchange time (`time_msc`),
///   for ticks up to kExchangeWindow old; older ones (a replay of history, a
///   clock far off) are counted in quant_live_exchange_time_outside_total instead;
/// - bar lag = the bar step − the wall time at which the feed's own clock
///   (tick times, a closed bar's close) first reached the bar's close;
/// - tick to order = order published to exec:orders (after the journal's
///   fsync) − the terminal's send time of the input that caused it.
/// Slippage in ticks, signed so that > 0 is worse for us: (fill − reference)
/// / tick size, × −1 for sells. Reference: a market order's arrival price
/// (the last price live had for the symbol when it sent the order: the last
/// trade, else the bid/ask mid, else the last bar's close); a stop order's
/// stop price; a limit order's limit price.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/instrument.h"
#include "engine/ports.h"
#include "execution/bridge_protocol.h"
#include "live/live_engine.h"
#include "monitor/metrics.h"
#include "stream/stream.h"

namespace quant::live {

class LiveMetrics {
 public:
  /// `symbols`: (name, tick size) of every traded symbol.
  LiveMetrics(monitor::Registry& registry, const std::vector<std::pair<std::string, double>>& symbols);

  /// A stream entry about to be applied (new, decoded), at wall time `now_ns`.
  void input(const stream::Entry& entry, const execution::bridge::Message& message, std::int64_t now_ns);
  /// A bar of `symbol` opened at `bar_ts` closed in the engine.
  void bar_closed(const std::string& symbol, Timestamp bar_ts, std::int64_t now_ns);
  /// An order message queued (new, cancel, replace), caused by the last input().
  void order_queued(const execution::bridge::Body& body);
  /// The queued orders left (exec:orders flushed, or the route took them).
  void orders_published(std::int64_t now_ns);
  /// An execution report applied (order_ack, fill).
  void report(const execution::bridge::Body& body);
  /// The books after a batch: positions, PnL, drawdown, halt, decisions.
  void state(const LiveEngine& engine);
  /// `quant_live_session_open{symbol}`: 1 while the symbol's session is open
  /// at the scrape's wall time, by core's SessionLocator (the one session
  /// rule: calendar, holidays, dated hours), else 0 — so the FeedStale alert
  /// needs no hours of its own. Evaluated at each scrape, on the scraping
  /// thread, with locators of its own.
  static void watch_sessions(monitor::Registry& registry, const std::vector<InstrumentSpec>& specs,
                             std::function<Timestamp()> now);

 /// A tick's exchange time older than this at receipt is not a latency: history.
  static constexpr std::int64_t kExchangeWindowNs = 600'000'000'000;

 private:
  struct Symbol {
    double tick_size = 0;
    double last_price = 0;
    monitor::Histogram feed_latency, exchange_latency, hub_latency, bar_lag, tick_to_order, slippage;
    monitor::Counter exchange_outside;
    monitor::Gauge last_tick, position, realized, open_pnl;
    monitor::Gauge working_new, working_accepted, working_partial;  ///< orders by state, now
    monitor::Counter orders_new, orders_cancel, orders_replace, fills_buy, fills_sell, contracts;
    monitor::Counter signals_entry, signals_blocked, orders_rejected;
    std::map<execution::bridge::ExecType, monitor::Counter> reports;
    LiveEngine::Decisions seen;
    /// (minute the feed entered, wall ns when it did), the last few.
    std::deque<std::pair<Timestamp, std::int64_t>> minutes;
  };
  Symbol* find(const std::string& symbol);
  void feed_time(Symbol& s, Timestamp t, std::int64_t now_ns);

  std::map<std::string, Symbol> symbols_;
  monitor::Gauge equity_, day_start_equity_, drawdown_, breaker_drawdown_, halted_;
  monitor::Counter inputs_;
  struct Reference {
    std::string symbol;
    Side side = Side::Buy;
    double price = 0;
  };
  std::map<std::string, Reference> references_;  ///< cl_ord_id → reference, until filled or done
  std::int64_t input_t_ms_ = 0;                 ///< the current input's terminal send time
  std::vector<std::pair<Symbol*, std::int64_t>> unpublished_;  ///< queued orders and their input's t_ms
  bool based_ = false;
};

/// The gate, measured: `quant_live_gate_duration_seconds{symbol,mode}` (the
/// whole judge() call: in process, or the POST /infer round trip as the client
/// sees it) and `quant_live_gate_decisions_total{symbol,decision}`.
class MeteredGate final : public engine::Gate {
 public:
  MeteredGate(std::unique_ptr<engine::Gate> inner, monitor::Registry& registry, const std::string& symbol,
              bool remote);
  const char* name() const override { return inner_->name(); }
  void observe(const Bar& bar) override { inner_->observe(bar); }
  engine::GateVerdict judge(const engine::EntryCandidate& entry) override;

 private:
  std::unique_ptr<engine::Gate> inner_;
  monitor::Histogram duration_;
  monitor::Counter pass_, reject_;
};

}  // namespace quant::live
