#pragma once
/// The HMM regime filter in the strategy's signal path: every bar feeds the
/// online forward filter (no smoothing, so no look-ahead); an entry passes
/// only when the most probable regime is an allowed one with enough
/// probability. The HMM is the one fitted by `quant train` (its parameters are
/// in the model manifest), so backtest and live filter with the same model.

#include <cmath>

#include "features/feature_pipeline.h"
#include "features/hmm.h"
#include "strategy/strategy.h"

namespace quant::strategy {

class HmmRegimeFilter final : public SignalFilter {
 public:
  HmmRegimeFilter(features::HmmParams params, int volatility_window, features::HmmRegimeGate gate)
      : observer_(volatility_window), filter_(std::move(params)), gate_(gate) {}
  const char* name() const override { return "hmm"; }
  void observe(const Bar& bar) override {
    if (observer_.update(bar.close, std::log(bar.close))) filter_.update(observer_.observation());
  }
  bool allow(const Signal&, const Bar&) override { return filter_.started() && gate_.allow(filter_.probabilities()); }

 private:
  features::HmmObserver observer_;
  features::HmmFilter filter_;
  features::HmmRegimeGate gate_;
};

}  // namespace quant::strategy
