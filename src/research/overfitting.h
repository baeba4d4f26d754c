#pragma once
/// Honest statistics for optimisation reports: how much of a backtest's
/// Sharpe ratio survives the number of configurations that were tried.
///
/// - `return_moments`, `sharpe_ratio`: per-period Sharpe ratio, skewness, kurtosis.
/// - `probabilistic_sharpe_ratio` (PSR): the probability that the true Sharpe
///   ratio exceeds a benchmark, given the sample length and the shape of the
///   returns (Bailey & López de Prado 2012).
/// - `expected_maximum_sharpe`, `deflated_sharpe_ratio` (DSR): the PSR against
///   the Sharpe ratio the best of N skill-less trials would show by luck
///   (Bailey & López de Prado 2014).
/// - `probability_of_backtest_overfitting` (PBO): combinatorially symmetric
///   cross-validation over a periods × trials return matrix (Bailey, Borwein,
///   López de Prado & Zhu 2017).
/// - `normal_cdf`, `normal_quantile`: Φ and Φ⁻¹.
///
/// docs/statistics.md gives the formulas, the symbols, the citations and how
/// to read the results. Every function here is pure (no I/O, no clock, no
/// global state) and safe to call from any thread. Sharpe ratios are per
/// period (per day for daily returns): never annualised, because the formulas
/// count observations, not years. Degenerate input (too few returns, returns
/// without variation, invalid trial counts) is an `Expected` error whose
/// message says what was wrong; no function returns a NaN for it.

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"

