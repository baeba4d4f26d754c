#include "research/tpe.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>
#include <utility>

namespace quant::research {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kLogSqrt2Pi = 0.91893853320467274;  // log(sqrt(2π))

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// xoshiro256**, seeded through splitmix64 from (seed, stream): the same pair
/// gives the same draws on every machine (no std:: distribution is used, their
/// algorithms are the library's choice).
class Rng {
 public:
  Rng(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t x = seed;
    const std::uint64_t mixed = splitmix64(x) ^ (stream * 0xD1B54A32D192ED03ULL);
    x = mixed;
    for (auto& s : s_) s = splitmix64(x);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  /// Index drawn with probabilities `cumulative` (non-decreasing, last = total).
  std::size_t pick(const std::vector<double>& cumulative) {
    const double u = uniform() * cumulative.back();
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    return std::min(static_cast<std::size_t>(it - cumulative.begin()), cumulative.size() - 1);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// Standard normal CDF and its logarithm, accurate in both tails.
double ndtr(double x) { return 0.5 * std::erfc(-x / kSqrt2); }

double log_ndtr(double a) {
  if (a > 6) return -ndtr(-a);  // log(1 − ε) ≈ −ε
  if (a > -20) return std::log(ndtr(a));
  // Asymptotic series of log Φ(a) for a → −∞.
  const double log_lhs = -0.5 * a * a - std::log(-a) - kLogSqrt2Pi;
  double last = 0.0, rhs = 1.0, numerator = 1.0, denominator = 1.0, sign = 1.0;
  const double inv_a2 = 1.0 / (a * a);
  for (int i = 1; i < 50 && std::abs(last - rhs) > 1e-16; ++i) {
    last = rhs;
    sign = -sign;
    denominator *= inv_a2;
    numerator *= 2.0 * i - 1.0;
    rhs += sign * numerator * denominator;
  }
  return log_lhs + std::log(rhs);
}

double norm_logpdf(double z) { return -0.5 * z * z - kLogSqrt2Pi; }

double log_diff(double log_p, double log_q) { return log_p + std::log1p(-std::exp(log_q - log_p)); }
double log_sum(double log_p, double log_q) {
  const double m = std::max(log_p, log_q);
  if (m == -kInf) return -kInf;
  return m + std::log(std::exp(log_p - m) + std::exp(log_q - m));
}

/// log of the standard normal mass in [a, b], working in the left tail.
double log_gauss_mass(double a, double b) {
  if (b <= 0) return log_diff(log_ndtr(b), log_ndtr(a));
  if (a > 0) return log_diff(log_ndtr(-a), log_ndtr(-b));
  return std::log1p(-ndtr(a) - ndtr(-b));
}

/// x with log Φ(x) = y (y <= 0): Newton on the concave, increasing log Φ,
/// bisection when a step leaves the bracket [−100, 100].
double ndtri_exp(double y) {
  double lo = -100.0, hi = 100.0;
  if (!(y < 0)) return hi;
  // Start from the logistic approximation Φ(x) ≈ 1/(1 + e^(−1.702 x)), or
  // from −√(−2y) deep in the left tail.
  double x = y < -700 ? -std::sqrt(-2.0 * y) : (y - std::log(-std::expm1(y))) / 1.702;
  x = std::clamp(x, lo, hi);
  for (int i = 0; i < 100; ++i) {
    const double f = log_ndtr(x) - y;
    if (f == 0) return x;
    if (f < 0)
      lo = std::max(lo, x);
    else
      hi = std::min(hi, x);
    const double slope = std::exp(norm_logpdf(x) - log_ndtr(x));
    double next = x - f / slope;
    if (!(slope > 0) || !std::isfinite(next) || next <= lo || next >= hi) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 1e-14 * (1.0 + std::abs(x))) return next;
    x = next;
  }
  return x;
}

/// Quantile q of the standard normal truncated to [a, b].
double truncnorm_ppf(double q, double a, double b) {
  if (q <= 0) return a;
  if (q >= 1) return b;
  const double mass = log_gauss_mass(a, b);
  double x;
  if (a < 0) {
    x = ndtri_exp(log_sum(log_ndtr(a), std::log(q) + mass));
  } else {
    x = -ndtri_exp(log_sum(log_ndtr(-b), std::log1p(-q) + mass));
  }
  return std::clamp(x, a, b);
}

double log_sum_exp(const std::vector<double>& v) {
  double m = -kInf;
  for (double x : v) m = std::max(m, x);
  if (m == -kInf) return -kInf;
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

std::vector<double> cumulative(const std::vector<double>& w) {
  std::vector<double> c(w.size());
  std::partial_sum(w.begin(), w.end(), c.begin());
  return c;
}

/// Mixture weights: default_weights(m) of the observations, then the prior.
std::vector<double> mixture_weights(std::size_t m, double prior_weight) {
  std::vector<double> w = default_weights(static_cast<int>(m));
  w.push_back(prior_weight);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& x : w) x /= total;
  return w;
}

/// A numeric parameter's bounds in the space the estimator works in.
struct Bounds {
  double low, high;  // internal space (log for log params; ±step/2 for linear ints)
  double q;          // grid step for linear ints, 0 otherwise
};

Bounds internal_bounds(const ParamSpec& p) {
  if (p.kind == ParamKind::Int) {
    if (p.log) return {std::log(p.low - 0.5), std::log(p.high + 0.5), 0.0};
    return {p.low - 0.5 * p.step, p.high + 0.5 * p.step, p.step};
  }
  if (p.log) return {std::log(p.low), std::log(p.high), 0.0};
  return {p.low, p.high, 0.0};
}

double to_internal(const ParamSpec& p, double v) { return p.log ? std::log(v) : v; }

/// An internal-space draw back to a value of the parameter's domain.
double to_external(const ParamSpec& p, double x) {
  if (p.kind == ParamKind::Int) {
    double v = p.log ? std::nearbyint(std::exp(x)) : std::nearbyint((x - p.low) / p.step) * p.step + p.low;
    return std::clamp(v, p.low, p.high);
  }
  return std::clamp(p.log ? std::exp(x) : x, p.low, p.high);
}

/// Parzen estimator of one numeric parameter.
class NumericEstimator {
 public:
  NumericEstimator(const std::vector<double>& observations, const Bounds& bounds, const TpeOptions& options)
      : bounds_(bounds) {
    const std::size_t m = observations.size();
    const double range = bounds.high - bounds.low;
    mu_ = observations;
    mu_.push_back(0.5 * (bounds.low + bounds.high));
    const std::size_t k = mu_.size();
    sigma_.assign(k, 0.0);

    std::vector<std::size_t> order(k);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return mu_[i] < mu_[j]; });
    std::vector<double> sorted(k + 2);
    sorted[0] = bounds.low;
    for (std::size_t i = 0; i < k; ++i) sorted[i + 1] = mu_[order[i]];
    sorted[k + 1] = bounds.high;
    std::vector<double> sorted_sigma(k);
    for (std::size_t i = 0; i < k; ++i)
      sorted_sigma[i] = std::max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
    if (!options.consider_endpoints && sorted.size() >= 4) {
      sorted_sigma[0] = sorted[2] - sorted[1];
      sorted_sigma[k - 1] = sorted[k] - sorted[k - 1];
    }
    const double max_sigma = range;
    const double min_sigma =
        options.consider_magic_clip ? range / std::min(100.0, 1.0 + static_cast<double>(k)) : 1e-12;
    for (std::size_t i = 0; i < k; ++i) sigma_[order[i]] = std::clamp(sorted_sigma[i], min_sigma, max_sigma);
    sigma_[m] = range;  // the prior

    log_weight_ = mixture_weights(m, options.prior_weight);
    cumulative_ = cumulative(log_weight_);
    for (double& w : log_weight_) w = std::log(w);
    log_norm_.resize(k);
    for (std::size_t i = 0; i < k; ++i) {
      const double a = (bounds.low - mu_[i]) / sigma_[i];
      const double b = (bounds.high - mu_[i]) / sigma_[i];
      // The truncation mass; plus log σ for a continuous component when
      // normalising (a grid cell's mass is already a probability).
      log_norm_[i] = log_gauss_mass(a, b) + (bounds.q > 0 || !options.normalize_components ? 0.0 : std::log(sigma_[i]));
    }
  }

