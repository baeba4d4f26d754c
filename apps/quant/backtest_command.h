#pragma once
// `quant backtest`: a strategy over lake bars through the engine, the risk
// engine and the simulated venue; writes the run directory and its report.

#include <cstdint>
#include <string>

#include "app_context.h"

namespace quant::app {

struct BacktestArgs {
  std::string symbol;
  std::string from, to;  ///< dates/times, local to the instrument when no offset is given
  std::string out;
  std::string strategy;  ///< overrides [strategy] name
  bool no_report = false;
  bool generated_data = false;  ///< label the run as generated data (the demo sets it)
  std::string data_source;      ///< free text for the report
  std::uint64_t seed = 0;       ///< the generator's seed when the data is generated (shown in the report)
  std::string gate_dir;         ///< gate the signals with the models in this directory (else [gate] when model_gate)
  bool no_compare = false;      ///< gated runs: skip the ungated twin
  bool allow_overlap = false;   ///< run a gated backtest on the models' training window (the report says so)
};

int run_backtest_command(const GlobalOptions& global, const BacktestArgs& args);

}  // namespace quant::app
