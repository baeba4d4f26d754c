#include "features/rolling_volatility.h"

#include <cmath>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "features/test_util.h"

namespace quant::features {
namespace {

RC_GTEST_PROP(RollingVolatilityProperty, StreamingEqualsBatchOnEveryPrefix, ()) {
  const auto s = *testing::gen_bars();
  const int period = *rc::gen::inRange(2, 25);
  RollingVolatility vol(period);
  for (std::size_t i = 0; i < s.close.size(); ++i) {
    vol.update(s.close[i]);
    const auto batch = rolling_volatility_batch({s.close.data(), i + 1}, period);
    RC_ASSERT(vol.ready() == !std::isnan(batch.back()));
    if (vol.ready()) RC_ASSERT(vol.value() == batch.back());  // exact: integer sums on both sides
  }
}

// Against a plain two-pass double computation: the quantisation (2^-40) is invisible at 1e-9.
RC_GTEST_PROP(RollingVolatilityProperty, MatchesTwoPassStandardDeviation, ()) {
  const auto s = *testing::gen_bars();
  const int period = *rc::gen::inRange(2, 25);
  RollingVolatility vol(period);
  for (std::size_t i = 0; i < s.close.size(); ++i) {
    vol.update(s.close[i]);
    if (!vol.ready()) continue;
    const auto n = static_cast<std::size_t>(period);
    double mean = 0;
    for (std::size_t j = i + 1 - n; j <= i; ++j) mean += std::log(s.close[j] / s.close[j - 1]);
    mean /= period;
    double m2 = 0;
    for (std::size_t j = i + 1 - n; j <= i; ++j) {
      const double d = std::log(s.close[j] / s.close[j - 1]) - mean;
      m2 += d * d;
    }
    const double expected = std::sqrt(m2 / (period - 1));
    RC_ASSERT(std::fabs(vol.value() - expected) <= 1e-9 * std::max(expected, 1e-3) + 1e-12);
  }
}

TEST(RollingVolatilityTest, ConstantPricesHaveZeroVolatilityAfterVolatileOnes) {
  RollingVolatility vol(3);
  for (double c : {100.0, 110.0, 90.0, 120.0, 100.0, 100.0, 100.0, 100.0}) vol.update(c);
  ASSERT_TRUE(vol.ready());
  EXPECT_EQ(vol.value(), 0.0);  // exact zero: no drift from the volatile bars
}

TEST(RollingVolatilityTest, TwoReturnsByHand) {
  RollingVolatility vol(2);
  vol.update(100);
  vol.update(110);
  EXPECT_FALSE(vol.ready());
  vol.update(99);
  ASSERT_TRUE(vol.ready());
  const double r1 = std::log(1.1), r2 = std::log(0.9);
  const double expected = std::fabs(r1 - r2) / std::sqrt(2.0);  // sample sd of two values
  EXPECT_NEAR(vol.value(), expected, 1e-11);
}

}  // namespace
}  // namespace quant::features
