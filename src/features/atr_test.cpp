#include "features/atr.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "features/test_util.h"

namespace quant::features {
namespace {

RC_GTEST_PROP(WilderAtrProperty, StreamingEqualsBatchOnEveryPrefix, ()) {
  const auto s = *testing::gen_bars();
  const int period = *rc::gen::inRange(1, 20);
  WilderAtr atr(period);
  for (std::size_t i = 0; i < s.close.size(); ++i) {
    atr.update(s.high[i], s.low[i], s.close[i]);
    const auto batch = wilder_atr_batch({s.high.data(), i + 1}, {s.low.data(), i + 1}, {s.close.data(), i + 1}, period);
    RC_ASSERT(atr.ready() == !std::isnan(batch.back()));
    if (atr.ready()) RC_ASSERT(testing::close_enough(atr.value(), batch.back()));
  }
}

// Period 3 on five bars, by hand:
//   bar  high  low   close  true range
//   1    10    8     9      10 − 8 = 2 (no previous close)
//   2    12    9     11     max(3, |12 − 9|, |9 − 9|) = 3
//   3    11.5  10    10.5   max(1.5, |11.5 − 11|, |10 − 11|) = 1.5   → ATR = (2 + 3 + 1.5) / 3 = 13/6
//   4    14    12    13     max(2, |14 − 10.5|, |12 − 10.5|) = 3.5   → ATR = (13/6 × 2 + 3.5) / 3 = 47/18
//   5    12.5  9     10     max(3.5, |12.5 − 13|, |9 − 13|) = 4      → ATR = (47/18 × 2 + 4) / 3 = 83/27
TEST(WilderAtrTest, FiveBarsByHand) {
  WilderAtr atr(3);
  atr.update(10, 8, 9);
  EXPECT_DOUBLE_EQ(atr.true_range(), 2);
  atr.update(12, 9, 11);
  EXPECT_DOUBLE_EQ(atr.true_range(), 3);
  EXPECT_FALSE(atr.ready());
  atr.update(11.5, 10, 10.5);
  EXPECT_DOUBLE_EQ(atr.true_range(), 1.5);
  ASSERT_TRUE(atr.ready());
  EXPECT_DOUBLE_EQ(atr.value(), 13.0 / 6);
  atr.update(14, 12, 13);
  EXPECT_DOUBLE_EQ(atr.true_range(), 3.5);
  EXPECT_DOUBLE_EQ(atr.value(), 47.0 / 18);
  atr.update(12.5, 9, 10);
  EXPECT_DOUBLE_EQ(atr.true_range(), 4);
  EXPECT_DOUBLE_EQ(atr.value(), 83.0 / 27);
  atr.reset();
  EXPECT_FALSE(atr.ready());
  atr.update(10, 8, 9);
  EXPECT_DOUBLE_EQ(atr.true_range(), 2);  // no previous close after a reset
}

}  // namespace
}  // namespace quant::features
