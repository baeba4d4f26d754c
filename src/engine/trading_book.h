#pragma once
/// The one order, position and protection core of the platform. A
/// `TradingBook` keeps one instrument of an `Account`: its working orders and
/// their state machine, the net position, realised and open PnL, fees, the
/// protective stop and target anchored to each fill, the trailing stop, the
/// session rules (no entries near the close, flatten before it, flatten a
/// position still open when the trading day changes) and the −3 % daily
/// breaker, which halts and flattens the whole account.
///
/// Every engine runs it: the backtest's and the live engine's `Engine` (a
/// strategy decides, the book executes) and the order gateway behind
/// `POST /order` (a client decides, the same book executes). So a rule about
/// positions, stops, the breaker or sessions exists once.
///
/// Per bar, in this order:
///   1. `start_bar(bar)` — before the venue sees it: a new trading day ends the
///      last one (DayRecord), expires Day orders at the venue, starts the day
///      in the risk engine at the account's equity and, when day trading,
///      flattens a position carried over (exit reason "day_change"; it fills
///      at this bar's open);
///   2. the venue fills working orders against the bar (backtest, paper) or
///      reports fills as they happen (live), through `ExecutionListener`;
///   3. `close_bar(bar, atr)` — marks to the close, trails the stop, checks the
///      breaker with the account's equity, applies the session rules; then
///      `entry_block()` says whether new entries may be sent at this close.
/// Orders sent at a bar's close act from the next bar.
///
/// Pure logic: no I/O, no threads, no clocks. Not thread-safe.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/instrument.h"
#include "core/order.h"
#include "engine/ports.h"
#include "engine/session_clock.h"
#include "risk/risk_engine.h"

namespace quant::engine {

class Account;

/// When entries are allowed and when positions are flattened.
struct SessionRules {
  /// Day trading (B3 futures default): flatten before the session closes, and
  /// at the first bar of a new trading day if a position is still open.
  bool day_trade = true;
  int flatten_minutes_before_close = 10;   ///< flatten decision this many minutes before the close
  int no_entry_minutes_before_close = 30;  ///< no new entries in the session's last N minutes
  bool respect_sessions = true;            ///< entries only inside the instrument's session
};

/// Everything a book needs to know about its instrument.
struct BookConfig {
  InstrumentSpec spec;
  TimeZone zone = TimeZone::utc();  ///< the session's zone (spec.time_zone, looked up by the caller)
  SessionRules rules;
  /// Sizing, protection and the breaker; nullopt = reference mode (no risk
  /// engine: no stops, no targets, no breaker).
  std::optional<risk::RiskConfig> risk = risk::RiskConfig{};
  /// The venue's fees and slippage, which the risk engine counts when it sizes.
  TradingCosts costs;
};

/// A closed round trip.
struct TradeRecord {
  Timestamp entry_time{}, exit_time{};
  Side side = Side::Buy;  ///< Buy = long
  std::int64_t qty = 0;
  double entry_price = 0, exit_price = 0;       ///< quantity-weighted averages
  double gross_pnl = 0, fees = 0, net_pnl = 0;  ///< account currency
  std::string exit_reason;  ///< the reason of the order whose fill closed it ("stop", "target", "session_end" ...)
  double initial_stop = 0;  ///< 0 = none
  std::int64_t bars_held = 0;
};

/// A decision worth logging that is not a risk-engine event (blocked signals,
/// orders the venue rejected, the breaker).
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

/// Receives what a book (and the engine driving it) produces: the backtest
/// writes files, the desk an audit log, live publishes.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void on_bar_close(const Bar& bar, double equity, double realized, double open_pnl, std::int64_t position) {
    (void)bar, (void)equity, (void)realized, (void)open_pnl, (void)position;
  }
  virtual void on_trade(const TradeRecord& trade) { (void)trade; }
  /// An order reached a terminal state (or the run ended with it working).
  /// `reason`: why it was sent; `note`: why it ended without filling (the
  /// venue's rejection, who cancelled it), empty otherwise.
  virtual void on_order_done(const Order& order, std::string_view reason, std::string_view note) {
    (void)order, (void)reason, (void)note;
  }
  virtual void on_risk_event(const risk::RiskEvent& event) { (void)event; }
  virtual void on_decision(const DecisionRecord& decision) { (void)decision; }
  virtual void on_day(const DayRecord& day) { (void)day; }
};

