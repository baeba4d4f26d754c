// The order gateway with the real risk engine and the real simulated venue
// (through PaperVenue), on hand-made WIN bars: every number is checked by hand.
#include "execution/order_gateway.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "core/test_bars.h"

namespace quant::execution {
namespace {

InstrumentSpec win() { return testing::win_spec(); }

/// WDO with WIN's hours (the scenarios share one clock).
InstrumentSpec wdo() {
  InstrumentSpec s = testing::wdo_spec();
  s.session = testing::win_spec().session;
  return s;
}

Timestamp at(int day, int hh, int mm) { return testing::brt_march_2021(day, hh, mm); }
Bar bar(Timestamp ts, double o, double h, double l, double c) { return testing::ohlc_bar(ts, o, h, l, c); }

SymbolConfig symbol(InstrumentSpec spec) {
  SymbolConfig c;
  c.zone = TimeZone::find(spec.time_zone).value();
  c.spec = std::move(spec);
  c.risk.trailing_stop = false;  // the stop stays where it was placed unless a test says otherwise
  c.atr_period = 1;              // ATR = the last bar's true range: easy to compute by hand
  c.paper.slippage_ticks = 1;
  return c;
}

OrderRequest market(std::string id, Side side, std::int64_t qty, std::string sym = "WIN") {
  OrderRequest r;
  r.client_order_id = std::move(id);
  r.symbol = std::move(sym);
  r.side = side;
  r.qty = qty;
  r.type = OrderType::Market;
  return r;
}

OrderRequest limit(std::string id, Side side, std::int64_t qty, double price) {
  OrderRequest r = market(std::move(id), side, qty);
  r.type = OrderType::Limit;
  r.price = price;
  return r;
}

/// What the gateway reports (the desk writes it to its audit log).
struct Reports final : GatewayObserver {
  std::vector<std::pair<std::string, risk::RiskEvent>> risk_events;
  std::vector<engine::TradeRecord> trades;
  std::vector<OrderReply> orders;
  void on_risk_event(const std::string& symbol, const risk::RiskEvent& e) override {
    risk_events.emplace_back(symbol, e);
  }
  void on_trade(const std::string&, const engine::TradeRecord& t) override { trades.push_back(t); }
  void on_order(const OrderReply& r) override { orders.push_back(r); }
};

struct Harness {
  engine::ManualClock clock;
  Reports reports;
  std::unique_ptr<OrderGateway> gateway;

