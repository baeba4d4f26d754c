#pragma once
/// The Gatekeeper's manifest: `manifest.json` beside the three ONNX models and
/// their merged graph. It records the feature list and order, the training
/// window, the data hash, parameters, metrics, model versions and the SHA-256
/// of every file, so the inference side can refuse a feature pipeline or a
/// file that does not match. Written by model_train's `write_models`; read
/// and checked here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace quant::model {

/// What the model consumes: feature names in column order, and the feature
/// pipeline's own hash of its definition (e.g. features::FeatureManifest::hash;
/// may be empty when the caller has none).
struct FeatureSchema {
  std::vector<std::string> names;
  std::string hash;
};

/// Ok when `got` is the schema in `expected`: same hash, same names in the same
/// order. The error names the first difference (position and both names, a
/// missing or extra feature, or both hashes).
Expected<void> check_schema(const FeatureSchema& expected, const FeatureSchema& got);

/// One model file of the manifest.
struct ModelFile {
  std::string output;        ///< "prob", "q10" or "q90" (also the ONNX output name)
  std::string file;          ///< file name inside the directory
  std::string sha256;        ///< lowercase hex of the file's bytes
  std::string xgboost_file;  ///< XGBoost's JSON model beside it (for retraining/inspection)
  std::string xgboost_sha256;
  std::int64_t version = 1;
  int trees = 0;
  double alpha = 0.0;  ///< quantile level, 0 for the classifier
};

/// The models of `Manifest::models` merged into one graph over their shared
/// input (written at export time, so loading needs ONNX Runtime only): one
/// Run computes every output.
struct MergedModelFile {
  std::string file;                  ///< file name inside the directory ("gatekeeper.onnx")
  std::string sha256;                ///< lowercase hex of the file's bytes
  std::vector<std::string> outputs;  ///< its graph outputs in order, e.g. prob, q10, q90
};

struct Manifest {
  int format = 1;
  std::string name = "gatekeeper";
  std::int64_t version = 1;
  FeatureSchema features;
  std::string train_start, train_end;  ///< training window, as given (e.g. ISO-8601)
  std::string data_hash;               ///< hash of the training data, as given
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();
  std::string xgboost_version;
  std::vector<ModelFile> models;
  /// Absent in directories written before the merged file existed; they load
  /// (and score identically) from the separate files.
  std::optional<MergedModelFile> merged;

  /// The JSON object of manifest.json; "merged" appears only when present.
  nlohmann::json to_json() const;
  static Expected<Manifest> from_json(const nlohmann::json& json);
};

/// Reads and checks `dir`/manifest.json (shape only; use `verify_files` for the hashes).
Expected<Manifest> load_manifest(const std::string& dir);

/// Ok when every file listed in `manifest` (the merged one included) exists in
/// `dir` and its SHA-256 matches.
Expected<void> verify_files(const std::string& dir, const Manifest& manifest);

/// Lowercase hex SHA-256 (OpenSSL EVP) of bytes / of a file's contents.
std::string sha256_hex(std::string_view bytes);
Expected<std::string> sha256_file(const std::string& path);

/// Whole file as bytes; the error names the path.
Expected<std::string> read_file_bytes(const std::string& path);

}  // namespace quant::model
