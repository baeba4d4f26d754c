#include "core/instrument.h"

#include <gtest/gtest.h>

namespace quant {
namespace {

using namespace std::chrono;

TEST(InstrumentTest, TickGridSnapsAndDetectsOffGrid) {
  TickGrid win(5);
  EXPECT_TRUE(win.on_grid(100120));
  EXPECT_FALSE(win.on_grid(100122));
  EXPECT_EQ(win.snap(100122), 100120);
  EXPECT_EQ(win.to_ticks(100125), 20025);
  TickGrid eurusd(0.00001);
  EXPECT_TRUE(eurusd.on_grid(1.05155));
  EXPECT_FALSE(eurusd.on_grid(1.051555));
}

TEST(InstrumentTest, SessionContainsAndCrossesMidnight) {
  Session b3{minutes(9 * 60), minutes(18 * 60 + 25)};
  EXPECT_TRUE(b3.contains(minutes(9 * 60)));
  EXPECT_FALSE(b3.contains(minutes(18 * 60 + 25)));
  Session fx{minutes(17 * 60), minutes(17 * 60)};
  EXPECT_TRUE(fx.crosses_midnight());
  EXPECT_TRUE(fx.contains(minutes(3 * 60)));
}

TEST(InstrumentTest, MonthCodes) {
  EXPECT_EQ(month_from_code('G'), 2);
  EXPECT_EQ(month_from_code('Z'), 12);
  EXPECT_EQ(month_from_code('A'), 0);
}

TEST(InstrumentTest, B3Expiries) {
  // WINJ21 expired Wednesday 2021-04-14; WINM21 on 2021-06-16.
  EXPECT_EQ(contract_expiry(RollRule::WednesdayNearest15th, 2021, 4), year{2021} / April / 14);
  EXPECT_EQ(contract_expiry(RollRule::WednesdayNearest15th, 2021, 6), year{2021} / June / 16);
  // WDO: first business day; 2021-05-01 is a Saturday → Monday 3rd (holidays not modelled).
  EXPECT_EQ(contract_expiry(RollRule::FirstBusinessDay, 2021, 5), year{2021} / May / 3);
  EXPECT_EQ(contract_expiry(RollRule::ThirdFriday, 2024, 3), year{2024} / March / 15);
  EXPECT_FALSE(contract_expiry(RollRule::None, 2024, 3));
}

}  // namespace
}  // namespace quant