  explicit Harness(std::vector<SymbolConfig> symbols = {symbol(win())}, double equity = 100000) {
    GatewayConfig c;
    c.initial_equity = equity;
    c.symbols = std::move(symbols);
    gateway = std::make_unique<OrderGateway>(std::move(c), clock, &reports);
  }
  /// Feeds a bar as the live service does: at its close.
  void feed(const Bar& b, const std::string& sym = "WIN") {
    clock.set(b.ts + kMinute);
    gateway->on_bar(sym, b);
  }
  OrderReply submit(const OrderRequest& r) {
    auto reply = gateway->submit(r);
    EXPECT_TRUE(reply.has_value()) << (reply ? "" : reply.error().message);
    return reply ? *reply : OrderReply{};
  }
  GatewayError error(const OrderRequest& r) {
    auto reply = gateway->submit(r);
    EXPECT_FALSE(reply.has_value());
    return reply ? GatewayError{} : reply.error();
  }
  OrderReply state(const std::string& id) const { return gateway->find(id).value(); }
  /// The first bar: range 150 → ATR 150 → a 300-point stop, 60 per contract → 16 contracts at 1 %.
  void warm_up() { feed(bar(at(1, 10, 0), 120000, 120075, 119925, 120000)); }
};

TEST(OrderGatewayTest, NotReadyBeforeTheFirstBar) {
  Harness h;
  EXPECT_FALSE(h.gateway->ready("WIN"));
  const GatewayError e = h.error(market("a-1", Side::Buy, 1));
  EXPECT_EQ(e.kind, GatewayError::Kind::NotReady);
  EXPECT_EQ(e.message, "no price yet for WIN");
  EXPECT_FALSE(h.gateway->find("a-1").has_value());  // not stored: the client retries with the same id
  h.warm_up();
  EXPECT_TRUE(h.gateway->ready("WIN"));
  EXPECT_EQ(h.submit(market("a-1", Side::Buy, 1)).status, OrderStatus::Accepted);
  EXPECT_EQ(h.gateway->symbols(), std::vector<std::string>{"WIN"});
}

TEST(OrderGatewayTest, MarketOrderWithinTheRiskLimitIsAccepted) {
  Harness h;
  h.warm_up();
  // Limit floor(1 % × 100000 / (2 × 150 pts × 0.20)) = floor(1000 / 60) = 16; stop 120000 − 300.
  const OrderReply r = h.submit(market("a-1", Side::Buy, 10));
  EXPECT_EQ(r.decision, risk::Decision::Accepted);
  EXPECT_EQ(r.requested_qty, 10);
  EXPECT_EQ(r.qty, 10);
  EXPECT_DOUBLE_EQ(r.risk_stop_price, 119700);
  EXPECT_EQ(
      r.risk_reason,
      "accepted 10 of 16 allowed; limit 16 = floor(1.00% of 100000.00 = 1000.00 / ((300 pts + 5 slippage) × 0.20)); "
      "stop 300 pts = 2.00 × ATR 150.00 rounded up to tick 5");
  EXPECT_EQ(r.status, OrderStatus::Accepted);  // the paper venue accepts at once
  EXPECT_EQ(r.order_id, 1u);
  EXPECT_EQ(r.filled_qty, 0);
  EXPECT_TRUE(r.reject_reason.empty());
  EXPECT_FALSE(r.replayed);
  EXPECT_EQ(r.created, at(1, 10, 1));
  EXPECT_EQ(h.gateway->position("WIN"), 0);  // fills only at the next bar
}

TEST(OrderGatewayTest, TooLargeIsResizedAndWorkingOrdersCount) {
  Harness h;
  h.warm_up();
  const OrderReply big = h.submit(market("a-1", Side::Buy, 20));
  EXPECT_EQ(big.decision, risk::Decision::Resized);
  EXPECT_EQ(big.qty, 16);
  EXPECT_EQ(big.requested_qty, 20);
  // The working 16 count as held: nothing more on the long side.
  const OrderReply more = h.submit(market("a-2", Side::Buy, 1));
  EXPECT_EQ(more.decision, risk::Decision::Rejected);
  EXPECT_EQ(more.status, OrderStatus::Rejected);
  EXPECT_EQ(more.order_id, 2u);  // an id although no venue saw it (the contract's order_id >= 1)
  EXPECT_NE(more.reject_reason.find("already at the 1.00% risk limit: 16 held"), std::string::npos)
      << more.reject_reason;
}

TEST(OrderGatewayTest, FillsAtTheNextOpenPlusSlippageAndPlacesTheStop) {
  Harness h;
  h.warm_up();
  h.submit(market("a-1", Side::Buy, 20));  // resized to 16, stop 119700 around 120000
  h.feed(bar(at(1, 10, 1), 120050, 120100, 120000, 120075));
  const OrderReply filled = h.state("a-1");
  EXPECT_EQ(filled.status, OrderStatus::Filled);
  EXPECT_EQ(filled.filled_qty, 16);
  EXPECT_DOUBLE_EQ(filled.avg_fill_price, 120055);  // open 120050 + 1 tick
  EXPECT_EQ(h.gateway->position("WIN"), 16);
  // The stop keeps the sized 300 points around the real fill: 120055 − 300.
  const auto stop = h.gateway->protective_stop("WIN");
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->side, Side::Sell);
  EXPECT_EQ(stop->type, OrderType::Stop);
  EXPECT_EQ(stop->purpose, OrderPurpose::StopLoss);
  EXPECT_EQ(stop->qty, 16);
  EXPECT_DOUBLE_EQ(stop->stop_price, 119755);
  EXPECT_EQ(stop->status, OrderStatus::Accepted);
  // Marked at the close 120075: 16 × 20 pts × 0.2 = 64.
  EXPECT_DOUBLE_EQ(h.gateway->equity(), 100064);

