#pragma once
/// The order gateway behind `POST /order` (docs/contracts/serve_api.md): takes
/// client orders for one account, checks them, passes them through the risk
/// engine, sends what survives to the symbol's venue and keeps each position
/// protected by one stop order. Pure logic: no I/O, no threads; time only
/// through the injected `engine::Clock`. Not thread-safe: the HTTP service
/// serialises calls (one mutex around submit, on_bar and the queries).
///
/// Per symbol it holds a risk engine, a session clock, a streaming ATR over
/// the bars it is fed, the net position and the venue (a `PaperVenue` it owns
/// by default, or any `engine::ExecutionVenue` — MT5 bridge, FIX — whose
/// reports may arrive later through ExecutionListener). The gateway is the
/// listener of every venue; order ids come from one counter, so they are
/// unique across symbols.
///
/// Memory: every client order stays in the idempotency store for the life of
/// the process (a few hundred bytes each), so a replay always finds it.
/// Open orders and per-symbol state are bounded.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/instrument.h"
#include "core/order.h"
#include "engine/ports.h"
#include "execution/order_reply.h"
#include "execution/paper_venue.h"
#include "risk/risk_engine.h"

namespace quant::execution {

/// One tradable symbol of the account.
struct SymbolConfig {
  InstrumentSpec spec;              ///< symbol, tick grid, point value, fees, session hours
  TimeZone zone = TimeZone::utc();  ///< the session's zone (spec.time_zone, looked up by the caller)
  risk::RiskConfig risk;
  int atr_period = 14;  ///< Wilder ATR over the bars the gateway sees; sizes new positions
  /// Where orders go, not owned (must outlive the gateway). Null: the gateway
  /// owns a PaperVenue built with `paper` and feeds it every bar.
  engine::ExecutionVenue* venue = nullptr;
  PaperVenueConfig paper;
};

struct GatewayConfig {
  double initial_equity = 100000;  ///< account currency
  std::vector<SymbolConfig> symbols;
};

/// Checks a configuration once, where it is read: initial_equity finite and
/// > 0; at least one symbol; symbols non-empty and unique; tick_size and
/// point_value finite and > 0; risk::validate; atr_period >= 1;
/// paper.slippage_ticks >= 0; paper.participation in [0, 1]. The error names the field.
Expected<void> validate(const GatewayConfig& config);

/// Why and when the account stopped trading (for publishing `risk:halt`).
struct AccountHalt {
  bool halted = false;
  std::string symbol;  ///< whose bar tripped the breaker
  std::string reason;  ///< the risk engine's Halted reason
  Timestamp time{};    ///< the close of that bar
  double equity = 0;   ///< account equity then
};

/// A risk engine event with the symbol it belongs to.
struct SymbolRiskEvent {
  std::string symbol;
  risk::RiskEvent event;
};

class OrderGateway final : public engine::ExecutionListener {
 public:
  /// `config` must pass validate() (a violation here is a bug and aborts).
  /// `clock` must outlive the gateway.
  OrderGateway(GatewayConfig config, const engine::Clock& clock);
  ~OrderGateway() override;
  OrderGateway(const OrderGateway&) = delete;
  OrderGateway& operator=(const OrderGateway&) = delete;

  /// Takes one client order. In order:
  /// 1. client_order_id must be 1–64 of A-Z a-z 0-9 . _ : - (Invalid);
  /// 2. an id seen before: the same fields → that order's current state with
  ///    replayed = true (risk-rejected orders too); different fields → Conflict;
  /// 3. symbol configured (UnknownSymbol); qty >= 1; type market, limit or
  ///    stop; limit needs price > 0 on the tick grid, stop needs stop_price > 0
  ///    on the grid, and a price the type does not take is Invalid naming it;
  /// 4. no bar seen yet for the symbol → NotReady;
  /// 5. risk::RiskEngine::check_order at the last close (market) or the
  ///    limit/stop price, the symbol's ATR, the account equity and the
  ///    position. Working client orders count as filled in the direction that
  ///    is worse for the check (buys as held for a buy, sells for a sell), so
  ///    several orders together never exceed the risk limit or reverse a
  ///    position. Rejected → the reply is in state rejected (with an order
  ///    id, as every stored order), nothing is sent.
  ///    Otherwise an Order of the decided qty goes to the venue (purpose Exit
  ///    when it reduces, Entry when it opens or adds) and the reply shows its
  ///    state after submit (the paper venue accepts at once).
  /// A domain outcome (risk or venue rejection) is a reply, never an error.
  tl::expected<OrderReply, GatewayError> submit(const OrderRequest& request);

