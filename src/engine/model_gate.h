#pragma once
/// The Gatekeeper as a filter in the strategy's signal path (the same object
/// in the backtest and, later, live): every bar feeds the feature pipeline;
/// an entry signal passes only when the three models agree:
///   prob ≥ p_min, q90 ≥ target and q10 ≥ −stop
/// where q10/q90 are quantiles of the forward move in points signed in the
/// trade's direction (so the rule is the same for longs and shorts), target is
/// the profit target and stop = stop_atr_multiple × the signal's ATR.

#include <string>
#include <vector>

#include "core/order.h"
#include "features/feature_pipeline.h"
#include "model/gatekeeper.h"
#include "strategy/strategy.h"

namespace quant::engine {

struct GateConfig {
  double p_min = 0.5;
  double target_points = 100;
  double stop_atr_multiple = 2.0;
  bool use_quantiles = true;  ///< false: the probability alone decides
};

/// One judged signal (the run's gate.csv).
struct GateRecord {
  Timestamp ts{};
  Side side = Side::Buy;
  float prob = 0, q10 = 0, q90 = 0;
  double target = 0, stop = 0;
  bool allowed = false;
  const char* reason = "";
};

class ModelGate final : public strategy::SignalFilter {
 public:
  ModelGate(features::FeaturePipeline pipeline, model::Gatekeeper gatekeeper, GateConfig config);
  const char* name() const override { return "gate"; }
  void observe(const Bar& bar) override { pipeline_.update(bar); }
  bool allow(const strategy::Signal& signal, const Bar& bar) override;
  const std::vector<GateRecord>& records() const { return records_; }

 private:
  features::FeaturePipeline pipeline_;
  model::Gatekeeper gatekeeper_;
  GateConfig config_;
  std::vector<GateRecord> records_;
};

}  // namespace quant::engine
