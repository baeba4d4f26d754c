#include "model/gatekeeper.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include <gtest/gtest.h>
#include <unistd.h>

#include "model_train/onnx_export.h"
#include "model_train/test_data.h"
#include "model_train/write_models.h"
#include "model_train/xgboost_trainer.h"

namespace quant::model {
namespace {

// The fixture's models come from the trainer: a test-only dependency.
using model_train::ClassifierParams;
using model_train::Dataset;
using model_train::export_onnx;
using model_train::ManifestInfo;
using model_train::OnnxExportOptions;
using model_train::QuantileParams;
using model_train::train_classifier;
using model_train::train_quantile;
using model_train::TrainedModel;
using model_train::write_models;
using model_train::xgboost_predict;
namespace testing_data = model_train::testing_data;

constexpr std::size_t kCols = 5;

struct Fixture {
  std::string dir;
  std::string older_dir;  // the same models as written before the merged file existed
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
    out.older_dir = out.dir + ".older";
    testing_data::copy_without_merged_model(out.dir, out.older_dir);
    return out;
  }();
  return f;
}

TEST(GatekeeperTest, MergedFileRunsAsOneSessionAnOlderDirectoryAsThree) {
  const auto& f = fixture();
  auto merged = Gatekeeper::load(f.dir, f.schema);
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->session_count(), 1u);
  EXPECT_FALSE(std::filesystem::exists(f.older_dir + "/gatekeeper.onnx"));
  auto older = Gatekeeper::load(f.older_dir, f.schema);
  ASSERT_TRUE(older) << older.error().message;
  EXPECT_EQ(older->session_count(), 3u);
  EXPECT_FALSE(older->manifest().merged);
  EXPECT_EQ(older->manifest().models.size(), 3u);
}

TEST(GatekeeperTest, PredictMatchesXgboostAndSortsQuantiles) {
  const auto& f = fixture();
  const auto prob = *xgboost_predict(f.prob.xgboost_json, f.test.features, f.test.rows());
  const auto q10 = *xgboost_predict(f.q10.xgboost_json, f.test.features, f.test.rows());
  const auto q90 = *xgboost_predict(f.q90.xgboost_json, f.test.features, f.test.rows());
  for (const auto& dir : {f.dir, f.older_dir}) {
    auto g = Gatekeeper::load(dir, f.schema);
    ASSERT_TRUE(g) << g.error().message;
    std::vector<GatekeeperScore> batch(f.test.rows());
    ASSERT_TRUE(g->predict_batch(f.test.features, batch));
    for (std::size_t i = 0; i < f.test.rows(); ++i) {
      auto s = g->predict(f.test.row(i));
      ASSERT_TRUE(s) << s.error().message;
      EXPECT_NEAR(s->prob, prob[i], 1e-5) << dir;
      EXPECT_NEAR(s->q10, std::min(q10[i], q90[i]), 1e-5) << dir;
      EXPECT_NEAR(s->q90, std::max(q10[i], q90[i]), 1e-5) << dir;
      EXPECT_LE(s->q10, s->q90);
      EXPECT_EQ(batch[i].prob, s->prob);
      EXPECT_EQ(batch[i].q10, s->q10);
      EXPECT_EQ(batch[i].q90, s->q90);
    }
    EXPECT_FALSE(g->predict(std::vector<float>(kCols + 1, 0.0f)));
  }
}

// The held-out rows, three copies of them with random columns missing (30 %
// each), and edge rows: all missing, zeros, infinities, huge values.
std::vector<float> parity_rows(const Dataset& test) {
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> out = test.features;
  std::mt19937 rng(7);
  std::bernoulli_distribution missing(0.3);
  for (int copy = 0; copy < 3; ++copy) {
    for (std::size_t i = 0; i < test.rows(); ++i) {
      for (const float x : test.row(i)) out.push_back(missing(rng) ? kNaN : x);
    }
  }
  for (const float x : {kNaN, 0.0f, kInf, -kInf, 1e30f, -1e30f}) out.insert(out.end(), kCols, x);
  return out;
}

std::unique_ptr<OnnxModel> load_one(const std::string& dir, const std::string& output) {
  auto model = OnnxModel::load_file(dir + "/gatekeeper_" + output + ".onnx");
  QUANT_CHECK(model.has_value());
  return std::move(*model);
}