  // A client exit working above the market is cancelled when the stop closes the position.
  EXPECT_EQ(h.submit(limit("tp-1", Side::Sell, 6, 121000)).status, OrderStatus::Accepted);
  // The stop triggers on the low 119700 and fills at 119755 − 1 tick.
  h.feed(bar(at(1, 10, 2), 120000, 120010, 119700, 119800));
  EXPECT_EQ(h.gateway->position("WIN"), 0);
  EXPECT_FALSE(h.gateway->protective_stop("WIN").has_value());
  // 16 × (119750 − 120055) × 0.2 = −976.
  EXPECT_DOUBLE_EQ(h.gateway->equity(), 99024);
  const OrderReply tp = h.state("tp-1");
  EXPECT_EQ(tp.status, OrderStatus::Cancelled);
  EXPECT_EQ(tp.reject_reason, "cancelled: the protective stop closed the position it was to reduce");
}

TEST(OrderGatewayTest, SellFillsAtTheOpenMinusSlippage) {
  Harness h;
  h.warm_up();
  h.submit(market("s-1", Side::Sell, 3));
  h.feed(bar(at(1, 10, 1), 120050, 120100, 120000, 120075));
  EXPECT_DOUBLE_EQ(h.state("s-1").avg_fill_price, 120045);
  EXPECT_EQ(h.gateway->position("WIN"), -3);
  const auto stop = h.gateway->protective_stop("WIN");
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->side, Side::Buy);
  EXPECT_DOUBLE_EQ(stop->stop_price, 120345);  // 120300 + (120045 − 120000)
}

TEST(OrderGatewayTest, PartialReductionResizesTheStop) {
  Harness h;
  h.warm_up();
  h.submit(market("a-1", Side::Buy, 16));
  h.feed(bar(at(1, 10, 1), 120050, 120100, 120000, 120075));
  const OrderId first_stop = h.gateway->protective_stop("WIN")->id;

  const OrderReply exit = h.submit(market("x-1", Side::Sell, 6));
  EXPECT_EQ(exit.decision, risk::Decision::Accepted);
  EXPECT_EQ(exit.qty, 6);
  EXPECT_EQ(exit.risk_reason, "reduces the position from 16 to 10");
  EXPECT_DOUBLE_EQ(exit.risk_stop_price, 119755);  // the stop that protects the rest
  h.feed(bar(at(1, 10, 2), 120100, 120150, 120050, 120100));
  EXPECT_DOUBLE_EQ(h.state("x-1").avg_fill_price, 120095);
  EXPECT_EQ(h.gateway->position("WIN"), 10);
  const auto stop = h.gateway->protective_stop("WIN");
  ASSERT_TRUE(stop.has_value());
  EXPECT_NE(stop->id, first_stop);  // cancelled and placed anew for the whole position
  EXPECT_EQ(stop->qty, 10);
  EXPECT_DOUBLE_EQ(stop->stop_price, 119755);
}

TEST(OrderGatewayTest, ReversalIsResizedToClose) {
  Harness h;
  h.warm_up();
  h.submit(market("a-1", Side::Buy, 16));
  h.feed(bar(at(1, 10, 1), 120050, 120100, 120000, 120075));
  const OrderReply r = h.submit(market("x-1", Side::Sell, 20));
  EXPECT_EQ(r.decision, risk::Decision::Resized);
  EXPECT_EQ(r.qty, 16);
  EXPECT_EQ(r.risk_reason, "resized to 16 from 20 to close the position: a reversal needs a separate order");
  // A second sell now counts the working 16 as sold: it opens a short, sized by risk at the
  // close 120075 with ATR 100 (the last bar's range): stop 200 pts, 40 per contract, equity
  // 100064 → floor(1000.64 / 40) = 25, capped by leverage to floor(5 × 100064 / 24015) = 20.
  const OrderReply opens = h.submit(market("s-1", Side::Sell, 30));
  EXPECT_EQ(opens.decision, risk::Decision::Resized);
  EXPECT_EQ(opens.qty, 20);
  EXPECT_DOUBLE_EQ(opens.risk_stop_price, 120275);
  h.feed(bar(at(1, 10, 2), 120100, 120150, 120050, 120100));  // both fill at 120095, in order
  EXPECT_EQ(h.gateway->position("WIN"), -20);
  const auto stop = h.gateway->protective_stop("WIN");
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->side, Side::Buy);
  EXPECT_EQ(stop->qty, 20);
  EXPECT_DOUBLE_EQ(stop->stop_price, 120295);  // 120275 shifted by the fill: + (120095 − 120075)
}

