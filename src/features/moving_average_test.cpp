#include "features/moving_average.h"

#include <cmath>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "features/test_util.h"

namespace quant::features {
namespace {

using testing::gen_tick_walk;

std::span<const std::int64_t> prefix(const std::vector<std::int64_t>& v, std::size_t i) { return {v.data(), i + 1}; }

RC_GTEST_PROP(SmaProperty, StreamingEqualsBatchOnEveryPrefix, ()) {
  const auto ticks = *gen_tick_walk(50);
  const int period = *rc::gen::inRange(1, 25);
  Sma sma(period);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    sma.update(ticks[i]);
    const auto sums = sma_sum_batch(prefix(ticks, i), period);
    const auto values = sma_batch(prefix(ticks, i), period);
    RC_ASSERT(sma.ready() == sums.back().has_value());
    if (sma.ready()) {
      RC_ASSERT(sma.sum() == *sums.back());
      RC_ASSERT(sma.value() == values.back());
    } else {
      RC_ASSERT(std::isnan(values.back()));
    }
  }
}

RC_GTEST_PROP(EmaProperty, StreamingEqualsBatchOnEveryPrefix, ()) {
  const auto ticks = *gen_tick_walk(50);
  const int period = *rc::gen::inRange(1, 25);
  Ema ema(period);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    ema.update(ticks[i]);
    const auto raws = ema_raw_batch(prefix(ticks, i), period);
    const auto values = ema_batch(prefix(ticks, i), period);
    RC_ASSERT(ema.ready() == raws.back().has_value());
    if (ema.ready()) {
      RC_ASSERT(ema.raw() == *raws.back());
      RC_ASSERT(ema.value() == values.back());
    }
  }
}

RC_GTEST_PROP(MaSpreadProperty, ExactSignEqualsBatchForEveryKindPair, ()) {
  const auto ticks = *gen_tick_walk(2);  // small steps: many exact ties
  const auto fast_kind = *rc::gen::element(MaKind::Sma, MaKind::Ema);
  const auto slow_kind = *rc::gen::element(MaKind::Sma, MaKind::Ema);
  const int fast = *rc::gen::inRange(1, 10);
  const int slow = *rc::gen::inRange(1, 20);
  MaSpread spread(fast_kind, fast, slow_kind, slow);
  const auto batch = ma_spread_sign_batch(ticks, fast_kind, fast, slow_kind, slow);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    spread.update(ticks[i]);
    const auto on_prefix = ma_spread_sign_batch(prefix(ticks, i), fast_kind, fast, slow_kind, slow);
    RC_ASSERT(on_prefix.back() == batch[i]);
    RC_ASSERT(spread.ready() == batch[i].has_value());
    if (spread.ready()) RC_ASSERT(spread.sign() == *batch[i]);
  }
}

RC_GTEST_PROP(MaSpreadProperty, SmaSignMatchesLongDoubleWhenFarFromTies, ()) {
  const auto ticks = *gen_tick_walk(20);
  const int fast = *rc::gen::inRange(1, 10);
  const int slow = *rc::gen::inRange(fast + 1, 30);
  MaSpread spread(MaKind::Sma, fast, MaKind::Sma, slow);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    spread.update(ticks[i]);
    if (!spread.ready()) continue;
    long double f = 0, s = 0;
    for (int k = 0; k < fast; ++k) f += static_cast<long double>(ticks[i - static_cast<std::size_t>(k)]);
    for (int k = 0; k < slow; ++k) s += static_cast<long double>(ticks[i - static_cast<std::size_t>(k)]);
    const long double d = f / fast - s / slow;
    if (d > 1e-6L) RC_ASSERT(spread.sign() == 1);
    if (d < -1e-6L) RC_ASSERT(spread.sign() == -1);
  }
}

RC_GTEST_PROP(EmaRealProperty, StreamingEqualsBatchOnEveryPrefix, ()) {
  const auto series = *testing::gen_bars();
  const int period = *rc::gen::inRange(1, 25);
  EmaReal ema(period);
  for (std::size_t i = 0; i < series.close.size(); ++i) {
    ema.update(series.close[i]);
    const auto batch = ema_real_batch({series.close.data(), i + 1}, period);
    RC_ASSERT(ema.ready() == !std::isnan(batch.back()));
    if (ema.ready()) RC_ASSERT(testing::close_enough(ema.value(), batch.back()));
  }
}

