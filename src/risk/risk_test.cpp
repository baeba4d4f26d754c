#include <algorithm>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/test_bars.h"
#include "risk/risk_engine.h"

namespace quant::risk {
namespace {

InstrumentSpec win() { return testing::win_spec(); }
InstrumentSpec wdo() { return testing::wdo_spec(); }

Timestamp at(int minute) { return Timestamp(kMinute * minute); }

EntryRequest request(Side side, double price, double atr, double equity) {
  EntryRequest r;
  r.ts = at(0);
  r.side = side;
  r.price = price;
  r.atr = atr;
  r.equity = equity;
  return r;
}

Bar bar(int minute, double open, double high, double low, double close) {
  Bar b;
  b.ts = at(minute);
  b.open = open;
  b.high = high;
  b.low = low;
  b.close = close;
  return b;
}

void expect_no_commas(const RiskEngine& engine) {
  for (const RiskEvent& e : engine.events()) {
    EXPECT_EQ(e.reason.find(','), std::string::npos) << e.reason;
    EXPECT_FALSE(e.reason.empty()) << to_string(e.kind);
  }
}

TEST(RiskEngineTest, KindAndDecisionNames) {
  EXPECT_STREQ(to_string(RiskEventKind::EntryAccepted), "entry_accepted");
  EXPECT_STREQ(to_string(RiskEventKind::EntryResized), "entry_resized");
  EXPECT_STREQ(to_string(RiskEventKind::EntryRejected), "entry_rejected");
  EXPECT_STREQ(to_string(RiskEventKind::StopMoved), "stop_moved");
  EXPECT_STREQ(to_string(RiskEventKind::Halted), "halted");
  EXPECT_STREQ(to_string(RiskEventKind::HaltCleared), "halt_cleared");
  EXPECT_STREQ(to_string(Decision::Accepted), "accepted");
  EXPECT_STREQ(to_string(Decision::Resized), "resized");
  EXPECT_STREQ(to_string(Decision::Rejected), "rejected");
}

TEST(RiskEngineTest, ValidateNamesTheField) {
  EXPECT_TRUE(validate(RiskConfig{}).has_value());
  RiskConfig c;
  c.risk_pct = 0;
  ASSERT_FALSE(validate(c).has_value());
  EXPECT_NE(validate(c).error().message.find("risk.risk_pct"), std::string::npos);
  c = RiskConfig{};
  c.max_contracts = 0;
  EXPECT_NE(validate(c).error().message.find("max_contracts"), std::string::npos);
  c = RiskConfig{};
  c.daily_loss_pct = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(validate(c).error().message.find("daily_loss_pct"), std::string::npos);
  c = RiskConfig{};
  c.target_points = -1;
  EXPECT_NE(validate(c).error().message.find("target_points"), std::string::npos);
}

TEST(RiskEngineTest, WinSizingByHand) {
  RiskEngine engine(RiskConfig{}, win());
  // 2 × 150 = 300 pts (60 ticks), one contract risks 300 × 0.2 = 60; floor(1000 / 60) = 16.
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 150, 100000));
  EXPECT_EQ(d.decision, Decision::Accepted);
  EXPECT_EQ(d.qty, 16);
  EXPECT_DOUBLE_EQ(d.stop_price, 119700);
  EXPECT_DOUBLE_EQ(d.target_price, 0);
  EXPECT_EQ(d.reason,
            "sized 16 = floor(1.00% of 100000.00 = 1000.00 / (300 pts × 0.20)); "
            "stop 300 pts = 2.00 × ATR 150.00 rounded up to tick 5");

  const EntryDecision s = engine.check_entry(request(Side::Sell, 120000, 150, 100000));
  EXPECT_EQ(s.decision, Decision::Accepted);
  EXPECT_EQ(s.qty, 16);
  EXPECT_DOUBLE_EQ(s.stop_price, 120300);

  ASSERT_EQ(engine.events().size(), 2u);
  EXPECT_EQ(engine.events()[0].kind, RiskEventKind::EntryAccepted);
  EXPECT_DOUBLE_EQ(engine.events()[0].value, 16);
  EXPECT_DOUBLE_EQ(engine.events()[0].equity, 100000);
  expect_no_commas(engine);
}

TEST(RiskEngineTest, StopsAndTargetsFollowTheFillOnTheGrid) {
  RiskEngine engine(RiskConfig{}, win());
  EntryDecision d;
  d.decision = Decision::Accepted;
  d.qty = 3;
  d.stop_price = 119800;  // 200 pts below the 120000 it was sized at
  d.target_price = 120100;
  // Filled 15 pts higher: both move by 15 (on the 5-pt grid), distances kept.
  auto placed = engine.anchored_to_fill(d, 120000, 120015);
  EXPECT_DOUBLE_EQ(placed.stop_price, 119815);
  EXPECT_DOUBLE_EQ(placed.target_price, 120115);
  EXPECT_EQ(placed.qty, 3);
  // A fill off the grid (a synthetic price) snaps to the nearest tick; no target stays none.
  d.target_price = 0;
  placed = engine.anchored_to_fill(d, 120000, 119991);
  EXPECT_DOUBLE_EQ(placed.stop_price, 119790);
  EXPECT_DOUBLE_EQ(placed.target_price, 0);
}

