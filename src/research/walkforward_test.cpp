// Walk-forward folds on constructed session lists, the threshold choice on
// constructed validation samples, and a short walk-forward on generated bars.
#include "research/walkforward.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "core/test_bars.h"
#include "generator/market_generator.h"
#include "research/test_research.h"

namespace quant::research {
namespace {

std::vector<std::size_t> every(std::size_t sessions, std::size_t bars_each) {
  std::vector<std::size_t> s;
  for (std::size_t i = 0; i < sessions; ++i) s.push_back(i * bars_each);
  return s;
}

TEST(FoldsTest, RollingWindowsMoveByTheStepAndKeepTheirLength) {
  WalkForwardConfig c;
  c.train_sessions = 4;
  c.early_stopping_sessions = 1;
  c.validation_sessions = 2;
  c.test_sessions = 2;
  c.step_sessions = 2;
  const auto starts = every(12, 100);  // 12 sessions of 100 bars
  auto folds = make_folds(starts, 1200, c);
  ASSERT_TRUE(folds) << folds.error().message;
  // Fold k: train [2k, 2k+4), early stopping = its last session, validation
  // [2k+4, 2k+6), test [2k+6, 2k+8) — while the test fits in 12 sessions.
  ASSERT_EQ(folds->size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const Fold& f = (*folds)[k];
    EXPECT_EQ(f.train_from, 200 * k);
    EXPECT_EQ(f.early_stopping_from, 200 * k + 300);
    EXPECT_EQ(f.validation_from, 200 * k + 400);
    EXPECT_EQ(f.test_from, 200 * k + 600);
    EXPECT_EQ(f.test_to, 200 * k + 800);
  }
  // Test windows never overlap and follow each other.
  EXPECT_EQ((*folds)[0].test_to, (*folds)[1].test_from);
}

TEST(FoldsTest, ExpandingWindowsStartAtTheFirstSession) {
  WalkForwardConfig c;
  c.expanding = true;
  c.train_sessions = 4;
  c.early_stopping_sessions = 1;
  c.validation_sessions = 1;
  c.test_sessions = 3;
  c.step_sessions = 3;
  auto folds = make_folds(every(14, 10), 140, c);
  ASSERT_TRUE(folds) << folds.error().message;
  ASSERT_EQ(folds->size(), 3u);  // tests at sessions 5-7, 8-10, 11-13
  for (const Fold& f : *folds) EXPECT_EQ(f.train_from, 0u);
  EXPECT_EQ(folds->back().test_to, 140u);
  EXPECT_EQ(folds->back().early_stopping_from, folds->back().validation_from - 10);
}

TEST(FoldsTest, TooFewSessionsSaysHowManyAFoldNeeds) {
  WalkForwardConfig c;  // 40 + 10 + 10
  auto folds = make_folds(every(30, 10), 300, c);
  ASSERT_FALSE(folds);
  EXPECT_NE(folds.error().message.find("holds 30 sessions; one fold needs 60"), std::string::npos)
      << folds.error().message;
  c.early_stopping_sessions = 40;
  EXPECT_FALSE(make_folds(every(100, 10), 1000, c));
}

ScoredSample scored(float prob, double net_points, float q10 = -50, float q90 = 150) {
  ScoredSample s;
  s.prob = prob;
  s.q10 = q10;
  s.q90 = q90;
  s.sample.net_points = net_points;
  s.sample.atr = 50;
  return s;
}

TEST(ThresholdsTest, TheRuleThatMadeTheMostOnValidationWins) {
  WalkForwardConfig c;
  c.p_min_grid = {0.4, 0.5, 0.6};
  c.min_validation_trades = 2;
  // Below 0.5 the trades lose; from 0.5 they win; 0.6 keeps only one (too few).
  const std::vector<ScoredSample> v = {scored(0.45f, -100), scored(0.42f, -80), scored(0.55f, 60),
                                       scored(0.52f, 40), scored(0.65f, 10)};
  const Thresholds t = choose_thresholds(v, c, 100, 2, 3);
  EXPECT_TRUE(t.trade);
  EXPECT_DOUBLE_EQ(t.rule.p_min, 0.5);
  EXPECT_EQ(t.validation_trades, 3u);
  EXPECT_DOUBLE_EQ(t.validation_points, 110);
}

TEST(ThresholdsTest, QuantilesAreJudgedNetOfCosts) {
  WalkForwardConfig c;
  c.p_min_grid = {0.5};
  c.min_validation_trades = 1;
  // q90 = 97 reaches the target net of 3 points of costs (100 − 3): passes;
  // q10 = −104 is beyond the stop 2 × 50 + 3 = 103: blocked with quantiles.
  const std::vector<ScoredSample> v = {scored(0.6f, 50, -50, 97), scored(0.6f, -200, -104, 150)};
  const Thresholds t = choose_thresholds(v, c, 100, 2, 3);
  EXPECT_TRUE(t.rule.use_quantiles);
  EXPECT_EQ(t.validation_trades, 1u);
  EXPECT_DOUBLE_EQ(t.validation_points, 50);
}

TEST(ThresholdsTest, NothingProfitableMeansTheFoldDoesNotTrade) {
  WalkForwardConfig c;
  c.min_validation_trades = 1;
  const std::vector<ScoredSample> v = {scored(0.9f, -10), scored(0.8f, -5)};
  EXPECT_FALSE(choose_thresholds(v, c, 100, 2, 3).trade);
}

TEST(WalkForwardTest, FoldsTradeOnlyInsideTheirTestWindowsAfterTheirModels) {
  const InstrumentSpec spec = testing::win_with_fees();
  generator::GeneratorConfig gc;
  gc.seed = 3;
  gc.days = 40;
  auto generated = generator::generate_bars(spec, gc);
  ASSERT_TRUE(generated) << generated.error().message;
  const std::vector<Bar>& bars = *generated;
  const TrainConfig train = testing::quick_train_config(20, 0);
  WalkForwardConfig wc;
  wc.train_sessions = 16;
  wc.early_stopping_sessions = 4;
  wc.validation_sessions = 6;
  wc.test_sessions = 6;
  wc.step_sessions = 6;
  strategy::StrategyConfig sc;
  std::vector<Timestamp> first_entries;
  // The setup: the plain strategy, no model gate (the fold's thresholds are
  // still chosen and the window still applies).
  SetupFactory setup = [&](const std::string&, const model::GateRule&) -> Expected<TradingSetup> {
    auto s = strategy::make_strategy(sc, spec);
    if (!s) return tl::unexpected(s.error());
    TradingSetup t;
    t.strategy = std::move(*s);
    return t;
  };
  const auto out = std::filesystem::temp_directory_path() / "quant_walkforward_test";
  std::filesystem::remove_all(out);
  std::size_t calls = 0;
  auto r = walk_forward(bars, spec, sc, train, wc, setup, out.string(), [&](std::size_t done, std::size_t total, const FoldResult&) {
    ++calls;
    EXPECT_LE(done, total);
    return true;
  });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->folds.size(), 3u);  // 40 sessions: tests at 22-27, 28-33, 34-39
  EXPECT_EQ(calls, 3u);
  for (const auto& f : r->folds) {
    EXPECT_LE(f.training.fit_end, f.test_start) << "fitted on the test window";
    EXPECT_TRUE(std::filesystem::exists(f.model_dir + "/manifest.json"));
  }
  // Every out-of-sample day lies in its fold's test window, in time order.
  for (std::size_t i = 0; i < r->days.size(); ++i) {
    const auto& d = r->days[i];
    const auto& f = r->folds[static_cast<std::size_t>(d.fold - 1)];
    EXPECT_GE(d.ts, f.test_start);
    EXPECT_LT(d.ts, f.test_end);
    if (i > 0) {
      EXPECT_LT(r->days[i - 1].ts, d.ts);
    }
  }
  EXPECT_EQ(r->days.size(), 18u);
  // Stopping after the first fold (a pruned trial) keeps what ran.
  auto stopped = walk_forward(bars, spec, sc, train, wc, setup, out.string(),
                              [](std::size_t, std::size_t, const FoldResult&) { return false; });
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->folds.size(), 1u);
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace quant::research
