// Gatekeeper inference latency (single row, three models), batch throughput
// and training time, for a 300-tree, 31-leaf classifier and 100-tree quantile
// regressors on synthetic data (trained by model_train: a bench-only
// dependency). Latency percentiles come from our own loop of sorted per-call
// times (reported as counters, in microseconds).
//
// `BM_Gatekeeper*` run the Gatekeeper on the directory as written (the merged
// file: one session, one Run per call); `BM_ThreeSessions*` run it on the same
// directory without the merged file, as older directories are (three sessions,
// three Runs per call), for a before/after in the same binary.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <benchmark/benchmark.h>

#include "model/gatekeeper.h"
#include "model_train/test_data.h"
#include "model_train/write_models.h"
#include "model_train/xgboost_trainer.h"

namespace quant::model {
namespace {

using model_train::ClassifierParams;
using model_train::Dataset;
using model_train::ManifestInfo;
using model_train::QuantileParams;
using model_train::train_classifier;
using model_train::train_quantile;
using model_train::write_models;
namespace testing_data = model_train::testing_data;

constexpr std::size_t kCols = 16;

struct Models {
  std::string dir;
  std::string older_dir;  // without the merged file
  FeatureSchema schema;
  Dataset test;
  double classifier_seconds = 0, quantile_seconds = 0;
  int classifier_trees = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const Models& models() {
  static const Models m = [] {
    Models out;
    out.dir = (std::filesystem::temp_directory_path() / "quant_model_bench").string();
    const auto c = testing_data::classification(25000, kCols, 1);
    const auto train = c.slice(0, 20000), valid = c.slice(20000, 22000);
    out.test = c.slice(22000, 25000);
    ClassifierParams cp;
    cp.boost.rounds = 300;
    cp.boost.max_leaves = 31;
    cp.boost.eta = 0.05;
    cp.boost.subsample = 0.8;
    cp.early_stopping_rounds = 0;  // keep all 300 trees
    auto start = std::chrono::steady_clock::now();
    auto prob = train_classifier(train, valid, cp);
    out.classifier_seconds = seconds_since(start);
    QUANT_CHECK(prob.has_value());
    out.classifier_trees = prob->trees;
    QuantileParams qp;
    qp.boost.rounds = 100;
    qp.boost.max_leaves = 31;
    qp.boost.eta = 0.1;
    qp.boost.subsample = 0.8;
    qp.alpha = 0.1;
    start = std::chrono::steady_clock::now();
    auto q10 = train_quantile(train, Dataset{}, qp);
    out.quantile_seconds = seconds_since(start);
    qp.alpha = 0.9;
    auto q90 = train_quantile(train, Dataset{}, qp);
    QUANT_CHECK(q10.has_value() && q90.has_value());
    out.schema = {c.feature_names, "bench"};
    ManifestInfo info;
    info.features = out.schema;
    QUANT_CHECK(write_models(out.dir, {&*prob, &*q10, &*q90}, info).has_value());
    out.older_dir = out.dir + "_older";
    testing_data::copy_without_merged_model(out.dir, out.older_dir);
    std::printf(
        "training: classifier 300 trees x 31 leaves on 20000 x %zu rows: %.2f s; "
        "one quantile model (100 trees, leaf refresh): %.2f s\n",
        kCols, out.classifier_seconds, out.quantile_seconds);
    return out;
  }();
  return m;
}

void single_row_latency(benchmark::State& state, Gatekeeper& scorer) {
  const auto& m = models();
  constexpr std::size_t kCalls = 20000;
  std::vector<double> latency_us(kCalls);
  for (std::size_t i = 0; i < 200; ++i) {
    auto s = scorer.predict(m.test.row(i % m.test.rows()));
    benchmark::DoNotOptimize(s);
  }
  for ([[maybe_unused]] auto _ : state) {
    for (std::size_t i = 0; i < kCalls; ++i) {
      const auto row = m.test.row(i % m.test.rows());
      const auto start = std::chrono::steady_clock::now();
      auto s = scorer.predict(row);
      latency_us[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
      benchmark::DoNotOptimize(s);
    }
  }
  std::sort(latency_us.begin(), latency_us.end());
  state.counters["p50_us"] = latency_us[kCalls / 2];
  state.counters["p99_us"] = latency_us[kCalls * 99 / 100];
  state.counters["max_us"] = latency_us.back();
  state.counters["trees"] = m.classifier_trees;
}

void batch_throughput(benchmark::State& state, Gatekeeper& scorer) {
  const auto& m = models();
  const auto rows = static_cast<std::size_t>(state.range(0));
  std::vector<GatekeeperScore> out(rows);
  const std::span<const float> features(m.test.features.data(), rows * kCols);
  for ([[maybe_unused]] auto _ : state) {
    auto ok = scorer.predict_batch(features, out);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

Gatekeeper load(const std::string& dir, std::size_t sessions) {
  auto g = Gatekeeper::load(dir, models().schema);
  QUANT_CHECK(g.has_value() && g->session_count() == sessions);
  return std::move(*g);
}

void BM_GatekeeperSingleRow(benchmark::State& state) {
  auto g = load(models().dir, 1);
  single_row_latency(state, g);
}
BENCHMARK(BM_GatekeeperSingleRow)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_ThreeSessionsSingleRow(benchmark::State& state) {
  auto g = load(models().older_dir, 3);
  single_row_latency(state, g);
}
BENCHMARK(BM_ThreeSessionsSingleRow)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_GatekeeperBatch(benchmark::State& state) {
  auto g = load(models().dir, 1);
  batch_throughput(state, g);
}
BENCHMARK(BM_GatekeeperBatch)->Arg(256)->Arg(2048)->Unit(benchmark::kMicrosecond);

void BM_ThreeSessionsBatch(benchmark::State& state) {
  auto g = load(models().older_dir, 3);
  batch_throughput(state, g);
}
BENCHMARK(BM_ThreeSessionsBatch)->Arg(256)->Arg(2048)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace quant::model
