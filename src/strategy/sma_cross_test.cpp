#include "strategy/sma_cross.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/test_data.h"
#include "strategy/test_data.h"

namespace quant::strategy {
namespace {

struct CrossRun {
  std::vector<int> entries;  // +1 EnterLong, −1 EnterShort, 0 none, per bar
  bool reversed_each_time = true;
};

// Runs SmaCross with a position that follows its signals, as the engine would.
CrossRun run_sma_cross(const std::vector<std::int64_t>& ticks, int fast, int slow, double tick_size) {
  SmaCross strategy(SmaCrossConfig{fast, slow}, TickGrid(tick_size));
  CrossRun run;
  std::int64_t position = 0;
  for (auto t : ticks) {
    const Signal s = strategy.on_bar(testing::flat_bar(static_cast<double>(t) * tick_size), position);
    int e = 0;
    if (s.action == Action::EnterLong) e = 1;
    if (s.action == Action::EnterShort) e = -1;
    EXPECT_TRUE(s.action != Action::Exit);
    EXPECT_EQ(s.atr, 0.0);
    if (e != 0) {
      if (position != 0 && position != -e) run.reversed_each_time = false;
      position = e;
    }
    run.entries.push_back(e);
  }
  return run;
}

RC_GTEST_PROP(SmaCrossProperty, SignalsExactlyAtBruteForceCrossovers, ()) {
  const auto steps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(-3, 4));
  std::vector<std::int64_t> ticks;
  ticks.reserve(steps.size());
  std::int64_t x = 20000;
  for (int s : steps) ticks.push_back(x += s);
  const int fast = *rc::gen::inRange(1, 8);
  const int slow = *rc::gen::inRange(fast + 1, 20);
  const CrossRun run = run_sma_cross(ticks, fast, slow, 5.0);
  RC_ASSERT(run.entries == testing::brute_force_crossovers(ticks, fast, slow));
  RC_ASSERT(run.reversed_each_time);
}

TEST(SmaCrossTest, ReversesOnEveryCrossover) {
  // fast 1 / slow 2: the sign of fast − slow is the sign of the last change.
  const std::vector<std::int64_t> ticks = {10, 9, 10, 10, 9, 8, 9, 9, 9, 10};
  const CrossRun run = run_sma_cross(ticks, 1, 2, 1.0);
  EXPECT_EQ(run.entries, (std::vector<int>{0, 0, 1, 0, -1, 0, 1, 0, 0, 0}));
  EXPECT_TRUE(run.reversed_each_time);
}

TEST(SmaCrossTest, NoEntryOnTheSideAlreadyHeld) {
  SmaCross strategy(SmaCrossConfig{1, 2}, TickGrid(1));
  strategy.on_bar(testing::flat_bar(10), 0);
  strategy.on_bar(testing::flat_bar(9), 0);
  EXPECT_EQ(strategy.on_bar(testing::flat_bar(10), 1).action, Action::None);  // already long
}

TEST(SmaCrossTest, RealWinDataMatchesBruteForce) {
  const std::string path = std::string(QUANT_SHARED_DATA_DIR) + "/b3/WIN_N_M1_2020-11_2021-03.csv.gz";
  QUANT_REQUIRE_DATA(path);
  const auto closes = testing::read_closes_gz(path);
  ASSERT_TRUE(closes.has_value());
  ASSERT_GT(closes->size(), 50000u);
  const TickGrid grid(5);
  std::vector<std::int64_t> ticks;
  for (double c : *closes) ticks.push_back(grid.to_ticks(c));
  const CrossRun run = run_sma_cross(ticks, 10, 30, 5.0);
  const auto expected = testing::brute_force_crossovers(ticks, 10, 30);
  std::vector<std::size_t> got_bars, want_bars;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    if (run.entries[i] != 0) got_bars.push_back(i);
    if (expected[i] != 0) want_bars.push_back(i);
  }
  EXPECT_EQ(got_bars.size(), want_bars.size());
  EXPECT_EQ(got_bars, want_bars);
  EXPECT_EQ(run.entries, expected);
  EXPECT_TRUE(run.reversed_each_time);
  // Ties are real on the tick grid: count the bars where the two SMAs are exactly equal.
  std::size_t ties = 0;
  features::MaSpread spread(MaKind::Sma, 10, MaKind::Sma, 30);
  for (auto t : ticks) {
    spread.update(t);
    ties += spread.ready() && spread.sign() == 0;
  }
  std::printf("WIN M1: %zu bars, %zu SmaCross(10,30) crossovers, %zu bars with equal averages\n", ticks.size(),
              got_bars.size(), ties);
}

}  // namespace
}  // namespace quant::strategy