TEST(GatekeeperTest, MergedAndOlderDirectoriesScoreExactlyLikeSeparateSessions) {
  // Every row, single and batched, through the merged file and through the
  // older directory's three sessions, bit for bit against each model file's
  // own session.
  const auto& f = fixture();
  auto merged = Gatekeeper::load(f.dir, f.schema);
  ASSERT_TRUE(merged) << merged.error().message;
  auto older = Gatekeeper::load(f.older_dir, f.schema);
  ASSERT_TRUE(older) << older.error().message;
  const std::unique_ptr<OnnxModel> separate[] = {load_one(f.dir, "prob"), load_one(f.dir, "q10"),
                                                 load_one(f.dir, "q90")};
  const auto features = parity_rows(f.test);
  const std::size_t rows = features.size() / kCols;
  ASSERT_GT(rows, 1000u);
  const auto row = [&](std::size_t i) { return std::span<const float>(features).subspan(i * kCols, kCols); };

  std::vector<float> expected[3];
  for (auto& e : expected) e.assign(rows, 0.0f);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(separate[k]->run_into(row(i), 1, std::span<float>(&expected[k][i], 1)));
    }
    for (auto* g : {&*merged, &*older}) {
      auto s = g->predict(row(i));
      ASSERT_TRUE(s) << s.error().message;
      EXPECT_EQ(s->prob, expected[0][i]) << "row " << i << ", " << g->session_count() << " sessions";
      EXPECT_EQ(s->q10, std::min(expected[1][i], expected[2][i])) << "row " << i;
      EXPECT_EQ(s->q90, std::max(expected[1][i], expected[2][i])) << "row " << i;
    }
  }

  // Batches: all rows, then a small one, each against the separate sessions'
  // batch run of the same rows.
  for (const std::size_t n : {rows, std::size_t{7}}) {
    const auto batch = std::span<const float>(features).subspan(0, n * kCols);
    std::vector<float> sep[3];
    for (std::size_t k = 0; k < 3; ++k) {
      sep[k].assign(n, 0.0f);
      ASSERT_TRUE(separate[k]->run_into(batch, n, sep[k]));
    }
    for (auto* g : {&*merged, &*older}) {
      std::vector<GatekeeperScore> scores(n);
      ASSERT_TRUE(g->predict_batch(batch, scores));
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(sep[0][i], expected[0][i]) << "batch " << n << " row " << i;  // batch = single row
        EXPECT_EQ(scores[i].prob, sep[0][i]) << "batch " << n << " row " << i;
        EXPECT_EQ(scores[i].q10, std::min(sep[1][i], sep[2][i])) << "batch " << n << " row " << i;
        EXPECT_EQ(scores[i].q90, std::max(sep[1][i], sep[2][i])) << "batch " << n << " row " << i;
      }
    }
  }
}

TEST(GatekeeperTest, SortsCrossedQuantiles) {
  // The q90 model written as "q10" and vice versa: every row crosses.
  const auto& f = fixture();
  const std::string dir = ::testing::TempDir() + "gatekeeper_test_crossed." + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  ManifestInfo info;
  info.features = f.schema;
  ASSERT_TRUE(write_models(dir, {&f.prob, &f.q90, &f.q10}, info));
  testing_data::copy_without_merged_model(dir, dir + ".older");
  auto low = load_one(dir, "q10");
  auto high = load_one(dir, "q90");
  const auto features = parity_rows(f.test);
  const std::size_t rows = features.size() / kCols;
  for (const auto& from : {dir, dir + ".older"}) {
    auto g = Gatekeeper::load(from, f.schema);
    ASSERT_TRUE(g) << g.error().message;
    std::size_t crossed = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      const auto row = std::span<const float>(features).subspan(i * kCols, kCols);
      float a = 0.0f, b = 0.0f;
      ASSERT_TRUE(low->run_into(row, 1, std::span<float>(&a, 1)));
      ASSERT_TRUE(high->run_into(row, 1, std::span<float>(&b, 1)));
      crossed += a > b ? 1 : 0;
      auto s = g->predict(row);
      ASSERT_TRUE(s) << s.error().message;
      EXPECT_EQ(s->q10, std::min(a, b)) << from << " row " << i;
      EXPECT_EQ(s->q90, std::max(a, b)) << from << " row " << i;
    }
    EXPECT_GT(crossed, rows / 2);
  }
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(dir + ".older");
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
  extra.names.emplace_back("extra");
  EXPECT_FALSE(Gatekeeper::load(f.dir, extra));
}