TEST(RiskEngineTest, WinSizingCountsTheStopsSlippageAndBothFees) {
  // A 100-point WIN stop (ATR 50), one tick of slippage, R$ 0.26 + 0.24 per
  // contract per side. Without costs floor(1000 / 20) = 50 contracts lose
  // 50 × (105 × 0.2 + 1.00) = 1100 = 1.10 % at a stop that slips one tick; with
  // them one contract loses (100 + 5) × 0.2 + 2 × 0.50 = 22.00: floor(1000 / 22) = 45.
  RiskConfig c;
  c.max_leverage = 20;  // the default 5 caps 100000 at 20 contracts of 120000 × 0.2
  RiskEngine plain(c, win());
  EXPECT_EQ(plain.check_entry(request(Side::Buy, 120000, 50, 100000)).qty, 50);
  RiskEngine engine(c, win(), TradingCosts{0.5, 1});
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 50, 100000));
  EXPECT_EQ(d.qty, 45);
  EXPECT_DOUBLE_EQ(d.stop_price, 119900);
  EXPECT_EQ(d.reason,
            "sized 45 = floor(1.00% of 100000.00 = 1000.00 / ((100 pts + 5 slippage) × 0.20 + 1.00 fees)); "
            "stop 100 pts = 2.00 × ATR 50.00 rounded up to tick 5");
  EXPECT_LE(45 * 22.0, 1000.0);
  EXPECT_GT(46 * 22.0, 1000.0);
}

TEST(RiskEngineTest, WinDistanceRoundsUpToTheGrid) {
  RiskEngine engine(RiskConfig{}, win());
  // 2 × 166 = 332 pts → 67 ticks = 335 pts; 335 × 0.2 = 67 per contract; floor(1000 / 67) = 14
  // (the unrounded 332 would have given 15 and risked 996 > the real 1005 at the grid stop).
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 166, 100000));
  EXPECT_EQ(d.decision, Decision::Accepted);
  EXPECT_EQ(d.qty, 14);
  EXPECT_DOUBLE_EQ(d.stop_price, 119665);
  const EntryDecision s = engine.check_entry(request(Side::Sell, 120000, 166, 100000));
  EXPECT_DOUBLE_EQ(s.stop_price, 120335);
  // A tiny ATR still puts the stop one full tick away.
  RiskConfig c;
  c.max_contracts = 100000;
  c.max_leverage = 1e9;
  RiskEngine tiny(c, win());
  const EntryDecision t = tiny.check_entry(request(Side::Buy, 120000, 0.01, 100000));
  EXPECT_DOUBLE_EQ(t.stop_price, 119995);
  EXPECT_EQ(t.qty, 1000);  // 1000 / (5 × 0.2)
}

TEST(RiskEngineTest, WdoSizingByHand) {
  RiskEngine engine(RiskConfig{}, wdo());
  // 2 × 7.3 = 14.6 pts → 30 ticks = 15.0 pts; 15 × 10 = 150 per contract; floor(1000 / 150) = 6.
  const EntryDecision d = engine.check_entry(request(Side::Buy, 5000, 7.3, 100000));
  EXPECT_EQ(d.decision, Decision::Accepted);
  EXPECT_EQ(d.qty, 6);
  EXPECT_DOUBLE_EQ(d.stop_price, 4985.0);
  EXPECT_NE(d.reason.find("floor(1.00% of 100000.00 = 1000.00 / (15.0 pts × 10.00))"), std::string::npos) << d.reason;
  const EntryDecision s = engine.check_entry(request(Side::Sell, 5000, 7.3, 100000));
  EXPECT_DOUBLE_EQ(s.stop_price, 5015.0);
  // 2 × 5 = 10 pts, 100 per contract: 10 contracts, notional 10 × 5000 × 10 = 500000 = 5 × equity:
  // exactly at the leverage cap, which allows it (<=).
  const EntryDecision edge = engine.check_entry(request(Side::Buy, 5000, 5, 100000));
  EXPECT_EQ(edge.decision, Decision::Accepted);
  EXPECT_EQ(edge.qty, 10);
  expect_no_commas(engine);
}

TEST(RiskEngineTest, FxSmallTickReason) {
  InstrumentSpec fx;
  fx.symbol = "EURUSD";
  fx.tick_size = 0.00001;
  fx.point_value = 100000;  // per standard lot
  RiskEngine engine(RiskConfig{}, fx);
  // 2 × 0.0012 = 0.0024 → 240 ticks; 0.0024 × 100000 = 240 per lot; floor(1000 / 240) = 4.
  const EntryDecision d = engine.check_entry(request(Side::Buy, 1.10005, 0.0012, 100000));
  EXPECT_EQ(d.decision, Decision::Accepted);
  EXPECT_EQ(d.qty, 4);
  EXPECT_NEAR(d.stop_price, 1.09765, 1e-12);
  EXPECT_EQ(d.reason,
            "sized 4 = floor(1.00% of 100000.00 = 1000.00 / (0.00240 pts × 100000.00)); "
            "stop 0.00240 pts = 2.00 × ATR 0.0012000 rounded up to tick 0.00001");
}

TEST(RiskEngineTest, TargetOnTheGrid) {
  RiskConfig c;
  c.target_points = 102;  // rounds to 100 on WIN's 5-point grid
  RiskEngine engine(c, win());
  EXPECT_DOUBLE_EQ(engine.check_entry(request(Side::Buy, 120000, 150, 100000)).target_price, 120100);
  EXPECT_DOUBLE_EQ(engine.check_entry(request(Side::Sell, 120000, 150, 100000)).target_price, 119900);
  c.target_points = 7.3;  // 14.6 ticks of WDO → 15 ticks = 7.5
  RiskEngine dollar(c, wdo());
  EXPECT_DOUBLE_EQ(dollar.check_entry(request(Side::Buy, 5000, 7.3, 100000)).target_price, 5007.5);
}