TEST(OrderGatewayTest, IdempotentReplayAndConflict) {
  Harness h;
  h.warm_up();
  const OrderReply first = h.submit(market("strat-42-0001", Side::Buy, 5));
  const OrderReply again = h.submit(market("strat-42-0001", Side::Buy, 5));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.order_id, first.order_id);
  EXPECT_EQ(again.status, OrderStatus::Accepted);
  EXPECT_EQ(h.gateway->position("WIN"), 0);
  h.feed(bar(at(1, 10, 1), 120050, 120100, 120000, 120075));
  // The replay answers the current state, and sent nothing twice.
  const OrderReply later = h.submit(market("strat-42-0001", Side::Buy, 5));
  EXPECT_TRUE(later.replayed);
  EXPECT_EQ(later.status, OrderStatus::Filled);
  EXPECT_EQ(later.filled_qty, 5);
  EXPECT_DOUBLE_EQ(later.avg_fill_price, 120055);
  EXPECT_EQ(h.gateway->position("WIN"), 5);
  EXPECT_FALSE(h.gateway->find("strat-42-0001")->replayed);

  OrderRequest changed = market("strat-42-0001", Side::Buy, 6);
  const GatewayError e = h.error(changed);
  EXPECT_EQ(e.kind, GatewayError::Kind::Conflict);
  EXPECT_EQ(e.field, "client_order_id");
  changed = market("strat-42-0001", Side::Buy, 5);
  changed.tif = TimeInForce::Gtc;
  EXPECT_EQ(h.error(changed).kind, GatewayError::Kind::Conflict);

  // Risk rejections are remembered too: the replay does not check again. At the close 120075
  // with ATR 100 (the last bar's range) and equity 100020 the risk allows floor(1000.2 / 40) = 25,
  // the leverage cap floor(5 × 100020 / 24015) = 20: 20 − 5 held = 15 more.
  const OrderReply more = h.submit(market("big-1", Side::Buy, 1000));
  EXPECT_EQ(more.qty, 15);
  const OrderReply rejected = h.submit(market("r-1", Side::Buy, 1));
  EXPECT_EQ(rejected.status, OrderStatus::Rejected);
  const OrderReply replay = h.submit(market("r-1", Side::Buy, 1));
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.status, OrderStatus::Rejected);
  EXPECT_EQ(replay.reject_reason, rejected.reject_reason);
}

