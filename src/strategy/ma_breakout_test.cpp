#include "strategy/ma_breakout.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "strategy/test_data.h"

namespace quant::strategy {
namespace {

using testing::make_bar;

// fast 1 / slow 2 SMA: the sign of fast − slow is the sign of the last close
// change, so crossovers are placed by hand. Keltner: EMA(10) ± 1 × ATR(3).
MaBreakoutConfig small_config(int confirm_bars) {
  MaBreakoutConfig c;
  c.fast = 1;
  c.slow = 2;
  c.keltner_period = 10;
  c.keltner_multiple = 1.0;
  c.atr_period = 3;
  c.confirm_bars = confirm_bars;
  return c;
}

// Twelve quiet bars at 1000 (range 4: ATR 4, bands 996..1004), then one down tick to 999
// (the first non-zero sign: no crossover).
void warm_up(MaBreakout& s, std::int64_t position = 0) {
  for (int i = 0; i < 12; ++i) EXPECT_EQ(s.on_bar(make_bar(1002, 998, 1000), position).action, Action::None);
  const Signal first = s.on_bar(make_bar(1001, 997, 999), position);
  EXPECT_EQ(first.action, Action::None);
  EXPECT_STREQ(first.blocked_by, "");
  ASSERT_TRUE(s.keltner().ready());
}

bool is(const Signal& s, Action action, const char* reason, const char* blocked_by = "") {
  return s.action == action && std::strcmp(s.reason, reason) == 0 && std::strcmp(s.blocked_by, blocked_by) == 0;
}

TEST(MaBreakoutTest, CrossoverArmsAndALaterBarBeyondTheBandEnters) {
  MaBreakout s(small_config(3), TickGrid(1));
  warm_up(s);
  // Crossover up at 1000, inside the channel: armed, nothing emitted yet.
  const Signal cross = s.on_bar(make_bar(1002, 998, 1000), 0);
  EXPECT_TRUE(is(cross, Action::None, "")) << cross.reason << cross.blocked_by;
  EXPECT_EQ(s.armed_direction(), 1);
  EXPECT_EQ(s.armed_bars_left(), 2);
  EXPECT_LT(1000, s.keltner().upper());
  // Second bar of the window: still rising, still inside.
  EXPECT_TRUE(is(s.on_bar(make_bar(1002, 1000, 1001), 0), Action::None, ""));
  EXPECT_LT(1001, s.keltner().upper());
  // Third (last) bar of the window: a jump beyond the upper band while fast > slow.
  const Signal entry = s.on_bar(make_bar(1010, 1001, 1010), 0);
  EXPECT_GT(1010, s.keltner().upper());
  EXPECT_TRUE(is(entry, Action::EnterLong, "ma_cross_up_confirmed")) << entry.reason;
  EXPECT_DOUBLE_EQ(entry.atr, s.keltner().atr().value());
  EXPECT_GT(entry.atr, 0);
  EXPECT_EQ(s.armed_direction(), 0);
}

TEST(MaBreakoutTest, WindowExpiresWithAKeltnerBlock) {
  MaBreakout s(small_config(2), TickGrid(1));
  warm_up(s);
  EXPECT_TRUE(is(s.on_bar(make_bar(1002, 998, 1000), 0), Action::None, ""));
  // Last bar of a 2-bar window, unconfirmed: the block is reported once, here.
  const Signal expired = s.on_bar(make_bar(1002, 1000, 1001), 0);
  EXPECT_TRUE(is(expired, Action::None, "ma_cross_up", "keltner")) << expired.reason << expired.blocked_by;
  // The jump now comes too late: the window is gone.
  EXPECT_TRUE(is(s.on_bar(make_bar(1010, 1001, 1010), 0), Action::None, ""));
}

TEST(MaBreakoutTest, ConfirmBarsOneMeansTheCrossoverBarOnly) {
  MaBreakout s(small_config(1), TickGrid(1));
  warm_up(s);
  EXPECT_TRUE(is(s.on_bar(make_bar(1002, 998, 1000), 0), Action::None, "ma_cross_up", "keltner"));
  // A crossover bar that closes beyond the band enters at once.
  MaBreakout t(small_config(1), TickGrid(1));
  warm_up(t);
  const Signal entry = t.on_bar(make_bar(1012, 999, 1012), 0);
  EXPECT_TRUE(is(entry, Action::EnterLong, "ma_cross_up"));
}

TEST(MaBreakoutTest, EqualAveragesDoNotConfirmButKeepTheWindow) {
  MaBreakout s(small_config(3), TickGrid(1));
  warm_up(s);
  EXPECT_TRUE(is(s.on_bar(make_bar(1002, 998, 1000), 0), Action::None, ""));  // cross up
  EXPECT_TRUE(is(s.on_bar(make_bar(1001, 999, 1000), 0), Action::None, ""));  // sign 0
  EXPECT_EQ(s.armed_bars_left(), 1);
  EXPECT_TRUE(is(s.on_bar(make_bar(1012, 1000, 1012), 0), Action::EnterLong, "ma_cross_up_confirmed"));
}

TEST(MaBreakoutTest, OppositeCrossExitsThenConfirmsTheReverse) {
  MaBreakout s(small_config(3), TickGrid(1));
  warm_up(s, 1);  // holding a long
  // Up tick then down tick: the down tick is a crossover down inside the channel.
  EXPECT_EQ(s.on_bar(make_bar(1002, 998, 1000), 1).action, Action::None);  // cross up while long: nothing
  const Signal exit = s.on_bar(make_bar(1001, 997, 999), 1);
  EXPECT_TRUE(is(exit, Action::Exit, "ma_cross_down")) << exit.reason;
  EXPECT_EQ(s.armed_direction(), -1);
  // Flat now; a plunge below the lower band while falling enters short.
  const Signal entry = s.on_bar(make_bar(999, 985, 985), 0);
  EXPECT_LT(985, s.keltner().lower());
  EXPECT_TRUE(is(entry, Action::EnterShort, "ma_cross_down_confirmed"));
}

TEST(MaBreakoutTest, OppositeCrossBeyondTheBandReversesDirectly) {
  MaBreakout s(small_config(3), TickGrid(1));
  warm_up(s, 1);
  EXPECT_EQ(s.on_bar(make_bar(1002, 998, 1000), 1).action, Action::None);
  const Signal reverse = s.on_bar(make_bar(1000, 984, 985), 1);
  EXPECT_TRUE(is(reverse, Action::EnterShort, "ma_cross_down")) << reverse.reason;
}

TEST(MaBreakoutTest, NoExitWhenSwitchedOff) {
  auto config = small_config(3);
  config.exit_on_opposite_cross = false;
  MaBreakout s(config, TickGrid(1));
  warm_up(s, 1);
  EXPECT_EQ(s.on_bar(make_bar(1002, 998, 1000), 1).action, Action::None);
  EXPECT_EQ(s.on_bar(make_bar(1001, 997, 999), 1).action, Action::None);
  EXPECT_EQ(s.armed_direction(), -1);
  EXPECT_EQ(s.on_bar(make_bar(999, 985, 985), 1).action, Action::EnterShort);  // the reverse, later
}

TEST(MaBreakoutTest, WithoutKeltnerTheCrossoverBarEnters) {
  auto config = small_config(5);
  config.keltner_filter = false;
  MaBreakout s(config, TickGrid(1));
  warm_up(s);
  EXPECT_TRUE(is(s.on_bar(make_bar(1002, 998, 1000), 0), Action::EnterLong, "ma_cross_up"));
  EXPECT_TRUE(is(s.on_bar(make_bar(1001, 997, 999), 1), Action::EnterShort, "ma_cross_down"));
}

TEST(MaBreakoutTest, NoSignalBeforeTheAveragesAreReady) {
  MaBreakoutConfig config;  // 9 / 21
  config.keltner_filter = false;
  MaBreakout s(config, TickGrid(5));
  for (int i = 0; i < 20; ++i) {
    const Signal sig = s.on_bar(make_bar(1000 + 50 * (i % 2), 1000, 1000 + 50 * (i % 2)), 0);
    EXPECT_EQ(sig.action, Action::None);
    EXPECT_STREQ(sig.blocked_by, "");
  }
  EXPECT_FALSE(s.spread().ready());
}

class BlockAll final : public SignalFilter {
 public:
  const char* name() const override { return "gate"; }
  bool allow(const Signal&, const Bar&) override { return false; }
};

TEST(MaBreakoutTest, FilterChainBlocksEntriesButNotExits) {
  auto config = small_config(3);
  config.keltner_filter = false;
  MaBreakout s(config, TickGrid(1));
  s.add_filter(std::make_unique<BlockAll>());
  warm_up(s, 1);
  EXPECT_EQ(s.on_bar(make_bar(1002, 998, 1000), 1).action, Action::None);  // up while long: nothing to do
  // Down crossover while long: EnterShort blocked by the gate, the exit still goes out.
  EXPECT_TRUE(is(s.on_bar(make_bar(1001, 997, 999), 1), Action::Exit, "ma_cross_down"));
  // Flat: the next up crossover is blocked and reported.
  EXPECT_TRUE(is(s.on_bar(make_bar(1002, 998, 1000), 0), Action::None, "ma_cross_up", "gate"));
}

TEST(MaBreakoutTest, SessionResetRestartsTheWarmUp) {
  auto config = small_config(3);
  config.session_reset = true;
  MaBreakout s(config, TickGrid(1));
  warm_up(s);
  s.on_session_start();
  EXPECT_FALSE(s.spread().ready());
  EXPECT_FALSE(s.keltner().ready());
  // The first ready sign after the reset does not cross (no memory of the down tick).
  s.on_bar(make_bar(1002, 998, 999), 0);
  const Signal first = s.on_bar(make_bar(1002, 998, 1000), 0);
  EXPECT_EQ(first.action, Action::None);
  EXPECT_EQ(s.armed_direction(), 0);
  EXPECT_EQ(first.atr, 0.0);  // ATR(3) not ready after two bars

  auto carry = small_config(3);
  MaBreakout c(carry, TickGrid(1));  // default: indicators carry across sessions
  warm_up(c);
  c.on_session_start();
  EXPECT_TRUE(c.spread().ready());
  EXPECT_TRUE(c.keltner().ready());
  c.on_bar(make_bar(1002, 998, 1000), 0);
  EXPECT_EQ(c.armed_direction(), 1);  // remembers the down tick before the session start
}

// Keltner off and confirm_bars irrelevant: MaBreakout with SMA equals SmaCross
// (crossovers at the same bars) over random series.
RC_GTEST_PROP(MaBreakoutProperty, WithoutKeltnerSignalsAtEveryCrossover, ()) {
  const auto steps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(-3, 4));
  std::vector<std::int64_t> ticks;
  ticks.reserve(steps.size());
  std::int64_t x = 20000;
  for (int st : steps) ticks.push_back(x += st);
  const int fast = *rc::gen::inRange(1, 6);
  const int slow = *rc::gen::inRange(fast + 1, 12);
  MaBreakoutConfig config;
  config.fast = fast;
  config.slow = slow;
  config.keltner_filter = false;
  config.atr_period = 3;
  MaBreakout s(config, TickGrid(5));
  const auto expected = testing::brute_force_crossovers(ticks, fast, slow);
  std::int64_t position = 0;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const double c = static_cast<double>(ticks[i]) * 5;
    const Signal sig = s.on_bar(make_bar(c + 5, c - 5, c), position);
    const int got = sig.action == Action::EnterLong ? 1 : sig.action == Action::EnterShort ? -1 : 0;
    RC_ASSERT(got == expected[i]);
    RC_ASSERT(sig.action != Action::Exit);  // always a direct reverse: the entry passes at once
    if (got != 0) position = got;
  }
}