  /// One draw in internal space.
  double sample(Rng& rng) const {
    const std::size_t i = rng.pick(cumulative_);
    const double a = (bounds_.low - mu_[i]) / sigma_[i];
    const double b = (bounds_.high - mu_[i]) / sigma_[i];
    const double u = rng.uniform();
    return std::clamp(truncnorm_ppf(u, a, b) * sigma_[i] + mu_[i], bounds_.low, bounds_.high);
  }

  /// log density (continuous) or log probability of the grid cell (discrete) at x (internal space).
  double log_pdf(double x) const {
    terms_.resize(mu_.size());
    for (std::size_t i = 0; i < mu_.size(); ++i) {
      double lp;
      if (bounds_.q > 0) {
        const double upper = std::min(x + 0.5 * bounds_.q, bounds_.high);
        const double lower = std::max(x - 0.5 * bounds_.q, bounds_.low);
        lp = log_gauss_mass((lower - mu_[i]) / sigma_[i], (upper - mu_[i]) / sigma_[i]);
      } else {
        lp = (x < bounds_.low || x > bounds_.high) ? -kInf : norm_logpdf((x - mu_[i]) / sigma_[i]);
      }
      terms_[i] = log_weight_[i] + lp - log_norm_[i];
    }
    return log_sum_exp(terms_);
  }