namespace quant::research {

/// The Euler–Mascheroni constant γ.
inline constexpr double kEulerGamma = 0.57721566490153286061;

/// Φ(x), the standard normal cumulative distribution: ½·erfc(−x/√2). Accurate
/// to the last bits in both tails (erfc does not cancel). NaN → NaN.
double normal_cdf(double x);

/// Φ⁻¹(p), the standard normal quantile, by Wichura's algorithm AS 241
/// (PPND16; Applied Statistics 37(3), 477–484, 1988): relative error about
/// 1e-16 over (0, 1). p = 0 → −∞, p = 1 → +∞; p outside [0, 1] or NaN → NaN.
double normal_quantile(double p);

/// The sample moments of one return series (one value per period).
struct ReturnMoments {
  std::size_t n = 0;    ///< number of returns, T
  double mean = 0;      ///< arithmetic mean per period
  double sd = 0;        ///< sample standard deviation (divides by T − 1)
  double sharpe = 0;    ///< mean / sd, per period (no risk-free rate: pass excess returns)
  double skew = 0;      ///< γ3 = m3 / m2^{3/2}, m_k the central moments with divisor T
  double kurtosis = 3;  ///< γ4 = m4 / m2², raw (not excess): 3 for normal returns
};

/// Mean, sample standard deviation, Sharpe ratio, skewness and raw kurtosis of
/// `returns`. Skewness and kurtosis are the moment estimators (divisor T, as
/// scipy.stats.skew and kurtosis(fisher=False) compute them); they satisfy
/// γ4 ≥ 1 + γ3², which keeps the PSR's radicand non-negative.
/// Fails when T < 2, a return is not finite, or the returns do not vary
/// (standard deviation at most 1e-12 of their largest magnitude: rounding).
Expected<ReturnMoments> return_moments(std::span<const double> returns);

/// Per-period Sharpe ratio mean / sample sd of `returns`; fails as `return_moments`.
Expected<double> sharpe_ratio(std::span<const double> returns);

/// Probabilistic Sharpe ratio (Bailey & López de Prado 2012, "The Sharpe Ratio
/// Efficient Frontier", Journal of Risk 15(2)):
///
///   PSR(SR*) = Φ( (SR − SR*)·√(T − 1) / √(1 − γ3·SR + (γ4 − 1)/4·SR²) )
///
/// with SR, γ3, γ4 and T = n from `moments` (only those four are read) and
/// `benchmark_sharpe` = SR*, per period. The probability that the true Sharpe
/// ratio exceeds SR*. Fails when n < 2, an input is not finite, or the
/// radicand 1 − γ3·SR + (γ4 − 1)/4·SR² is not positive (moments that no
/// distribution has: γ4 < 1 + γ3²).
Expected<double> probabilistic_sharpe_ratio(const ReturnMoments& moments, double benchmark_sharpe);

/// PSR of a return series: `return_moments(returns)` then the PSR above.
Expected<double> probabilistic_sharpe_ratio(std::span<const double> returns, double benchmark_sharpe);

/// Expected maximum Sharpe ratio of `trials` skill-less trials whose Sharpe
/// ratios have variance `sharpe_variance` (Bailey & López de Prado 2014, "The
/// Deflated Sharpe Ratio", Journal of Portfolio Management 40(5), eq. for SR0):
///
///   SR0 = √V · ( (1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)) ),  γ = Euler–Mascheroni
///
/// Per period when V is the variance of per-period Sharpe ratios. N = 1 gives
/// 0 (one trial was not selected from anything). Fails when N = 0 or V is
/// negative or not finite.
Expected<double> expected_maximum_sharpe(std::size_t trials, double sharpe_variance);

/// Variance of the trials' Sharpe ratios, the V of `expected_maximum_sharpe`:
/// the sample variance (divisor N − 1). Fails for fewer than two values or a
/// non-finite one.
Expected<double> sharpe_variance(std::span<const double> trial_sharpes);

/// The deflated Sharpe ratio and what went into it.
struct DeflatedSharpe {
  ReturnMoments moments;               ///< of the selected trial's returns (SR, γ3, γ4, T)
  std::size_t trials = 0;              ///< N
  double sharpe_variance = 0;          ///< V, per-period Sharpe ratios
  double expected_maximum_sharpe = 0;  ///< SR0, per period
  double deflated_sharpe = 0;          ///< DSR = PSR(SR0), a probability in [0, 1]
};

/// Deflated Sharpe ratio (Bailey & López de Prado 2014): DSR = PSR(SR0) with
/// SR0 = `expected_maximum_sharpe(trials, sharpe_variance)`. `moments` are the
/// selected trial's (only n, sharpe, skew and kurtosis are read);
/// `trials` = N, every configuration tried, the selected one included;
/// `sharpe_variance` = V, the variance of the trials' per-period Sharpe
/// ratios. DSR > 0.95: the Sharpe ratio is unlikely to be the luck of the best
/// of N. Fails as `expected_maximum_sharpe` and `probabilistic_sharpe_ratio`.
Expected<DeflatedSharpe> deflated_sharpe_ratio(const ReturnMoments& moments, std::size_t trials,
                                               double sharpe_variance);

/// DSR of the selected trial's return series (per period, e.g. the daily
/// returns of its walk-forward out-of-sample equity).
Expected<DeflatedSharpe> deflated_sharpe_ratio(std::span<const double> returns, std::size_t trials,
                                               double sharpe_variance);

/// A periods × trials return matrix, stored trial after trial (column-major):
/// the return of trial n in period t is `values[n * periods + t]`. Periods are
/// in time order and aligned across trials (the same calendar day in every
/// column). A view: it does not own `values`.
struct TrialReturns {
  std::span<const double> values;
  std::size_t periods = 0;  ///< T
  std::size_t trials = 0;   ///< N
  double at(std::size_t period, std::size_t trial) const { return values[trial * periods + period]; }
};

/// Settings of the combinatorially symmetric cross-validation.
struct PboConfig {
  int blocks = 16;         ///< S: even, 2..20; C(S, S/2) combinations (12,870 for 16)
  int min_block_rows = 5;  ///< S is lowered (by 2s) until every block has this many periods
};

/// Summary of a sample (of logits λ).
struct DistributionSummary {
  double mean = 0, sd = 0;                                ///< sd: sample standard deviation (0 for one value)
  double min = 0, q25 = 0, median = 0, q75 = 0, max = 0;  ///< quantiles by linear interpolation
};

/// Out-of-sample Sharpe of the chosen trial regressed on its in-sample Sharpe
/// over the combinations (ordinary least squares): oos = intercept + slope·is.
struct LinearFit {
  double slope = 0, intercept = 0;
  double r_squared = 0;  ///< 0 when the out-of-sample Sharpe ratios do not vary
};

/// The result of CSCV.
struct PboResult {
  double pbo = 0;                        ///< share of combinations with λ ≤ 0
  double probability_of_loss = 0;        ///< share of combinations whose chosen trial has OOS Sharpe < 0
  std::optional<LinearFit> degradation;  ///< absent when the in-sample Sharpe ratios do not vary
  DistributionSummary logit_summary;     ///< of `logits`
  int blocks = 0;                        ///< S used (after lowering for short series)
  std::size_t block_rows = 0;            ///< periods per block
  std::size_t periods_used = 0;          ///< S × block_rows: the oldest T mod S periods are left out
  std::size_t combinations = 0;          ///< C(S, S/2)
  /// Per combination, in the order of the block subsets (lexicographic over
  /// the chosen in-sample block indices, {0..S/2−1} first):
  std::vector<double> logits;                ///< λ = ln(ω / (1 − ω))
  std::vector<double> in_sample_sharpe;      ///< the chosen trial's in-sample Sharpe, per period
  std::vector<double> out_of_sample_sharpe;  ///< its out-of-sample Sharpe, per period
  std::vector<std::size_t> chosen_trial;     ///< its column
};

/// Probability of backtest overfitting by combinatorially symmetric
/// cross-validation (Bailey, Borwein, López de Prado & Zhu 2017, "The
/// Probability of Backtest Overfitting", Journal of Computational Finance 20(4)):
///
/// 1. Drop the oldest T mod S periods, split the rest into S blocks of equal
///    length in time order.
/// 2. For each of the C(S, S/2) ways to choose S/2 blocks as in-sample (IS),
///    the other S/2 being out-of-sample (OOS): compute every trial's Sharpe
///    ratio on IS and on OOS; n* = the trial with the best IS Sharpe; its OOS
///    relative rank ω = r / (N + 1), r = 1 (worst) .. N (best) among the OOS
///    Sharpe ratios; λ = ln(ω / (1 − ω)).
/// 3. PBO = share of λ ≤ 0 (the IS-best trial is at or below the OOS median).
///
/// Ties: an OOS rank shared by several trials is their average rank
/// (midrank); several trials sharing the best IS Sharpe are resolved in favour
/// of the one with the lowest OOS Sharpe (conservative, and independent of
/// column order). A trial with no variation in a half (typically one that
/// never traded there) scores Sharpe 0. Permuting the trial columns or
/// scaling all returns by a positive factor leaves the result unchanged.
///
/// Each block's mean and squared deviations are computed once (O(T·N)); a half's
/// Sharpe ratio then combines S/2 of them (O(C(S, S/2)·N·S)): 12,870 × N × 16
/// for the default. Fails when N < 2,
/// the matrix size is not T·N, a value is not finite, `blocks` is odd or
/// outside 2..20, `min_block_rows` < 2, or T < 2·min_block_rows (not even two
/// blocks fit).
Expected<PboResult> probability_of_backtest_overfitting(const TrialReturns& returns, const PboConfig& config = {});

}  // namespace quant::research
