#pragma once
/// The trading engine: one instrument's event loop logic, shared by the
/// backtest and (later) the live engine. At each bar it
///   1. (before the bar) starts a new trading day when the session changes:
///      Day orders expire, the risk engine records start-of-day equity;
///   2. (the venue fills orders against the bar — backtest — or reports fills
///      as they happen — live — through ExecutionListener);
///   3. (at the bar close) marks the position to market, trails the stop, checks
///      the daily circuit breaker, enforces session rules (no entries in the
///      last minutes, flatten before the close, nothing outside the session),
///      asks the strategy, sizes entries through the risk engine and sends
///      orders, which act from the next bar.
/// Orders go through one order manager and one state machine (core/order.h).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/instrument.h"
#include "core/order.h"
#include "engine/ports.h"
#include "engine/session_clock.h"
#include "risk/risk_engine.h"
#include "strategy/strategy.h"

namespace quant::engine {

struct EngineConfig {
  double initial_equity = 100000;  ///< account currency
  /// Day trading (B3 futures default): flatten before the session closes, no
  /// overnight positions.
  bool day_trade = true;
  int flatten_minutes_before_close = 10;   ///< flatten decision this many minutes before the close
  int no_entry_minutes_before_close = 30;  ///< no new entries in the session's last N minutes
  /// Reference mode (sma_cross): no risk engine, fixed size, no stops.
  bool use_risk_engine = true;
  std::int64_t fixed_qty = 1;  ///< size when the risk engine is off
  /// Entries only inside the instrument's session (off for the reference strategy).
  bool respect_sessions = true;
};

/// A closed round trip.
struct TradeRecord {
  Timestamp entry_time{}, exit_time{};
  Side side = Side::Buy;  ///< Buy = long
  std::int64_t qty = 0;
  double entry_price = 0, exit_price = 0;  ///< quantity-weighted averages
  double gross_pnl = 0, fees = 0, net_pnl = 0;  ///< account currency
  const char* exit_reason = "";
  double initial_stop = 0;  ///< 0 = none
  std::int64_t bars_held = 0;
};

/// A decision worth logging that is not a risk-engine event (blocked signals,
/// orders the venue rejected).
struct DecisionRecord {
  Timestamp ts{};
  const char* kind = "";  ///< "signal_blocked", "order_rejected", "risk_halted"
  std::string reason;
  double equity = 0;
  double value = 0;
};

/// Day summary, emitted when a trading day ends.
struct DayRecord {
  std::int64_t day = 0;
  double start_equity = 0, end_equity = 0, fees = 0;
  std::int64_t trades = 0;
  bool halted = false;
};

/// Receives what the run produces (the backtest writes files; live publishes).
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void on_bar_close(const Bar& bar, double equity, double realized, double open_pnl, std::int64_t position) {
    (void)bar, (void)equity, (void)realized, (void)open_pnl, (void)position;
  }
  virtual void on_trade(const TradeRecord& trade) { (void)trade; }
  virtual void on_order_done(const Order& order) { (void)order; }
  virtual void on_risk_event(const risk::RiskEvent& event) { (void)event; }
  virtual void on_decision(const DecisionRecord& decision) { (void)decision; }
  virtual void on_day(const DayRecord& day) { (void)day; }
};

class Engine final : public ExecutionListener {
 public:
  /// `risk` may be null only when config.use_risk_engine is false.
  Engine(EngineConfig config, InstrumentSpec spec, TimeZone zone, strategy::Strategy& strategy,
         risk::RiskEngine* risk, ExecutionVenue& venue, EngineObserver& observer);

  /// Step 1: call before the venue sees `bar`.
  void before_bar(const Bar& bar);
  /// Step 3: call once the bar has closed (and the venue has processed it).
  void on_bar_close(const Bar& bar);
  /// End of data: flattens nothing (no next bar to fill at) but closes the open
  /// trade at the last close for the record (exit_reason "end_of_data"), ends the day.
  void finish();

  // ExecutionListener
  void on_accepted(OrderId id, Timestamp ts) override;
  void on_rejected(OrderId id, Timestamp ts, std::string_view reason) override;
  void on_fill(const Fill& fill) override;
  void on_cancelled(OrderId id, Timestamp ts) override;
  void on_expired(OrderId id, Timestamp ts) override;
  void on_replaced(OrderId id, Timestamp ts, double new_stop_price) override;

  double equity() const { return equity_; }
  std::int64_t position() const { return position_.qty; }
  std::int64_t bars() const { return bars_; }
  std::int64_t bars_in_market() const { return bars_in_market_; }
  std::int64_t orders_sent() const { return static_cast<std::int64_t>(next_id_ - 1); }

 private:
  struct Working {
    Order order;
    const char* exit_reason = "";  ///< the trade exit reason a fill of this order carries
  };
  OrderId send(Side side, OrderType type, OrderPurpose purpose, std::int64_t qty, double stop_price,
               double limit_price, Timestamp ts, const char* exit_reason);
  void cancel_protective();
  void flatten(Timestamp ts, const char* reason);
  void close_trade(Timestamp ts, const char* reason);
  void forward_risk_events();
  void end_day();
  Working* find(OrderId id);
  void retire(OrderId id);
  double mark(double price) const;

  EngineConfig config_;
  InstrumentSpec spec_;
  SessionClock session_;
  strategy::Strategy& strategy_;
  risk::RiskEngine* risk_;
  ExecutionVenue& venue_;
  EngineObserver& observer_;

  std::vector<Working> working_;  ///< open orders only (a handful): memory stays flat over any run
  OrderId next_id_ = 1;
  Position position_;
  double realized_money_ = 0, fees_paid_ = 0, equity_;
  double last_close_ = 0;
  Timestamp last_ts_{};

  OrderId stop_order_ = 0, target_order_ = 0;
  std::optional<risk::EntryDecision> pending_entry_;  ///< sized entry awaiting its fill
  double pending_entry_price_ = 0;                    ///< the price it was sized at (decision close)
  bool flatten_pending_ = false;

  struct OpenTrade {
    bool open = false;
    Timestamp entry_time{};
    Side side = Side::Buy;
    std::int64_t entered = 0, exited = 0;
    double entry_value = 0, exit_value = 0, fees = 0;
    double initial_stop = 0;
    std::int64_t bars = 0;
    const char* exit_reason = "";
  } trade_;

  bool started_ = false;
  SessionPosition where_{};
  DayRecord day_{};
  std::int64_t bars_ = 0, bars_in_market_ = 0;
  double last_atr_ = 0;
};

}  // namespace quant::engine
