#include "model_train/metrics.h"

#include <cmath>

#include <gtest/gtest.h>

namespace quant::model_train {
namespace {

TEST(MetricsTest, AucCountsPairsAndTies) {
  const std::vector<float> labels = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(auc(std::vector<float>{0.1f, 0.2f, 0.8f, 0.9f}, labels), 1.0);
  EXPECT_DOUBLE_EQ(auc(std::vector<float>{0.9f, 0.8f, 0.2f, 0.1f}, labels), 0.0);
  // Pairs (neg, pos): (0.1,0.5) win, (0.1,0.3) win, (0.5,0.5) tie, (0.5,0.3) loss → 2.5 / 4.
  EXPECT_DOUBLE_EQ(auc(std::vector<float>{0.1f, 0.5f, 0.5f, 0.3f}, labels), 0.625);
  EXPECT_TRUE(std::isnan(auc(std::vector<float>{0.1f, 0.2f}, std::vector<float>{1, 1})));
}

TEST(MetricsTest, LogLossAndBrier) {
  const std::vector<float> p = {0.5f, 0.5f}, y = {0, 1};
  EXPECT_NEAR(log_loss(p, y), std::log(2.0), 1e-12);
  EXPECT_NEAR(brier_score(p, y), 0.25, 1e-12);
  EXPECT_LT(log_loss(std::vector<float>{0.0f}, std::vector<float>{1}), 40.0);  // clipped, finite
}

TEST(MetricsTest, CalibrationTableBinsAndCounts) {
  const std::vector<float> p = {0.05f, 0.05f, 0.95f, 1.0f, 0.55f}, y = {0, 1, 1, 1, 0};
  const auto table = calibration_table(p, y, 10);
  ASSERT_EQ(table.size(), 10u);
  EXPECT_EQ(table[0].count, 2u);
  EXPECT_NEAR(table[0].mean_predicted, 0.05, 1e-7);
  EXPECT_DOUBLE_EQ(table[0].observed, 0.5);
  EXPECT_EQ(table[9].count, 2u);  // 1.0 lands in the last bin
  EXPECT_EQ(table[5].count, 1u);
  EXPECT_TRUE(std::isnan(table[3].observed));
}

TEST(MetricsTest, QuantileCoverageAndJson) {
  const std::vector<float> lo = {0, 0, 0, 0}, hi = {1, 1, 1, 1}, y = {-1, 0.5f, 2, 1};
  const auto c = quantile_coverage(lo, hi, y);
  EXPECT_DOUBLE_EQ(c.below_lower, 0.25);
  EXPECT_DOUBLE_EQ(c.above_upper, 0.25);
  EXPECT_DOUBLE_EQ(c.inside, 0.5);
  const auto m = evaluate(std::vector<float>{0.2f, 0.7f, 0.9f, 0.1f}, std::vector<float>{0, 1, 1, 0}, lo, hi, y);
  const auto j = m.to_json();
  EXPECT_DOUBLE_EQ(j.at("auc").get<double>(), 1.0);
  EXPECT_TRUE(j.at("calibration").at(4).at("observed").is_null());
  EXPECT_DOUBLE_EQ(j.at("coverage").at("below_q10").get<double>(), 0.25);
}

}  // namespace
}  // namespace quant::model_train
