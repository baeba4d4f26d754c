#include "research/overfitting.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace quant::research {
namespace {

// Coefficients of Wichura's AS 241 (PPND16), lowest degree first.
constexpr double kCentralNum[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2, 1.9715909503065514427e+3,
                                   1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                   3.3430575583588128105e+4, 2.5090809287301226727e+3};
constexpr double kCentralDen[8] = {1.0,
                                   4.2313330701600911252e+1,
                                   6.8718700749205790830e+2,
                                   5.3941960214247511077e+3,
                                   2.1213794301586595867e+4,
                                   3.9307895800092710610e+4,
                                   2.8729085735721942674e+4,
                                   5.2264952788528545610e+3};
constexpr double kNearNum[8] = {1.42343711074968357734e0,  4.63033784615654529590e0, 5.76949722146069140550e0,
                                3.64784832476320460504e0,  1.27045825245236838258e0, 2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
constexpr double kNearDen[8] = {1.0,
                                2.05319162663775882187e0,
                                1.67638483018380384940e0,
                                6.89767334985100004550e-1,
                                1.48103976427480074590e-1,
                                1.51986665636164571966e-2,
                                5.47593808499534494600e-4,
                                1.05075007164441684324e-9};
constexpr double kFarNum[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,  1.78482653991729133580e0,
                               2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                               2.71155556874348757815e-5, 2.01033439929228813265e-7};
constexpr double kFarDen[8] = {1.0,
                               5.99832206555887937690e-1,
                               1.36929880922735805310e-1,
                               1.48753612908506148525e-2,
                               7.86869131145613259100e-4,
                               1.84631831751005468180e-5,
                               1.42151175831644588870e-7,
                               2.04426310338993978564e-15};

// A standard deviation below this share of the values' magnitude is rounding, not variation.
constexpr double kNoVariation = 1e-12;

// Mean with one correcting pass (the second pass of the "corrected two-pass"
// algorithm): a constant series comes back within a rounding or so of its
// constant instead of carrying the rounding of n additions, so it is recognised
// as constant.
double corrected_mean(std::span<const double> values) {
  const auto n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double residual = 0;
  for (double v : values) residual += v - mean;
  return mean + residual / n;
}

double horner(const double (&c)[8], double x) {
  double value = c[7];
  for (int i = 6; i >= 0; --i) value = value * x + c[i];
  return value;
}

bool all_finite(std::span<const double> values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

// Linear interpolation between order statistics (numpy's default, Hyndman & Fan type 7).
double quantile_sorted(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double weight = position - static_cast<double>(below);
  return sorted[below] + weight * (sorted[above] - sorted[below]);
}

DistributionSummary summarise(const std::vector<double>& values) {
  DistributionSummary s;
  if (values.empty()) return s;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const auto n = static_cast<double>(values.size());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.sd = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  s.min = sorted.front();
  s.max = sorted.back();
  s.q25 = quantile_sorted(sorted, 0.25);
  s.median = quantile_sorted(sorted, 0.5);
  s.q75 = quantile_sorted(sorted, 0.75);
  return s;
}

// Sharpe ratio of a half made of `blocks` equal blocks of `rows` periods, from each
// block's mean and sum of squared deviations: mean = average of the block means,
// M2 = Σ M2_b + rows·Σ (mean_b − mean)² (Chan, Golub & LeVeque's pairwise update,
// for equal sizes). Every term is non-negative, so no cancellation however large the
// mean; and the result depends only on the half's own blocks, so trials that are
// identical on a half tie exactly there.
double half_sharpe(const double* block_mean, const double* block_m2, const std::size_t* blocks, std::size_t count,
                   double rows) {
  double mean = 0;
  for (std::size_t i = 0; i < count; ++i) mean += block_mean[blocks[i]];
  mean /= static_cast<double>(count);
  double m2 = 0, spread = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double d = block_mean[blocks[i]] - mean;
    m2 += block_m2[blocks[i]];
    spread += d * d;
  }
  m2 += rows * spread;
  const double variance = m2 / (rows * static_cast<double>(count) - 1);
  // No variation (up to rounding): a trial that did not trade in this half.
  if (variance <= kNoVariation * kNoVariation * (mean * mean + variance)) return 0.0;
  return mean / std::sqrt(variance);
}

}  // namespace

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double normal_quantile(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) return std::numeric_limits<double>::quiet_NaN();
  if (p == 0.0) return -std::numeric_limits<double>::infinity();
  if (p == 1.0) return std::numeric_limits<double>::infinity();
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * horner(kCentralNum, r) / horner(kCentralDen, r);
  }
  double r = std::sqrt(-std::log(q < 0 ? p : 1.0 - p));
  double x = 0;
  if (r <= 5.0) {
    r -= 1.6;
    x = horner(kNearNum, r) / horner(kNearDen, r);
  } else {
    r -= 5.0;
    x = horner(kFarNum, r) / horner(kFarDen, r);
  }
  return q < 0 ? -x : x;
}

