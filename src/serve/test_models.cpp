#include "serve/test_models.h"

#include <filesystem>

#include "model_train/test_data.h"
#include "model_train/write_models.h"
#include "model_train/xgboost_trainer.h"

namespace quant::serve::testing {

std::vector<std::string> test_feature_names(std::size_t features) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < features; ++i) names.push_back("f" + std::to_string(i));
  return names;
}

std::string write_test_models(const std::string& parent, const std::string& name, std::int64_t version,
                              std::uint64_t seed, std::size_t features) {
  using namespace model_train;
  std::string dir = (std::filesystem::path(parent) / (name + "_v" + std::to_string(version))).string();
  std::filesystem::remove_all(dir);
  auto data = testing_data::classification(800, features, seed);
  data.feature_names = test_feature_names(features);
  ClassifierParams cp;
  cp.boost.rounds = 20;
  cp.boost.max_leaves = 8;
  cp.boost.eta = 0.3;
  auto prob = train_classifier(data.slice(0, 600), data.slice(600, 800), cp);
  QUANT_CHECK(prob.has_value());
  QuantileParams qp;
  qp.boost.rounds = 10;
  qp.boost.max_leaves = 8;
  qp.boost.eta = 0.3;
  const Dataset none;
  qp.alpha = 0.1;
  auto q10 = train_quantile(data.slice(0, 600), none, qp);
  qp.alpha = 0.9;
  auto q90 = train_quantile(data.slice(0, 600), none, qp);
  QUANT_CHECK(q10.has_value() && q90.has_value());
  ManifestInfo info;
  info.features = {data.feature_names, "serve-test-features"};
  info.version = version;
  info.train_start = "2024-01-02T09:00:00Z";
  info.train_end = "2024-03-28T18:00:00Z";
  info.data_hash = "serve-test-" + std::to_string(seed);
  auto written = write_models(dir, {&*prob, &*q10, &*q90}, info);
  QUANT_CHECK(written.has_value());
  return dir;
}

std::string write_models_for_rows(const std::string& parent, const std::string& name, std::int64_t version,
                                  const std::vector<std::string>& names, const std::string& schema_hash,
                                  const std::vector<float>& rows, const std::vector<float>& labels,
                                  const std::vector<float>& moves) {
  using namespace model_train;
  QUANT_CHECK(!names.empty() && rows.size() == labels.size() * names.size() && moves.size() == labels.size());
  std::string dir = (std::filesystem::path(parent) / (name + "_v" + std::to_string(version))).string();
  std::filesystem::remove_all(dir);
  Dataset classes;
  classes.feature_names = names;
  classes.features = rows;
  classes.labels = labels;
  Dataset regression = classes;
  regression.labels = moves;
  const std::size_t n = labels.size();
  ClassifierParams cp;
  cp.boost.rounds = 30;
  cp.boost.max_leaves = 8;
  cp.boost.eta = 0.3;
  auto prob = train_classifier(classes.slice(0, n * 4 / 5), classes.slice(n * 4 / 5, n), cp);
  QUANT_CHECK(prob.has_value());
  QuantileParams qp;
  qp.boost.rounds = 20;
  qp.boost.max_leaves = 8;
  qp.boost.eta = 0.3;
  const Dataset none;
  qp.alpha = 0.1;
  auto q10 = train_quantile(regression, none, qp);
  qp.alpha = 0.9;
  auto q90 = train_quantile(regression, none, qp);
  QUANT_CHECK(q10.has_value() && q90.has_value());
  ManifestInfo info;
  info.features = {names, schema_hash};
  info.version = version;
  info.train_start = "2024-01-02T09:00:00Z";
  info.train_end = "2024-03-28T18:00:00Z";
  info.data_hash = "serve-test-rows-" + std::to_string(n);
  auto written = write_models(dir, {&*prob, &*q10, &*q90}, info);
  QUANT_CHECK(written.has_value());
  return dir;
}

}  // namespace quant::serve::testing
