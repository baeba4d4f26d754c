#include "model/gatekeeper.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <limits>

#include "model/onnx_export.h"

namespace quant::model {

namespace {

constexpr const char* kOutputs[] = {"prob", "q10", "q90"};

}  // namespace

Expected<Gatekeeper> Gatekeeper::load(const std::string& dir, const FeatureSchema& schema, OnnxOptions options) {
  auto manifest = load_manifest(dir);
  if (!manifest) return make_error("gatekeeper: " + manifest.error().message);
  if (auto ok = check_schema(manifest->features, schema); !ok) {
    return make_error("gatekeeper: " + dir + ": refusing the input: " + ok.error().message);
  }
  if (auto ok = verify_files(dir, *manifest); !ok) return make_error("gatekeeper: " + ok.error().message);
  Gatekeeper g;
  g.manifest_ = std::move(*manifest);
  // Hash exactly the bytes that get merged: a file replaced after
  // verify_files must not slip in.
  std::vector<std::string> bytes;
  std::string files;
  auto find_output = [&](const char* output) {
    return std::find_if(g.manifest_.models.begin(), g.manifest_.models.end(),
                        [&](const ModelFile& m) { return m.output == output; });
  };
  // The quantile models come as a pair or not at all: a gate that only
  // classifies (an order-book model, say) answers q10 = q90 = NaN.
  const bool has_q10 = find_output("q10") != g.manifest_.models.end();
  const bool has_q90 = find_output("q90") != g.manifest_.models.end();
  if (has_q10 != has_q90) {
    return make_error("gatekeeper: " + dir + ": manifest has a '" + (has_q10 ? "q10" : "q90") +
                      "' model without its '" + (has_q10 ? "q90" : "q10") + "' twin");
  }
  g.has_quantiles_ = has_q10;
  for (const char* output : kOutputs) {
    if (!g.has_quantiles_ && std::string_view(output) != "prob") continue;
    const auto it = find_output(output);
    if (it == g.manifest_.models.end()) return make_error("gatekeeper: " + dir + ": manifest has no '" + output + "' model");
    const auto path = (std::filesystem::path(dir) / it->file).string();
    auto file = read_file_bytes(path);
    if (!file) return make_error("gatekeeper: " + file.error().message);
    if (const auto hash = sha256_hex(*file); hash != it->sha256) {
      return make_error("gatekeeper: " + path + ": SHA-256 " + hash + " does not match the manifest's " + it->sha256 +
                        " (file changed while loading; re-export or restore it)");
    }
    files += (files.empty() ? "" : ", ") + it->file + " (model " + std::to_string(bytes.size()) + ")";
    bytes.push_back(std::move(*file));
  }
  OnnxMergeOptions merge;
  merge.graph_name = g.manifest_.name;
  merge.model_version = g.manifest_.version;
  merge.doc_string = (g.has_quantiles_ ? "prob, q10 and q90 of " : "prob of ") + dir + ", merged at load time";
  auto merged = merge_models(bytes, merge);
  if (!merged) return make_error("gatekeeper: " + dir + ": merging " + files + ": " + merged.error().message);
  auto model = OnnxModel::load_bytes(*merged, options);
  if (!model) return make_error("gatekeeper: " + dir + ": " + model.error().message);
  const std::vector<std::string> expected_outputs(std::begin(kOutputs), std::begin(kOutputs) + (g.has_quantiles_ ? 3 : 1));
  if ((*model)->feature_count() != static_cast<std::int64_t>(g.feature_count()) ||
      (*model)->output_names() != expected_outputs) {
    std::string got;
    for (const auto& name : (*model)->output_names()) got += (got.empty() ? "'" : ", '") + name + "'";
    return make_error("gatekeeper: " + dir + ": expected one output each (" +
                      (g.has_quantiles_ ? "'prob', 'q10', 'q90'" : "'prob'") + ") over " +
                      std::to_string(g.feature_count()) + " features; " + files + " give outputs " + got + " over " +
                      std::to_string((*model)->feature_count()) + " features");
  }
  g.model_ = std::move(*model);
  // Bind the single-row buffers now, so the first predict does not allocate.
  const std::vector<float> zeros(g.feature_count(), 0.0f);
  if (auto warm = g.predict(zeros); !warm) return make_error("gatekeeper: warm-up failed: " + warm.error().message);
  return g;
}

Expected<GatekeeperScore> Gatekeeper::predict(std::span<const float> row) {
  if (row.size() != feature_count()) {
    return make_error("gatekeeper: row has " + std::to_string(row.size()) + " values, the model takes " +
                      std::to_string(feature_count()));
  }
  GatekeeperScore s;
  const std::span<float> outputs[] = {{&s.prob, 1}, {&s.q10, 1}, {&s.q90, 1}};
  const std::span<const std::span<float>> wanted(outputs, has_quantiles_ ? 3 : 1);
  if (auto ok = model_->run_into_many(row, 1, wanted); !ok) return make_error("gatekeeper: " + ok.error().message);
  if (!has_quantiles_) {
    s.q10 = s.q90 = std::numeric_limits<float>::quiet_NaN();
  } else if (s.q10 > s.q90) {
    std::swap(s.q10, s.q90);
  }
  return s;
}

Expected<void> Gatekeeper::predict_batch(std::span<const float> features, std::span<GatekeeperScore> out) {
  const std::size_t rows = out.size();
  if (rows == 0 || features.size() != rows * feature_count()) {
    return make_error("gatekeeper: batch has " + std::to_string(features.size()) + " values, expected " +
                      std::to_string(rows) + " rows of " + std::to_string(feature_count()));
  }
  batch_prob_.resize(rows);
  batch_q10_.resize(rows);
  batch_q90_.resize(rows);
  const std::span<float> outputs[] = {batch_prob_, batch_q10_, batch_q90_};
  if (auto ok = model_->run_into_many(features, rows, std::span<const std::span<float>>(outputs, has_quantiles_ ? 3 : 1));
      !ok) {
    return make_error("gatekeeper: " + ok.error().message);
  }
  if (!has_quantiles_) {
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t i = 0; i < rows; ++i) out[i] = {batch_prob_[i], nan, nan};
    return {};
  }
  for (std::size_t i = 0; i < rows; ++i) {
    out[i] = {batch_prob_[i], std::min(batch_q10_[i], batch_q90_[i]), std::max(batch_q10_[i], batch_q90_[i])};
  }
  return {};
}

}  // namespace quant::model
