#pragma once
/// Gaussian hidden Markov model of market regimes over 2-D observations
/// (return, volatility): Baum–Welch fitting (offline, research), online
/// forward filtering (backtest and live: no smoothing, so no look-ahead), a
/// regime gate for the strategy, and JSON (de)serialisation of the fit.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace quant::features {

/// One observation: {return, volatility} (the pipeline uses the last bar's log
/// return and the rolling volatility of log returns; any consistent units work).
using HmmObservation = std::array<double, 2>;
constexpr int kHmmDims = 2;

/// Index of (row, col) in a row-major matrix `width` columns wide; the arithmetic is
/// done in std::size_t (row, col, width >= 0).
constexpr std::size_t hmm_index(int row, int col, int width) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(width) + static_cast<std::size_t>(col);
}

/// A fitted model with K states and diagonal covariances. States are in
/// canonical order after `fit_hmm`: ascending volatility mean (dimension 1),
/// ties by return mean, so state 0 is the calmest regime.
struct HmmParams {
  int states = 0;
  std::vector<double> initial;     ///< K: P(state at t = 0)
  std::vector<double> transition;  ///< K × K row-major: P(state j at t+1 | state i at t)
  std::vector<double> mean;        ///< K × 2 row-major
  std::vector<double> variance;    ///< K × 2 row-major, > 0 (diagonal covariance)

  double a(int i, int j) const { return transition[hmm_index(i, j, states)]; }
  double mu(int k, int d) const { return mean[hmm_index(k, d, kHmmDims)]; }
  double var(int k, int d) const { return variance[hmm_index(k, d, kHmmDims)]; }

  /// Shapes, finiteness, probabilities in [0, 1] summing to 1 (±1e-6 per row),
  /// variances > 0. The error names the field.
  Expected<void> validate() const;
  /// {"states": K, "initial": [...], "transition": [[...], ...],
  ///  "mean": [[ret, vol], ...], "variance": [[ret, vol], ...]}.
  nlohmann::json to_json() const;
  /// Parses and validates.
  static Expected<HmmParams> from_json(const nlohmann::json& json);
};

/// Baum–Welch settings. Defaults suit 1-minute (log return, volatility) data.
struct HmmFitConfig {
  int states = 3;            ///< K >= 1
  int max_iterations = 200;  ///< EM iterations, >= 1
  /// Stop when the log-likelihood improves by less than tolerance × (1 + |ll|).
  double tolerance = 1e-7;
  std::uint64_t seed = 42;  ///< k-means++ initialisation (SplitMix64)
  /// Variance floor per dimension: this fraction of the data's variance.
  double variance_floor_fraction = 1e-3;
  /// Called after each EM iteration with (iteration from 1, max_iterations): progress for long fits.
  std::function<void(int, int)> on_iteration;
};

struct HmmFitResult {
  HmmParams params;
  /// Log-likelihood of the data under the parameters entering each EM
  /// iteration, then under the final parameters (non-decreasing, as EM
  /// guarantees; tests check it).
  std::vector<double> log_likelihood;
  int iterations = 0;
  bool converged = false;
};

/// Fits a K-state Gaussian HMM to one sequence. Initialisation is
/// deterministic: k-means++ seeding (SplitMix64(`seed`)) and 20 Lloyd steps on
/// standardised observations give the state means/variances; transitions
/// start at 0.9 on the diagonal. Emissions are evaluated in log space and
/// the forward–backward pass is scaled per step, so long series neither
/// underflow nor overflow. Fails on too few observations (< 10 × K), a
/// non-finite observation (naming its index) or a bad config.
Expected<HmmFitResult> fit_hmm(std::span<const HmmObservation> observations, const HmmFitConfig& config);

/// Log-likelihood of a sequence under `params` (scaled forward pass).
double hmm_log_likelihood(const HmmParams& params, std::span<const HmmObservation> observations);

/// Online forward filter: P(state_t | obs_0..t), one observation at a time.
/// O(K²) per update, no allocation after construction. Not thread-safe.
class HmmFilter {
 public:
  /// `params` must be valid (QUANT_CHECK on validate()).
  explicit HmmFilter(HmmParams params);

  /// Adds one observation (finite; a non-finite one is skipped: the filter
  /// keeps its last probabilities) and returns the filtered probabilities.
  std::span<const double> update(const HmmObservation& observation);
  /// The latest filtered probabilities (the initial distribution before any update).
  std::span<const double> probabilities() const { return probabilities_; }
  /// The most probable state now.
  int most_probable() const;
  bool started() const { return started_; }
  const HmmParams& params() const { return params_; }
  void reset();

 private:
  HmmParams params_;
  std::vector<double> log_norm_;  // K: −½ Σ_d log(2π var)
  std::vector<double> inv_var_;   // K × 2: −½ / var
  std::vector<double> probabilities_;
  std::vector<double> predicted_;
  std::vector<double> log_emission_;
  bool started_ = false;
};

/// Regime gate for the strategy's filter chain: an entry is allowed when the
/// most probable state is one of `allowed_states` and its probability is at
/// least `min_probability`. Plain logic; the strategy layer wraps it.
struct HmmGateConfig {
  std::vector<int> allowed_states;  ///< canonical state indices (0 = calmest)
  double min_probability = 0.5;     ///< in [0, 1]
};

class HmmRegimeGate {
 public:
  /// Fails when a state index is outside [0, states) or the probability is outside [0, 1].
  static Expected<HmmRegimeGate> create(const HmmGateConfig& config, int states);
  /// `probabilities` from `HmmFilter` (size = states).
  bool allow(std::span<const double> probabilities) const;

 private:
  explicit HmmRegimeGate(std::uint64_t mask, double min_probability)
      : allowed_mask_(mask), min_probability_(min_probability) {}
  std::uint64_t allowed_mask_;
  double min_probability_;
};

}  // namespace quant::features
