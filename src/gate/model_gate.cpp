#include "gate/model_gate.h"

#include <memory>

namespace quant::gate {

ModelGate::ModelGate(features::FeaturePipeline pipeline, model::Gatekeeper gatekeeper, GateConfig config)
    : pipeline_(std::move(pipeline)), config_(config) {
  auto shared = std::make_shared<model::Gatekeeper>(std::move(gatekeeper));
  scorer_ = [shared](std::span<const float> row) { return shared->predict(row); };
}

ModelGate::ModelGate(features::FeaturePipeline pipeline, Scorer scorer, GateConfig config)
    : pipeline_(std::move(pipeline)), scorer_(std::move(scorer)), config_(config) {}

engine::GateVerdict ModelGate::judge(const engine::EntryCandidate& entry) {
  GateRecord r;
  r.ts = entry.ts;
  r.side = entry.side;
  r.target = config_.target_points - config_.cost_points;
  r.stop = config_.stop_atr_multiple * entry.atr + config_.cost_points;
  if (!pipeline_.ready()) {
    r.reason = "features warming up";
  } else if (auto score = scorer_(pipeline_.values()); !score) {
    r.reason = "model error";
  } else {
    r.prob = score->prob;
    r.q10 = score->q10;
    r.q90 = score->q90;
    const model::GateDecision decision = model::judge(config_.rule, *score, r.target, r.stop);
    r.allowed = decision.pass;
    r.reason = decision.reason;
  }
  records_.push_back(r);
  return {r.allowed, r.reason};
}

}  // namespace quant::gate