TEST(SmaTest, SumAndValue) {
  Sma sma(3);
  sma.update(10);
  sma.update(11);
  EXPECT_FALSE(sma.ready());
  sma.update(13);
  ASSERT_TRUE(sma.ready());
  EXPECT_EQ(sma.sum(), 34);
  EXPECT_DOUBLE_EQ(sma.value(), 34.0 / 3);
  sma.update(20);  // window 11, 13, 20
  EXPECT_EQ(sma.sum(), 44);
  sma.reset();
  EXPECT_FALSE(sma.ready());
  EXPECT_EQ(sma.sum(), 0);
}

// Hand-computed fixed point (S = 2^32 = 4294967296).
TEST(EmaTest, FixedPointIsDeterministicAndHandComputed) {
  constexpr std::int64_t kS = Ema::kScale;
  Ema ema(3);  // alpha = 2/4
  ema.update(10);
  ema.update(11);
  EXPECT_FALSE(ema.ready());
  ema.update(12);  // seed = SMA(10, 11, 12) = 11
  ASSERT_TRUE(ema.ready());
  EXPECT_EQ(ema.raw(), 11 * kS);
  ema.update(14);  // += 2 × 3S / 4 = 1.5S
  EXPECT_EQ(ema.raw(), 11 * kS + 3 * kS / 2);
  ema.update(13);  // += 2 × (13S − 12.5S) / 4 = 0.25S
  EXPECT_EQ(ema.raw(), 12 * kS + 3 * kS / 4);
  EXPECT_DOUBLE_EQ(ema.value(), 12.75);

  // Truncation toward zero: period 2, alpha = 2/3.
  Ema two(2);
  two.update(1);
  two.update(2);  // seed 1.5S = 6442450944
  EXPECT_EQ(two.raw(), 6442450944);
  two.update(2);  // += trunc(2 × 0.5S / 3) = trunc(1431655765.33) = 1431655765
  EXPECT_EQ(two.raw(), 7874106709);
  two.update(0);  // += trunc(−15748213418 / 3) = trunc(−5249404472.67) = −5249404472
  EXPECT_EQ(two.raw(), 2624702237);

  // Same input, same bits, whatever the history of the object.
  Ema a(7), b(7);
  for (std::int64_t x : {5, 9, -3, 100, 42, 42, 41, 7, 8, 1000, -1000, 3}) a.update(x);
  b.update(123);
  b.reset();
  for (std::int64_t x : {5, 9, -3, 100, 42, 42, 41, 7, 8, 1000, -1000, 3}) b.update(x);
  EXPECT_EQ(a.raw(), b.raw());
}

TEST(CompareMaTest, TiesAreExact) {
  // SMA(3) of 1,1,2 = 4/3 and SMA(6) of 1,1,2,1,1,2 = 8/6: equal, though the
  // two doubles 4.0/3 and 8.0/6 happen to agree too; (1,2,2)/3 vs 5/3 via 10/6 likewise.
  MaSpread spread(MaKind::Sma, 3, MaKind::Sma, 6);
  for (std::int64_t x : {1, 1, 2, 1, 1, 2}) spread.update(x);
  ASSERT_TRUE(spread.ready());
  EXPECT_EQ(spread.sign(), 0);
  // SMA(3) = 11/3 vs EMA seeded at SMA(3) of the same three values: a tie.
  MaSpread mixed(MaKind::Sma, 3, MaKind::Ema, 3);
  for (std::int64_t x : {3, 4, 4}) mixed.update(x);
  ASSERT_TRUE(mixed.ready());
  // EMA raw = trunc(11 × 2^32 / 3) < 11/3 × 2^32, so the SMA is strictly above.
  EXPECT_EQ(mixed.sign(), 1);
  // Constant input: every kind pair ties.
  for (auto fk : {MaKind::Sma, MaKind::Ema}) {
    for (auto sk : {MaKind::Sma, MaKind::Ema}) {
      MaSpread constant(fk, 4, sk, 9);
      for (int i = 0; i < 30; ++i) constant.update(777);
      EXPECT_EQ(constant.sign(), 0);
    }
  }
}

}  // namespace
}  // namespace quant::features