  /// Feeds a closed 1-minute bar of `symbol` (bars of one symbol in time order;
  /// a bar not later than the last one, or of an unknown symbol, is ignored):
  /// 1. a new trading day (SessionClock) ends the session at the venue (Day
  ///    orders expire) and starts it in the risk engine at the account equity;
  /// 2. the paper venue (when owned) fills orders against the bar;
  /// 3. ATR and last close update; the position is marked to the close;
  /// 4. the stop trails (risk engine) and the stop order follows it;
  /// 5. the daily breaker is checked with the account equity; when it trips
  ///    the whole account halts: every symbol's risk engine rejects new
  ///    orders until its next session, working client orders are cancelled,
  ///    every open position is flattened with a market order.
  void on_bar(const std::string& symbol, const Bar& bar);

  /// The client order's current state (replayed = false); nullopt when unknown.
  std::optional<OrderReply> find(const std::string& client_order_id) const;
  /// initial + realised − fees + open PnL at each symbol's last close.
  double equity() const;
  /// True while any symbol's risk engine is halted (the breaker tripped and
  /// that symbol's next session has not started yet).
  bool halted() const { return halt_.halted; }
  const AccountHalt& halt_state() const { return halt_; }
  /// Signed contracts held (> 0 long); 0 for an unknown symbol.
  std::int64_t position(const std::string& symbol) const;
  /// The configured symbols, in configuration order.
  std::vector<std::string> symbols() const;
  /// True once a bar of `symbol` has been seen (orders can be checked).
  bool ready(const std::string& symbol) const;
  /// The protective stop order working for `symbol`; nullopt when none.
  std::optional<Order> protective_stop(const std::string& symbol) const;
  /// Risk events since the last call (sizing decisions, stop moves, halts),
  /// moved out so the caller can log them; they accumulate until taken.
  std::vector<SymbolRiskEvent> take_risk_events() { return std::exchange(risk_events_, {}); }

  // engine::ExecutionListener: the venues' reports.
  void on_accepted(OrderId id, Timestamp ts) override;
  void on_rejected(OrderId id, Timestamp ts, std::string_view reason) override;
  void on_fill(const Fill& fill) override;
  void on_cancelled(OrderId id, Timestamp ts) override;
  void on_expired(OrderId id, Timestamp ts) override;
  void on_replaced(OrderId id, Timestamp ts, double new_stop_price) override;

 private:
  struct Book;  // per-symbol state (order_gateway.cpp)
  /// A client order as stored for idempotency; `order` is its live state.
  struct ClientOrder {
    OrderRequest request;
    std::size_t book = 0;
    Order order;  ///< id 0 until sent; qty = the decided qty
    risk::EntryDecision decision;
    double reference_price = 0;  ///< the price the risk engine checked it at
    std::string reject_reason;   ///< see OrderReply::reject_reason
    std::string cancel_reason;   ///< why the gateway asked the venue to cancel it
  };
  /// An order at a venue that is not terminal yet.
  struct Sent {
    std::size_t book = 0;
    ClientOrder* client = nullptr;  ///< null: the gateway's own (protective stop, flatten)
    Order own;                      ///< the order itself when client is null
  };

  /// The book's index, or books_.size() for an unknown symbol.
  std::size_t index_of(const std::string& symbol) const;
  const Book* find_book(const std::string& symbol) const;
  Order& order_of(Sent& sent);
  std::optional<GatewayError> check_fields(const OrderRequest& request, const Book& book) const;
  OrderReply reply_of(const ClientOrder& client) const;
  std::int64_t working_client_qty(std::size_t book, Side side) const;
  /// Sends a gateway order (Gtc); `slot` (the book's stop/flatten id) is set before the venue sees it.
  void send_own(std::size_t book, Side side, OrderType type, OrderPurpose purpose, std::int64_t qty, double stop_price,
                Timestamp ts, OrderId& slot);
  void cancel_client_orders(std::size_t book, bool exits_only, std::int64_t keep_qty, const std::string& reason);
  void after_fill(std::size_t book, std::int64_t before, const Fill& fill, const ClientOrder* client,
                  OrderPurpose purpose);
  void sync_stop(std::size_t book, Timestamp ts);
  void cancel_stop(Book& book);
  void flatten(std::size_t book, Timestamp ts);
  void halt_account(std::size_t book, Timestamp ts, double equity);
  void forget(std::unordered_map<OrderId, Sent>::iterator it);
  void drain_risk_events(Book& book);
  void refresh_halt();

  double initial_equity_;
  const engine::Clock& clock_;
  std::vector<std::unique_ptr<Book>> books_;
  std::unordered_map<std::string, ClientOrder> client_orders_;  ///< the idempotency store (node-stable)
  std::unordered_map<OrderId, Sent> open_;
  OrderId next_id_ = 1;
  AccountHalt halt_;
  std::vector<SymbolRiskEvent> risk_events_;
};

}  // namespace quant::execution
