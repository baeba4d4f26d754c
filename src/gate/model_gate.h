#pragma once
/// The Gatekeeper behind the engine's `Gate` port (the same object in the
/// backtest and live): every bar feeds the feature pipeline (rebuilt from the
/// model's manifest, so the features are the ones it was trained on); an
/// entry passes when the three models agree, by `model::judge` — the rule the
/// signal service's `/infer` `pass` applies too:
///   prob ≥ p_min, q90 ≥ target and q10 ≥ −stop,
/// target = the profit target (points), stop = stop_atr_multiple × the entry's
/// ATR, both net of `cost_points`: q10/q90 are quantiles of a trade's net
/// result (fees and slippage paid), so a trade that reaches its target nets
/// target − costs and one stopped out loses stop + costs.

#include <functional>
#include <span>
#include <vector>

#include "core/order.h"
#include "engine/ports.h"
#include "features/feature_pipeline.h"
#include "model/gate_rule.h"
#include "model/gatekeeper.h"

namespace quant::gate {

struct GateConfig {
  model::GateRule rule;
  double target_points = 100;      ///< the profit target distance, price points
  double stop_atr_multiple = 2.0;  ///< the stop distance in ATRs (the risk engine's)
  double cost_points = 0;          ///< round-trip fees and entry slippage per contract, price points
};

/// One judged entry (the run's gate.csv).
struct GateRecord {
  Timestamp ts{};
  Side side = Side::Buy;
  float prob = 0, q10 = 0, q90 = 0;
  double target = 0, stop = 0;
  bool allowed = false;
  const char* reason = "";
};

/// What scores a feature row: the Gatekeeper in process, or a RemoteScorer.
using Scorer = std::function<Expected<model::GatekeeperScore>(std::span<const float>)>;

class ModelGate final : public engine::Gate {
 public:
  /// The models in process (ONNX Runtime).
  ModelGate(features::FeaturePipeline pipeline, model::Gatekeeper gatekeeper, GateConfig config);
  /// The models wherever `scorer` runs them (`RemoteScorer`: the signal service's /infer).
  ModelGate(features::FeaturePipeline pipeline, Scorer scorer, GateConfig config);
  const char* name() const override { return "gate"; }
  void observe(const Bar& bar) override { pipeline_.update(bar); }
  engine::GateVerdict judge(const engine::EntryCandidate& entry) override;
  /// Every judged entry, in order (one per entry signal: a run's gate.csv).
  const std::vector<GateRecord>& records() const { return records_; }

 private:
  features::FeaturePipeline pipeline_;
  Scorer scorer_;
  GateConfig config_;
  std::vector<GateRecord> records_;
};

}  // namespace quant::gate
