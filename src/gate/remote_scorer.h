#pragma once
/// The Gatekeeper's three models behind the signal service: `POST /infer` of
/// `quant serve` (docs/contracts/serve_api.md) instead of ONNX Runtime in
/// process. The live engine's `ModelGate` uses it when `[live] gate` names a
/// URL: the features are still computed here (the pipeline of the manifest),
/// only the models run remotely, and the verdict is still `model::judge`'s.
/// A failed or slow request is an error: the gate then blocks the entry
/// ("model error"), never lets it through.

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/gatekeeper.h"

namespace quant::gate {

struct RemoteScorerConfig {
  std::string url = "http://127.0.0.1:8080/infer";
  std::string model = "gatekeeper";  ///< the model name the service knows
  std::string symbol;
  std::chrono::milliseconds timeout{250};  ///< the whole request
};

class RemoteScorer {
 public:
  /// `feature_names`: the manifest's, in its order (the row's order).
  static Expected<RemoteScorer> create(RemoteScorerConfig config, std::vector<std::string> feature_names);
  RemoteScorer(RemoteScorer&&) noexcept;
  RemoteScorer& operator=(RemoteScorer&&) noexcept;
  ~RemoteScorer();

  /// One POST /infer; the answer's prob, q10 and q90 (q10/q90 NaN when the
  /// service answers null, a probability-only model).
  Expected<model::GatekeeperScore> score(std::span<const float> row);

 private:
  struct Impl;
  explicit RemoteScorer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quant::gate
