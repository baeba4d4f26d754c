#pragma once
/// The Gatekeeper at inference time: the classifier (probability that the
/// trade reaches its target before its stop) and the q10/q90 regressors of the
/// forward move, loaded from a directory written by `write_models`.
///
/// Loading checks the caller's feature schema against the manifest (names,
/// order, hash) and every file's SHA-256, and refuses any mismatch with an
/// Error naming it. The three graphs are then merged in memory into one model
/// over the shared input (`merge_models`, onnx_export.h; the files on disk are
/// not changed) and run as one ONNX Runtime session with one intra-op thread,
/// so a prediction costs one Run, not three. `predict` allocates nothing; a
/// Gatekeeper is not thread-safe (use one per thread).

#include <memory>
#include <span>
#include <string>

#include "core/error.h"
#include "model/manifest.h"
#include "model/onnx_model.h"

namespace quant::model {

struct GatekeeperScore {
  float prob = 0.0f;  ///< probability in [0, 1]
  float q10 = 0.0f;   ///< 10 % quantile of the forward move; q10 <= q90 always;
  float q90 = 0.0f;   ///< both NaN for a gate without quantile models (probability only)
};

class Gatekeeper {
 public:
  /// Loads `dir`/manifest.json and its three models. `schema` is what the
  /// caller's feature pipeline produces; it must equal the manifest's.
  static Expected<Gatekeeper> load(const std::string& dir, const FeatureSchema& schema, OnnxOptions options = {});

  /// Scores one row of `feature_count()` floats (NaN = missing). Errors only
  /// on a wrong row size or an ONNX Runtime failure. q10/q90 are sorted
  /// (they are trained separately and may cross).
  Expected<GatekeeperScore> predict(std::span<const float> row);

  /// Scores `out.size()` rows of `features` (row-major). Allocates only when
  /// the batch size changes.
  Expected<void> predict_batch(std::span<const float> features, std::span<GatekeeperScore> out);

  std::size_t feature_count() const { return manifest_.features.names.size(); }
  /// False for a probability-only gate (its manifest lists no q10/q90 models).
  bool has_quantiles() const { return has_quantiles_; }
  const Manifest& manifest() const { return manifest_; }

 private:
  Gatekeeper() = default;

  Manifest manifest_;
  bool has_quantiles_ = true;
  std::unique_ptr<OnnxModel> model_;  // outputs "prob", "q10", "q90" in that order
  std::vector<float> batch_prob_, batch_q10_, batch_q90_;
};

}  // namespace quant::model
