#include "model_train/xgboost_trainer.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "model/onnx_model.h"
#include "model_train/metrics.h"
#include "model_train/onnx_export.h"
#include "model_train/test_data.h"

namespace quant::model_train {
namespace {

using model::OnnxModel;
using testing_data::classification;
using testing_data::heteroscedastic;

constexpr std::size_t kCols = 6;

ClassifierParams classifier_params() {
  ClassifierParams p;
  p.boost.rounds = 200;
  p.boost.max_leaves = 15;
  p.boost.eta = 0.1;
  p.boost.subsample = 0.8;
  p.early_stopping_rounds = 20;
  return p;
}

QuantileParams quantile_params(double alpha, bool refresh) {
  QuantileParams p;
  p.alpha = alpha;
  p.refresh_leaves = refresh;
  p.boost.rounds = 30;
  p.boost.max_leaves = 15;
  p.boost.eta = 0.1;
  p.boost.subsample = 0.8;
  return p;
}

// Trained once for the whole suite: training dominates the test time.
struct Trained {
  Dataset class_train, class_valid, class_test;
  Dataset reg_train, reg_test;
  TrainedModel classifier, q10, q90, q10_plain;
};

const Trained& trained() {
  static const Trained t = [] {
    Trained out;
    const auto c = classification(6000, kCols, 7);
    out.class_train = c.slice(0, 4000);
    out.class_valid = c.slice(4000, 5000);
    out.class_test = c.slice(5000, 6000);
    const auto r = heteroscedastic(6000, kCols, 11);
    out.reg_train = r.slice(0, 4000);
    out.reg_test = r.slice(4000, 6000);
    auto take = [](Expected<TrainedModel> m) {
      QUANT_CHECK(m.has_value());
      return std::move(*m);
    };
    out.classifier = take(train_classifier(out.class_train, out.class_valid, classifier_params()));
    const Dataset none;
    out.q10 = take(train_quantile(out.reg_train, none, quantile_params(0.1, true)));
    out.q90 = take(train_quantile(out.reg_train, none, quantile_params(0.9, true)));
    out.q10_plain = take(train_quantile(out.reg_train, none, quantile_params(0.1, false)));
    return out;
  }();
  return t;
}

std::vector<float> onnx_predict(const TrainedModel& model, const Dataset& data, const char* output) {
  OnnxExportOptions options;
  options.output_name = output;
  auto bytes = export_onnx(model.ensemble, options);
  EXPECT_TRUE(bytes) << bytes.error().message;
  auto session = OnnxModel::load_bytes(*bytes);
  EXPECT_TRUE(session) << session.error().message;
  auto out = (*session)->run(data.features, data.rows());
  EXPECT_TRUE(out) << out.error().message;
  return (*out)[0];
}

std::vector<float> xgb_predict(const TrainedModel& model, const Dataset& data) {
  auto out = xgboost_predict(model.xgboost_json, data.features, data.rows());
  EXPECT_TRUE(out) << out.error().message;
  return *out;
}

// Max |a - b| over all rows.
double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return worst;
}

void expect_parity(const TrainedModel& model, const Dataset& data, const char* output) {
  ASSERT_TRUE(std::any_of(data.features.begin(), data.features.end(), [](float v) { return std::isnan(v); }));
  const auto xgb = xgb_predict(model, data);
  const auto onnx = onnx_predict(model, data, output);
  std::vector<float> ours(data.rows());
  for (std::size_t i = 0; i < data.rows(); ++i) ours[i] = static_cast<float>(model.ensemble.predict(data.row(i)));
  const double onnx_diff = max_diff(onnx, xgb), ours_diff = max_diff(ours, xgb);
  std::printf("[parity] %s: %d trees, max |onnx - xgboost| = %.3g, max |tree_ensemble - xgboost| = %.3g\n", output,
              model.trees, onnx_diff, ours_diff);
  EXPECT_LE(onnx_diff, 1e-5);
  EXPECT_LE(ours_diff, 1e-5);
}

TEST(XgboostTrainerTest, ClassifierParityOnnxTreeEnsembleXgboost) {
  const auto& t = trained();
  expect_parity(t.classifier, t.class_test, "prob");
}

TEST(XgboostTrainerTest, QuantileParityOnnxTreeEnsembleXgboost) {
  const auto& t = trained();
  expect_parity(t.q10, t.reg_test, "q10");
  expect_parity(t.q90, t.reg_test, "q90");
  expect_parity(t.q10_plain, t.reg_test, "q10");
}

TEST(XgboostTrainerTest, LeafDecisionsMatchXgboostExactly) {
  // Beyond 1e-5: every row lands in the same leaf, so the sums agree to float
  // rounding (XGBoost sums in float, we in double).
  const auto& t = trained();
  const auto xgb = xgb_predict(t.q90, t.reg_test);
  for (std::size_t i = 0; i < t.reg_test.rows(); ++i) {
    const double x = static_cast<double>(xgb[i]);
    ASSERT_NEAR(t.q90.ensemble.predict_raw(t.reg_test.row(i)), x, 1e-6 * std::max(1.0, std::fabs(x))) << "row " << i;
  }
}

TEST(XgboostTrainerTest, ClassifierLearnsAndStopsAtTheBestValidationRound) {
  const auto& t = trained();
  const auto& m = t.classifier;
  ASSERT_FALSE(m.validation_loss.empty());
  const auto best = std::min_element(m.validation_loss.begin(), m.validation_loss.end()) - m.validation_loss.begin();
  EXPECT_EQ(m.best_iteration, best);
  EXPECT_EQ(m.trees, m.best_iteration + 1);
  EXPECT_EQ(m.ensemble.trees.size(), static_cast<std::size_t>(m.trees));
  // Stopped early: exactly early_stopping_rounds rounds after the best one.
  EXPECT_LT(m.validation_loss.size(), 200u);
  EXPECT_EQ(m.validation_loss.size(), static_cast<std::size_t>(m.best_iteration + 1 + 20));
  const auto prob = xgb_predict(m, t.class_test);
  const double a = auc(prob, t.class_test.labels);
  std::printf("[classifier] best iteration %d of %zu, test AUC %.4f, log-loss %.4f\n", m.best_iteration,
              m.validation_loss.size(), a, log_loss(prob, t.class_test.labels));
  EXPECT_GT(a, 0.75);
}

TEST(XgboostTrainerTest, EarlyStoppingDisabledKeepsEveryRound) {
  const auto c = classification(600, kCols, 3);
  auto p = classifier_params();
  p.boost.rounds = 25;
  p.early_stopping_rounds = 0;
  auto m = train_classifier(c.slice(0, 400), c.slice(400, 600), p);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->trees, 25);
  EXPECT_EQ(m->ensemble.trees.size(), 25u);
}

