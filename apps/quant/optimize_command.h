#pragma once
// `quant optimize`: TPE over strategy and model parameters, each trial a
// walk-forward (folds reported to the median pruner); a report with the
// deflated Sharpe ratio and the probability of backtest overfitting;
// `--nightly` also registers the best as the challenger and decides on
// promotion.

#include <string>

#include "app_context.h"

namespace quant::app {

struct OptimizeArgs {
  std::string symbol, from, to, out;
  std::string study;    ///< study name; empty: "<strategy>-<symbol>"
  int trials = 0;       ///< 0: [optimize] trials
  std::string storage;  ///< overrides [optimize] storage
  bool nightly = false;
  bool no_report = false;
};

int run_optimize_command(const GlobalOptions& global, const OptimizeArgs& args);

}  // namespace quant::app