/// The sizing that allowed an order to open or add: its protective stop and
/// target, placed around the price it was sized at. When it fills, both move
/// by as much as the fill moved from that price (`RiskEngine::anchored_to_fill`).
struct EntryPlan {
  risk::EntryDecision decision;
  double sized_price = 0;
};

/// A new order for the book.
struct OrderIntent {
  Side side = Side::Buy;
  OrderType type = OrderType::Market;
  TimeInForce tif = TimeInForce::Gtc;
  OrderPurpose purpose = OrderPurpose::Entry;  ///< Entry (opens or adds) or Exit (reduces)
  std::int64_t qty = 0;
  double limit_price = 0, stop_price = 0;
  Timestamp ts{};  ///< when it was decided (Order::created)
  /// Why it is sent: the signal of an entry ("ma_cross_up"), the exit reason
  /// of an exit ("exit_signal", "reverse"): a trade closed by its fill carries it.
  std::string reason;
  std::optional<EntryPlan> plan;  ///< Entry with a risk engine: what sized it
  /// The order's one-cancels-other partner (a protective stop ↔ its target).
  /// The simulated venue does not need it (the book cancels the partner at
  /// once); a remote venue must cancel the partner itself when one fills,
  /// or a bar touching both could fill both before the book's cancel arrives.
  OrderId oco_with = 0;
  /// 0: the book takes the account's next id. A caller that must know the id
  /// before the venue reports back reserves one with Account::next_order_id.
  OrderId id = 0;
};

class TradingBook final : public ExecutionListener {
 public:
  /// Use Account::open_book. `config.risk` must pass risk::validate and the
  /// spec have tick_size and point_value > 0 (checked where configuration is
  /// read; a violation here is a bug and aborts). The venue and observer must
  /// outlive the book; the book becomes the venue's listener.
  TradingBook(Account& account, BookConfig config, ExecutionVenue& venue, EngineObserver& observer);
  ~TradingBook() override;
  TradingBook(const TradingBook&) = delete;
  TradingBook& operator=(const TradingBook&) = delete;

  /// Step 1 of a bar (see the file comment). Returns true when `bar` starts a
  /// new trading day after the first one (the strategy's session starts).
  bool start_bar(const Bar& bar);
  /// Step 3: `atr` is the ATR at this bar (price units; <= 0 keeps the last).
  /// Returns the account's equity marked at this close (what the breaker saw).
  double close_bar(const Bar& bar, double atr);
  /// Empty when entries may be sent now (after close_bar), else why not
  /// ("no entries in the session's last minutes" ...). A halt is not listed
  /// here: the risk engine rejects entries while halted and says so.
  const char* entry_block() const { return entry_block_; }

  /// Sends an order to the venue and returns its id (the venue may reject or
  /// fill it before this returns). An Exit for the whole position makes the
  /// book "closing" until it ends. Precondition: qty > 0.
  OrderId submit(OrderIntent intent);
  /// Closes the whole position with a market Exit (nothing when flat): the
  /// protective orders are withdrawn first.
  void close_position(Timestamp ts, std::string reason);
  /// Withdraws working entries (and exits), then flattens the position with a
  /// market Flatten order of `reason`, unless an order already closes it.
  /// Cancelled orders end with `note`. Resting GTC limit and stop entries (a
  /// client's, placed to outlive the day) stay unless `all_entries`; if one
  /// fills while entries are not allowed, the session rules flatten it again.
  void flatten(Timestamp ts, const char* reason, std::string_view note, bool all_entries = false);
  /// Asks the venue to cancel a working order; it ends with `note`.
  void cancel(OrderId id, std::string_view note);
  /// The account halted (this book's breaker or another's): halts the risk
  /// engine with `reason`, cancels working entries and exits and flattens.
  void halt(Timestamp ts, double equity, std::string_view reason);
  /// End of data: closes the open trade at the last close for the record
  /// (exit reason "end_of_data"), reports orders still working, ends the day.
  void finish();
  /// Hands the risk engine's events to the observer (call once per step).
  void flush_events();