TEST(OrderGatewayTest, ValidationNamesTheField) {
  Harness h;
  h.warm_up();
  struct Case {
    OrderRequest request;
    GatewayError::Kind kind{};
    const char* field = nullptr;
  };
  OrderRequest spaced = market("has space", Side::Buy, 1);
  OrderRequest empty = market("", Side::Buy, 1);
  OrderRequest long_id = market(std::string(65, 'a'), Side::Buy, 1);
  OrderRequest off_grid = limit("l-1", Side::Buy, 1, 119998);
  OrderRequest no_limit = limit("l-2", Side::Buy, 1, 0);
  OrderRequest priced_market = market("m-1", Side::Buy, 1);
  priced_market.price = 120000;
  OrderRequest stopped_market = market("m-2", Side::Buy, 1);
  stopped_market.stop_price = 119000;
  OrderRequest stopped_limit = limit("l-3", Side::Buy, 1, 119000);
  stopped_limit.stop_price = 118000;
  OrderRequest no_stop = market("s-1", Side::Sell, 1);
  no_stop.type = OrderType::Stop;
  OrderRequest priced_stop = no_stop;
  priced_stop.stop_price = 119000;
  priced_stop.price = 118995;
  OrderRequest stop_limit = market("s-2", Side::Sell, 1);
  stop_limit.type = OrderType::StopLimit;
  for (const Case& c : {
           Case{spaced, GatewayError::Kind::Invalid, "client_order_id"},
           Case{empty, GatewayError::Kind::Invalid, "client_order_id"},
           Case{long_id, GatewayError::Kind::Invalid, "client_order_id"},
           Case{market("q-1", Side::Buy, 0), GatewayError::Kind::Invalid, "qty"},
           Case{market("u-1", Side::Buy, 1, "PETR4"), GatewayError::Kind::UnknownSymbol, "symbol"},
           Case{off_grid, GatewayError::Kind::Invalid, "price"},
           Case{no_limit, GatewayError::Kind::Invalid, "price"},
           Case{priced_market, GatewayError::Kind::Invalid, "price"},
           Case{stopped_market, GatewayError::Kind::Invalid, "stop_price"},
           Case{stopped_limit, GatewayError::Kind::Invalid, "stop_price"},
           Case{no_stop, GatewayError::Kind::Invalid, "stop_price"},
           Case{priced_stop, GatewayError::Kind::Invalid, "price"},
           Case{stop_limit, GatewayError::Kind::Invalid, "type"},
       }) {
    const GatewayError e = h.error(c.request);
    EXPECT_EQ(e.kind, c.kind) << c.request.client_order_id << ": " << e.message;
    EXPECT_EQ(e.field, c.field) << c.request.client_order_id << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_EQ(h.error(off_grid).message, "a limit order needs price > 0 on the tick grid of 5 (got 119998)");
  EXPECT_EQ(h.error(market("u-1", Side::Buy, 1, "PETR4")).message, "unknown symbol PETR4 (configured: WIN)");
  // 64 characters of every allowed kind are fine.
  const std::string id = "AZaz09._:-" + std::string(54, 'x');
  EXPECT_EQ(h.submit(market(id, Side::Buy, 1)).status, OrderStatus::Accepted);
  // Nothing invalid was stored: a fixed request may reuse the id.
  EXPECT_EQ(h.submit(limit("l-1", Side::Buy, 1, 119000)).status, OrderStatus::Accepted);
}

TEST(OrderGatewayTest, NoAtrYetRejectsOpening) {
  SymbolConfig c = symbol(win());
  c.atr_period = 3;
  Harness h({c});
  h.warm_up();  // one bar of three
  const OrderReply r = h.submit(market("a-1", Side::Buy, 1));
  EXPECT_EQ(r.status, OrderStatus::Rejected);
  EXPECT_EQ(r.reject_reason.rfind("no ATR yet: ", 0), 0u) << r.reject_reason;
}

TEST(OrderGatewayTest, TrailingStopFollowsTheRiskEngine) {
  SymbolConfig c = symbol(win());
  c.risk.trailing_stop = true;
  Harness h({c});
  h.warm_up();
  h.submit(market("a-1", Side::Buy, 16));
  // Fill 120005, stop placed at 119705; the bar's high 120075 with ATR 150 trails it to
  // floor5(120075 − 300) = 119775: the same order, moved.
  h.feed(bar(at(1, 10, 1), 120000, 120075, 119925, 120000));
  const auto stop = h.gateway->protective_stop("WIN");
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->id, 2u);
  EXPECT_DOUBLE_EQ(stop->stop_price, 119775);
  EXPECT_EQ(stop->qty, 16);
  const auto& events = h.reports.risk_events;
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().first, "WIN");
  EXPECT_EQ(events.back().second.kind, risk::RiskEventKind::StopMoved);
}

TEST(OrderGatewayTest, DayOrdersExpireWithTheSession) {
  Harness h;
  h.warm_up();
  h.submit(limit("d-1", Side::Buy, 1, 119000));
  OrderRequest gtc = limit("g-1", Side::Buy, 1, 118000);
  gtc.tif = TimeInForce::Gtc;
  h.submit(gtc);
  h.feed(bar(at(2, 9, 0), 120000, 120075, 119925, 120000));  // Tuesday's first bar
  EXPECT_EQ(h.state("d-1").status, OrderStatus::Expired);
  EXPECT_EQ(h.state("d-1").reject_reason, "expired: a day order ends with its session");
  EXPECT_EQ(h.state("g-1").status, OrderStatus::Accepted);
}

