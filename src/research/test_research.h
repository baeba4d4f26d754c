#pragma once
// Test helpers of the research tests (not part of the library): WIN with fees,
// and a training configuration small enough for a unit test.

#include "core/test_bars.h"
#include "research/gatekeeper_training.h"

namespace quant::testing {

/// WIN as the tests use it, with R$ 0.25 a contract a side (2.5 points a round trip).
inline InstrumentSpec win_with_fees() {
  InstrumentSpec s = win_spec();
  s.fee_per_side = 0.25;
  return s;
}

/// The backtest's settings the research tests label with: 1 tick of
/// slippage, a 100-point target, no equity output.
inline backtest::BacktestConfig research_settings(double target_points = 100) {
  backtest::BacktestConfig c;
  c.slippage_ticks = 1;
  c.risk.target_points = target_points;
  c.equity_output = backtest::EquityOutput::None;
  return c;
}

/// A quick training: `rounds` trees for each model, `hmm_states` regimes.
inline research::TrainConfig quick_train_config(int rounds, int hmm_states) {
  research::TrainConfig c;
  c.settings = research_settings();
  c.hmm_states = hmm_states;
  c.classifier.boost.rounds = rounds;
  c.quantile.rounds = rounds;
  return c;
}

}  // namespace quant::testing