TEST(RiskEngineTest, ZeroContractsIsRejectedWithTheReason) {
  RiskEngine engine(RiskConfig{}, win());
  // 1 % of 10000 = 100 < 2 × 310 = 620 pts × 0.20 = 124.
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 310, 10000));
  EXPECT_EQ(d.decision, Decision::Rejected);
  EXPECT_EQ(d.qty, 0);
  EXPECT_EQ(d.reason,
            "risk 1.00% of 10000.00 = 100.00 < one contract's risk at the stop 620 pts × 0.20 = 124.00 "
            "(stop 620 pts = 2.00 × ATR 310.00 rounded up to tick 5)");
  ASSERT_EQ(engine.events().size(), 1u);
  EXPECT_EQ(engine.events()[0].kind, RiskEventKind::EntryRejected);
  EXPECT_EQ(engine.events()[0].reason, d.reason);
  expect_no_commas(engine);
}

TEST(RiskEngineTest, CapsResize) {
  RiskEngine engine(RiskConfig{}, win());
  // ATR 1 → one tick stop, 1 per contract → 1000 by risk; max_contracts 50 and then leverage:
  // notional 120000 × 0.2 = 24000 per contract, 5 × 100000 / 24000 → 20.
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 1, 100000));
  EXPECT_EQ(d.decision, Decision::Resized);
  EXPECT_EQ(d.qty, 20);
  EXPECT_NE(d.reason.find("resized to 20 from 1000"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("capped to max_contracts 50"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("capped to 20 by max_leverage 5.00"), std::string::npos) << d.reason;
  EXPECT_EQ(engine.events().back().kind, RiskEventKind::EntryResized);
  EXPECT_DOUBLE_EQ(engine.events().back().value, 20);

  // Only max_contracts: a cheap contract (notional 2000) allows 250 by leverage.
  const EntryDecision m = engine.check_entry(request(Side::Sell, 10000, 1, 100000));
  EXPECT_EQ(m.decision, Decision::Resized);
  EXPECT_EQ(m.qty, 50);
  EXPECT_EQ(m.reason.find("max_leverage"), std::string::npos) << m.reason;

  // Leverage that allows no contract at all rejects.
  RiskConfig c;
  c.max_leverage = 0.1;  // 0.1 × 100000 = 10000 < 24000 notional
  RiskEngine tight(c, win());
  const EntryDecision r = tight.check_entry(request(Side::Buy, 120000, 150, 100000));
  EXPECT_EQ(r.decision, Decision::Rejected);
  EXPECT_NE(r.reason.find("leverage cap allows no contract"), std::string::npos) << r.reason;
  expect_no_commas(engine);
  expect_no_commas(tight);
}

TEST(RiskEngineTest, BadDataIsRejectedNotACrash) {
  RiskEngine engine(RiskConfig{}, win());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    double price, atr, equity;
    const char* word;
  };
  for (const Case& c :
       {Case{120000, 0, 100000, "ATR"}, Case{120000, -3, 100000, "ATR"}, Case{120000, nan, 100000, "ATR"},
        Case{120000, inf, 100000, "ATR"}, Case{120000, 150, 0, "equity"}, Case{120000, 150, -5, "equity"},
        Case{120000, 150, nan, "equity"}, Case{0, 150, 100000, "price"}, Case{nan, 150, 100000, "price"},
        Case{-1, 150, 100000, "price"}}) {
    const EntryDecision d = engine.check_entry(request(Side::Buy, c.price, c.atr, c.equity));
    EXPECT_EQ(d.decision, Decision::Rejected) << c.word;
    EXPECT_EQ(d.qty, 0);
    EXPECT_EQ(d.reason.rfind(c.word, 0), 0u) << d.reason;
  }
  EXPECT_EQ(engine.events().size(), 10u);
  // A long stop that would sit at or below zero.
  const EntryDecision z = engine.check_entry(request(Side::Buy, 100, 150, 100000));
  EXPECT_EQ(z.decision, Decision::Rejected);
  EXPECT_NE(z.reason.find("at or below zero"), std::string::npos) << z.reason;
  expect_no_commas(engine);
}

TEST(RiskEngineTest, BreakerTripsAtTheThresholdOnce) {
  RiskEngine engine(RiskConfig{}, win());
  EXPECT_FALSE(engine.check_breaker(at(0), 1));  // not armed before the first session
  engine.on_session_start(at(1), 100000);
  EXPECT_DOUBLE_EQ(engine.day_start_equity(), 100000);
  EXPECT_FALSE(engine.check_breaker(at(2), 99000));
  EXPECT_FALSE(engine.check_breaker(at(3), 97000.01));
  EXPECT_FALSE(engine.halted());
  EXPECT_TRUE(engine.check_breaker(at(4), 97000));  // exactly −3 %
  EXPECT_TRUE(engine.halted());
  EXPECT_FALSE(engine.check_breaker(at(5), 96000));
  EXPECT_FALSE(engine.check_breaker(at(6), 90000));
  ASSERT_EQ(engine.events().size(), 1u);
  const RiskEvent& e = engine.events()[0];
  EXPECT_EQ(e.kind, RiskEventKind::Halted);
  EXPECT_EQ(e.ts, at(4));
  EXPECT_DOUBLE_EQ(e.equity, 97000);
  EXPECT_DOUBLE_EQ(e.value, -3000);
  EXPECT_EQ(e.reason, "day PnL -3000.00 ≤ -3.00% of start-of-day equity 100000.00 = -3000.00");

  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 150, 96000));
  EXPECT_EQ(d.decision, Decision::Rejected);
  EXPECT_EQ(d.reason, "halted: daily loss limit");

  engine.on_session_start(at(1440), 96000);
  EXPECT_FALSE(engine.halted());
  EXPECT_EQ(engine.events().back().kind, RiskEventKind::HaltCleared);
  EXPECT_EQ(engine.check_entry(request(Side::Buy, 120000, 150, 96000)).decision, Decision::Accepted);
  // A session start without a halt records nothing.
  const std::size_t n = engine.events().size();
  engine.on_session_start(at(2880), 96000);
  EXPECT_EQ(engine.events().size(), n);
  expect_no_commas(engine);
  EXPECT_EQ(engine.take_events().size(), n);
  EXPECT_TRUE(engine.events().empty());
}