TEST(OrderGatewayTest, BreakerHaltsFlattensAndClearsNextSession) {
  // 5 % risk so one position can lose 3 % without reaching its stop.
  SymbolConfig c = symbol(win());
  c.risk.risk_pct = 0.05;
  c.risk.max_leverage = 100;
  Harness h({c, symbol(wdo())});
  h.feed(bar(at(1, 10, 0), 5000, 5005, 4995, 5000), "WDO");
  // Range 500 → ATR 500 → stop 1000 pts; with the 1-tick stop slippage 1005 ×
  // 0.2 = 201 per contract: floor(5000 / 201) = 24.
  h.feed(bar(at(1, 10, 0), 120000, 120250, 119750, 120000));
  EXPECT_EQ(h.submit(market("a-1", Side::Buy, 25)).qty, 24);
  h.feed(bar(at(1, 10, 1), 120000, 120050, 119950, 120000));  // fill 120005, stop 119005
  EXPECT_EQ(h.gateway->position("WIN"), 24);
  EXPECT_EQ(h.submit(limit("tp-1", Side::Sell, 10, 121000)).status, OrderStatus::Accepted);
  EXPECT_FALSE(h.gateway->halted());

  // Close 119350: 24 × (119350 − 120005) × 0.2 = −3144 ≤ −3 % of 100000: the breaker trips.
  h.feed(bar(at(1, 10, 2), 120000, 120000, 119350, 119350));
  EXPECT_DOUBLE_EQ(h.gateway->equity(), 96856);
  EXPECT_TRUE(h.gateway->halted());
  const AccountHalt& halt = h.gateway->halt_state();
  EXPECT_EQ(halt.symbol, "WIN");
  EXPECT_EQ(halt.reason, "day PnL -3144.00 ≤ -3.00% of start-of-day equity 100000.00 = -3000.00");
  EXPECT_EQ(halt.time, at(1, 10, 3));
  EXPECT_DOUBLE_EQ(halt.equity, 96856);
  EXPECT_EQ(h.state("tp-1").status, OrderStatus::Cancelled);
  EXPECT_EQ(h.state("tp-1").reject_reason, "cancelled: the daily loss limit halted the account");
  EXPECT_FALSE(h.gateway->protective_stop("WIN").has_value());  // the flatten replaces it
  EXPECT_EQ(h.gateway->position("WIN"), 24);                    // flattened at the next open

  // Every symbol of the account is halted, reductions included.
  for (const OrderRequest& r : {market("b-1", Side::Buy, 1), market("b-2", Side::Sell, 1, "WDO")}) {
    const OrderReply no = h.submit(r);
    EXPECT_EQ(no.status, OrderStatus::Rejected);
    EXPECT_EQ(no.reject_reason, "halted: daily loss limit reached: no orders until the next session");
  }

  h.feed(bar(at(1, 10, 3), 119300, 119350, 119250, 119300));  // flatten fills at 119300 − 5
  EXPECT_EQ(h.gateway->position("WIN"), 0);
  // 24 × (119295 − 120005) × 0.2 = −3408.
  EXPECT_DOUBLE_EQ(h.gateway->equity(), 96592);
  EXPECT_TRUE(h.gateway->halted());
  EXPECT_EQ(h.submit(market("b-3", Side::Buy, 1)).status, OrderStatus::Rejected);

  // The next session clears the halt of each symbol at its first bar.
  h.feed(bar(at(2, 9, 0), 119300, 119550, 119050, 119300));
  EXPECT_TRUE(h.gateway->halted());  // WDO's session has not started yet
  EXPECT_EQ(h.submit(market("b-4", Side::Buy, 1)).status, OrderStatus::Accepted);
  h.feed(bar(at(2, 9, 0), 5000, 5005, 4995, 5000), "WDO");
  EXPECT_FALSE(h.gateway->halted());
  EXPECT_EQ(h.submit(market("b-5", Side::Sell, 1, "WDO")).status, OrderStatus::Accepted);
}

TEST(OrderGatewayTest, OrderIdsAreUniqueAcrossSymbols) {
  Harness h({symbol(win()), symbol(wdo())});
  h.warm_up();
  h.feed(bar(at(1, 10, 0), 5000, 5005, 4995, 5000), "WDO");
  EXPECT_EQ(h.submit(market("w-1", Side::Buy, 1)).order_id, 1u);
  EXPECT_EQ(h.submit(market("d-1", Side::Buy, 1, "WDO")).order_id, 2u);
  h.feed(bar(at(1, 10, 1), 120000, 120075, 119925, 120000));
  h.feed(bar(at(1, 10, 1), 5000, 5005, 4995, 5000), "WDO");
  EXPECT_EQ(h.gateway->position("WIN"), 1);
  EXPECT_EQ(h.gateway->position("WDO"), 1);
  // Two protective stops, ids 3 and 4, one per symbol.
  EXPECT_EQ(h.gateway->protective_stop("WIN")->id, 3u);
  EXPECT_EQ(h.gateway->protective_stop("WDO")->id, 4u);
  // Costs of both in one account: WIN 1 × (120000 − 120005) × 0.2 = −1, WDO 1 × (5000 − 5000.5) × 10 = −5.
  EXPECT_DOUBLE_EQ(h.gateway->equity(), 99994);
}

