#include "strategy/strategy_config.h"

#include <gtest/gtest.h>

#include "core/test_bars.h"

namespace quant::strategy {
namespace {

InstrumentSpec win() { return testing::win_spec(); }

std::string error_of(const Expected<void>& r) { return r ? std::string("<ok>") : r.error().message; }

TEST(StrategyConfigTest, DefaultsAreValid) {
  EXPECT_TRUE(validate(MaBreakoutConfig{}));
  EXPECT_TRUE(validate(SmaCrossConfig{}));
  EXPECT_TRUE(validate(StrategyConfig{}));
  const MaBreakoutConfig d;
  EXPECT_EQ(d.kind, MaKind::Sma);
  EXPECT_EQ(d.fast, 9);
  EXPECT_EQ(d.slow, 21);
  EXPECT_EQ(d.confirm_bars, 5);
  EXPECT_EQ(SmaCrossConfig{}.fast, 10);
  EXPECT_EQ(SmaCrossConfig{}.slow, 30);
}

TEST(StrategyConfigTest, ErrorsNameTheField) {
  MaBreakoutConfig c;
  c.fast = 0;
  EXPECT_EQ(error_of(validate(c)), "strategy.fast: must be between 1 and 100000 bars, got 0");
  c = {};
  c.slow = 9;
  EXPECT_EQ(error_of(validate(c)), "strategy.slow: must be greater than strategy.fast (9), got 9");
  c = {};
  c.keltner_multiple = 0;
  EXPECT_NE(error_of(validate(c)).find("strategy.keltner_multiple:"), std::string::npos);
  c = {};
  c.atr_period = -1;
  EXPECT_NE(error_of(validate(c)).find("strategy.atr_period:"), std::string::npos);
  c = {};
  c.keltner_period = 0;
  EXPECT_NE(error_of(validate(c)).find("strategy.keltner_period:"), std::string::npos);
  c = {};
  c.confirm_bars = 0;
  EXPECT_NE(error_of(validate(c)).find("strategy.confirm_bars:"), std::string::npos);
  SmaCrossConfig s{30, 10};
  EXPECT_EQ(error_of(validate(s, "strategy.sma_cross")),
            "strategy.sma_cross.slow: must be greater than strategy.sma_cross.fast (30), got 10");
  StrategyConfig unknown;
  unknown.name = "rsi";
  EXPECT_EQ(error_of(validate(unknown)), "strategy.name: unknown strategy 'rsi' (known: ma_breakout, sma_cross)");
  StrategyConfig only_selected;  // an invalid sma_cross does not matter when ma_breakout runs
  only_selected.sma_cross.fast = -5;
  EXPECT_TRUE(validate(only_selected));
}

TEST(StrategyConfigTest, MaKindFromString) {
  EXPECT_EQ(ma_kind_from_string("sma"), MaKind::Sma);
  EXPECT_EQ(ma_kind_from_string("ema"), MaKind::Ema);
  EXPECT_EQ(ma_kind_from_string("wma"), std::nullopt);
}

TEST(MakeStrategyTest, BuildsTheNamedStrategy) {
  StrategyConfig config;
  auto mb = make_strategy(config, win());
  ASSERT_TRUE(mb) << mb.error().message;
  EXPECT_EQ((*mb)->name(), "ma_breakout");
  config.name = "sma_cross";
  auto sc = make_strategy(config, win());
  ASSERT_TRUE(sc) << sc.error().message;
  EXPECT_EQ((*sc)->name(), "sma_cross");
}

TEST(MakeStrategyTest, FilterSwitchesBuildThePlainStrategy) {
  // The three switchable filters need data from outside the bars: the caller adds them.
  StrategyConfig config;
  config.ma_breakout.hmm_filter = true;
  EXPECT_TRUE(make_strategy(config, win()));
  config.ma_breakout.book_imbalance_filter = true;
  EXPECT_TRUE(make_strategy(config, win()));
  config.ma_breakout.model_gate = true;
  EXPECT_TRUE(make_strategy(config, win()));
  // ... but its settings are still checked.
  config.ma_breakout.book_imbalance.threshold = 1.5;
  auto r = make_strategy(config, win());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "strategy.book_imbalance.threshold: must be a number within [0, 1], got 1.500000");
}

TEST(StrategyConfigTest, BookImbalanceDefaultsAndErrors) {
  const BookImbalanceConfig d;
  EXPECT_EQ(d.threshold, 0.1);
  EXPECT_EQ(d.depth, 5);
  EXPECT_EQ(d.source, ImbalanceData::Auto);
  EXPECT_EQ(d.on_missing, MissingImbalance::Block);
  EXPECT_EQ(d.max_book_age_seconds, 60);
  EXPECT_FALSE(MaBreakoutConfig{}.book_imbalance_filter);
  MaBreakoutConfig c;
  c.book_imbalance.depth = 0;
  EXPECT_EQ(error_of(validate(c, "strategy.ma_breakout")),
            "strategy.ma_breakout.book_imbalance.depth: must be between 1 and 1000 levels, got 0");
  c = {};
  c.book_imbalance.threshold = -0.1;
  EXPECT_NE(error_of(validate(c)).find("strategy.book_imbalance.threshold:"), std::string::npos);
  c = {};
  c.book_imbalance.max_book_age_seconds = 0;
  EXPECT_NE(error_of(validate(c)).find("strategy.book_imbalance.max_book_age_seconds:"), std::string::npos);
  EXPECT_EQ(imbalance_data_from_string("auto"), ImbalanceData::Auto);
  EXPECT_EQ(imbalance_data_from_string("book"), ImbalanceData::Book);
  EXPECT_EQ(imbalance_data_from_string("trades"), ImbalanceData::Trades);
  EXPECT_EQ(imbalance_data_from_string("ticks"), std::nullopt);
  EXPECT_EQ(imbalance_data_name(ImbalanceData::Trades), "trades");
  EXPECT_EQ(missing_imbalance_from_string("block"), MissingImbalance::Block);
  EXPECT_EQ(missing_imbalance_from_string("allow"), MissingImbalance::Allow);
  EXPECT_EQ(missing_imbalance_from_string("skip"), std::nullopt);
  EXPECT_EQ(missing_imbalance_name(MissingImbalance::Allow), "allow");
}

TEST(MakeStrategyTest, RejectsInvalidConfigAndInstrument) {
  StrategyConfig config;
  config.ma_breakout.slow = 3;
  auto r = make_strategy(config, win());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("strategy.slow:", 0), 0u);
  InstrumentSpec no_grid = win();
  no_grid.tick_size = 0;
  auto g = make_strategy(StrategyConfig{}, no_grid);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().message.rfind("instruments.WIN.tick_size:", 0), 0u) << g.error().message;
}

}  // namespace
}  // namespace quant::strategy
