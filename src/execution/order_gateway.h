#pragma once
/// The order gateway behind `POST /order` (docs/contracts/serve_api.md): takes
/// client orders for one account, checks them, passes them through the risk
/// engine and sends what survives through the symbol's `engine::TradingBook` —
/// the same order, position and protection core the backtest's engine runs.
/// So a client order is executed exactly as a strategy's would be: the
/// protective stop and target anchored to the fill, the trailing stop, the
/// session rules (no entries near the close, flatten before it, flatten at a
/// day change) and one −3 % breaker that halts and flattens the whole account.
/// Sent at the bar closes where a backtest's strategy decided, the same orders
/// give the same trades.csv (tests/parity).
///
/// Pure logic: no I/O, no threads; time only through the injected
/// `engine::Clock`. Not thread-safe: the HTTP service serialises calls (one
/// mutex around submit, on_bar and the queries).
///
/// Per symbol it holds a book, a streaming ATR over the bars it is fed and the
/// venue (a `PaperVenue` it owns by default, or any `engine::ExecutionVenue` —
/// MT5 bridge, FIX — whose reports may arrive later through the book).
///
/// Memory: every client order stays in the idempotency store for the life of
/// the process (a few hundred bytes each), so a replay always finds it.
/// Everything else it produces (risk events, trades, decisions) goes to the
/// `GatewayObserver` as it happens, never into memory.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "core/error.h"
#include "core/instrument.h"
#include "core/order.h"
#include "engine/ports.h"
#include "engine/trading_book.h"
#include "execution/order_reply.h"
#include "execution/paper_venue.h"
#include "risk/risk_engine.h"

namespace quant::execution {

/// One tradable symbol of the account.
struct SymbolConfig {
  InstrumentSpec spec;              ///< symbol, tick grid, point value, fees, session hours
  TimeZone zone = TimeZone::utc();  ///< the session's zone (spec.time_zone, looked up by the caller)
  risk::RiskConfig risk;
  engine::SessionRules session;  ///< the backtest's session rules ([backtest] in the configuration)
  int atr_period = 14;           ///< Wilder ATR over the bars the gateway sees; sizes new positions
  /// Where orders go, not owned (must outlive the gateway). Null: the gateway
  /// owns a PaperVenue built with `paper` and feeds it every bar.
  engine::ExecutionVenue* venue = nullptr;
  /// The paper venue's fill settings; its slippage and the instrument's fees
  /// are also what the risk engine counts when it sizes (for any venue).
  PaperVenueConfig paper;
};

struct GatewayConfig {
  double initial_equity = 100000;  ///< account currency
  std::vector<SymbolConfig> symbols;
};

/// Checks a configuration once, where it is read: initial_equity finite and
/// > 0; at least one symbol; symbols non-empty and unique; tick_size and
/// point_value finite and > 0; risk::validate; atr_period >= 1; session minutes
/// >= 0; paper.slippage_ticks >= 0; paper.participation in [0, 1]. The error
/// names the field.
Expected<void> validate(const GatewayConfig& config);

/// What the gateway reports as it happens (the desk's audit log). Every
/// callback runs inside a gateway call, on the caller's thread.
class GatewayObserver {
 public:
  virtual ~GatewayObserver() = default;
  /// A client order was decided (accepted, resized or rejected) or ended.
  virtual void on_order(const OrderReply& reply) { (void)reply; }
  /// Any order of `symbol` ended (client orders and the book's own stops,
  /// targets and flattens); `reason` why it was sent, `note` why it ended unfilled.
  virtual void on_order_done(const std::string& symbol, const Order& order, std::string_view reason,
                             std::string_view note) {
    (void)symbol, (void)order, (void)reason, (void)note;
  }
  virtual void on_trade(const std::string& symbol, const engine::TradeRecord& trade) { (void)symbol, (void)trade; }
  virtual void on_risk_event(const std::string& symbol, const risk::RiskEvent& event) { (void)symbol, (void)event; }
  virtual void on_decision(const std::string& symbol, const engine::DecisionRecord& decision) {
    (void)symbol, (void)decision;
  }
  virtual void on_day(const std::string& symbol, const engine::DayRecord& day) { (void)symbol, (void)day; }
};

using engine::AccountHalt;

class OrderGateway {
 public:
  /// `config` must pass validate() (a violation here is a bug and aborts).
  /// `clock` and `observer` (may be null) must outlive the gateway.
  OrderGateway(const GatewayConfig& config, const engine::Clock& clock, GatewayObserver* observer = nullptr);
  ~OrderGateway();
  OrderGateway(const OrderGateway&) = delete;
  OrderGateway& operator=(const OrderGateway&) = delete;