TEST(OrderGatewayTest, StaleBarsAndUnknownSymbolsAreIgnored) {
  Harness h;
  h.warm_up();
  h.submit(market("a-1", Side::Buy, 1));
  h.gateway->on_bar("PETR4", bar(at(1, 10, 1), 1, 1, 1, 1));
  h.feed(bar(at(1, 10, 0), 130000, 130000, 130000, 130000));  // the same bar again
  EXPECT_EQ(h.gateway->position("WIN"), 0);
  EXPECT_EQ(h.gateway->position("PETR4"), 0);
  EXPECT_FALSE(h.gateway->ready("PETR4"));
}

// ---- a remote venue: reports arrive later, through ExecutionListener ----

/// Records what the gateway sends; reports nothing until the test says so.
struct FakeVenue final : engine::ExecutionVenue {
  engine::ExecutionListener* listener = nullptr;
  std::vector<Order> submitted;
  std::vector<OrderId> cancelled;
  void set_listener(engine::ExecutionListener* l) override { listener = l; }
  void submit(const Order& order) override { submitted.push_back(order); }
  void cancel(OrderId id) override { cancelled.push_back(id); }
  void replace_stop(OrderId, double) override {}
  void end_of_session(Timestamp) override {}
};

Fill fill_of(OrderId id, Side side, std::int64_t qty, double price, Timestamp ts) {
  Fill f;
  f.order_id = id;
  f.side = side;
  f.qty = qty;
  f.price = price;
  f.ts = ts;
  return f;
}

TEST(OrderGatewayTest, WorksWithAVenueThatReportsLater) {
  FakeVenue venue;
  SymbolConfig c = symbol(win());
  c.venue = &venue;
  Harness h({c});
  ASSERT_NE(venue.listener, nullptr);  // the symbol's trading book
  h.warm_up();
  const OrderReply r = h.submit(market("a-1", Side::Buy, 16));
  EXPECT_EQ(r.status, OrderStatus::New);  // not acknowledged yet
  ASSERT_EQ(venue.submitted.size(), 1u);
  EXPECT_EQ(venue.submitted[0].purpose, OrderPurpose::Entry);
  EXPECT_EQ(venue.submitted[0].qty, 16);

  const Timestamp t = at(1, 10, 1) + std::chrono::seconds(5);
  venue.listener->on_accepted(1, t);
  EXPECT_EQ(h.state("a-1").status, OrderStatus::Accepted);
  // A partial fill: a stop for the 6 held, 300 points under 120010.
  venue.listener->on_fill(fill_of(1, Side::Buy, 6, 120010, t));
  EXPECT_EQ(h.state("a-1").status, OrderStatus::PartiallyFilled);
  ASSERT_EQ(venue.submitted.size(), 2u);
  EXPECT_EQ(venue.submitted[1].purpose, OrderPurpose::StopLoss);
  EXPECT_EQ(venue.submitted[1].qty, 6);
  EXPECT_DOUBLE_EQ(venue.submitted[1].stop_price, 119710);
  venue.listener->on_accepted(2, t);
  // The rest: the stop is replaced (cancel + new) for all 16.
  venue.listener->on_fill(fill_of(1, Side::Buy, 10, 120010, t));
  EXPECT_EQ(h.state("a-1").status, OrderStatus::Filled);
  EXPECT_EQ(venue.cancelled, std::vector<OrderId>{2});
  ASSERT_EQ(venue.submitted.size(), 3u);
  EXPECT_EQ(venue.submitted[2].qty, 16);
  EXPECT_DOUBLE_EQ(venue.submitted[2].stop_price, 119710);
  EXPECT_EQ(h.gateway->protective_stop("WIN")->id, 3u);
  venue.listener->on_cancelled(2, t);  // the confirmation arrives later and changes nothing
  EXPECT_EQ(h.gateway->protective_stop("WIN")->id, 3u);
  venue.listener->on_fill(fill_of(99, Side::Buy, 1, 1, t));  // not ours: ignored
  EXPECT_EQ(h.gateway->position("WIN"), 16);

  // A venue rejection is a state with the venue's words.
  h.submit(market("x-1", Side::Sell, 4));
  venue.listener->on_rejected(4, t, "market closed");
  EXPECT_EQ(h.state("x-1").status, OrderStatus::Rejected);
  EXPECT_EQ(h.state("x-1").reject_reason, "rejected by the venue: market closed");
}

}  // namespace
}  // namespace quant::execution
