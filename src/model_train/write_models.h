#pragma once
/// Writing a Gatekeeper model directory: the three trained models exported to
/// ONNX, their merged graph, XGBoost's JSON of each, and `manifest.json`
/// (model/manifest.h, which the inference side reads and checks).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/manifest.h"
#include "model_train/xgboost_trainer.h"

namespace quant::model_train {

/// The merged model's file name inside a model directory.
inline constexpr const char* kMergedModelFile = "gatekeeper.onnx";

/// The three trained models of a Gatekeeper.
struct GatekeeperModels {
  const TrainedModel* prob = nullptr;
  const TrainedModel* q10 = nullptr;
  const TrainedModel* q90 = nullptr;
};

/// Describes a training run for `write_models`.
struct ManifestInfo {
  model::FeatureSchema features;
  std::string train_start, train_end, data_hash;
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();
  std::int64_t version = 1;
};

/// Exports the three models to `dir`/gatekeeper_{prob,q10,q90}.onnx (plus
/// their XGBoost JSON, `*.xgboost.json`), merges them into
/// `dir`/gatekeeper.onnx (outputs prob, q10, q90 over the one input;
/// `merge_models`, checked by onnx::checker), hashes every file and writes
/// `dir`/manifest.json last, listing the merged file under "merged". Each file
/// is written to `*.tmp` and renamed, so a reader never sees half a file.
/// Creates `dir` if needed. Deterministic: same models and info, same bytes.
/// Fails when a model is missing, when the models' feature count differs from
/// the schema's, or on export / merge / I/O errors (naming the file).
Expected<model::Manifest> write_models(const std::string& dir, const GatekeeperModels& models,
                                       const ManifestInfo& info);

}  // namespace quant::model_train
