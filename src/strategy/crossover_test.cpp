#include "strategy/crossover.h"

#include <vector>

#include <gtest/gtest.h>

#include "strategy/sma_cross.h"

namespace quant::strategy {
namespace {

std::vector<int> run(std::initializer_list<int> signs) {
  CrossoverDetector d;
  std::vector<int> out;
  for (int s : signs) out.push_back(d.update(s));
  return out;
}

TEST(CrossoverTest, ZeroBarsNeitherSignalNorReset) {
  EXPECT_EQ(run({-1, 0, 1}), (std::vector<int>{0, 0, 1}));         // −,0,+ : signal at the +
  EXPECT_EQ(run({1, 0, 1}), (std::vector<int>{0, 0, 0}));          // +,0,+ : none
  EXPECT_EQ(run({-1, 0, 0, -1}), (std::vector<int>{0, 0, 0, 0}));  // −,0,0,− : none
  EXPECT_EQ(run({1, 0, 0, 0, -1}), (std::vector<int>{0, 0, 0, 0, -1}));
  EXPECT_EQ(run({0, 0, 1, -1, 1}), (std::vector<int>{0, 0, 0, -1, 1}));  // the first non-zero sign never crosses
}

TEST(CrossoverTest, ResetForgetsTheLastSign) {
  CrossoverDetector d;
  EXPECT_EQ(d.update(-1), 0);
  d.reset();
  EXPECT_EQ(d.last_sign(), 0);
  EXPECT_EQ(d.update(1), 0);
  EXPECT_EQ(d.update(-1), -1);
}

// Through a real strategy: SMA(1) − SMA(2) = (close_t − close_{t−1}) / 2, so the
// sign of fast − slow is the sign of the last price change.
std::vector<Action> sma_cross_actions(std::initializer_list<double> closes) {
  SmaCross strategy(SmaCrossConfig{1, 2}, TickGrid(5));
  std::vector<Action> out;
  std::int64_t position = 0;
  for (double c : closes) {
    Bar bar;
    bar.open = bar.high = bar.low = bar.close = c;
    const Signal s = strategy.on_bar(bar, position);
    if (s.action == Action::EnterLong) position = 1;
    if (s.action == Action::EnterShort) position = -1;
    out.push_back(s.action);
  }
  return out;
}

TEST(CrossoverTest, EqualAveragesThroughSmaCross) {
  using A = Action;
  // diffs: (not ready), −, 0, +  → EnterLong at the +
  EXPECT_EQ(sma_cross_actions({100, 95, 95, 100}), (std::vector<A>{A::None, A::None, A::None, A::EnterLong}));
  // diffs: +, 0, +  → none
  EXPECT_EQ(sma_cross_actions({100, 105, 105, 110}), (std::vector<A>{A::None, A::None, A::None, A::None}));
  // diffs: −, 0, 0, −  → none
  EXPECT_EQ(sma_cross_actions({100, 95, 95, 95, 90}), (std::vector<A>{A::None, A::None, A::None, A::None, A::None}));
  // Float noise below half a tick is not a difference: 100.0000001 rounds to 20 ticks.
  EXPECT_EQ(sma_cross_actions({100, 95, 95.0000001, 100}), (std::vector<A>{A::None, A::None, A::None, A::EnterLong}));
}

}  // namespace
}  // namespace quant::strategy
