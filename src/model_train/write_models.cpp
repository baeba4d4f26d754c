#include "model_train/write_models.h"

#include <filesystem>
#include <fstream>
#include <string_view>
#include <utility>
#include <vector>

#include "model_train/onnx_export.h"

namespace quant::model_train {

namespace fs = std::filesystem;

namespace {

Expected<void> write_file(const fs::path& path, std::string_view bytes) {
  // Write beside, then rename: a reader never sees half a model.
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("cannot create " + tmp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return make_error("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
  return {};
}

}  // namespace

Expected<model::Manifest> write_models(const std::string& dir, const GatekeeperModels& models,
                                       const ManifestInfo& info) {
  if (!models.prob || !models.q10 || !models.q90) return make_error("write_models: all three models are required");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("write_models: cannot create " + dir + ": " + ec.message());
  model::Manifest manifest;
  manifest.version = info.version;
  manifest.features = info.features;
  manifest.train_start = info.train_start;
  manifest.train_end = info.train_end;
  manifest.data_hash = info.data_hash;
  manifest.params = info.params;
  manifest.metrics = info.metrics;
  manifest.xgboost_version = xgboost_version();
  const std::pair<const char*, const TrainedModel*> entries[] = {
      {"prob", models.prob}, {"q10", models.q10}, {"q90", models.q90}};
  const double alphas[] = {0.0, 0.1, 0.9};
  std::vector<std::string> exported;
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& [output, trained] = entries[k];
    if (trained->ensemble.feature_count != info.features.names.size()) {
      return make_error(std::string("write_models: model '") + output + "' takes " +
                        std::to_string(trained->ensemble.feature_count) + " features, the schema lists " +
                        std::to_string(info.features.names.size()));
    }
    OnnxExportOptions options;
    options.output_name = output;
    options.graph_name = std::string("gatekeeper_") + output;
    options.model_version = info.version;
    auto bytes = export_onnx(trained->ensemble, options);
    if (!bytes) return make_error(std::string("write_models: ") + output + ": " + bytes.error().message);
    model::ModelFile file;
    file.output = output;
    file.file = std::string("gatekeeper_") + output + ".onnx";
    file.xgboost_file = std::string("gatekeeper_") + output + ".xgboost.json";
    file.sha256 = model::sha256_hex(*bytes);
    file.xgboost_sha256 = model::sha256_hex(trained->xgboost_json);
    file.version = info.version;
    file.trees = trained->trees;
    file.alpha = alphas[k];
    if (auto ok = write_file(fs::path(dir) / file.file, *bytes); !ok)
      return make_error("write_models: " + ok.error().message);
    if (auto ok = write_file(fs::path(dir) / file.xgboost_file, trained->xgboost_json); !ok) {
      return make_error("write_models: " + ok.error().message);
    }
    manifest.models.push_back(std::move(file));
    exported.push_back(std::move(*bytes));
  }
  // The same three graphs side by side over the one input, so inference runs
  // one session and needs no ONNX protobuf library to build it.
  OnnxMergeOptions merge;
  merge.graph_name = manifest.name;
  merge.model_version = info.version;
  merge.doc_string = "gatekeeper_prob.onnx, gatekeeper_q10.onnx and gatekeeper_q90.onnx merged over one input";
  auto merged = merge_models(exported, merge);
  if (!merged) return make_error("write_models: " + std::string(kMergedModelFile) + ": " + merged.error().message);
  model::MergedModelFile merged_file;
  merged_file.file = kMergedModelFile;
  merged_file.sha256 = model::sha256_hex(*merged);
  for (const auto& m : manifest.models) merged_file.outputs.push_back(m.output);
  if (auto ok = write_file(fs::path(dir) / merged_file.file, *merged); !ok) {
    return make_error("write_models: " + ok.error().message);
  }
  manifest.merged = std::move(merged_file);
  if (auto ok = write_file(fs::path(dir) / "manifest.json", manifest.to_json().dump(2) + "\n"); !ok) {
    return make_error("write_models: " + ok.error().message);
  }
  return manifest;
}

}  // namespace quant::model_train
