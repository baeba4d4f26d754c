#pragma once
/// The Tree-structured Parzen Estimator (Bergstra et al. 2011) as Optuna 3.1's
/// TPESampler does it with its defaults, and Optuna's MedianPruner.
///
/// Sampler, per trial and per parameter (univariate):
///   - until `n_startup_trials` trials are finished (Complete or Pruned), draw
///     uniformly (log params uniformly in log space; int params on their grid);
///   - else rank the finished trials — Complete ones first by objective (sign-
///     flipped when maximising), then Pruned ones by their last reported step
///     (later steps first) and value there — and split them into the best
///     γ(n) = min(⌈0.1·n⌉, 25) ("below") and the rest ("above");
///   - fit a Parzen estimator to each group: one truncated Gaussian per
///     observation at its value, plus a prior component (centre of the range,
///     sigma = the range, weight `prior_weight`), observation weights
///     default_weights(n) (flat below 25, an older-first ramp above), each
///     sigma the larger gap to its sorted neighbours (the outermost take the
///     inner gap: consider_endpoints=false), clipped to [range/min(100, 1+m),
///     range] (magic clip); log params live in log space, int params have
///     their bounds widened by half a step and are judged by the mass of their
///     grid cell; categoricals use the categorical kernel (prior_weight/(m+1)
///     on every choice, +1 on the observed one);
///   - draw `n_ei_candidates` candidates from "below" and keep the one with
///     the largest log l(x) − log g(x).
///
/// Optuna 3.1 leaves log σ out of each continuous component's log density
/// (so a narrow component's density is σ times too small); Optuna fixed that
/// in 3.5 (optuna#5109/#5110). We keep 3.1's form by default because it
/// reached the benchmarks' tolerances in fewer trials here (bench/research:
/// median over 100 seeds, Branin 57.5 vs 68 trials, Hartmann-6 58.5 vs 79,
/// Rosenbrock-4 76 vs 100); `normalize_components` switches to the fixed form.
///
/// Deterministic: the draws for trial `number` come from an RNG seeded by
/// (seed, number) alone, so one worker replays a study exactly and a trial's
/// parameters do not depend on which worker happens to create it.
///
/// Thread safety: the sampler and the pruner hold only their options; every
/// call is safe concurrently.

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "research/search_space.h"

namespace quant::research {

/// The sampler's settings; the defaults are Optuna 3.1's.
struct TpeOptions {
  int n_startup_trials = 10;  ///< random draws until this many trials are finished
  int n_ei_candidates = 24;   ///< candidates drawn from l(x) per parameter
  double prior_weight = 1.0;  ///< weight of the prior component (and of the categorical prior)
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  /// Subtract log σ in each continuous component's density (Optuna >= 3.5);
  /// false: Optuna 3.1's form (see above).
  bool normalize_components = false;

  /// Plain random search (the start-up draws forever): the baseline TPE is compared with.
  static TpeOptions random_search();
};

/// Size of the "below" group among `n` finished trials: min(⌈0.1·n⌉, 25).
int default_gamma(int n);
/// Observation weights, oldest first: n ones below 25, else a linear ramp
/// from 1/n to 1 over the oldest n−25 followed by 25 ones.
std::vector<double> default_weights(int n);

/// TPE over a SearchSpace.
class TpeSampler {
 public:
  explicit TpeSampler(TpeOptions options = {});

  /// Parameters for trial `number`, learnt from the Complete and Pruned trials
  /// in `history` (any order; Running and Failed ones are ignored; trials
  /// whose params lack a parameter are left out of that parameter's model).
  /// Every value returned lies in `space` (SearchSpace::contains).
  Params sample(const SearchSpace& space, Direction direction, std::span<const TrialRecord> history, std::uint64_t seed,
                std::int64_t number) const;

  const TpeOptions& options() const { return options_; }

 private:
  TpeOptions options_;
};

/// The pruner's settings; the defaults are Optuna's MedianPruner's.
struct MedianPrunerOptions {
  int n_startup_trials = 5;         ///< never prune before this many trials are Complete
  std::int64_t n_warmup_steps = 0;  ///< never prune at a step below this
  std::int64_t interval_steps = 1;  ///< judge only the first report in each interval of steps
};

/// Optuna's MedianPruner (its PercentilePruner at 50 %): at the trial's last
/// reported step s, prune when the best value the trial reported so far is
/// worse than the median of the values Complete trials reported at s (NaNs
/// left out; no Complete trial reported at s: keep going). A trial whose
/// reports are all NaN is pruned.
class MedianPruner {
 public:
  explicit MedianPruner(MedianPrunerOptions options = {});

  /// `intermediate` is the trial's reports (step → value) including the one
  /// just made; `history` the study's trials (only Complete ones are read).
  bool should_prune(Direction direction, const std::map<std::int64_t, double>& intermediate,
                    std::span<const TrialRecord> history) const;

  const MedianPrunerOptions& options() const { return options_; }

 private:
  MedianPrunerOptions options_;
};

}  // namespace quant::research