TEST(RiskEngineTest, DayDrawdownIsTheFigureTheBreakerCompares) {
  RiskEngine engine(RiskConfig{}, win());
  EXPECT_EQ(engine.day_drawdown(50000), 0.0);  // no day start yet
  engine.on_session_start(at(1), 100000);
  EXPECT_EQ(engine.day_drawdown(101000), 0.0);  // a gain is no drawdown
  EXPECT_DOUBLE_EQ(engine.day_drawdown(98500), -0.015);
  EXPECT_EQ(engine.day_drawdown(std::nan("")), 0.0);
  // Where the breaker trips, the drawdown reads −daily_loss_pct.
  EXPECT_FALSE(engine.check_breaker(at(2), 97000.01));
  EXPECT_GT(engine.day_drawdown(97000.01), -engine.config().daily_loss_pct);
  EXPECT_TRUE(engine.check_breaker(at(3), 97000));
  EXPECT_DOUBLE_EQ(engine.day_drawdown(97000), -engine.config().daily_loss_pct);
}

TEST(RiskEngineTest, BreakerAtAnOddStartOfDayEquity) {
  RiskEngine engine(RiskConfig{}, wdo());
  engine.on_session_start(at(0), 123456.78);
  EXPECT_TRUE(engine.check_breaker(at(1), 123456.78 * 0.97));
}

TEST(RiskEngineTest, ChandelierLongRatchetsUpOnly) {
  RiskEngine engine(RiskConfig{}, win());
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 150, 100000));
  engine.on_entry_filled(Side::Buy, d.qty, 120000, d);
  EXPECT_TRUE(engine.position().open);
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 119700);
  engine.take_events();

  EXPECT_TRUE(engine.update_stop(bar(1, 120000, 120100, 119950, 120050), 150));  // 120100 − 300
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 119800);
  EXPECT_DOUBLE_EQ(engine.position().extreme, 120100);
  EXPECT_FALSE(engine.update_stop(bar(2, 120050, 120050, 119900, 119950), 150));  // no new high
  EXPECT_FALSE(engine.update_stop(bar(3, 119950, 120000, 119900, 119950), 160));  // wider ATR: no loosening
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 119800);
  // 120200 − 302 = 119898 rounds DOWN to 119895.
  EXPECT_TRUE(engine.update_stop(bar(4, 119950, 120200, 119950, 120150), 151));
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 119895);
  EXPECT_FALSE(engine.update_stop(bar(5, 120150, 120300, 120100, 120250), 0));  // bad ATR: extreme only
  EXPECT_DOUBLE_EQ(engine.position().extreme, 120300);
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 119895);

  ASSERT_EQ(engine.events().size(), 2u);
  EXPECT_EQ(engine.events()[0].kind, RiskEventKind::StopMoved);
  EXPECT_DOUBLE_EQ(engine.events()[0].value, 119800);
  EXPECT_EQ(engine.events()[1].reason,
            "trail long: stop 119800 -> 119895 = high 120200 - 2.00 × ATR 151.00 rounded down to tick 5");
  expect_no_commas(engine);

  engine.on_position_closed();
  EXPECT_FALSE(engine.position().open);
  EXPECT_FALSE(engine.update_stop(bar(6, 120250, 121000, 120200, 120900), 150));
}

TEST(RiskEngineTest, ChandelierShortRatchetsDownOnly) {
  RiskEngine engine(RiskConfig{}, wdo());
  const EntryDecision d = engine.check_entry(request(Side::Sell, 5000, 7.3, 100000));
  engine.on_entry_filled(Side::Sell, 4, 5000, d);
  engine.on_entry_filled(Side::Sell, 6, 5001, d);  // a partial fill: the whole position now
  EXPECT_EQ(engine.position().qty, 6);
  EXPECT_DOUBLE_EQ(engine.position().entry_price, 5001);
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 5015);
  // 4990 + 2 × 2.6 = 4995.2 rounds UP to 4995.5.
  EXPECT_TRUE(engine.update_stop(bar(1, 5000, 5001, 4990, 4992), 2.6));
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 4995.5);
  EXPECT_FALSE(engine.update_stop(bar(2, 4992, 4999, 4991, 4998), 2.6));
  EXPECT_FALSE(engine.update_stop(bar(3, 4998, 4999, 4991, 4998), 10));
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 4995.5);
}

TEST(RiskEngineTest, TrailingOffKeepsTheInitialStop) {
  RiskConfig c;
  c.trailing_stop = false;
  RiskEngine engine(c, win());
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 150, 100000));
  engine.on_entry_filled(Side::Buy, d.qty, 120000, d);
  EXPECT_FALSE(engine.update_stop(bar(1, 120000, 125000, 120000, 124000), 150));
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 119700);
}

// ---- check_order: orders whose size the client chose ----

OrderCheck order(Side side, std::int64_t qty, std::int64_t position, double atr = 150, double equity = 100000) {
  OrderCheck o;
  o.ts = at(0);
  o.side = side;
  o.qty = qty;
  o.price = 120000;
  o.atr = atr;
  o.equity = equity;
  o.position = position;
  return o;
}

// WIN at 120000 with ATR 150: stop 300 pts, 60 per contract, limit floor(1000 / 60) = 16 (as check_entry).
constexpr const char* kWinLimit =
    "limit 16 = floor(1.00% of 100000.00 = 1000.00 / (300 pts × 0.20)); "
    "stop 300 pts = 2.00 × ATR 150.00 rounded up to tick 5";

