#pragma once
// `quant walkforward` and `quant optimize`: the research engine's commands.

#include <functional>
#include <tuple>
#include <utility>
#include <vector>
#include <span>
#include <string>

#include "app_context.h"
#include "registry/tracking.h"
#include "research/walkforward.h"

namespace quant::app {

struct WalkForwardArgs {
  std::string symbol, from, to, out;
};

int run_walkforward_command(const GlobalOptions& global, const WalkForwardArgs& args);

/// The walk-forward of `cfg` over `bars`: the training configuration and the
/// signal path (strategy, filters, gate) built from `cfg` for each fold.
Expected<research::WalkForwardResult> walk_forward_of(
    const config::AppConfig& cfg, const InstrumentSpec& spec, std::span<const Bar> bars, const std::string& out_dir,
    const std::function<bool(std::size_t, std::size_t, const research::FoldResult&)>& on_fold);

/// Statistics of a walk-forward's stitched out-of-sample days.
struct OosSummary {
  std::size_t days = 0, folds = 0;
  std::int64_t gated_trades = 0, ungated_trades = 0;
  double gated_return = 0, ungated_return = 0;  ///< compounded
  double gated_sharpe = 0, ungated_sharpe = 0;  ///< daily
  double gated_max_drawdown = 0, ungated_max_drawdown = 0;  ///< share of the peak
  /// Probabilistic Sharpe ratio against 0 (docs/statistics.md); NaN when undefined (no variation).
  double gated_psr = 0, ungated_psr = 0;
  std::vector<double> gated_returns;  ///< the stitched daily returns (the optimiser's DSR and PBO input)
};
OosSummary summarize(const research::WalkForwardResult& result);

/// Writes folds.csv, oos_days.csv, summary.json and report.html into `out`.
Expected<void> write_walkforward_outputs(const std::string& out, const std::string& symbol,
                                         const research::WalkForwardResult& result, const OosSummary& summary,
                                         const config::AppConfig& cfg, const std::string& title);

/// The tracker and registry in force: MLFLOW_TRACKING_URI when set, else
/// [optimize] registry (default "mlruns").
registry::TrackingOptions tracking_options(const config::AppConfig& cfg);

/// A finished run for MLflow: params, metrics (key, value, step), tags, artifacts (path, subdir).
struct TrackedRun {
  std::string experiment, name;
  registry::Tags tags;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::tuple<std::string, double, std::int64_t>> metrics;
  std::vector<std::pair<std::string, std::string>> artifacts;
};
/// Records `run`; a failure is reported on stderr and returned as false (the
/// results are on disk already: tracking is a record, not the result).
bool track(const config::AppConfig& cfg, const TrackedRun& run, bool quiet);

}  // namespace quant::app
