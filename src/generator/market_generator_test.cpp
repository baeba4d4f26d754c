#include "generator/market_generator.h"

#include <gtest/gtest.h>

#include "core/test_bars.h"

namespace quant::generator {
namespace {

InstrumentSpec win() { return testing::win_spec(); }

TEST(MarketGeneratorTest, DeterministicOnTheGridInsideSessions) {
  GeneratorConfig cfg;
  cfg.days = 5;
  auto a = generate_market(win(), cfg);
  auto b = generate_market(win(), cfg);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  ASSERT_EQ(a->size(), 5u * 565u);
  const TickGrid grid(5);
  const auto zone = TimeZone::find("America/Sao_Paulo").value();
  for (std::size_t i = 0; i < a->size(); ++i) {
    const Bar& x = (*a)[i].bar;
    EXPECT_EQ(x, (*b)[i].bar);
    EXPECT_TRUE(grid.on_grid(x.open) && grid.on_grid(x.high) && grid.on_grid(x.low) && grid.on_grid(x.close));
    EXPECT_LE(x.low, std::min(x.open, x.close));
    EXPECT_GE(x.high, std::max(x.open, x.close));
    const CivilTime c = to_civil(zone.to_local(x.ts));
    EXPECT_GE(c.hour * 60 + c.minute, 9u * 60);
    EXPECT_LT(c.hour * 60 + c.minute, 18u * 60 + 25);
    EXPECT_NE(c.weekday, 0u);
    EXPECT_NE(c.weekday, 6u);
    if (i > 0) {
      EXPECT_GT(x.ts, (*a)[i - 1].bar.ts);
    }
  }
  cfg.seed = 7;
  auto c = generate_market(win(), cfg);
  EXPECT_NE((*c)[100].bar, (*a)[100].bar);
}

TEST(MarketGeneratorTest, RejectsBadSpecs) {
  InstrumentSpec bad = win();
  bad.tick_size = 0;
  EXPECT_FALSE(generate_market(bad, {}));
  GeneratorConfig cfg;
  cfg.days = 0;
  EXPECT_FALSE(generate_market(win(), cfg));
}

}  // namespace
}  // namespace quant::generator