  // ExecutionListener: the venue's reports.
  void on_accepted(OrderId id, Timestamp ts) override;
  void on_rejected(OrderId id, Timestamp ts, std::string_view reason) override;
  void on_fill(const Fill& fill) override;
  void on_cancelled(OrderId id, Timestamp ts) override;
  void on_expired(OrderId id, Timestamp ts) override;
  void on_replaced(OrderId id, Timestamp ts, double new_stop_price) override;

  // Queries.
  const InstrumentSpec& spec() const { return config_.spec; }
  const std::string& symbol() const { return config_.spec.symbol; }
  const Position& position() const { return position_; }
  std::int64_t position_qty() const { return position_.qty; }
  /// Realised PnL minus fees, account currency.
  double realized() const { return realized_money_ - fees_paid_; }
  double fees() const { return fees_paid_; }
  /// Open PnL at the last close (before any bar: at cost), account currency.
  double open_pnl() const;
  /// True once a bar has been seen.
  bool ready() const { return started_; }
  double last_close() const { return last_close_; }
  Timestamp last_bar() const { return last_bar_; }
  /// The ATR close_bar last received (0 before any).
  double atr() const { return last_atr_; }
  /// Null in reference mode.
  risk::RiskEngine* risk() { return risk_ ? &*risk_ : nullptr; }
  const risk::RiskEngine* risk() const { return risk_ ? &*risk_ : nullptr; }
  /// An order is in flight that closes the whole position.
  bool closing() const { return closing_order_ != 0; }
  bool has_working_entry() const;
  /// A working order (nullptr once it ended).
  const Order* working_order(OrderId id) const;
  /// Working orders by status (New: sent, not yet acknowledged; Accepted;
  /// PartiallyFilled), for monitoring. Ended orders are not held.
  struct WorkingCounts {
    std::int64_t pending_new = 0, accepted = 0, partially_filled = 0;
  };
  WorkingCounts working_counts() const;
  /// Contracts of working orders on `side` with `purpose`, not yet filled.
  std::int64_t working_qty(Side side, OrderPurpose purpose) const;
  /// The protective stop order working now; nullopt when none.
  std::optional<Order> protective_stop() const;
  std::optional<Order> protective_target() const;
  std::int64_t bars() const { return bars_; }
  std::int64_t bars_in_market() const { return bars_in_market_; }
  std::int64_t orders_sent() const { return orders_sent_; }
  SessionClock& session() { return session_; }

 private:
  struct Working {
    Order order;
    std::string reason;  ///< why it was sent; a fill that closes the trade carries it
    std::string note;    ///< why it is being cancelled, if the book asked
    std::optional<EntryPlan> plan;
  };
  struct OpenTrade {
    bool open = false;
    Timestamp entry_time{};
    Side side = Side::Buy;
    std::int64_t entered = 0, exited = 0;
    double entry_value = 0, exit_value = 0, fees = 0;
    double initial_stop = 0;
    std::int64_t bars = 0;
    std::string exit_reason;
  };