TEST(XgboostTrainerTest, SameSeedGivesByteIdenticalModels) {
  const auto c = classification(1500, kCols, 5);
  auto p = classifier_params();
  p.boost.rounds = 30;
  auto a = train_classifier(c.slice(0, 1000), c.slice(1000, 1500), p);
  auto b = train_classifier(c.slice(0, 1000), c.slice(1000, 1500), p);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->xgboost_json, b->xgboost_json);
  EXPECT_EQ(*export_onnx(a->ensemble, {}), *export_onnx(b->ensemble, {}));

  const auto r = heteroscedastic(1500, kCols, 5);
  const Dataset none;
  auto qa = train_quantile(r, none, quantile_params(0.1, true));
  auto qb = train_quantile(r, none, quantile_params(0.1, true));
  ASSERT_TRUE(qa && qb);
  EXPECT_EQ(qa->xgboost_json, qb->xgboost_json);
  EXPECT_EQ(*export_onnx(qa->ensemble, {}), *export_onnx(qb->ensemble, {}));

  // A different seed samples other rows: a different model.
  p.boost.seed = 43;
  auto c2 = train_classifier(c.slice(0, 1000), c.slice(1000, 1500), p);
  ASSERT_TRUE(c2);
  EXPECT_NE(a->xgboost_json, c2->xgboost_json);
}

// Marginal coverage alone cannot judge a quantile model: the constant global
// quantile has perfect marginal coverage. So we also measure coverage inside
// four bins of x0 (the feature that drives location and spread) and report the
// worst bin's distance from 10 % / 10 %.
struct Coverage {
  QuantileCoverage marginal;
  double worst_bin_error = 0.0;  // max over bins of |below - 0.1| + |above - 0.1|
};

