#include "model_train/write_models.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include "model/onnx_model.h"
#include "model_train/test_data.h"

namespace quant::model_train {
namespace {

constexpr std::size_t kCols = 4;

struct Fixture {
  TrainedModel prob, q10, q90;
  Dataset test;
  ManifestInfo info;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    const auto c = testing_data::classification(900, kCols, 5);
    ClassifierParams cp;
    cp.boost.rounds = 15;
    cp.boost.max_leaves = 8;
    cp.boost.eta = 0.3;
    out.prob = *train_classifier(c.slice(0, 600), c.slice(600, 750), cp);
    QuantileParams qp;
    qp.boost.rounds = 10;
    qp.boost.max_leaves = 8;
    qp.boost.eta = 0.3;
    qp.alpha = 0.1;
    out.q10 = *train_quantile(c.slice(0, 600), Dataset{}, qp);
    qp.alpha = 0.9;
    out.q90 = *train_quantile(c.slice(0, 600), Dataset{}, qp);
    out.test = c.slice(750, 900);
    out.info.features = {c.feature_names, "feature-hash-1"};
    out.info.train_start = "2024-01-02T09:00:00-03:00";
    out.info.train_end = "2024-03-28T18:00:00-03:00";
    out.info.data_hash = "data-hash-1";
    out.info.params = {{"eta", 0.3}};
    out.info.metrics = {{"auc", 0.8}};
    out.info.version = 7;
    return out;
  }();
  return f;
}

std::string temp_dir(const std::string& name) {
  // One directory per process: ctest runs these tests in parallel processes.
  std::string dir = ::testing::TempDir() + "write_models_test_" + name + "." + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string write(const std::string& name) {
  const auto& f = fixture();
  std::string dir = temp_dir(name);
  auto written = write_models(dir, {&f.prob, &f.q10, &f.q90}, f.info);
  QUANT_CHECK(written.has_value());
  return dir;
}

TEST(WriteModelsTest, ManifestRecordsEverythingAndHashesEveryFile) {
  const auto& f = fixture();
  const std::string dir = temp_dir("manifest");
  auto written = write_models(dir, {&f.prob, &f.q10, &f.q90}, f.info);
  ASSERT_TRUE(written) << written.error().message;
  auto m = model::load_manifest(dir);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->to_json(), written->to_json());
  EXPECT_EQ(m->features.names, f.info.features.names);
  EXPECT_EQ(m->features.hash, "feature-hash-1");
  EXPECT_EQ(m->data_hash, "data-hash-1");
  EXPECT_EQ(m->train_start, "2024-01-02T09:00:00-03:00");
  EXPECT_EQ(m->train_end, "2024-03-28T18:00:00-03:00");
  EXPECT_EQ(m->version, 7);
  EXPECT_EQ(m->xgboost_version, "1.7.4");
  EXPECT_EQ(m->params.at("eta").get<double>(), 0.3);
  EXPECT_EQ(m->metrics.at("auc").get<double>(), 0.8);
  ASSERT_EQ(m->models.size(), 3u);
  const char* outputs[] = {"prob", "q10", "q90"};
  const double alphas[] = {0.0, 0.1, 0.9};
  const TrainedModel* models[] = {&f.prob, &f.q10, &f.q90};
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& file = m->models[k];
    EXPECT_EQ(file.output, outputs[k]);
    EXPECT_EQ(file.file, std::string("gatekeeper_") + outputs[k] + ".onnx");
    EXPECT_EQ(file.sha256, model::sha256_hex(bytes_of(dir + "/" + file.file))) << file.file;
    EXPECT_EQ(bytes_of(dir + "/" + file.xgboost_file), models[k]->xgboost_json) << file.xgboost_file;
    EXPECT_EQ(file.xgboost_sha256, model::sha256_hex(models[k]->xgboost_json));
    EXPECT_EQ(file.version, 7);
    EXPECT_EQ(file.trees, models[k]->trees);
    EXPECT_EQ(file.alpha, alphas[k]);
  }
  ASSERT_TRUE(m->merged);
  EXPECT_EQ(m->merged->file, "gatekeeper.onnx");
  EXPECT_EQ(m->merged->outputs, (std::vector<std::string>{"prob", "q10", "q90"}));
  EXPECT_EQ(m->merged->sha256, model::sha256_hex(bytes_of(dir + "/gatekeeper.onnx")));
  EXPECT_TRUE(model::verify_files(dir, *m));
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }
}

TEST(WriteModelsTest, MergedFileIsCheckedAndScoresExactlyLikeTheSeparateFiles) {
  const std::string dir = write("merged");
  const std::string merged_bytes = bytes_of(dir + "/gatekeeper.onnx");
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(merged_bytes));
  EXPECT_NO_THROW(onnx::checker::check_model(proto));
  EXPECT_EQ(proto.graph().name(), "gatekeeper");
  EXPECT_EQ(proto.model_version(), 7);
  ASSERT_EQ(proto.graph().input_size(), 1);
  EXPECT_EQ(proto.graph().input(0).name(), "features");

  auto merged = model::OnnxModel::load_bytes(merged_bytes);
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ((*merged)->output_names(), (std::vector<std::string>{"prob", "q10", "q90"}));
  EXPECT_EQ((*merged)->feature_count(), static_cast<std::int64_t>(kCols));

  // Held-out rows, a copy with 30 % of values missing, and edge rows.
  const auto& f = fixture();
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> features = f.test.features;
  std::mt19937 rng(3);
  std::bernoulli_distribution missing(0.3);
  for (const float x : f.test.features) features.push_back(missing(rng) ? kNaN : x);
  for (const float x : {kNaN, 0.0f, kInf, -kInf, 1e30f}) features.insert(features.end(), kCols, x);
  const std::size_t rows = features.size() / kCols;

  auto all = (*merged)->run(features, rows);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  const char* outputs[] = {"prob", "q10", "q90"};
  for (std::size_t k = 0; k < 3; ++k) {
    auto separate = model::OnnxModel::load_file(dir + "/gatekeeper_" + outputs[k] + ".onnx");
    ASSERT_TRUE(separate) << separate.error().message;
    auto expected = (*separate)->run(features, rows);
    ASSERT_TRUE(expected) << expected.error().message;
    EXPECT_EQ((*all)[k], (*expected)[0]) << outputs[k];
  }
}

TEST(WriteModelsTest, SameModelsGiveTheSameBytes) {
  const std::string a = write("same_a");
  const std::string b = write("same_b");
  for (const char* file : {"gatekeeper_prob.onnx", "gatekeeper_q10.onnx", "gatekeeper_q90.onnx", "gatekeeper.onnx",
                           "gatekeeper_prob.xgboost.json", "manifest.json"}) {
    EXPECT_EQ(bytes_of(a + "/" + file), bytes_of(b + "/" + file)) << file;
  }
}

TEST(WriteModelsTest, RefusesMissingModelsAndAForeignSchema) {
  const auto& f = fixture();
  const std::string dir = temp_dir("refused");
  auto r = write_models(dir, {&f.prob, nullptr, &f.q90}, f.info);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("all three models are required"), std::string::npos) << r.error().message;
  auto info = f.info;
  info.features.names.emplace_back("extra");
  r = write_models(dir, {&f.prob, &f.q10, &f.q90}, info);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("model 'prob' takes 4 features, the schema lists 5"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir + "/manifest.json"));
}

}  // namespace
}  // namespace quant::model_train