TEST(RiskEngineOrderTest, OpenWithinTheLimitIsAccepted) {
  RiskEngine engine(RiskConfig{}, win());
  const EntryDecision d = engine.check_order(order(Side::Buy, 10, 0));
  EXPECT_EQ(d.decision, Decision::Accepted);
  EXPECT_EQ(d.qty, 10);
  EXPECT_DOUBLE_EQ(d.stop_price, 119700);
  EXPECT_DOUBLE_EQ(d.target_price, 0);
  EXPECT_EQ(d.reason, std::string("accepted 10 of 16 allowed; ") + kWinLimit);
  const EntryDecision s = engine.check_order(order(Side::Sell, 16, 0));  // exactly the limit
  EXPECT_EQ(s.decision, Decision::Accepted);
  EXPECT_EQ(s.qty, 16);
  EXPECT_DOUBLE_EQ(s.stop_price, 120300);
  ASSERT_EQ(engine.events().size(), 2u);
  EXPECT_EQ(engine.events()[0].kind, RiskEventKind::EntryAccepted);
  EXPECT_DOUBLE_EQ(engine.events()[0].value, 10);
  EXPECT_EQ(engine.events()[0].reason, d.reason);
  expect_no_commas(engine);
}

TEST(RiskEngineOrderTest, OpenAboveTheLimitIsResized) {
  RiskEngine engine(RiskConfig{}, win());
  const EntryDecision d = engine.check_order(order(Side::Buy, 20, 0));
  EXPECT_EQ(d.decision, Decision::Resized);
  EXPECT_EQ(d.qty, 16);
  EXPECT_DOUBLE_EQ(d.stop_price, 119700);
  EXPECT_EQ(d.reason, std::string("resized to 16 from 20; ") + kWinLimit);
  EXPECT_EQ(engine.events().back().kind, RiskEventKind::EntryResized);
  EXPECT_DOUBLE_EQ(engine.events().back().value, 16);
  expect_no_commas(engine);
}

TEST(RiskEngineOrderTest, AddingCountsWhatIsHeld) {
  RiskEngine engine(RiskConfig{}, win());
  // Long 6: 16 − 6 = 10 more allowed.
  const EntryDecision a = engine.check_order(order(Side::Buy, 4, 6));
  EXPECT_EQ(a.decision, Decision::Accepted);
  EXPECT_EQ(a.qty, 4);
  EXPECT_EQ(a.reason, std::string("accepted 4 of 10 allowed (limit 16 - 6 held); ") + kWinLimit);
  const EntryDecision r = engine.check_order(order(Side::Buy, 20, 6));
  EXPECT_EQ(r.decision, Decision::Resized);
  EXPECT_EQ(r.qty, 10);
  EXPECT_EQ(r.reason, std::string("resized to 10 from 20 (limit 16 - 6 held); ") + kWinLimit);
  // Short 6 adding a sell: the same 10, stop above.
  const EntryDecision s = engine.check_order(order(Side::Sell, 20, -6));
  EXPECT_EQ(s.qty, 10);
  EXPECT_DOUBLE_EQ(s.stop_price, 120300);
  // Already at (or beyond) the limit: nothing more.
  for (std::int64_t held : {16, 20}) {
    const EntryDecision z = engine.check_order(order(Side::Buy, 1, held));
    EXPECT_EQ(z.decision, Decision::Rejected);
    EXPECT_EQ(z.qty, 0);
    EXPECT_EQ(z.reason, "already at the 1.00% risk limit: " + std::to_string(held) + " held of " + kWinLimit);
    EXPECT_EQ(engine.events().back().kind, RiskEventKind::EntryRejected);
  }
  expect_no_commas(engine);
}

TEST(RiskEngineOrderTest, CapsBindTheWholePosition) {
  RiskEngine engine(RiskConfig{}, win());
  // ATR 1: one-tick stop, 1000 by risk; max_contracts 50; leverage 5 × 100000 / 24000 → 20 (CapsResize).
  // Long 5: 20 − 5 = 15.
  const EntryDecision d = engine.check_order(order(Side::Buy, 30, 5, 1));
  EXPECT_EQ(d.decision, Decision::Resized);
  EXPECT_EQ(d.qty, 15);
  EXPECT_NE(d.reason.find("resized to 15 from 30 (limit 20 - 5 held); limit 20 from 1000 = floor("), std::string::npos)
      << d.reason;
  EXPECT_NE(d.reason.find("; capped to max_contracts 50; capped to 20 by max_leverage 5.00"), std::string::npos)
      << d.reason;
  expect_no_commas(engine);
}

TEST(RiskEngineOrderTest, TargetAroundThePrice) {
  RiskConfig c;
  c.target_points = 100;
  RiskEngine engine(c, win());
  EXPECT_DOUBLE_EQ(engine.check_order(order(Side::Buy, 1, 0)).target_price, 120100);
  EXPECT_DOUBLE_EQ(engine.check_order(order(Side::Sell, 1, 0)).target_price, 119900);
}

TEST(RiskEngineOrderTest, ReducingIsAlwaysAllowed) {
  RiskEngine engine(RiskConfig{}, win());
  // No ATR and a tiny equity do not matter: reducing adds no risk.
  const EntryDecision part = engine.check_order(order(Side::Sell, 6, 16, 0, 1));
  EXPECT_EQ(part.decision, Decision::Accepted);
  EXPECT_EQ(part.qty, 6);
  EXPECT_EQ(part.reason, "reduces the position from 16 to 10");
  EXPECT_DOUBLE_EQ(part.stop_price, 0);  // no tracked position: no stop to report
  const EntryDecision all = engine.check_order(order(Side::Buy, 5, -5));
  EXPECT_EQ(all.decision, Decision::Accepted);
  EXPECT_EQ(all.qty, 5);
  EXPECT_EQ(all.reason, "closes the position of 5");
  // With a tracked position the reply shows the stop that protects the rest.
  const EntryDecision e = engine.check_entry(request(Side::Buy, 120000, 150, 100000));
  engine.on_entry_filled(Side::Buy, 16, 120000, e);
  const EntryDecision tracked = engine.check_order(order(Side::Sell, 6, 16));
  EXPECT_DOUBLE_EQ(tracked.stop_price, 119700);
  EXPECT_EQ(engine.events().back().kind, RiskEventKind::EntryAccepted);
  EXPECT_DOUBLE_EQ(engine.events().back().value, 6);
  expect_no_commas(engine);
}