  /// Takes one client order. In order:
  /// 1. client_order_id must be 1–64 of A-Z a-z 0-9 . _ : - (Invalid); reason,
  ///    when given, 1–32 of a-z 0-9 _ (Invalid);
  /// 2. an id seen before: the same fields → that order's current state with
  ///    replayed = true (risk-rejected orders too); different fields → Conflict;
  /// 3. symbol configured (UnknownSymbol); qty >= 1; type market, limit or
  ///    stop; limit needs price > 0 on the tick grid, stop needs stop_price > 0
  ///    on the grid, and a price the type does not take is Invalid naming it;
  /// 4. no bar seen yet for the symbol → NotReady;
  /// 5. an order that opens or adds while the session rules allow no entries
  ///    (the last minutes before the close, outside the session) → rejected
  ///    with the rule's reason; reductions are always taken;
  /// 6. risk::RiskEngine::check_order at the last close (market) or the
  ///    limit/stop price, the symbol's ATR, the account equity and the
  ///    position. Working client orders count as filled in the direction that
  ///    is worse for the check (buys as held for a buy, sells for a sell), so
  ///    several orders together never exceed the risk limit or reverse a
  ///    position. Rejected → the reply is in state rejected (with an order
  ///    id, as every stored order), nothing is sent.
  ///    Otherwise an order of the decided qty goes through the book (Exit when
  ///    it reduces, Entry with the risk decision's stop and target when it
  ///    opens or adds) and the reply shows its state after submit (the paper
  ///    venue accepts at once).
  /// A domain outcome (risk, session or venue rejection) is a reply, never an error.
  tl::expected<OrderReply, GatewayError> submit(const OrderRequest& request);

  /// Feeds a closed 1-minute bar of `symbol` (bars of one symbol in time order;
  /// a bar not later than the last one, or of an unknown symbol, is ignored):
  /// the book starts the bar (a new trading day ends the session at the venue
  /// and flattens a carried position), the paper venue (when owned) fills
  /// orders against it, the ATR updates, and the book closes the bar (marks,
  /// trails the stop, checks the account breaker, applies the session rules).
  void on_bar(const std::string& symbol, const Bar& bar);

  /// The client order's current state (replayed = false); nullopt when unknown.
  std::optional<OrderReply> find(const std::string& client_order_id) const;
  /// initial + realised − fees + open PnL at each symbol's last close.
  double equity() const { return account_.equity(); }
  /// True while any symbol's risk engine is halted (the breaker tripped and
  /// that symbol's next session has not started yet).
  bool halted() const { return account_.halted(); }
  const AccountHalt& halt_state() const { return account_.halt_state(); }
  /// Signed contracts held (> 0 long); 0 for an unknown symbol.
  std::int64_t position(const std::string& symbol) const;
  /// The configured symbols, in configuration order.
  std::vector<std::string> symbols() const;
  /// True once a bar of `symbol` has been seen (orders can be checked).
  bool ready(const std::string& symbol) const;
  /// The protective stop / target order working for `symbol`; nullopt when none.
  std::optional<Order> protective_stop(const std::string& symbol) const;
  std::optional<Order> protective_target(const std::string& symbol) const;
  /// Closes each symbol's open trade record at its last close (exit reason
  /// "end_of_data") and ends its day: for a replay that stops (tests, tools).
  void finish();

 private:
  struct Symbol;  // per-symbol state (order_gateway.cpp)
  class Relay;    // a book's observer: client order state + the gateway's observer
  /// A client order as stored for idempotency.
  struct ClientOrder {
    OrderRequest request;
    std::size_t symbol = 0;
    OrderId id = 0;
    risk::EntryDecision decision;
    double reference_price = 0;  ///< the price the risk engine checked it at
    Timestamp created{};
    /// Its last state once it ended (or when it never reached the book).
    std::optional<Order> final_order;
    std::string reject_reason;  ///< see OrderReply::reject_reason
  };

  std::size_t index_of(const std::string& symbol) const;
  std::optional<GatewayError> check_fields(const OrderRequest& request, const Symbol& symbol) const;
  OrderReply reply_of(const ClientOrder& client) const;
  void order_done(const Order& order, std::string_view note);

  const engine::Clock& clock_;
  GatewayObserver* observer_;
  engine::Account account_;
  std::vector<std::unique_ptr<Symbol>> symbols_;
  std::unordered_map<std::string, ClientOrder> client_orders_;  ///< the idempotency store (node-stable)
  std::unordered_map<OrderId, ClientOrder*> working_;           ///< client orders not ended yet
};

}  // namespace quant::execution