 private:
  Bounds bounds_;
  std::vector<double> mu_, sigma_, log_weight_, cumulative_, log_norm_;
  mutable std::vector<double> terms_;
};

/// Parzen estimator of one categorical parameter: the mixture of the
/// per-observation kernels collapses to one distribution over the choices.
class CategoricalEstimator {
 public:
  CategoricalEstimator(const std::vector<double>& observations, std::size_t n_choices, const TpeOptions& options) {
    const std::size_t m = observations.size();
    const std::vector<double> w = mixture_weights(m, options.prior_weight);
    const double fill = options.prior_weight / static_cast<double>(m + 1);
    std::vector<double> p(n_choices, 0.0);
    for (std::size_t i = 0; i <= m; ++i) {
      const double row_total = fill * static_cast<double>(n_choices) + (i < m ? 1.0 : 0.0);
      for (std::size_t c = 0; c < n_choices; ++c) p[c] += w[i] * fill / row_total;
      if (i < m) {
        const auto c = static_cast<std::size_t>(observations[i]);
        if (c < n_choices) p[c] += w[i] / row_total;
      }
    }
    cumulative_ = cumulative(p);
    log_p_.resize(n_choices);
    for (std::size_t c = 0; c < n_choices; ++c) log_p_[c] = std::log(p[c]);
  }
  double sample(Rng& rng) const { return static_cast<double>(rng.pick(cumulative_)); }
  double log_pdf(double choice) const { return log_p_[static_cast<std::size_t>(choice)]; }

 private:
  std::vector<double> cumulative_, log_p_;
};

double sample_uniform(const ParamSpec& p, Rng& rng) {
  if (p.kind == ParamKind::Categorical) {
    const auto n = p.choices.size();
    return static_cast<double>(std::min(static_cast<std::size_t>(rng.uniform() * static_cast<double>(n)), n - 1));
  }
  if (p.low == p.high) return p.low;
  const Bounds b = internal_bounds(p);
  return to_external(p, rng.uniform(b.low, b.high));
}

}  // namespace

TpeOptions TpeOptions::random_search() {
  TpeOptions o;
  o.n_startup_trials = INT_MAX;
  return o;
}

int default_gamma(int n) { return std::min((n + 9) / 10, 25); }

std::vector<double> default_weights(int n) {
  if (n <= 0) return {};
  if (n < 25) return std::vector<double>(static_cast<std::size_t>(n), 1.0);
  std::vector<double> w;
  w.reserve(static_cast<std::size_t>(n));
  const int ramp = n - 25;
  const double start = 1.0 / n;
  for (int i = 0; i < ramp; ++i)
    w.push_back(ramp == 1 ? start : start + (1.0 - start) * static_cast<double>(i) / static_cast<double>(ramp - 1));
  w.resize(static_cast<std::size_t>(n), 1.0);
  return w;
}

TpeSampler::TpeSampler(TpeOptions options) : options_(options) {}

