#pragma once
/// The Gatekeeper's decision rule, in one place: the backtest's model gate and
/// the signal service's `/infer` `pass` both call it, so a client trading on
/// `pass` runs the strategy that was backtested.
///
/// An entry passes when
///   prob ≥ p_min, and (with quantiles) q90 ≥ target and q10 ≥ −stop,
/// where q10/q90 are quantiles of the trade's net result (fees and slippage
/// paid; research/labels.h) in price points signed in
/// the trade's direction (the rule is the same for longs and shorts), target
/// is the profit target distance and stop the stop distance (stop multiple ×
/// ATR), both in price points and > 0. A probability-only model (NaN
/// quantiles) is judged on its probability alone.

#include <cmath>

#include "model/gatekeeper.h"

namespace quant::model {

struct GateRule {
  double p_min = 0.5;         ///< minimum probability that the trade nets a profit
  bool use_quantiles = true;  ///< false: the probability alone decides
};

struct GateDecision {
  bool pass = false;
  const char* reason =
      "";  ///< static: "passed", "probability below p_min", "q90 below the target", "q10 beyond the stop"
};

/// Applies `rule` to a score. `target` and `stop` are only read when the rule
/// uses quantiles and the model has them.
inline GateDecision judge(const GateRule& rule, const GatekeeperScore& score, double target, double stop) {
  if (!(static_cast<double>(score.prob) >= rule.p_min)) return {false, "probability below p_min"};
  if (rule.use_quantiles) {
    if (!std::isnan(score.q90) && static_cast<double>(score.q90) < target) return {false, "q90 below the target"};
    if (!std::isnan(score.q10) && static_cast<double>(score.q10) < -stop) return {false, "q10 beyond the stop"};
  }
  return {true, "passed"};
}

}  // namespace quant::model