TEST(RiskEngineOrderTest, AReversalIsResizedToClose) {
  RiskEngine engine(RiskConfig{}, win());
  const EntryDecision d = engine.check_order(order(Side::Sell, 20, 16));
  EXPECT_EQ(d.decision, Decision::Resized);
  EXPECT_EQ(d.qty, 16);
  EXPECT_EQ(d.reason, "resized to 16 from 20 to close the position: a reversal needs a separate order");
  const EntryDecision s = engine.check_order(order(Side::Buy, 3, -2));
  EXPECT_EQ(s.decision, Decision::Resized);
  EXPECT_EQ(s.qty, 2);
  EXPECT_EQ(engine.events().back().kind, RiskEventKind::EntryResized);
  expect_no_commas(engine);
}

TEST(RiskEngineOrderTest, RejectionsSayWhy) {
  RiskEngine engine(RiskConfig{}, win());
  for (std::int64_t qty : {0, -3}) {
    const EntryDecision d = engine.check_order(order(Side::Buy, qty, 0));
    EXPECT_EQ(d.decision, Decision::Rejected);
    EXPECT_EQ(d.reason, "qty " + std::to_string(qty) + " is not positive");
  }
  const EntryDecision no_atr = engine.check_order(order(Side::Buy, 1, 0, 0));
  EXPECT_EQ(no_atr.decision, Decision::Rejected);
  EXPECT_EQ(no_atr.reason, "no ATR yet: ATR 0.00 is not positive so no stop can be sized");
  const EntryDecision nan_atr = engine.check_order(order(Side::Sell, 1, -3, std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(nan_atr.decision, Decision::Rejected);
  EXPECT_EQ(nan_atr.reason.rfind("no ATR yet: ", 0), 0u) << nan_atr.reason;
  // check_entry's rejections apply: at equity 5000 the budget 1 % = 50 < 60 per contract.
  const EntryDecision poor = engine.check_order(order(Side::Buy, 1, 0, 150, 5000));
  EXPECT_EQ(poor.decision, Decision::Rejected);
  EXPECT_EQ(poor.reason.rfind("risk 1.00% of 5000.00 = 50.00 < one contract's risk", 0), 0u) << poor.reason;
  EXPECT_EQ(engine.events().size(), 5u);
  for (const RiskEvent& e : engine.events()) EXPECT_EQ(e.kind, RiskEventKind::EntryRejected);
  expect_no_commas(engine);
}

TEST(RiskEngineOrderTest, HaltedRejectsEveryOrder) {
  RiskEngine engine(RiskConfig{}, win());
  engine.on_session_start(at(0), 100000);
  ASSERT_TRUE(engine.check_breaker(at(1), 97000));
  for (const OrderCheck& o : {order(Side::Buy, 1, 0), order(Side::Sell, 1, 16)}) {
    const EntryDecision d = engine.check_order(o);
    EXPECT_EQ(d.decision, Decision::Rejected);
    EXPECT_EQ(d.reason, "halted: daily loss limit reached: no orders until the next session");
  }
  engine.on_session_start(at(1440), 97000);
  EXPECT_EQ(engine.check_order(order(Side::Buy, 1, 0, 150, 97000)).decision, Decision::Accepted);
}

TEST(RiskEngineOrderTest, PartialExitKeepsTheStop) {
  RiskEngine engine(RiskConfig{}, win());
  engine.on_position_reduced(3);  // nothing tracked: no-op
  EXPECT_FALSE(engine.position().open);
  const EntryDecision d = engine.check_entry(request(Side::Buy, 120000, 150, 100000));
  engine.on_entry_filled(Side::Buy, 16, 120000, d);
  ASSERT_TRUE(engine.update_stop(bar(1, 120000, 120100, 119950, 120050), 150));  // stop 119800, extreme 120100
  engine.on_position_reduced(10);
  EXPECT_TRUE(engine.position().open);
  EXPECT_EQ(engine.position().qty, 10);
  EXPECT_DOUBLE_EQ(engine.position().stop_price, 119800);
  EXPECT_DOUBLE_EQ(engine.position().extreme, 120100);
  EXPECT_DOUBLE_EQ(engine.position().entry_price, 120000);
  engine.on_position_reduced(10);  // the same size again is allowed
  EXPECT_EQ(engine.position().qty, 10);
  engine.on_position_reduced(0);  // = on_position_closed
  EXPECT_FALSE(engine.position().open);
  EXPECT_EQ(engine.position().qty, 0);
}

TEST(RiskEngineOrderTest, HaltFromOutsideUntilTheNextSession) {
  RiskEngine engine(RiskConfig{}, wdo());
  engine.on_session_start(at(0), 100000);
  engine.halt(at(5), 96500, "account halted by WIN");
  EXPECT_TRUE(engine.halted());
  engine.halt(at(6), 96000, "again");  // once
  ASSERT_EQ(engine.events().size(), 1u);
  EXPECT_EQ(engine.events()[0].kind, RiskEventKind::Halted);
  EXPECT_EQ(engine.events()[0].reason, "account halted by WIN");
  EXPECT_DOUBLE_EQ(engine.events()[0].value, -3500);
  EXPECT_FALSE(engine.check_breaker(at(7), 90000));  // already halted: does not trip again
  EXPECT_EQ(engine.check_entry(request(Side::Buy, 5000, 7.3, 96000)).decision, Decision::Rejected);
  engine.on_session_start(at(1440), 96000);
  EXPECT_FALSE(engine.halted());
  EXPECT_EQ(engine.events().back().kind, RiskEventKind::HaltCleared);
}

// ---- properties ----

/// log-uniform in [lo, hi].
rc::Gen<double> log_uniform(double lo, double hi) {
  return rc::gen::map(rc::gen::inRange(0, 1'000'001),
                      [lo, hi](int k) { return lo * std::pow(hi / lo, static_cast<double>(k) / 1e6); });
}

InstrumentSpec random_spec() {
  InstrumentSpec s;
  s.symbol = "X";
  s.tick_size = *rc::gen::element(5.0, 0.5, 1.0, 0.25, 0.01, 0.00001, 0.1, 2.5);
  s.point_value = *rc::gen::element(0.2, 10.0, 1.0, 100000.0, 0.01, 50.0, 3.7);
  return s;
}

RC_GTEST_PROP(RiskEngineProperty, NeverRisksMoreThanRiskPct, ()) {
  const InstrumentSpec spec = random_spec();
  RiskConfig c;
  c.risk_pct = *log_uniform(0.001, 0.05);
  c.stop_atr_multiple = *log_uniform(0.5, 5);
  c.max_contracts = *rc::gen::inRange<std::int64_t>(1, 100000);
  c.max_leverage = *log_uniform(0.5, 100);
  // Half the cases with costs: the loss at the stop counts the stop's slippage and both fees.
  TradingCosts costs;
  if (*rc::gen::arbitrary<bool>()) {
    costs.slippage_ticks = *rc::gen::inRange(0, 5);
    costs.fee_per_contract_side = *log_uniform(0.01, 5) * spec.tick_size * spec.point_value;
  }
  RiskEngine engine(c, spec, costs);
  const bool on_grid = *rc::gen::arbitrary<bool>();
  double price = *log_uniform(spec.tick_size, 1e6 * spec.tick_size);
  if (on_grid) price = TickGrid(spec.tick_size).snap(price);
  const double atr = *log_uniform(spec.tick_size * 0.01, price / 4);
  const double equity = *log_uniform(100, 1e8);
  const Side side = *rc::gen::element(Side::Buy, Side::Sell);

  const EntryDecision d = engine.check_entry(request(side, price, atr, equity));
  RC_TAG(to_string(d.decision));
  RC_ASSERT(engine.events().size() == 1u);
  RC_ASSERT(engine.events()[0].reason == d.reason);
  RC_ASSERT(d.reason.find(',') == std::string::npos);
  if (d.decision == Decision::Rejected) {
    RC_ASSERT(d.qty == 0);
    RC_ASSERT(engine.events()[0].kind == RiskEventKind::EntryRejected);
    return;
  }
  RC_ASSERT(d.qty >= 1);
  RC_ASSERT(d.qty <= c.max_contracts);
  const double loss_per_contract =
      (std::fabs(price - d.stop_price) + costs.slippage_ticks * spec.tick_size) * spec.point_value +
      2 * costs.fee_per_contract_side;
  const double risk = static_cast<double>(d.qty) * loss_per_contract;
  RC_ASSERT(risk <= c.risk_pct * equity * (1 + 1e-12) + 1e-9);
  RC_ASSERT(static_cast<double>(d.qty) * price * spec.point_value <= c.max_leverage * equity * (1 + 1e-12));
  RC_ASSERT(TickGrid(spec.tick_size).on_grid(d.stop_price));
  const double gap = side == Side::Buy ? price - d.stop_price : d.stop_price - price;
  RC_ASSERT(gap >= c.stop_atr_multiple * atr * (1 - 1e-9));
  RC_ASSERT(gap >= spec.tick_size * (1 - 1e-9));
  if (on_grid && d.decision == Decision::Accepted) {
    // Uncapped, the size is exactly the floor of the formula (one less only through float rounding).
    const double exact = std::floor(c.risk_pct * equity / loss_per_contract);
    RC_ASSERT(static_cast<double>(d.qty) >= exact - 1);
  }
}

RC_GTEST_PROP(RiskEngineProperty, CheckOrderNeverTakesThePositionAboveRiskPct, ()) {
  const InstrumentSpec spec = random_spec();
  const TickGrid grid(spec.tick_size);
  RiskConfig c;
  c.risk_pct = *log_uniform(0.001, 0.05);
  c.stop_atr_multiple = *log_uniform(0.5, 5);
  c.max_contracts = *rc::gen::inRange<std::int64_t>(1, 100000);
  c.max_leverage = *log_uniform(0.5, 100);
  RiskEngine engine(c, spec);
  const double price = grid.snap(*log_uniform(spec.tick_size, 1e6 * spec.tick_size));
  RC_PRE(price > 0);
  const double atr = *log_uniform(spec.tick_size * 0.01, price / 4);
  const double equity = *log_uniform(100, 1e8);
  const Side side = *rc::gen::element(Side::Buy, Side::Sell);
  // Mostly adds (two in three), held sizes from none to far beyond any limit.
  const std::int64_t magnitude = *rc::gen::element<std::int64_t>(0, 0, 1, 3, 10, 50, 200);
  const bool adds = *rc::gen::inRange(0, 3) != 0;
  const std::int64_t position = std::int64_t{adds ? 1 : -1} * sign(side) * magnitude;
  const std::int64_t qty = *rc::gen::inRange<std::int64_t>(1, 400);

  OrderCheck o;
  o.ts = at(0);
  o.side = side;
  o.qty = qty;
  o.price = price;
  o.atr = atr;
  o.equity = equity;
  o.position = position;
  const EntryDecision d = engine.check_order(o);
  const std::int64_t held = position * sign(side);
  RC_TAG(held < 0 ? "reduces" : "adds", to_string(d.decision));
  RC_ASSERT(engine.events().size() == 1u);
  RC_ASSERT(engine.events()[0].reason == d.reason);
  RC_ASSERT(!d.reason.empty());
  RC_ASSERT(d.reason.find(',') == std::string::npos);
  RC_ASSERT(d.qty <= qty);  // never sized up
  if (d.decision == Decision::Rejected) {
    RC_ASSERT(d.qty == 0);
    return;
  }
  RC_ASSERT(d.qty >= 1);
  if (held < 0) {
    RC_ASSERT(d.qty == std::min(qty, -held));  // a reduction: all of it, up to flat
    return;
  }
  // The whole position on this side after the order, at the order's stop.
  const double risk = static_cast<double>(held + d.qty) * std::fabs(price - d.stop_price) * spec.point_value;
  RC_ASSERT(risk <= c.risk_pct * equity + 1e-9);
  RC_ASSERT(held + d.qty <= c.max_contracts);
  RC_ASSERT(static_cast<double>(held + d.qty) * price * spec.point_value <= c.max_leverage * equity * (1 + 1e-12));
  RC_ASSERT(grid.on_grid(d.stop_price));
  const bool stop_beyond = side == Side::Buy ? d.stop_price < price : d.stop_price > price;
  RC_ASSERT(stop_beyond);
}

RC_GTEST_PROP(RiskEngineProperty, NoEntryAfterAHaltUntilTheNextSession, ()) {
  RiskConfig c;
  c.daily_loss_pct = *rc::gen::element(0.01, 0.03, 0.05);
  RiskEngine engine(c, win());
  const int days = *rc::gen::inRange(1, 6);
  double equity = 100000;
  int minute = 0;
  for (int day = 0; day < days; ++day) {
    engine.on_session_start(at(minute), equity);
    RC_ASSERT(!engine.halted());
    const double start = equity;
    // An entry that always sizes: accepted or resized, never rejected, while not halted.
    const EntryDecision first = engine.check_entry(request(Side::Buy, 120000, 150, equity));
    RC_ASSERT(first.decision != Decision::Rejected);
    bool tripped = false;
    const int bars = *rc::gen::inRange(1, 200);
    for (int i = 0; i < bars; ++i) {
      ++minute;
      equity *= 1 + static_cast<double>(*rc::gen::inRange(-100, 101)) / 10000.0;  // ±1 % per bar
      const bool trip = engine.check_breaker(at(minute), equity);
      // The documented slack of 1e-12 × start absorbs float noise at the threshold.
      const bool expected_trip = !tripped && equity - start <= -c.daily_loss_pct * start + 1e-12 * start;
      RC_ASSERT(trip == expected_trip);
      tripped = tripped || trip;
      RC_ASSERT(engine.halted() == tripped);
      if (*rc::gen::inRange(0, 4) == 0) {
        const EntryDecision d = engine.check_entry(request(Side::Sell, 120000, 150, equity));
        if (tripped) {
          RC_ASSERT(d.decision == Decision::Rejected);
          RC_ASSERT(d.reason == "halted: daily loss limit");
        } else {
          RC_ASSERT(d.decision != Decision::Rejected);
        }
      }
    }
    int halts = 0;
    for (const RiskEvent& e : engine.events()) halts += e.kind == RiskEventKind::Halted;
    RC_ASSERT(halts == (tripped ? 1 : 0));
    engine.take_events();
    minute += 1000;
  }
}

RC_GTEST_PROP(RiskEngineProperty, TrailingStopNeverMovesAgainstThePosition, ()) {
  const InstrumentSpec spec = random_spec();
  const TickGrid grid(spec.tick_size);
  RiskConfig c;
  c.stop_atr_multiple = *log_uniform(0.5, 5);
  c.trail_atr_multiple = *log_uniform(0.5, 5);
  c.max_leverage = 1e9;
  c.max_contracts = 1000000000;
  RiskEngine engine(c, spec);
  const Side side = *rc::gen::element(Side::Buy, Side::Sell);
  const std::int64_t start_ticks = *rc::gen::inRange<std::int64_t>(100000, 1000000);
  double price = grid.to_price(start_ticks);
  const EntryDecision d = engine.check_entry(request(side, price, spec.tick_size * 20, 1e12));
  RC_ASSERT(d.decision != Decision::Rejected);
  engine.on_entry_filled(side, d.qty, price, d);
  double stop = engine.position().stop_price;
  const int bars = *rc::gen::inRange(1, 300);
  for (int i = 0; i < bars; ++i) {
    const double open = price;
    const double close = grid.to_price(grid.to_ticks(price) + *rc::gen::inRange<std::int64_t>(-30, 31));
    const double high = std::max(open, close) + grid.to_price(*rc::gen::inRange<std::int64_t>(0, 10));
    const double low = std::min(open, close) - grid.to_price(*rc::gen::inRange<std::int64_t>(0, 10));
    const double atr = *rc::gen::element(0.0, spec.tick_size * 0.3, spec.tick_size * 7, spec.tick_size * 40,
                                         std::numeric_limits<double>::quiet_NaN());
    const std::size_t events_before = engine.events().size();
    const bool moved = engine.update_stop(bar(i, open, high, low, close), atr);
    const double now = engine.position().stop_price;
    if (side == Side::Buy) {
      RC_ASSERT(now >= stop);
    } else {
      RC_ASSERT(now <= stop);
    }
    RC_ASSERT(moved == (now != stop));
    RC_ASSERT(engine.events().size() == events_before + (moved ? 1u : 0u));
    RC_ASSERT(grid.on_grid(now));
    stop = now;
    price = close;
  }
}

}  // namespace
}  // namespace quant::risk