Expected<ReturnMoments> return_moments(std::span<const double> returns) {
  if (returns.size() < 2)
    return make_error("return moments: " + std::to_string(returns.size()) +
                      " return(s); a Sharpe ratio needs at least 2");
  if (!all_finite(returns)) return make_error("return moments: a return is NaN or infinite");
  ReturnMoments m;
  m.n = returns.size();
  const auto n = static_cast<double>(m.n);
  m.mean = corrected_mean(returns);
  double m2 = 0, m3 = 0, m4 = 0, largest = 0;
  for (double r : returns) {
    const double d = r - m.mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
    largest = std::max(largest, std::fabs(r));
  }
  m.sd = std::sqrt(m2 / (n - 1));
  // A constant series can leave rounding-sized deviations, not exact zeros.
  if (m.sd <= kNoVariation * largest)
    return make_error("return moments: the " + std::to_string(m.n) +
                      " returns do not vary (standard deviation 0): the Sharpe ratio is undefined");
  m2 /= n;
  m3 /= n;
  m4 /= n;
  m.sharpe = m.mean / m.sd;
  m.skew = m3 / std::pow(m2, 1.5);
  m.kurtosis = m4 / (m2 * m2);
  return m;
}

Expected<double> sharpe_ratio(std::span<const double> returns) {
  auto m = return_moments(returns);
  if (!m) return tl::unexpected(m.error());
  return m->sharpe;
}

Expected<double> probabilistic_sharpe_ratio(const ReturnMoments& moments, double benchmark_sharpe) {
  if (moments.n < 2)
    return make_error("probabilistic Sharpe ratio: T = " + std::to_string(moments.n) + "; it needs T >= 2");
  if (!std::isfinite(moments.sharpe) || !std::isfinite(moments.skew) || !std::isfinite(moments.kurtosis) ||
      !std::isfinite(benchmark_sharpe))
    return make_error("probabilistic Sharpe ratio: the Sharpe ratio, skewness, kurtosis or benchmark is not finite");
  const double sr = moments.sharpe;
  const double radicand = 1.0 - moments.skew * sr + (moments.kurtosis - 1.0) / 4.0 * sr * sr;
  if (!(radicand > 0))
    return make_error("probabilistic Sharpe ratio: 1 - skew*SR + (kurtosis-1)/4*SR^2 = " + std::to_string(radicand) +
                      " is not positive (skew " + std::to_string(moments.skew) + ", kurtosis " +
                      std::to_string(moments.kurtosis) +
                      "): no distribution has these moments; "
                      "pass raw (not excess) kurtosis");
  const double z = (sr - benchmark_sharpe) * std::sqrt(static_cast<double>(moments.n) - 1.0) / std::sqrt(radicand);
  return normal_cdf(z);
}

Expected<double> probabilistic_sharpe_ratio(std::span<const double> returns, double benchmark_sharpe) {
  auto m = return_moments(returns);
  if (!m) return tl::unexpected(m.error());
  return probabilistic_sharpe_ratio(*m, benchmark_sharpe);
}