Params TpeSampler::sample(const SearchSpace& space, Direction direction, std::span<const TrialRecord> history,
                          std::uint64_t seed, std::int64_t number) const {
  Rng rng(seed, static_cast<std::uint64_t>(number));
  Params out;

  // Finished trials in creation order, each with its rank key: Complete
  // (−∞, objective), Pruned (−last step, value there), Pruned without reports
  // (1, 0): Complete trials first, then trials pruned later before earlier.
  const double sign = direction == Direction::Minimize ? 1.0 : -1.0;
  struct Observation {
    const TrialRecord* trial;
    double step_key;
    double score;
  };
  std::vector<Observation> obs;
  for (const TrialRecord& t : history) {
    if (t.state == TrialState::Complete) {
      if (std::isnan(t.value)) continue;
      obs.push_back({&t, -kInf, sign * t.value});
    } else if (t.state == TrialState::Pruned) {
      if (t.intermediate.empty()) {
        obs.push_back({&t, 1.0, 0.0});
      } else {
        const auto& [step, v] = *t.intermediate.rbegin();
        obs.push_back({&t, -static_cast<double>(step), std::isnan(v) ? kInf : sign * v});
      }
    }
  }
  std::stable_sort(obs.begin(), obs.end(),
                   [](const Observation& a, const Observation& b) { return a.trial->number < b.trial->number; });
  const int n = static_cast<int>(obs.size());

  if (n < options_.n_startup_trials) {
    for (const ParamSpec& p : space.params()) out[p.name] = sample_uniform(p, rng);
    return out;
  }

  std::vector<std::size_t> ranked(obs.size());
  std::iota(ranked.begin(), ranked.end(), 0);
  std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t i, std::size_t j) {
    if (obs[i].step_key != obs[j].step_key) return obs[i].step_key < obs[j].step_key;
    return obs[i].score < obs[j].score;
  });
  const auto n_below = static_cast<std::size_t>(default_gamma(n));
  std::vector<bool> is_below(obs.size(), false);
  for (std::size_t r = 0; r < n_below && r < ranked.size(); ++r) is_below[ranked[r]] = true;

  std::vector<double> below, above, log_l(static_cast<std::size_t>(options_.n_ei_candidates));
  std::vector<double> candidates(log_l.size());
  for (const ParamSpec& p : space.params()) {
    if (p.kind != ParamKind::Categorical && p.low == p.high) {
      out[p.name] = p.low;
      continue;
    }
    below.clear();
    above.clear();
    for (std::size_t i = 0; i < obs.size(); ++i) {  // chronological: the weights' ramp depends on it
      const auto it = obs[i].trial->params.find(p.name);
      if (it == obs[i].trial->params.end()) continue;
      const double v = p.kind == ParamKind::Categorical ? it->second : to_internal(p, it->second);
      (is_below[i] ? below : above).push_back(v);
    }

    std::size_t best = 0;
    double best_score = -kInf;
    if (p.kind == ParamKind::Categorical) {
      const CategoricalEstimator l(below, p.choices.size(), options_);
      const CategoricalEstimator g(above, p.choices.size(), options_);
      for (std::size_t c = 0; c < candidates.size(); ++c) {
        candidates[c] = l.sample(rng);
        const double score = l.log_pdf(candidates[c]) - g.log_pdf(candidates[c]);
        if (c == 0 || score > best_score) {
          best_score = score;
          best = c;
        }
      }
      out[p.name] = candidates[best];
      continue;
    }
    const Bounds bounds = internal_bounds(p);
    const NumericEstimator l(below, bounds, options_);
    const NumericEstimator g(above, bounds, options_);
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      candidates[c] = to_external(p, l.sample(rng));
      const double x = to_internal(p, candidates[c]);
      const double score = l.log_pdf(x) - g.log_pdf(x);
      if (c == 0 || score > best_score) {
        best_score = score;
        best = c;
      }
    }
    out[p.name] = candidates[best];
  }
  return out;
}

MedianPruner::MedianPruner(MedianPrunerOptions options) : options_(options) {}

bool MedianPruner::should_prune(Direction direction, const std::map<std::int64_t, double>& intermediate,
                                std::span<const TrialRecord> history) const {
  if (intermediate.empty()) return false;
  std::vector<const TrialRecord*> complete;
  for (const TrialRecord& t : history)
    if (t.state == TrialState::Complete) complete.push_back(&t);
  if (complete.empty() || static_cast<int>(complete.size()) < options_.n_startup_trials) return false;

  const std::int64_t step = intermediate.rbegin()->first;
  const std::int64_t warmup = options_.n_warmup_steps;
  if (step < warmup) return false;
  // Only the first report inside each interval of steps is judged.
  const std::int64_t interval = std::max<std::int64_t>(options_.interval_steps, 1);
  const std::int64_t nearest_lower = (step - warmup) / interval * interval + warmup;
  const std::int64_t second_last = intermediate.size() >= 2 ? std::prev(intermediate.end(), 2)->first : -1;
  if (!(second_last < nearest_lower)) return false;

  double best = kNaN;
  for (const auto& [s, v] : intermediate) {
    if (std::isnan(v)) continue;
    if (std::isnan(best) || (direction == Direction::Minimize ? v < best : v > best)) best = v;
  }
  if (std::isnan(best)) return true;

  std::vector<double> at_step;
  for (const TrialRecord* t : complete) {
    const auto it = t->intermediate.find(step);
    if (it != t->intermediate.end() && !std::isnan(it->second)) at_step.push_back(it->second);
  }
  if (at_step.empty()) return false;
  std::sort(at_step.begin(), at_step.end());
  const std::size_t k = at_step.size();
  const double median = k % 2 == 1 ? at_step[k / 2] : 0.5 * (at_step[k / 2 - 1] + at_step[k / 2]);
  return direction == Direction::Minimize ? best > median : best < median;
}

}  // namespace quant::research