// With the Keltner filter: every entry happens within confirm_bars of a
// crossover in its direction, with fast − slow agreeing and the close beyond the band.
RC_GTEST_PROP(MaBreakoutProperty, EntriesRespectTheArmingWindow, ()) {
  // Trending stretches (a drift held for several bars) so that closes leave the channel.
  const auto legs = *rc::gen::container<std::vector<std::pair<int, int>>>(
      rc::gen::pair(rc::gen::inRange(-8, 9), rc::gen::inRange(1, 8)));
  std::vector<int> steps;
  for (auto [drift, length] : legs) steps.insert(steps.end(), static_cast<std::size_t>(length), drift);
  std::vector<std::int64_t> ticks;
  ticks.reserve(steps.size());
  std::int64_t x = 20000;
  for (int st : steps) ticks.push_back(x += st);
  MaBreakoutConfig config;
  config.fast = *rc::gen::inRange(1, 5);
  config.slow = *rc::gen::inRange(config.fast + 1, 10);
  config.keltner_period = *rc::gen::inRange(1, 8);
  config.atr_period = *rc::gen::inRange(1, 8);
  config.keltner_multiple = 0.25;
  config.confirm_bars = *rc::gen::inRange(1, 6);
  MaBreakout s(config, TickGrid(1));
  const auto crosses = testing::brute_force_crossovers(ticks, config.fast, config.slow);
  std::int64_t position = 0;
  int entries = 0, later = 0;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const double c = static_cast<double>(ticks[i]);
    const Signal sig = s.on_bar(make_bar(c + 1, c - 1, c), position);
    if (sig.action != Action::EnterLong && sig.action != Action::EnterShort) continue;
    const int d = sig.action == Action::EnterLong ? 1 : -1;
    RC_ASSERT(s.spread().sign() == d);
    const bool beyond = d > 0 ? c > s.keltner().upper() : c < s.keltner().lower();
    RC_ASSERT(beyond);
    // The latest crossover at or before i is in direction d and at most confirm_bars − 1 bars back.
    std::size_t back = 0;
    while (crosses[i - back] == 0) ++back;
    RC_ASSERT(crosses[i - back] == d);
    RC_ASSERT(back < static_cast<std::size_t>(config.confirm_bars));
    position = d;
    ++entries;
    later += back > 0;
  }
  RC_CLASSIFY(entries > 0, "entries");
  RC_CLASSIFY(later > 0, "confirmed after the crossover bar");
}

}  // namespace
}  // namespace quant::strategy