Coverage coverage_of(const TrainedModel& lo, const TrainedModel& hi, const Dataset& test) {
  const auto q10 = xgb_predict(lo, test), q90 = xgb_predict(hi, test);
  Coverage c;
  c.marginal = quantile_coverage(q10, q90, test.labels);
  for (int bin = 0; bin < 4; ++bin) {
    std::vector<float> a, b, y;
    for (std::size_t i = 0; i < test.rows(); ++i) {
      const float x0 = test.row(i)[0];
      if (x0 >= static_cast<float>(bin - 2) && x0 < static_cast<float>(bin - 1)) {
        a.push_back(q10[i]);
        b.push_back(q90[i]);
        y.push_back(test.labels[i]);
      }
    }
    const auto cb = quantile_coverage(a, b, y);
    c.worst_bin_error = std::max(c.worst_bin_error, std::fabs(cb.below_lower - 0.1) + std::fabs(cb.above_upper - 0.1));
  }
  return c;
}

TEST(XgboostTrainerTest, LeafRefreshGivesCalibratedQuantiles) {
  const auto r = heteroscedastic(6000, kCols, 11, 10.0f);  // labels in about [-60, 60]
  const auto train = r.slice(0, 4000), test = r.slice(4000, 6000);
  auto fit = [&](double alpha, bool refresh) {
    auto p = quantile_params(alpha, refresh);
    p.boost.rounds = 40;
    auto m = train_quantile(train, Dataset{}, p);
    EXPECT_TRUE(m) << m.error().message;
    return std::move(*m);
  };
  const auto refreshed = coverage_of(fit(0.1, true), fit(0.9, true), test);
  const auto plain = coverage_of(fit(0.1, false), fit(0.9, false), test);
  std::printf(
      "[quantile] 40 rounds, eta 0.1, held-out: with refresh below q10 %.3f above q90 %.3f (worst x0 bin "
      "error %.3f); without refresh below q10 %.3f above q90 %.3f (worst x0 bin error %.3f)\n",
      refreshed.marginal.below_lower, refreshed.marginal.above_upper, refreshed.worst_bin_error,
      plain.marginal.below_lower, plain.marginal.above_upper, plain.worst_bin_error);
  EXPECT_NEAR(refreshed.marginal.below_lower, 0.10, 0.03);
  EXPECT_NEAR(refreshed.marginal.above_upper, 0.10, 0.03);
  EXPECT_LT(refreshed.worst_bin_error, 0.15);
  // Without the refresh each step is bounded by eta whatever the label scale:
  // after the same rounds the quantiles have barely left the global ones.
  EXPECT_GT(plain.worst_bin_error, 0.3);
  EXPECT_GT(plain.worst_bin_error, 2.5 * refreshed.worst_bin_error);
}

TEST(XgboostTrainerTest, QuantileTracksItsOwnScoreWithValidation) {
  const auto r = heteroscedastic(1200, kCols, 9);
  auto m = train_quantile(r.slice(0, 800), r.slice(800, 1200), quantile_params(0.5, true));
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->validation_loss.size(), 30u);
  EXPECT_LT(m->validation_loss.back(), m->validation_loss.front());
}

TEST(XgboostTrainerTest, BadInputsAreErrors) {
  auto c = classification(100, kCols, 1);
  auto p = classifier_params();
  p.boost.eta = 0;
  EXPECT_FALSE(train_classifier(c, c, p));
  auto bad = c;
  bad.labels[3] = 0.5f;
  EXPECT_FALSE(train_classifier(bad, c, classifier_params()));
  bad = c;
  bad.features.pop_back();
  auto r = train_classifier(bad, c, classifier_params());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("features has"), std::string::npos) << r.error().message;
  EXPECT_FALSE(train_quantile(c, Dataset{}, quantile_params(1.5, true)));
  EXPECT_FALSE(xgboost_predict("{not json", c.features, c.rows()));
}

TEST(XgboostTrainerTest, ReportsVersion) { EXPECT_EQ(xgboost_version(), "1.7.4"); }

}  // namespace
}  // namespace quant::model_train
