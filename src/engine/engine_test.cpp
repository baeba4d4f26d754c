// The engine with the simulated venue and the real risk engine, driven by a
// scripted strategy over hand-made bars: every number here is checked by hand.
#include "engine/engine.h"

#include <map>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/test_bars.h"
#include "core/test_calendar.h"
#include "matching/simulated_venue.h"

namespace quant::engine {
namespace {

InstrumentSpec win() {
  InstrumentSpec s = testing::win_spec();
  s.fee_per_side = 0.25;
  return s;
}

/// Signals at chosen bar indices, a fixed ATR.
class ScriptedStrategy final : public strategy::Strategy {
 public:
  std::map<int, strategy::Action> script;
  double atr = 100;
  int index = -1;
  std::string_view name() const override { return "scripted"; }
  strategy::Signal on_bar(const Bar&, std::int64_t) override {
    ++index;
    strategy::Signal s;
    s.atr = atr;
    auto it = script.find(index);
    if (it != script.end()) {
      s.action = it->second;
      s.reason = "scripted";
    }
    return s;
  }
};

struct Collector final : EngineObserver {
  std::vector<TradeRecord> trades;
  std::vector<Order> orders;
  std::vector<risk::RiskEvent> risk_events;
  std::vector<DecisionRecord> decisions;
  std::vector<DayRecord> days;
  std::vector<std::int64_t> positions;
  void on_trade(const TradeRecord& t) override { trades.push_back(t); }
  std::vector<std::string> order_reasons;
  void on_order_done(const Order& o, std::string_view reason, std::string_view) override {
    orders.push_back(o);
    order_reasons.emplace_back(reason);
  }
  void on_risk_event(const risk::RiskEvent& e) override { risk_events.push_back(e); }
  void on_decision(const DecisionRecord& d) override { decisions.push_back(d); }
  void on_day(const DayRecord& d) override { days.push_back(d); }
  void on_bar_close(const Bar&, double, double, double, std::int64_t p) override { positions.push_back(p); }
};

Timestamp at(int day, int hh, int mm) { return testing::brt_march_2021(day, hh, mm); }
Bar bar(Timestamp ts, double o, double h, double l, double c) { return testing::ohlc_bar(ts, o, h, l, c); }

struct Harness {
  InstrumentSpec spec;
  ScriptedStrategy strategy;
  matching::SimulatedVenue venue;
  Collector out;
  std::unique_ptr<Engine> engine;
  /// `costs` are the venue's; the risk engine sizes with `sizing_costs`.
  explicit Harness(EngineConfig c = {}, risk::RiskConfig rc = {}, TradingCosts costs = {0.25, 0},
                   TradingCosts sizing_costs = {}, InstrumentSpec instrument = win())
      : spec(std::move(instrument)), venue(win(), costs, std::make_unique<matching::FullFillModel>()) {
    engine = std::make_unique<Engine>(c, spec, TimeZone::find(spec.time_zone).value(), rc, sizing_costs, strategy,
                                      venue, out);
  }
  risk::RiskEngine& risk() { return *engine->book().risk(); }
  void run(const std::vector<Bar>& bars) {
    for (const Bar& b : bars) {
      engine->before_bar(b);
      venue.process(b);
      engine->on_bar_close(b);
    }
  }
};

TEST(EngineTest, EntryAtNextOpenWithAnAtrStopThatGetsHit) {
  Harness h;
  h.strategy.script[0] = strategy::Action::EnterLong;  // decided at the close of bar 0
  h.run({bar(at(1, 10, 0), 100000, 100050, 99950, 100000),
         bar(at(1, 10, 1), 100010, 100100, 99990, 100050),   // entry fills at the open 100010
         bar(at(1, 10, 2), 100050, 100060, 99700, 99750)});  // stop 100010 − 2 × 100 = 99810: hit
  // Size: floor(1 % × 100000 / (200 points × 0.20)) = floor(1000 / 40) = 25 contracts;
  // initial stop 100010 − 200 = 99810 (risk 200 × 25 × 0.2 = 1000 = 1 % of equity).
  // At bar 1's close the chandelier stop trails to its high 100100 − 2 × 100 =
  // 99900, which bar 2 (low 99700) hits: −110 points × 25 × 0.2 = −550.
  ASSERT_EQ(h.out.trades.size(), 1u);
  const TradeRecord& t = h.out.trades[0];
  EXPECT_EQ(t.qty, 25);
  EXPECT_EQ(t.entry_price, 100010);
  EXPECT_EQ(t.initial_stop, 99810);
  EXPECT_EQ(t.exit_price, 99900);
  EXPECT_EQ(t.exit_reason, "stop");
  EXPECT_DOUBLE_EQ(t.gross_pnl, -110 * 25 * 0.2);
  EXPECT_DOUBLE_EQ(t.fees, 2 * 25 * 0.25);
  EXPECT_EQ(h.engine->position(), 0);
  EXPECT_NEAR(h.engine->equity(), 100000 - 550 - 12.5, 1e-9);
}

TEST(EngineTest, NoEntriesNearTheCloseAndFlattenBeforeIt) {
  Harness h;
  // 18:00 close → 25 minutes to the session close (18:25): inside the last 30 → blocked.
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.strategy.script[1] = strategy::Action::EnterLong;
  h.run({bar(at(1, 17, 50), 100000, 100050, 99950, 100000),     // closes 17:51: 34 min left → entry allowed
         bar(at(1, 17, 59), 100010, 100020, 100000, 100010),    // entry fills; this close (18:00) is too late to enter
         bar(at(1, 18, 10), 100010, 100020, 100000, 100015),    // closes 18:11: 14 > 10 min left
         bar(at(1, 18, 14), 100015, 100020, 100000, 100015),    // closes 18:15: 10 min left → flatten decided
         bar(at(1, 18, 15), 100020, 100030, 100000, 100020)});  // flatten fills at the open 100020
  ASSERT_EQ(h.out.trades.size(), 1u);
  EXPECT_EQ(h.out.trades[0].exit_reason, "session_end");
  EXPECT_EQ(h.out.trades[0].exit_price, 100020);
  EXPECT_EQ(h.engine->position(), 0);
  bool blocked = false;
  for (const auto& d : h.out.decisions) blocked |= std::string(d.reason).find("last minutes") != std::string::npos;
  EXPECT_FALSE(blocked) << "bar 1's signal comes while long: it is not an entry";
}

// The calendar's sessions drive the same rules (core/test_calendar.h: B3's
// first quarter of 2021). Ash Wednesday, 2021-02-17, opens at 13:00.
TEST(EngineTest, AshWednesdaysSessionStartsAtOneOClock) {
  risk::RiskConfig rc;
  rc.stop_atr_multiple = 20;  // far stop: nothing closes the position here
  rc.trailing_stop = false;
  const auto run = [&](InstrumentSpec spec) {
    auto h = std::make_unique<Harness>(EngineConfig{}, rc, TradingCosts{0.25, 0}, TradingCosts{}, std::move(spec));
    for (int i = 0; i < 3; ++i) h->strategy.script[i] = strategy::Action::EnterLong;
    using testing::brt;
    h->run({bar(brt(2021, 2, 17, 12, 58), 100000, 100050, 99950, 100000),   // closes 12:59: before the open
            bar(brt(2021, 2, 17, 12, 59), 100000, 100050, 99950, 100000),   // closes 13:00: still before it
            bar(brt(2021, 2, 17, 13, 0), 100000, 100050, 99950, 100000),    // the session's first bar: entry
            bar(brt(2021, 2, 17, 13, 1), 100010, 100050, 99950, 100000)});  // the entry fills at 100010
    return h;
  };
  const auto h = run(testing::win_with_b3_calendar());
  ASSERT_EQ(h->out.positions.size(), 4u);
  EXPECT_EQ(h->out.positions[0], 0);
  EXPECT_EQ(h->out.positions[1], 0);
  EXPECT_EQ(h->out.positions[2], 0);
  EXPECT_GT(h->out.positions[3], 0);
  int outside = 0;
  for (const auto& d : h->out.decisions) outside += d.reason.find("outside the trading session") != std::string::npos;
  EXPECT_EQ(outside, 2);
  // The trading day changed at 13:00: the pre-open bars belonged to Carnival Tuesday.
  ASSERT_EQ(h->out.days.size(), 1u);
  EXPECT_EQ(h->engine->book().session().day_text(h->out.days[0].day), "2021-02-16");

  // The fixed 09:00 session of the same instrument would have entered at 12:59.
  InstrumentSpec fixed = testing::win_with_b3_calendar();
  fixed.calendar = nullptr;
  const auto f = run(fixed);
  EXPECT_GT(f->out.positions[1], 0);
}

// Monday 2021-03-15: B3 closes at 17:55 from that day (US daylight saving time
// began the day before), 30 minutes earlier than on Friday the 12th.
TEST(EngineTest, TheCloseTimeFlattenFollowsAShortenedSession) {
  risk::RiskConfig rc;
  rc.stop_atr_multiple = 20;
  rc.trailing_stop = false;
  const auto run = [&](int day) {
    auto h = std::make_unique<Harness>(EngineConfig{}, rc, TradingCosts{0.25, 0}, TradingCosts{},
                                       testing::win_with_b3_calendar());
    h->strategy.script[0] = strategy::Action::EnterLong;
    h->run({bar(at(day, 17, 0), 100000, 100050, 99950, 100000),
            bar(at(day, 17, 1), 100010, 100100, 99990, 100050),      // entry fills at 100010
            bar(at(day, 17, 40), 100050, 100060, 100000, 100040),    // closes 17:41: 14 min to 17:55
            bar(at(day, 17, 44), 100040, 100060, 100000, 100040),    // closes 17:45: 10 min → flatten decided
            bar(at(day, 17, 45), 100020, 100060, 100000, 100040)});  // flatten fills at the open 100020
    return h;
  };
  const auto monday = run(15);
  ASSERT_EQ(monday->out.trades.size(), 1u);
  EXPECT_EQ(monday->out.trades[0].exit_reason, "session_end");
  EXPECT_EQ(monday->out.trades[0].exit_price, 100020);
  EXPECT_EQ(monday->out.trades[0].exit_time, at(15, 17, 45));
  EXPECT_EQ(monday->engine->position(), 0);
  // Friday the 12th closes at 18:25: the same clock times are mid-session.
  const auto friday = run(12);
  EXPECT_TRUE(friday->out.trades.empty());
  EXPECT_GT(friday->engine->position(), 0);
}

TEST(EngineTest, NoEntriesInTheLastMinutesOfAShortenedSession) {
  const auto blocked = [](int day) {
    Harness h({}, {}, {0.25, 0}, {}, testing::win_with_b3_calendar());
    h.strategy.script[0] = strategy::Action::EnterLong;
    h.run({bar(at(day, 17, 29), 100000, 100050, 99950, 100000),  // closes 17:30
           bar(at(day, 17, 30), 100000, 100050, 99950, 100000)});
    int n = 0;
    for (const auto& d : h.out.decisions) n += d.reason.find("last minutes") != std::string::npos;
    return n;
  };
  EXPECT_EQ(blocked(15), 1);  // 25 minutes to the 17:55 close: inside the last 30
  EXPECT_EQ(blocked(12), 0);  // 55 minutes to the 18:25 close
}

TEST(EngineTest, CircuitBreakerFlattensAndHaltsForTheDay) {
  risk::RiskConfig rc;
  rc.risk_pct = 0.05;
  rc.stop_atr_multiple = 20;  // a far stop (2000 points) so the breaker, not the stop, acts
  rc.trailing_stop = false;
  Harness h({}, rc);
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.strategy.script[3] = strategy::Action::EnterLong;  // after the halt: must be rejected
  // Size: floor(5 % × 100000 / (2000 × 0.2)) = 12 contracts. At bar 2's close
  // 98700: open PnL −1300 × 12 × 0.2 = −3120, fees 3 → day PnL −3123 ≤ −3000.
  h.run({bar(at(1, 10, 0), 100000, 100000, 100000, 100000),
         bar(at(1, 10, 1), 100000, 100000, 100000, 100000),  // entry fills at 100000
         bar(at(1, 10, 2), 100000, 100000, 98700, 98700),    // breaker trips at the close
         bar(at(1, 10, 3), 98700, 98800, 98600, 98700),      // flatten fills at the open
         bar(at(1, 10, 4), 98700, 98800, 98600, 98700),
         bar(at(2, 10, 0), 98700, 98800, 98600, 98700)});  // next session: halt cleared
  ASSERT_EQ(h.out.trades.size(), 1u);
  EXPECT_EQ(h.out.trades[0].qty, 12);
  EXPECT_EQ(h.out.trades[0].exit_reason, "circuit_breaker");
  EXPECT_EQ(h.out.trades[0].exit_price, 98700);
  ASSERT_FALSE(h.out.days.empty());
  EXPECT_TRUE(h.out.days.front().halted);
  int halted = 0, rejected_after = 0, cleared = 0;
  for (const auto& e : h.out.risk_events) {
    halted += e.kind == risk::RiskEventKind::Halted;
    rejected_after += e.kind == risk::RiskEventKind::EntryRejected;
    cleared += e.kind == risk::RiskEventKind::HaltCleared;
  }
  EXPECT_EQ(halted, 1);
  EXPECT_EQ(rejected_after, 1);
  EXPECT_EQ(cleared, 1);
  EXPECT_FALSE(h.risk().halted());
}

TEST(EngineTest, ReverseClosesThenOpensTheOtherSide) {
  EngineConfig c;
  c.use_risk_engine = false;
  c.session.day_trade = false;
  c.session.respect_sessions = false;
  ScriptedStrategy strategy;
  matching::SimulatedVenue venue{win(), TradingCosts{0, 0}, std::make_unique<matching::FullFillModel>()};
  Collector out;
  Engine engine(c, win(), TimeZone::find("America/Sao_Paulo").value(), risk::RiskConfig{}, TradingCosts{}, strategy,
                venue, out);
  strategy.script[0] = strategy::Action::EnterLong;
  strategy.script[2] = strategy::Action::EnterShort;
  const std::vector<Bar> bars = {bar(at(1, 10, 0), 100, 100, 100, 100), bar(at(1, 10, 1), 105, 110, 100, 110),
                                 bar(at(1, 10, 2), 110, 120, 110, 120), bar(at(1, 10, 3), 125, 125, 115, 115)};
  for (const Bar& b : bars) {
    engine.before_bar(b);
    venue.process(b);
    engine.on_bar_close(b);
  }
  engine.finish();
  ASSERT_EQ(out.trades.size(), 2u);
  EXPECT_EQ(out.trades[0].side, Side::Buy);
  EXPECT_EQ(out.trades[0].entry_price, 105);
  EXPECT_EQ(out.trades[0].exit_price, 125);
  EXPECT_EQ(out.trades[0].exit_reason, "reverse");
  EXPECT_EQ(out.trades[1].side, Side::Sell);
  EXPECT_EQ(out.trades[1].exit_reason, "end_of_data");
  EXPECT_EQ(engine.position(), -1);
}

TEST(EngineTest, APositionOpenWhenTheDayChangesIsFlattenedAtTheFirstBarOfTheNewDay) {
  // The session's last bars are missing: the long entered at 15:01 is still
  // open at the last bar of day 1 (15:30), so no session-end flatten ran. The
  // first bar of day 2 (09:00) closes it at its open, with its own reason.
  risk::RiskConfig rc;
  rc.stop_atr_multiple = 20;  // far stop: only the day change can close it
  rc.trailing_stop = false;
  Harness h({}, rc);
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.run({bar(at(1, 15, 0), 100000, 100050, 99950, 100000),
         bar(at(1, 15, 1), 100010, 100100, 99990, 100050),    // entry fills at 100010
         bar(at(1, 15, 30), 100050, 100060, 100000, 100040),  // the day's last bar in the data
         bar(at(2, 9, 0), 100500, 100600, 100400, 100450),    // day 2: flattened at the open 100500
         bar(at(2, 9, 1), 100450, 100460, 100400, 100420)});
  ASSERT_EQ(h.out.trades.size(), 1u);
  const TradeRecord& t = h.out.trades[0];
  EXPECT_EQ(t.exit_reason, "day_change");
  EXPECT_EQ(t.entry_price, 100010);
  EXPECT_EQ(t.exit_price, 100500);
  EXPECT_EQ(t.exit_time, at(2, 9, 0));
  EXPECT_EQ(h.engine->position(), 0);
  // The position's stop was withdrawn with it: nothing is left working.
  EXPECT_EQ(h.venue.working(), 0u);
}

TEST(EngineTest, WithoutDayTradingAPositionIsCarriedOvernight) {
  risk::RiskConfig rc;
  rc.stop_atr_multiple = 20;
  rc.trailing_stop = false;
  EngineConfig c;
  c.session.day_trade = false;
  Harness h(c, rc);
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.run({bar(at(1, 15, 0), 100000, 100050, 99950, 100000), bar(at(1, 15, 1), 100010, 100100, 99990, 100050),
         bar(at(2, 9, 0), 100500, 100600, 100400, 100450)});
  EXPECT_TRUE(h.out.trades.empty());
  EXPECT_GT(h.engine->position(), 0);
}

TEST(EngineTest, ABarThatOpensBeyondTheTargetFillsTheTargetAtItsOpen) {
  // Long 25 at 100010 (ATR 100: stop 99810), target 100 points: 100110. The
  // next bar gaps up to 100300, then falls through the stop: the target fills
  // at the open 100300, it does not become a stop-out.
  risk::RiskConfig rc;
  rc.target_points = 100;
  rc.trailing_stop = false;
  Harness h({}, rc);
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.run({bar(at(1, 10, 0), 100000, 100050, 99950, 100000), bar(at(1, 10, 1), 100010, 100050, 99990, 100040),
         bar(at(1, 10, 2), 100300, 100350, 99600, 99700)});
  ASSERT_EQ(h.out.trades.size(), 1u);
  EXPECT_EQ(h.out.trades[0].exit_reason, "target");
  EXPECT_EQ(h.out.trades[0].exit_price, 100300);
  EXPECT_DOUBLE_EQ(h.out.trades[0].gross_pnl, 290 * 25 * 0.2);
}

TEST(EngineTest, ABarThatTouchesBothAfterOpeningBetweenThemFillsTheStopFirst) {
  risk::RiskConfig rc;
  rc.target_points = 100;
  rc.trailing_stop = false;
  Harness h({}, rc);
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.run({bar(at(1, 10, 0), 100000, 100050, 99950, 100000), bar(at(1, 10, 1), 100010, 100050, 99990, 100040),
         bar(at(1, 10, 2), 100000, 100200, 99700, 99900)});
  ASSERT_EQ(h.out.trades.size(), 1u);
  EXPECT_EQ(h.out.trades[0].exit_reason, "stop");
  EXPECT_EQ(h.out.trades[0].exit_price, 99810);
}

TEST(EngineTest, TheLossAtTheStopWithSlippageAndFeesStaysWithinOnePercent) {
  // WIN, ATR 50 → stop 100 points. Fees 0.26 + 0.24 brokerage per side, one
  // tick (5 points) of slippage. Per contract at the stop: (100 + 5) × 0.2 +
  // 2 × 0.50 = 22.00 → floor(1000 / 22) = 45 contracts (without costs it would
  // be floor(1000 / 20) = 50, losing 50 × 22 = 1100 = 1.1 %).
  const TradingCosts costs{0.5, 1};
  risk::RiskConfig rc;
  rc.trailing_stop = false;
  rc.max_leverage = 10;  // the default 5 caps a 100000 account at 25 WIN contracts
  Harness h({}, rc, costs, costs);
  h.strategy.atr = 50;
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.run({bar(at(1, 10, 0), 100000, 100050, 99950, 100000),
         bar(at(1, 10, 1), 100010, 100050, 99990, 100040),   // fills at 100010 + 5 = 100015; stop 99915
         bar(at(1, 10, 2), 100000, 100010, 99800, 99850)});  // stop fills at 99915 − 5 = 99910
  ASSERT_EQ(h.out.trades.size(), 1u);
  const TradeRecord& t = h.out.trades[0];
  EXPECT_EQ(t.qty, 45);
  EXPECT_EQ(t.initial_stop, 99915);
  EXPECT_EQ(t.exit_price, 99910);
  EXPECT_NEAR(t.net_pnl, -(105 * 0.2 + 1.0) * 45, 1e-9);
  EXPECT_LE(-t.net_pnl, 0.01 * 100000);
  EXPECT_GT(-t.net_pnl / 45 * 46, 0.01 * 100000) << "one more contract would exceed the budget";
}

// Position always equals the sum of fills; after a halt no entry is accepted that day.
RC_GTEST_PROP(EngineProperty, PositionIsTheSumOfFillsAndHaltsHold, ()) {
  Harness h;
  const int n = *rc::gen::inRange(20, 200);
  for (int i = 0; i < n; ++i) {
    const int k = *rc::gen::inRange(0, 10);
    if (k < 2)
      h.strategy.script[i] = k == 0 ? strategy::Action::EnterLong : strategy::Action::EnterShort;
    else if (k == 2)
      h.strategy.script[i] = strategy::Action::Exit;
  }
  h.strategy.atr = *rc::gen::inRange(20, 400);
  std::vector<Bar> bars;
  double price = 100000;
  for (int i = 0; i < n; ++i) {
    const int day = 1 + i / 60;
    const Timestamp ts = at(day, 10 + (i % 60) / 60, i % 60);
    const double o = price;
    price += 5.0 * *rc::gen::inRange(-200, 200);
    const double c = price;
    bars.push_back(bar(ts, o, std::max(o, c) + 5.0 * *rc::gen::inRange(0, 60),
                       std::min(o, c) - 5.0 * *rc::gen::inRange(0, 60), c));
  }
  h.run(bars);
  h.engine->finish();
  std::int64_t sum = 0;
  for (const Order& o : h.out.orders) sum += sign(o.side) * o.filled_qty;
  RC_ASSERT(sum == h.engine->position());
  // No accepted entry between a Halted event and the next HaltCleared.
  bool halted = false;
  for (const auto& e : h.out.risk_events) {
    if (e.kind == risk::RiskEventKind::Halted) halted = true;
    if (e.kind == risk::RiskEventKind::HaltCleared) halted = false;
    if (halted) RC_ASSERT(e.kind != risk::RiskEventKind::EntryAccepted && e.kind != risk::RiskEventKind::EntryResized);
  }
}

}  // namespace
}  // namespace quant::engine