namespace quant::strategy {
namespace {

// An independent model of the documented rules, built from the batch twins
// (exact MA sign, Keltner bands) and bar indices instead of counters.
struct Expected {
  Action action;
  std::string blocked_by;
};
std::vector<Expected> reference(const std::vector<std::int64_t>& ticks, const MaBreakoutConfig& config) {
  std::vector<double> h, l, c;
  for (auto t : ticks) {
    c.push_back(static_cast<double>(t));
    h.push_back(c.back() + 1);
    l.push_back(c.back() - 1);
  }
  const auto sign = features::ma_spread_sign_batch(ticks, config.kind, config.fast, config.kind, config.slow);
  const auto kb = features::keltner_batch(h, l, c, config.keltner_period, config.keltner_multiple, config.atr_period);
  std::vector<Expected> out;
  int position = 0, armed = 0;
  std::size_t armed_at = 0;
  for (std::size_t t = 0; t < ticks.size(); ++t) {
    Expected e{Action::None, ""};
    int cross = 0;
    if (sign[t] && *sign[t] != 0) {
      for (std::size_t u = t; u-- > 0 && sign[u];) {
        if (*sign[u] == 0) continue;
        if (*sign[u] == -*sign[t]) cross = *sign[t];
        break;
      }
    }
    bool exit_due = false;
    if (cross != 0) {
      armed = cross;
      armed_at = t;
      exit_due = config.exit_on_opposite_cross && position == -cross;
    }
    if (armed != 0) {
      const bool band =
          !config.keltner_filter || (!std::isnan(kb.upper[t]) && (armed > 0 ? c[t] > kb.upper[t] : c[t] < kb.lower[t]));
      if (*sign[t] == armed && band) {
        if (position != armed) e.action = armed > 0 ? Action::EnterLong : Action::EnterShort;
        armed = 0;
      } else if (t - armed_at + 1 == static_cast<std::size_t>(config.confirm_bars)) {
        e.blocked_by = "keltner";
        armed = 0;
      }
    }
    if (exit_due && e.action == Action::None) e = {Action::Exit, ""};
    if (e.action == Action::EnterLong) position = 1;
    if (e.action == Action::EnterShort) position = -1;
    if (e.action == Action::Exit) position = 0;
    out.push_back(e);
  }
  return out;
}

RC_GTEST_PROP(MaBreakoutProperty, MatchesAnIndependentModelOfTheRules, ()) {
  // Full-size ranges from the first case on (RapidCheck scales ranges with its size).
  const auto leg_count = static_cast<std::size_t>(*rc::gen::resize(100, rc::gen::inRange(5, 40)));
  const auto legs =
      *rc::gen::resize(100, rc::gen::container<std::vector<std::pair<int, int>>>(
                                leg_count, rc::gen::pair(rc::gen::inRange(-8, 9), rc::gen::inRange(1, 8))));
  std::vector<std::int64_t> ticks;
  std::int64_t x = 20000;
  for (auto [drift, length] : legs) {
    for (int k = 0; k < length; ++k) ticks.push_back(x += drift);
  }
  MaBreakoutConfig config;
  config.kind = *rc::gen::element(MaKind::Sma, MaKind::Ema);
  config.fast = *rc::gen::resize(100, rc::gen::inRange(1, 5));
  config.slow = *rc::gen::resize(100, rc::gen::inRange(config.fast + 1, 10));
  config.keltner_filter = *rc::gen::element(true, true, false);
  config.keltner_period = *rc::gen::resize(100, rc::gen::inRange(1, 8));
  config.atr_period = *rc::gen::resize(100, rc::gen::inRange(1, 8));
  config.keltner_multiple = *rc::gen::element(0.25, 1.0);
  config.confirm_bars = *rc::gen::resize(100, rc::gen::inRange(1, 6));
  config.exit_on_opposite_cross = *rc::gen::arbitrary<bool>();
  MaBreakout s(config, TickGrid(1));
  const auto want = reference(ticks, config);
  std::int64_t position = 0;
  int entries = 0, exits = 0, blocks = 0;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const double c = static_cast<double>(ticks[i]);
    const Signal sig = s.on_bar(make_bar(c + 1, c - 1, c), position);
    RC_ASSERT(sig.action == want[i].action);
    RC_ASSERT(std::string(sig.blocked_by) == want[i].blocked_by);
    if (sig.action == Action::EnterLong) position = 1;
    if (sig.action == Action::EnterShort) position = -1;
    if (sig.action == Action::Exit) position = 0;
    entries += sig.action == Action::EnterLong || sig.action == Action::EnterShort;
    exits += sig.action == Action::Exit;
    blocks += !want[i].blocked_by.empty();
  }
  RC_CLASSIFY(entries > 0, "entries");
  RC_CLASSIFY(exits > 0, "exits");
  RC_CLASSIFY(blocks > 0, "keltner blocks");
}

}  // namespace
}  // namespace quant::strategy