TEST(GatekeeperTest, RefusesAModifiedModelFile) {
  // A separate file is refused even when the merged one is what runs.
  const auto& f = fixture();
  for (const char* file : {"gatekeeper_q90.onnx", "gatekeeper.onnx"}) {
    const std::string copy = ::testing::TempDir() + "gatekeeper_test_tampered." + std::to_string(::getpid());
    std::filesystem::remove_all(copy);
    std::filesystem::copy(f.dir, copy);
    {
      std::ofstream out(copy + "/" + file, std::ios::binary | std::ios::app);
      out << "x";
    }
    auto g = Gatekeeper::load(copy, f.schema);
    ASSERT_FALSE(g) << file;
    EXPECT_NE(g.error().message.find("SHA-256"), std::string::npos) << g.error().message;
    EXPECT_NE(g.error().message.find(file), std::string::npos) << g.error().message;
    std::filesystem::remove_all(copy);
  }
}

TEST(GatekeeperTest, RefusesAMissingOrMismatchedMergedFile) {
  const auto& f = fixture();
  const std::string copy = ::testing::TempDir() + "gatekeeper_test_merged." + std::to_string(::getpid());
  std::filesystem::remove_all(copy);
  std::filesystem::copy(f.dir, copy);
  std::filesystem::remove(copy + "/gatekeeper.onnx");
  auto g = Gatekeeper::load(copy, f.schema);  // listed, so no fallback to the separate files
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("gatekeeper.onnx"), std::string::npos) << g.error().message;

  // The manifest names the classifier's file, correctly hashed, as the merged model.
  auto manifest = f.manifest;
  manifest.merged->file = manifest.models[0].file;
  manifest.merged->sha256 = manifest.models[0].sha256;
  {
    std::ofstream out(copy + "/manifest.json", std::ios::binary | std::ios::trunc);
    out << manifest.to_json().dump(2) << "\n";
  }
  g = Gatekeeper::load(copy, f.schema);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("expected outputs 'prob', 'q10', 'q90' over 5 features; the file gives outputs "
                                   "'prob' over 5 features"),
            std::string::npos)
      << g.error().message;

  // The classifier alone, but the merged entry still lists all three outputs.
  manifest = f.manifest;
  manifest.models.resize(1);
  {
    std::ofstream out(copy + "/manifest.json", std::ios::binary | std::ios::trunc);
    out << manifest.to_json().dump(2) << "\n";
  }
  std::filesystem::copy_file(f.dir + "/gatekeeper.onnx", copy + "/gatekeeper.onnx");
  g = Gatekeeper::load(copy, f.schema);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("merged model 'gatekeeper.onnx' with outputs 'prob', 'q10', 'q90', its models "
                                   "give 'prob'"),
            std::string::npos)
      << g.error().message;
  std::filesystem::remove_all(copy);
}

TEST(GatekeeperTest, RefusesAValidModelThatIsNotTheOneHashed) {
  // Each file replaced by a well-formed model with the right output name (a
  // re-export with another version): it would load and run, but its hash is
  // not the manifest's. With and without the merged file.
  const auto& f = fixture();
  const std::pair<const char*, const TrainedModel*> models[] = {{"prob", &f.prob}, {"q10", &f.q10}, {"q90", &f.q90}};
  for (const auto& from : {f.dir, f.older_dir}) {
    for (const auto& [output, model] : models) {
      const std::string copy = ::testing::TempDir() + "gatekeeper_test_replaced." + std::to_string(::getpid());
      std::filesystem::remove_all(copy);
      std::filesystem::copy(from, copy);
      OnnxExportOptions options;
      options.output_name = output;
      options.model_version = 8;
      auto bytes = export_onnx(model->ensemble, options);
      ASSERT_TRUE(bytes) << bytes.error().message;
      const std::string file = std::string("gatekeeper_") + output + ".onnx";
      {
        std::ofstream out(copy + "/" + file, std::ios::binary | std::ios::trunc);
        out << *bytes;
      }
      ASSERT_TRUE(OnnxModel::load_file(copy + "/" + file)) << file;
      auto g = Gatekeeper::load(copy, f.schema);
      ASSERT_FALSE(g) << file;
      EXPECT_NE(g.error().message.find("SHA-256"), std::string::npos) << g.error().message;
      EXPECT_NE(g.error().message.find(file), std::string::npos) << g.error().message;
      std::filesystem::remove_all(copy);
    }
  }
  EXPECT_TRUE(Gatekeeper::load(f.dir, f.schema));
  EXPECT_TRUE(Gatekeeper::load(f.older_dir, f.schema));
}

}  // namespace
}  // namespace quant::model
