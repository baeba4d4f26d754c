#include "engine/model_gate.h"

#include <cmath>

namespace quant::engine {

ModelGate::ModelGate(features::FeaturePipeline pipeline, model::Gatekeeper gatekeeper, GateConfig config)
    : pipeline_(std::move(pipeline)), gatekeeper_(std::move(gatekeeper)), config_(config) {}

bool ModelGate::allow(const strategy::Signal& signal, const Bar& bar) {
  GateRecord r;
  r.ts = bar.ts + kMinute;
  r.side = signal.action == strategy::Action::EnterShort ? Side::Sell : Side::Buy;
  r.target = config_.target_points;
  r.stop = config_.stop_atr_multiple * signal.atr;
  if (!pipeline_.ready()) {
    r.reason = "features warming up";
    records_.push_back(r);
    return false;
  }
  auto score = gatekeeper_.predict(pipeline_.values());
  if (!score) {
    r.reason = "model error";
    records_.push_back(r);
    return false;
  }
  r.prob = score->prob;
  r.q10 = score->q10;
  r.q90 = score->q90;
  if (r.prob < config_.p_min) {
    r.reason = "probability below p_min";
  } else if (config_.use_quantiles && !std::isnan(r.q90) && r.q90 < r.target) {
    r.reason = "q90 below the target";
  } else if (config_.use_quantiles && !std::isnan(r.q10) && r.q10 < -r.stop) {
    r.reason = "q10 beyond the stop";
  } else {
    r.allowed = true;
    r.reason = "passed";
  }
  records_.push_back(r);
  return r.allowed;
}

}  // namespace quant::engine
