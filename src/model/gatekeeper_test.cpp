#include "model/gatekeeper.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "model/metrics.h"
#include "model/xgboost_trainer.h"
#include "test_data.h"

namespace quant::model {
namespace {

constexpr std::size_t kCols = 5;

struct Fixture {
  std::string dir;
  FeatureSchema schema;
  Dataset test;
  TrainedModel prob, q10, q90;
  Manifest manifest;
};

// Small models written once to a temp directory.
const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    // One directory per process: ctest runs these tests in parallel processes.
    out.dir = ::testing::TempDir() + "gatekeeper_test_models." + std::to_string(::getpid());
    std::filesystem::remove_all(out.dir);
    const auto c = testing_data::classification(1500, kCols, 21);
    ClassifierParams cp;
    cp.boost.rounds = 40;
    cp.boost.max_leaves = 8;
    cp.boost.eta = 0.2;
    out.prob = *train_classifier(c.slice(0, 1000), c.slice(1000, 1250), cp);
    out.test = c.slice(1250, 1500);
    QuantileParams qp;
    qp.boost.rounds = 15;
    qp.boost.max_leaves = 8;
    qp.boost.eta = 0.2;
    qp.alpha = 0.1;
    const Dataset none;
    out.q10 = *train_quantile(c.slice(0, 1000), none, qp);
    qp.alpha = 0.9;
    out.q90 = *train_quantile(c.slice(0, 1000), none, qp);
    out.schema = {c.feature_names, "feature-hash-1"};
    ManifestInfo info;
    info.features = out.schema;
    info.train_start = "2024-01-02T09:00:00-03:00";
    info.train_end = "2024-03-28T18:00:00-03:00";
    info.data_hash = "data-hash-1";
    info.params = {{"eta", 0.2}};
    info.metrics = {{"auc", 0.8}};
    info.version = 7;
    auto written = write_models(out.dir, {&out.prob, &out.q10, &out.q90}, info);
    QUANT_CHECK(written.has_value());
    out.manifest = *written;
    return out;
  }();
  return f;
}

TEST(GatekeeperTest, ManifestRecordsEverythingAndHashesMatchFiles) {
  const auto& f = fixture();
  auto m = load_manifest(f.dir);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->features.names, f.schema.names);
  EXPECT_EQ(m->features.hash, "feature-hash-1");
  EXPECT_EQ(m->data_hash, "data-hash-1");
  EXPECT_EQ(m->train_start, "2024-01-02T09:00:00-03:00");
  EXPECT_EQ(m->version, 7);
  EXPECT_EQ(m->xgboost_version, "1.7.4");
  EXPECT_EQ(m->params.at("eta").get<double>(), 0.2);
  ASSERT_EQ(m->models.size(), 3u);
  for (const auto& file : m->models) {
    auto hash = sha256_file(f.dir + "/" + file.file);
    ASSERT_TRUE(hash) << hash.error().message;
    EXPECT_EQ(*hash, file.sha256) << file.file;
    EXPECT_EQ(file.version, 7);
  }
  EXPECT_TRUE(verify_files(f.dir, *m));
}

TEST(GatekeeperTest, PredictMatchesXgboostAndSortsQuantiles) {
  const auto& f = fixture();
  auto g = Gatekeeper::load(f.dir, f.schema);
  ASSERT_TRUE(g) << g.error().message;
  const auto prob = *xgboost_predict(f.prob.xgboost_json, f.test.features, f.test.rows());
  const auto q10 = *xgboost_predict(f.q10.xgboost_json, f.test.features, f.test.rows());
  const auto q90 = *xgboost_predict(f.q90.xgboost_json, f.test.features, f.test.rows());
  std::vector<GatekeeperScore> batch(f.test.rows());
  ASSERT_TRUE(g->predict_batch(f.test.features, batch));
  for (std::size_t i = 0; i < f.test.rows(); ++i) {
    auto s = g->predict(f.test.row(i));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_NEAR(s->prob, prob[i], 1e-5);
    EXPECT_NEAR(s->q10, std::min(q10[i], q90[i]), 1e-5);
    EXPECT_NEAR(s->q90, std::max(q10[i], q90[i]), 1e-5);
    EXPECT_LE(s->q10, s->q90);
    EXPECT_EQ(batch[i].prob, s->prob);
    EXPECT_EQ(batch[i].q10, s->q10);
    EXPECT_EQ(batch[i].q90, s->q90);
  }
  EXPECT_FALSE(g->predict(std::vector<float>(kCols + 1, 0.0f)));
}

TEST(GatekeeperTest, RefusesADifferentFeatureSchema) {
  const auto& f = fixture();
  auto swapped = f.schema;
  std::swap(swapped.names[0], swapped.names[1]);
  auto g = Gatekeeper::load(f.dir, swapped);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("feature mismatch at position 0"), std::string::npos) << g.error().message;
  auto other_hash = f.schema;
  other_hash.hash = "feature-hash-2";
  g = Gatekeeper::load(f.dir, other_hash);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("feature hash mismatch"), std::string::npos) << g.error().message;
  auto extra = f.schema;
  extra.names.push_back("extra");
  EXPECT_FALSE(Gatekeeper::load(f.dir, extra));
}

TEST(GatekeeperTest, RefusesAModifiedModelFile) {
  const auto& f = fixture();
  const std::string copy = ::testing::TempDir() + "gatekeeper_test_tampered." + std::to_string(::getpid());
  std::filesystem::remove_all(copy);
  std::filesystem::copy(f.dir, copy);
  {
    std::ofstream out(copy + "/gatekeeper_q90.onnx", std::ios::binary | std::ios::app);
    out << "x";
  }
  auto g = Gatekeeper::load(copy, f.schema);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("SHA-256"), std::string::npos) << g.error().message;
}

}  // namespace
}  // namespace quant::model