Expected<double> expected_maximum_sharpe(std::size_t trials, double sharpe_variance) {
  if (trials == 0) return make_error("expected maximum Sharpe: 0 trials; count every configuration tried (N >= 1)");
  if (!std::isfinite(sharpe_variance) || sharpe_variance < 0)
    return make_error("expected maximum Sharpe: the variance of the trials' Sharpe ratios is " +
                      std::to_string(sharpe_variance) + "; it must be finite and >= 0");
  if (trials == 1) return 0.0;
  const auto n = static_cast<double>(trials);
  // Φ⁻¹(1 − p) = −Φ⁻¹(p): keeps full precision when 1/N is tiny.
  const double z =
      (1.0 - kEulerGamma) * -normal_quantile(1.0 / n) + kEulerGamma * -normal_quantile(1.0 / (n * std::exp(1.0)));
  return std::sqrt(sharpe_variance) * z;
}

Expected<double> sharpe_variance(std::span<const double> trial_sharpes) {
  if (trial_sharpes.size() < 2)
    return make_error("Sharpe variance: " + std::to_string(trial_sharpes.size()) +
                      " trial Sharpe ratio(s); a variance needs at least 2");
  if (!all_finite(trial_sharpes)) return make_error("Sharpe variance: a trial's Sharpe ratio is NaN or infinite");
  const auto n = static_cast<double>(trial_sharpes.size());
  const double mean = std::accumulate(trial_sharpes.begin(), trial_sharpes.end(), 0.0) / n;
  double squares = 0;
  for (double s : trial_sharpes) squares += (s - mean) * (s - mean);
  return squares / (n - 1);
}

Expected<DeflatedSharpe> deflated_sharpe_ratio(const ReturnMoments& moments, std::size_t trials,
                                               double sharpe_variance) {
  auto sr0 = expected_maximum_sharpe(trials, sharpe_variance);
  if (!sr0) return tl::unexpected(sr0.error());
  auto psr = probabilistic_sharpe_ratio(moments, *sr0);
  if (!psr) return tl::unexpected(psr.error());
  DeflatedSharpe d;
  d.moments = moments;
  d.trials = trials;
  d.sharpe_variance = sharpe_variance;
  d.expected_maximum_sharpe = *sr0;
  d.deflated_sharpe = *psr;
  return d;
}

Expected<DeflatedSharpe> deflated_sharpe_ratio(std::span<const double> returns, std::size_t trials,
                                               double sharpe_variance) {
  auto m = return_moments(returns);
  if (!m) return tl::unexpected(m.error());
  return deflated_sharpe_ratio(*m, trials, sharpe_variance);
}

