#pragma once
/// The strategy-driven engine of one instrument: the per-bar loop that the
/// backtest runs and the live engine runs unchanged. A strategy decides at
/// each bar's close; the risk engine sizes entries; the instrument's
/// `TradingBook` (the one order, position and protection core) executes. Per bar:
///   1. `before_bar` (before the venue sees the bar): the book starts the bar
///      (a new trading day: Day orders expire, start-of-day equity, a carried
///      position is flattened when day trading); the strategy hears of a new
///      session;
///   2. the venue fills orders against the bar (backtest) or reports fills as
///      they happen (live), through the book (ExecutionListener);
///   3. `on_bar_close`: the strategy (with its filters, and the model gate
///      last) sees the bar; the book marks to market, trails the stop, checks
///      the −3 % breaker and applies the session rules; then the signal turns
///      into orders (exit, reverse, or an entry sized by the risk engine),
///      which act from the next bar.

#include <cstdint>
#include <memory>

#include "core/costs.h"
#include "core/instrument.h"
#include "engine/ports.h"
#include "engine/trading_book.h"
#include "risk/risk_engine.h"
#include "strategy/strategy.h"

namespace quant::engine {

struct EngineConfig {
  double initial_equity = 100000;  ///< account currency
  SessionRules session;            ///< no-entry window, flatten times, day trading
  /// Reference mode (sma_cross): no risk engine, fixed size, no stops.
  bool use_risk_engine = true;
  std::int64_t fixed_qty = 1;  ///< size when the risk engine is off
};

/// The Gate port as the last filter of a strategy's chain: an entry the
/// strategy and its other filters let through is judged by the gate; a
/// blocked one is logged with the gate's name, exactly like any filter's.
class GateFilter final : public strategy::SignalFilter {
 public:
  explicit GateFilter(Gate& gate) : gate_(gate) {}
  const char* name() const override { return gate_.name(); }
  void observe(const Bar& bar) override { gate_.observe(bar); }
  bool allow(const strategy::Signal& signal, const Bar& bar) override;

 private:
  Gate& gate_;
};

class Engine {
 public:
  /// `risk` is used when config.use_risk_engine (it must pass risk::validate);
  /// `costs` are the venue's fees and slippage, which sizing counts. With a
  /// `gate`, a GateFilter is appended to the strategy's filter chain (add other
  /// filters first). `strategy`, `venue`, `observer` and `gate` must outlive the engine.
  Engine(const EngineConfig& config, const InstrumentSpec& spec, TimeZone zone, const risk::RiskConfig& risk,
         TradingCosts costs, strategy::Strategy& strategy, ExecutionVenue& venue, EngineObserver& observer,
         Gate* gate = nullptr);
  /// The same on a shared account (`config.initial_equity` unused): the live
  /// engine's symbols share one equity, one order id sequence and one −3 %
  /// breaker. `account` must outlive the engine.
  Engine(Account& account, const EngineConfig& config, const InstrumentSpec& spec, TimeZone zone,
         const risk::RiskConfig& risk, TradingCosts costs, strategy::Strategy& strategy, ExecutionVenue& venue,
         EngineObserver& observer, Gate* gate = nullptr);

  /// Step 1: call before the venue sees `bar`.
  void before_bar(const Bar& bar);
  /// Step 3: call once the bar has closed (and the venue has processed it).
  void on_bar_close(const Bar& bar);
  /// End of data: flattens nothing (no next bar to fill at) but closes the open
  /// trade at the last close for the record (exit_reason "end_of_data"), ends the day.
  void finish() { book_.finish(); }

  double equity() const { return account_.equity(); }
  const Account& account() const { return account_; }
  std::int64_t position() const { return book_.position_qty(); }
  std::int64_t bars() const { return book_.bars(); }
  std::int64_t bars_in_market() const { return book_.bars_in_market(); }
  std::int64_t orders_sent() const { return book_.orders_sent(); }
  const TradingBook& book() const { return book_; }
  TradingBook& book() { return book_; }

 private:
  EngineConfig config_;
  strategy::Strategy& strategy_;
  EngineObserver& observer_;
  std::unique_ptr<Account> own_account_;  ///< null on a shared account
  Account& account_;
  TradingBook& book_;
};

}  // namespace quant::engine
