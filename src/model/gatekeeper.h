#pragma once
/// The Gatekeeper at inference time: the classifier (probability that the
/// trade reaches its target before its stop) and the q10/q90 regressors of the
/// forward move, loaded from a directory written by `write_models`.
///
/// Loading checks the caller's feature schema against the manifest (names,
/// order, hash) and every file's SHA-256, and refuses any mismatch with an
/// Error naming it. When the manifest lists the merged model (`gatekeeper.onnx`,
/// the three graphs side by side over the one input, written by
/// `write_models`), that file runs as one ONNX Runtime session, so a
/// prediction costs one Run; a directory written before that file existed
/// runs its model files as one session each (a Run per model, the same
/// scores bit for bit). One intra-op thread per session. `predict` allocates
/// nothing; a Gatekeeper is not thread-safe (use one per thread).

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/manifest.h"
#include "model/onnx_model.h"

namespace quant::model {

struct GatekeeperScore {
  float prob = 0.0f;  ///< probability in [0, 1]
  float q10 = 0.0f;   ///< 10 % quantile of the trade's net result (points); q10 <= q90 always;
  float q90 = 0.0f;   ///< both NaN for a gate without quantile models (probability only)
};

class Gatekeeper {
 public:
  /// Loads `dir`/manifest.json and its models (the merged file when listed,
  /// else the separate files). `schema` is what the caller's feature pipeline
  /// produces; it must equal the manifest's. Fails on a foreign schema, a
  /// missing or changed file, or a model whose outputs or feature count are
  /// not what the manifest says.
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
  /// ONNX Runtime sessions (= Runs per prediction): 1 with the merged file,
  /// otherwise one per model file.
  std::size_t session_count() const { return sessions_.size(); }
  const Manifest& manifest() const { return manifest_; }

 private:
  Gatekeeper() = default;

  // A session computes outputs [first, first + count) of prob, q10, q90.
  struct Session {
    std::unique_ptr<OnnxModel> model;
    std::size_t first = 0, count = 0;
  };

  Manifest manifest_;
  bool has_quantiles_ = true;
  std::vector<Session> sessions_;
  std::vector<float> batch_prob_, batch_q10_, batch_q90_;
};

}  // namespace quant::model
