#include "features/keltner.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "features/test_util.h"

namespace quant::features {
namespace {

RC_GTEST_PROP(KeltnerProperty, StreamingEqualsBatchOnEveryPrefix, ()) {
  const auto s = *testing::gen_bars();
  const int ema_period = *rc::gen::inRange(1, 25);
  const int atr_period = *rc::gen::inRange(1, 20);
  const double multiple = *rc::gen::element(0.5, 1.5, 2.0);
  Keltner k(ema_period, multiple, atr_period);
  for (std::size_t i = 0; i < s.close.size(); ++i) {
    k.update(s.high[i], s.low[i], s.close[i]);
    const auto b = keltner_batch({s.high.data(), i + 1}, {s.low.data(), i + 1}, {s.close.data(), i + 1}, ema_period,
                                 multiple, atr_period);
    RC_ASSERT(k.ready() == !std::isnan(b.middle.back()));
    if (!k.ready()) continue;
    RC_ASSERT(testing::close_enough(k.middle(), b.middle.back()));
    RC_ASSERT(testing::close_enough(k.upper(), b.upper.back()));
    RC_ASSERT(testing::close_enough(k.lower(), b.lower.back()));
    RC_ASSERT(k.lower() <= k.middle());
    RC_ASSERT(k.middle() <= k.upper());
  }
}

TEST(KeltnerTest, BandsAreMiddlePlusMinusMultipleAtr) {
  Keltner k(2, 1.5, 3);
  k.update(10, 8, 9);
  k.update(12, 9, 11);
  EXPECT_FALSE(k.ready());  // EMA(2) ready, ATR(3) not yet
  k.update(11.5, 10, 10.5);
  ASSERT_TRUE(k.ready());
  // EMA(2): seed (9 + 11) / 2 = 10, then 10 + 2/3 × (10.5 − 10) = 10 + 1/3. ATR = 13/6 (see atr_test).
  EXPECT_DOUBLE_EQ(k.middle(), 10 + 1.0 / 3);
  EXPECT_DOUBLE_EQ(k.upper(), 10 + 1.0 / 3 + 1.5 * 13.0 / 6);
  EXPECT_DOUBLE_EQ(k.lower(), 10 + 1.0 / 3 - 1.5 * 13.0 / 6);
}

}  // namespace
}  // namespace quant::features
