#pragma once
/// Validation metrics of the Gatekeeper models, computed on a held-out
/// (later-in-time) window. Pure functions; all sizes must agree.

#include <cstddef>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace quant::model_train {

/// Area under the ROC curve by ranks (Mann-Whitney U, ties get average
/// ranks). Labels are 0/1. NaN when one class is absent.
double auc(std::span<const float> prob, std::span<const float> labels);

/// Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15].
double log_loss(std::span<const float> prob, std::span<const float> labels);

/// Mean squared difference between probability and label.
double brier_score(std::span<const float> prob, std::span<const float> labels);

/// One bin of a reliability diagram: predictions in [lower, upper).
struct CalibrationBin {
  double lower = 0.0, upper = 0.0;
  double mean_predicted = 0.0;  ///< NaN when the bin is empty
  double observed = 0.0;        ///< share of positives; NaN when empty
  std::size_t count = 0;
};

/// `bins` equal-width bins over [0, 1] (the last one includes 1).
std::vector<CalibrationBin> calibration_table(std::span<const float> prob, std::span<const float> labels,
                                              std::size_t bins = 10);

/// Shares of `y` strictly below `lower` and strictly above `upper` (ideally
/// 0.10 and 0.10 for q10/q90), and inside [lower, upper]. Where `y` has atoms
/// (every trade closed at its target nets the same), a quantile sits on one:
/// α is then a correct level when share(y < q) ≤ α ≤ share(y ≤ q), so the
/// shares at or beyond each bound are given too. `tie` is the distance within
/// which y counts as equal to a bound (half a tick: float32 quantiles hit an
/// atom only within rounding).
struct QuantileCoverage {
  double below_lower = 0.0;
  double above_upper = 0.0;
  double inside = 0.0;
  double at_or_below_lower = 0.0;
  double at_or_above_upper = 0.0;
};
QuantileCoverage quantile_coverage(std::span<const float> lower, std::span<const float> upper,
                                   std::span<const float> y, double tie = 0.0);

/// How far `level` lies outside [strict, inclusive] (0 inside): the coverage
/// error of a quantile bound on data with atoms.
double coverage_error(double strict, double inclusive, double level);

/// Everything above for the three Gatekeeper outputs, in one record.
struct ValidationMetrics {
  std::size_t rows = 0;
  double auc = 0.0, log_loss = 0.0, brier = 0.0;
  std::vector<CalibrationBin> calibration;
  QuantileCoverage coverage;

  /// NaN values become null.
  nlohmann::json to_json() const;
};

/// Computes every metric: `prob` against 0/1 `labels`, q10/q90 against `move`.
ValidationMetrics evaluate(std::span<const float> prob, std::span<const float> labels, std::span<const float> q10,
                           std::span<const float> q90, std::span<const float> move, double tie = 0.0);

}  // namespace quant::model_train