Expected<PboResult> probability_of_backtest_overfitting(const TrialReturns& returns, const PboConfig& config) {
  const std::size_t periods = returns.periods, trials = returns.trials;
  if (trials < 2) return make_error("PBO: " + std::to_string(trials) + " trial(s); ranking needs at least 2");
  if (returns.values.size() != periods * trials)
    return make_error("PBO: " + std::to_string(returns.values.size()) + " values for " + std::to_string(periods) +
                      " periods x " + std::to_string(trials) + " trials");
  if (config.blocks < 2 || config.blocks > 20 || config.blocks % 2 != 0)
    return make_error("PBO: blocks = " + std::to_string(config.blocks) + "; it must be even, from 2 to 20");
  if (config.min_block_rows < 2)
    return make_error("PBO: min_block_rows = " + std::to_string(config.min_block_rows) + "; it must be >= 2");
  if (!all_finite(returns.values)) return make_error("PBO: a return is NaN or infinite");
  const auto min_rows = static_cast<std::size_t>(config.min_block_rows);
  int blocks = config.blocks;
  while (blocks > 2 && periods / static_cast<std::size_t>(blocks) < min_rows) blocks -= 2;
  const auto block_count = static_cast<std::size_t>(blocks);
  if (periods / block_count < min_rows)
    return make_error("PBO: " + std::to_string(periods) + " periods; two blocks of min_block_rows = " +
                      std::to_string(min_rows) + " need at least " + std::to_string(2 * min_rows));

  PboResult result;
  result.blocks = blocks;
  result.block_rows = periods / block_count;
  result.periods_used = result.block_rows * block_count;
  // Equal blocks as the paper has them; the oldest periods are the ones left out.
  const std::size_t first = periods - result.periods_used;

  // Per trial and block: mean and sum of squared deviations (two passes).
  const double rows = static_cast<double>(result.block_rows);
  std::vector<double> block_mean(trials * block_count), block_m2(trials * block_count);
  for (std::size_t n = 0; n < trials; ++n) {
    for (std::size_t b = 0; b < block_count; ++b) {
      const std::size_t begin = first + b * result.block_rows;
      const std::span<const double> block = returns.values.subspan(n * periods + begin, result.block_rows);
      const double mean = corrected_mean(block);
      double m2 = 0;
      for (double v : block) m2 += (v - mean) * (v - mean);
      block_mean[n * block_count + b] = mean;
      block_m2[n * block_count + b] = m2;
    }
  }

  const std::size_t half = block_count / 2;
  std::vector<std::size_t> in_sample(half), out_of_sample(half);
  std::iota(in_sample.begin(), in_sample.end(), std::size_t{0});
  std::vector<double> is_sharpe(trials), oos_sharpe(trials);
  std::size_t overfit = 0, losses = 0;
  const double ranks_plus_one = static_cast<double>(trials + 1);
  for (;;) {
    for (std::size_t b = 0, i = 0, o = 0; b < block_count; ++b) {
      if (i < half && in_sample[i] == b)
        ++i;
      else
        out_of_sample[o++] = b;
    }
    for (std::size_t n = 0; n < trials; ++n) {
      const double* mean = &block_mean[n * block_count];
      const double* m2 = &block_m2[n * block_count];
      is_sharpe[n] = half_sharpe(mean, m2, in_sample.data(), half, rows);
      oos_sharpe[n] = half_sharpe(mean, m2, out_of_sample.data(), half, rows);
    }
    std::size_t chosen = 0;
    for (std::size_t n = 1; n < trials; ++n) {
      if (is_sharpe[n] > is_sharpe[chosen] || (is_sharpe[n] == is_sharpe[chosen] && oos_sharpe[n] < oos_sharpe[chosen]))
        chosen = n;
    }
    const double target = oos_sharpe[chosen];
    std::size_t below = 0, equal = 0;
    for (double v : oos_sharpe) {
      below += v < target ? 1 : 0;
      equal += v == target ? 1 : 0;
    }
    // Midrank of the tied group below+1 .. below+equal, counted in halves to stay exact.
    const std::size_t twice_rank = 2 * below + equal + 1;
    const double rank = static_cast<double>(twice_rank) / 2.0;
    result.logits.push_back(std::log(rank / (ranks_plus_one - rank)));
    overfit += twice_rank <= trials + 1 ? 1 : 0;  // ω ≤ ½ ⇔ λ ≤ 0
    losses += target < 0 ? 1 : 0;
    result.in_sample_sharpe.push_back(is_sharpe[chosen]);
    result.out_of_sample_sharpe.push_back(target);
    result.chosen_trial.push_back(chosen);

    // Next subset in lexicographic order.
    std::size_t i = half;
    while (i > 0 && in_sample[i - 1] == block_count - half + (i - 1)) --i;
    if (i == 0) break;
    ++in_sample[i - 1];
    for (std::size_t j = i; j < half; ++j) in_sample[j] = in_sample[j - 1] + 1;
  }

  result.combinations = result.logits.size();
  const auto count = static_cast<double>(result.combinations);
  result.pbo = static_cast<double>(overfit) / count;
  result.probability_of_loss = static_cast<double>(losses) / count;
  result.logit_summary = summarise(result.logits);

  const double is_mean = std::accumulate(result.in_sample_sharpe.begin(), result.in_sample_sharpe.end(), 0.0) / count;
  const double oos_mean =
      std::accumulate(result.out_of_sample_sharpe.begin(), result.out_of_sample_sharpe.end(), 0.0) / count;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t c = 0; c < result.combinations; ++c) {
    const double dx = result.in_sample_sharpe[c] - is_mean, dy = result.out_of_sample_sharpe[c] - oos_mean;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx > 0) {
    LinearFit fit;
    fit.slope = sxy / sxx;
    fit.intercept = oos_mean - fit.slope * is_mean;
    fit.r_squared = syy > 0 ? sxy * sxy / (sxx * syy) : 0.0;
    result.degradation = fit;
  }
  return result;
}

}  // namespace quant::research
