// The engine with the simulated venue and the real risk engine, driven by a
// scripted strategy over hand-made bars: every number here is checked by hand.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "backtest/simulated_venue.h"
#include "core/test_bars.h"

namespace quant::engine {
namespace {

InstrumentSpec win() {
  InstrumentSpec s;
  s.symbol = "WIN";
  s.tick_size = 5;
  s.point_value = 0.2;
  s.fee_per_side = 0.25;
  s.currency = "BRL";
  s.time_zone = "America/Sao_Paulo";
  s.session = Session{std::chrono::minutes(9 * 60), std::chrono::minutes(18 * 60 + 25)};
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
  void on_order_done(const Order& o) override { orders.push_back(o); }
  void on_risk_event(const risk::RiskEvent& e) override { risk_events.push_back(e); }
  void on_decision(const DecisionRecord& d) override { decisions.push_back(d); }
  void on_day(const DayRecord& d) override { days.push_back(d); }
  void on_bar_close(const Bar&, double, double, double, std::int64_t p) override { positions.push_back(p); }
};

Timestamp at(int day, int hh, int mm) { return testing::brt_march_2021(day, hh, mm); }
Bar bar(Timestamp ts, double o, double h, double l, double c) { return testing::ohlc_bar(ts, o, h, l, c); }

struct Harness {
  InstrumentSpec spec = win();
  ScriptedStrategy strategy;
  risk::RiskEngine risk{risk::RiskConfig{}, win()};
  backtest::SimulatedVenue venue{win(), backtest::CostModel{0.25, 0}, std::make_unique<backtest::FullFillModel>()};
  Collector out;
  EngineConfig config;
  std::unique_ptr<Engine> engine;
  explicit Harness(EngineConfig c = {}) : config(c) {
    engine = std::make_unique<Engine>(config, spec, TimeZone::find(spec.time_zone).value(), strategy, &risk, venue,
                                      out);
  }
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
         bar(at(1, 10, 1), 100010, 100100, 99990, 100050),  // entry fills at the open 100010
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
  EXPECT_STREQ(t.exit_reason, "stop");
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
  h.run({bar(at(1, 17, 50), 100000, 100050, 99950, 100000),  // closes 17:51: 34 min left → entry allowed
         bar(at(1, 17, 59), 100010, 100020, 100000, 100010),  // entry fills; this close (18:00) is too late to enter
         bar(at(1, 18, 10), 100010, 100020, 100000, 100015),  // closes 18:11: 14 > 10 min left
         bar(at(1, 18, 14), 100015, 100020, 100000, 100015),  // closes 18:15: 10 min left → flatten decided
         bar(at(1, 18, 15), 100020, 100030, 100000, 100020)});  // flatten fills at the open 100020
  ASSERT_EQ(h.out.trades.size(), 1u);
  EXPECT_STREQ(h.out.trades[0].exit_reason, "session_end");
  EXPECT_EQ(h.out.trades[0].exit_price, 100020);
  EXPECT_EQ(h.engine->position(), 0);
  bool blocked = false;
  for (const auto& d : h.out.decisions) blocked |= std::string(d.reason).find("last minutes") != std::string::npos;
  EXPECT_FALSE(blocked) << "bar 1's signal comes while long: it is not an entry";
}

TEST(EngineTest, CircuitBreakerFlattensAndHaltsForTheDay) {
  risk::RiskConfig rc;
  rc.risk_pct = 0.05;
  rc.stop_atr_multiple = 20;  // a far stop (2000 points) so the breaker, not the stop, acts
  rc.trailing_stop = false;
  Harness h;
  h.risk = risk::RiskEngine(rc, win());
  h.strategy.script[0] = strategy::Action::EnterLong;
  h.strategy.script[3] = strategy::Action::EnterLong;  // after the halt: must be rejected
  // Size: floor(5 % × 100000 / (2000 × 0.2)) = 12 contracts. At bar 2's close
  // 98700: open PnL −1300 × 12 × 0.2 = −3120, fees 3 → day PnL −3123 ≤ −3000.
  h.run({bar(at(1, 10, 0), 100000, 100000, 100000, 100000),
         bar(at(1, 10, 1), 100000, 100000, 100000, 100000),  // entry fills at 100000
         bar(at(1, 10, 2), 100000, 100000, 98700, 98700),    // breaker trips at the close
         bar(at(1, 10, 3), 98700, 98800, 98600, 98700),      // flatten fills at the open
         bar(at(1, 10, 4), 98700, 98800, 98600, 98700),
         bar(at(2, 10, 0), 98700, 98800, 98600, 98700)});    // next session: halt cleared
  ASSERT_EQ(h.out.trades.size(), 1u);
  EXPECT_EQ(h.out.trades[0].qty, 12);
  EXPECT_STREQ(h.out.trades[0].exit_reason, "circuit_breaker");
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
  EXPECT_FALSE(h.risk.halted());
}

TEST(EngineTest, ReverseClosesThenOpensTheOtherSide) {
  EngineConfig c;
  c.use_risk_engine = false;
  c.day_trade = false;
  c.respect_sessions = false;
  ScriptedStrategy strategy;
  backtest::SimulatedVenue venue{win(), backtest::CostModel{0, 0}, std::make_unique<backtest::FullFillModel>()};
  Collector out;
  Engine engine(c, win(), TimeZone::find("America/Sao_Paulo").value(), strategy, nullptr, venue, out);
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
  EXPECT_STREQ(out.trades[0].exit_reason, "reverse");
  EXPECT_EQ(out.trades[1].side, Side::Sell);
  EXPECT_STREQ(out.trades[1].exit_reason, "end_of_data");
  EXPECT_EQ(engine.position(), -1);
}

// Position always equals the sum of fills; after a halt no entry is accepted that day.
RC_GTEST_PROP(EngineProperty, PositionIsTheSumOfFillsAndHaltsHold, ()) {
  Harness h;
  const int n = *rc::gen::inRange(20, 200);
  for (int i = 0; i < n; ++i) {
    const int k = *rc::gen::inRange(0, 10);
    if (k < 2) h.strategy.script[i] = k == 0 ? strategy::Action::EnterLong : strategy::Action::EnterShort;
    else if (k == 2) h.strategy.script[i] = strategy::Action::Exit;
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
