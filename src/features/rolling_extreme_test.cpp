#include "features/rolling_extreme.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "features/test_util.h"

namespace quant::features {
namespace {

RC_GTEST_PROP(RollingExtremeProperty, StreamingEqualsBatchOnEveryPrefix, ()) {
  const auto s = *testing::gen_bars();
  const int period = *rc::gen::inRange(1, 30);
  Highest highest(period);
  Lowest lowest(period);
  for (std::size_t i = 0; i < s.close.size(); ++i) {
    highest.update(s.high[i]);
    lowest.update(s.low[i]);
    const auto hb = highest_batch({s.high.data(), i + 1}, period);
    const auto lb = lowest_batch({s.low.data(), i + 1}, period);
    RC_ASSERT(highest.ready() == !std::isnan(hb.back()));
    RC_ASSERT(lowest.ready() == !std::isnan(lb.back()));
    if (highest.ready()) {
      RC_ASSERT(highest.value() == hb.back());
      RC_ASSERT(lowest.value() == lb.back());
    }
  }
}

TEST(RollingExtremeTest, MonotonicSequencesWrapTheRing) {
  Highest highest(3);
  Lowest lowest(3);
  const double down[] = {10, 9, 8, 7, 6, 5};
  const double expected_high[] = {10, 10, 10, 9, 8, 7};
  const double expected_low[] = {10, 9, 8, 7, 6, 5};
  for (int i = 0; i < 6; ++i) {
    highest.update(down[i]);
    lowest.update(down[i]);
    EXPECT_EQ(highest.value(), expected_high[i]) << i;
    EXPECT_EQ(lowest.value(), expected_low[i]) << i;
  }
  EXPECT_TRUE(highest.ready());
}

}  // namespace
}  // namespace quant::features