  Working* find(OrderId id);
  const Working* find(OrderId id) const;
  /// Ends a working order: reports it to the observer and forgets it.
  void retire(OrderId id);
  /// Sends an order; `slot` (the stop/target id) is set before the venue sees it.
  OrderId send(OrderIntent intent, OrderId* slot = nullptr);
  void cancel_protective();
  /// Cancels working orders of `purpose` (newest first) until at most
  /// `keep_qty` contracts of them remain; resting GTC limit/stop orders only
  /// with `resting_gtc`.
  void cancel_working(OrderPurpose purpose, std::int64_t keep_qty, std::string_view note, bool resting_gtc = true);
  /// After a fill changed the position from `before`: the risk engine's view,
  /// the protective orders, and whatever the change makes obsolete.
  void after_position_change(std::int64_t before, const Fill& fill, OrderPurpose purpose,
                             const std::optional<EntryPlan>& plan, Side order_side);
  /// Makes the protective stop and target match the position (one of each
  /// for the whole position, at the risk engine's prices).
  void sync_protection(Timestamp ts);
  void record_fill(const Fill& fill, std::int64_t before, const std::string& reason);
  void close_trade(Timestamp ts);
  void end_day();
  void decide(Timestamp ts, const char* kind, std::string reason, double value);

  Account& account_;
  BookConfig config_;
  TickGrid grid_;
  SessionClock session_;
  std::optional<risk::RiskEngine> risk_;
  ExecutionVenue& venue_;
  EngineObserver& observer_;

  std::vector<Working> working_;  ///< open orders only (a handful): memory stays flat over any run
  Position position_;
  double realized_money_ = 0, fees_paid_ = 0;
  OrderId stop_order_ = 0, target_order_ = 0, closing_order_ = 0;
  /// The latest sizing of each side (buy, sell), for a fill that opens a side
  /// without a plan of its own (a remote venue's fill after a race).
  std::array<std::optional<EntryPlan>, 2> latest_plan_;
  OpenTrade trade_;

  bool started_ = false;
  SessionPosition where_{};
  DayRecord day_{};
  const char* entry_block_ = "";
  double last_close_ = 0, last_atr_ = 0;
  Timestamp last_bar_{}, last_close_time_{};
  std::int64_t bars_ = 0, bars_in_market_ = 0, orders_sent_ = 0;
};

/// Why and when the account stopped trading (for publishing `risk:halt`).
struct AccountHalt {
  bool halted = false;
  std::string symbol;  ///< whose bar tripped the breaker
  std::string reason;  ///< the risk engine's Halted reason
  Timestamp time{};    ///< the close of that bar
  double equity = 0;   ///< account equity then
};

/// One trading account: its books (one per instrument), one equity, one order
/// id sequence and one −3 % daily breaker for all of them. Not thread-safe.
class Account {
 public:
  explicit Account(double initial_equity);
  Account(const Account&) = delete;
  Account& operator=(const Account&) = delete;

  /// Adds a book for `config.spec.symbol` (unique; a duplicate is a bug).
  TradingBook& open_book(BookConfig config, ExecutionVenue& venue, EngineObserver& observer);

  double initial_equity() const { return initial_equity_; }
  /// initial + every book's realised − fees + open PnL at its last close.
  double equity() const;
  /// Ids are unique across the account's books (FIX ClOrdID).
  OrderId next_order_id() { return next_id_++; }
  /// True while any book's risk engine is halted.
  bool halted() const;
  const AccountHalt& halt_state() const { return halt_; }
  /// The book of `symbol`, or nullptr.
  TradingBook* find(std::string_view symbol);
  const TradingBook* find(std::string_view symbol) const;
  std::size_t size() const { return books_.size(); }
  TradingBook& book(std::size_t i) { return *books_[i]; }
  const TradingBook& book(std::size_t i) const { return *books_[i]; }

 private:
  friend class TradingBook;
  /// `source`'s breaker tripped: every book halts and flattens.
  void trip(TradingBook& source, Timestamp ts, double equity, const std::string& reason);
  /// Clears the halt record once no book is halted any more.
  void refresh();

  double initial_equity_;
  OrderId next_id_ = 1;
  std::vector<std::unique_ptr<TradingBook>> books_;
  AccountHalt halt_;
};

}  // namespace quant::engine
