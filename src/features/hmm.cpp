#include "features/hmm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/random.h"

namespace quant::features {
namespace {

constexpr int kMaxStates = 16;
constexpr double kLog2Pi = 1.8378770664093453;
constexpr int kLloydSteps = 20;

bool finite(const HmmObservation& o) { return std::isfinite(o[0]) && std::isfinite(o[1]); }

// log N(x; mean_k, diag(var_k)) for every state.
void log_emissions(const HmmParams& p, const HmmObservation& x, double* out) {
  for (int k = 0; k < p.states; ++k) {
    double s = 0;
    for (int d = 0; d < kHmmDims; ++d) {
      const double v = p.var(k, d);
      const double diff = x[static_cast<std::size_t>(d)] - p.mu(k, d);
      s += -0.5 * (kLog2Pi + std::log(v) + diff * diff / v);
    }
    out[k] = s;
  }
}

// Emission weights exp(log b − max) per step (T × K) and the per-step max.
void emissions(const HmmParams& p, std::span<const HmmObservation> obs, std::vector<double>& b,
               std::vector<double>& offset) {
  const auto k_count = static_cast<std::size_t>(p.states);
  b.resize(obs.size() * k_count);
  offset.resize(obs.size());
  for (std::size_t t = 0; t < obs.size(); ++t) {
    double* row = &b[t * k_count];
    log_emissions(p, obs[t], row);
    const double m = *std::max_element(row, row + k_count);
    for (std::size_t k = 0; k < k_count; ++k) row[k] = std::exp(row[k] - m);
    offset[t] = m;
  }
}

// Scaled forward pass: alpha (T × K, each row sums to 1), scale c_t; returns the log-likelihood.
double forward(const HmmParams& p, const std::vector<double>& b, const std::vector<double>& offset,
               std::vector<double>& alpha, std::vector<double>& scale) {
  const int k_count = p.states;
  const std::size_t n = offset.size();
  alpha.resize(b.size());
  scale.resize(n);
  double ll = 0;
  for (std::size_t t = 0; t < n; ++t) {
    double* a = &alpha[t * static_cast<std::size_t>(k_count)];
    const double* e = &b[t * static_cast<std::size_t>(k_count)];
    double c = 0;
    for (int j = 0; j < k_count; ++j) {
      double pred = 0;
      if (t == 0) {
        pred = p.initial[static_cast<std::size_t>(j)];
      } else {
        const double* prev = a - k_count;
        for (int i = 0; i < k_count; ++i) pred += prev[i] * p.a(i, j);
      }
      a[j] = pred * e[j];
      c += a[j];
    }
    // c == 0 only when every state the chain can reach has a zero emission
    // weight, impossible after the max shift unless a transition column is all
    // zero; the floor keeps the pass finite in that degenerate case.
    c = std::max(c, std::numeric_limits<double>::min());
    for (int j = 0; j < k_count; ++j) a[j] /= c;
    scale[t] = c;
    ll += std::log(c) + offset[t];
  }
  return ll;
}

Expected<void> validate_config(const HmmFitConfig& c) {
  if (c.states < 1 || c.states > kMaxStates) {
    return make_error("hmm: states must be in [1, " + std::to_string(kMaxStates) + "], got " +
                      std::to_string(c.states));
  }
  if (c.max_iterations < 1) return make_error("hmm: max_iterations must be >= 1");
  if (!(c.tolerance >= 0)) return make_error("hmm: tolerance must be >= 0");
  if (!(c.variance_floor_fraction > 0)) return make_error("hmm: variance_floor_fraction must be > 0");
  return {};
}

// k-means++ seeding and Lloyd steps on standardised data → initial parameters.
HmmParams initialise(std::span<const HmmObservation> obs, const HmmFitConfig& config, const std::array<double, 2>& mean,
                     const std::array<double, 2>& sd, const std::array<double, 2>& floor) {
  const int k_count = config.states;
  const std::size_t n = obs.size();
  QUANT_CHECK(k_count >= 1 && n > 0);  // fit_hmm validated the config and needs >= 10 observations per state
  std::vector<HmmObservation> z(n);
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t d = 0; d < 2; ++d) z[t][d] = (obs[t][d] - mean[d]) / sd[d];
  }
  const auto dist2 = [](const HmmObservation& a, const HmmObservation& b) {
    return (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]);
  };
  SplitMix64 rng(config.seed);
  std::vector<HmmObservation> centres;
  centres.push_back(z[rng.next() % n]);
  std::vector<double> best(n, std::numeric_limits<double>::infinity());
  while (static_cast<int>(centres.size()) < k_count) {
    double total = 0;
    for (std::size_t t = 0; t < n; ++t) {
      best[t] = std::min(best[t], dist2(z[t], centres.back()));
      total += best[t];
    }
    std::size_t pick = rng.next() % n;  // all points coincide: any point
    if (total > 0) {
      const double target = rng.uniform() * total;
      double acc = 0;
      for (std::size_t t = 0; t < n; ++t) {
        acc += best[t];
        if (acc > target) {
          pick = t;
          break;
        }
      }
    }
    centres.push_back(z[pick]);
  }
  std::vector<int> label(n, 0);
  for (int step = 0; step < kLloydSteps; ++step) {
    for (std::size_t t = 0; t < n; ++t) {
      int arg = 0;
      double d_best = dist2(z[t], centres[0]);
      for (int k = 1; k < k_count; ++k) {
        const double d = dist2(z[t], centres[static_cast<std::size_t>(k)]);
        if (d < d_best) {
          d_best = d;
          arg = k;
        }
      }
      label[t] = arg;
    }
    std::vector<HmmObservation> sum(static_cast<std::size_t>(k_count), HmmObservation{0, 0});
    std::vector<double> count(static_cast<std::size_t>(k_count), 0);
    for (std::size_t t = 0; t < n; ++t) {
      const auto k = static_cast<std::size_t>(label[t]);
      sum[k][0] += z[t][0];
      sum[k][1] += z[t][1];
      count[k] += 1;
    }
    for (std::size_t k = 0; k < centres.size(); ++k) {
      if (count[k] > 0) centres[k] = {sum[k][0] / count[k], sum[k][1] / count[k]};  // empty: keep
    }
  }
  HmmParams p;
  p.states = k_count;
  const auto k_size = static_cast<std::size_t>(k_count);
  p.initial.assign(k_size, 1.0 / k_count);
  p.transition.assign(k_size * k_size, k_count == 1 ? 1.0 : 0.1 / (k_count - 1));
  for (int k = 0; k < k_count; ++k) p.transition[hmm_index(k, k, k_count)] = k_count == 1 ? 1.0 : 0.9;
  p.mean.assign(k_size * kHmmDims, 0);
  p.variance.assign(k_size * kHmmDims, 0);
  for (int k = 0; k < k_count; ++k) {
    double count = 0;
    std::array<double, 2> s{0, 0}, s2{0, 0};
    for (std::size_t t = 0; t < n; ++t) {
      if (label[t] != k) continue;
      count += 1;
      for (std::size_t d = 0; d < 2; ++d) {
        s[d] += obs[t][d];
        s2[d] += obs[t][d] * obs[t][d];
      }
    }
    for (std::size_t d = 0; d < 2; ++d) {
      const auto slot = hmm_index(k, static_cast<int>(d), kHmmDims);
      if (count > 0) {
        p.mean[slot] = s[d] / count;
        p.variance[slot] = std::max(s2[d] / count - p.mean[slot] * p.mean[slot], floor[d]);
      } else {
        p.mean[slot] = mean[d];
        p.variance[slot] = std::max(sd[d] * sd[d], floor[d]);
      }
    }
  }
  return p;
}

// Reorders states: ascending volatility mean, then ascending return mean.
HmmParams canonical(const HmmParams& p) {
  std::vector<int> order(static_cast<std::size_t>(p.states));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (p.mu(a, 1) != p.mu(b, 1)) return p.mu(a, 1) < p.mu(b, 1);
    return p.mu(a, 0) < p.mu(b, 0);
  });
  HmmParams q = p;
  const int k_count = p.states;
  for (int i = 0; i < k_count; ++i) {
    const int oi = order[static_cast<std::size_t>(i)];
    q.initial[static_cast<std::size_t>(i)] = p.initial[static_cast<std::size_t>(oi)];
    for (int j = 0; j < k_count; ++j)
      q.transition[hmm_index(i, j, k_count)] = p.a(oi, order[static_cast<std::size_t>(j)]);
    for (int d = 0; d < kHmmDims; ++d) {
      q.mean[hmm_index(i, d, kHmmDims)] = p.mu(oi, d);
      q.variance[hmm_index(i, d, kHmmDims)] = p.var(oi, d);
    }
  }
  return q;
}

}  // namespace

Expected<void> HmmParams::validate() const {
  if (states < 1 || states > kMaxStates) return make_error("hmm params: states must be in [1, 16]");
  const auto k = static_cast<std::size_t>(states);
  if (initial.size() != k) return make_error("hmm params: initial must have " + std::to_string(k) + " entries");
  if (transition.size() != k * k)
    return make_error("hmm params: transition must be " + std::to_string(k) + " x " + std::to_string(k));
  if (mean.size() != k * kHmmDims) return make_error("hmm params: mean must be " + std::to_string(k) + " x 2");
  if (variance.size() != k * kHmmDims) return make_error("hmm params: variance must be " + std::to_string(k) + " x 2");
  const auto check_distribution = [](const double* p, std::size_t n, const std::string& what) -> Expected<void> {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!(p[i] >= 0 && p[i] <= 1)) return make_error("hmm params: " + what + " has a value outside [0, 1]");
      s += p[i];
    }
    if (std::fabs(s - 1) > 1e-6)
      return make_error("hmm params: " + what + " does not sum to 1 (" + std::to_string(s) + ")");
    return {};
  };
  if (auto r = check_distribution(initial.data(), k, "initial"); !r) return r;
  for (std::size_t i = 0; i < k; ++i) {
    if (auto r = check_distribution(&transition[i * k], k, "transition row " + std::to_string(i)); !r) return r;
  }
  for (std::size_t i = 0; i < mean.size(); ++i) {
    if (!std::isfinite(mean[i])) return make_error("hmm params: mean[" + std::to_string(i / 2) + "] is not finite");
    if (!(variance[i] > 0) || !std::isfinite(variance[i])) {
      return make_error("hmm params: variance[" + std::to_string(i / 2) + "] must be finite and > 0");
    }
  }
  return {};
}

nlohmann::json HmmParams::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["states"] = states;
  j["initial"] = initial;
  nlohmann::json rows = nlohmann::json::array(), means = nlohmann::json::array(), vars = nlohmann::json::array();
  for (int i = 0; i < states; ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (int k = 0; k < states; ++k) row.push_back(a(i, k));
    rows.push_back(row);
    means.push_back({mu(i, 0), mu(i, 1)});
    vars.push_back({var(i, 0), var(i, 1)});
  }
  j["transition"] = rows;
  j["mean"] = means;
  j["variance"] = vars;
  return j;
}

Expected<HmmParams> HmmParams::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("hmm params: expected a JSON object");
  HmmParams p;
  try {
    p.states = j.at("states").get<int>();
    p.initial = j.at("initial").get<std::vector<double>>();
    for (const char* key : {"transition", "mean", "variance"}) {
      const auto rows = j.at(key).get<std::vector<std::vector<double>>>();
      auto& out = std::string(key) == "transition" ? p.transition : std::string(key) == "mean" ? p.mean : p.variance;
      const std::size_t width = std::string(key) == "transition" ? static_cast<std::size_t>(std::max(p.states, 0)) : 2;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].size() != width) {
          return make_error("hmm params: " + std::string(key) + "[" + std::to_string(r) + "] must have " +
                            std::to_string(width) + " entries");
        }
        out.insert(out.end(), rows[r].begin(), rows[r].end());
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("hmm params: ") + e.what());
  }
  if (auto r = p.validate(); !r) return tl::unexpected(r.error());
  return p;
}

double hmm_log_likelihood(const HmmParams& params, std::span<const HmmObservation> observations) {
  std::vector<double> b, offset, alpha, scale;
  emissions(params, observations, b, offset);
  return forward(params, b, offset, alpha, scale);
}

Expected<HmmFitResult> fit_hmm(std::span<const HmmObservation> obs, const HmmFitConfig& config) {
  if (auto r = validate_config(config); !r) return tl::unexpected(r.error());
  const std::size_t n = obs.size();
  const int k_count = config.states;
  const auto kk = static_cast<std::size_t>(k_count);
  if (n < 10 * kk) {
    return make_error("hmm: " + std::to_string(n) + " observations are too few for " + std::to_string(k_count) +
                      " states (need >= " + std::to_string(10 * kk) + ")");
  }
  std::array<double, 2> mean{0, 0}, sd{0, 0}, floor{0, 0};
  for (std::size_t t = 0; t < n; ++t) {
    if (!finite(obs[t])) return make_error("hmm: observation " + std::to_string(t) + " is not finite");
    mean[0] += obs[t][0];
    mean[1] += obs[t][1];
  }
  for (auto& m : mean) m /= static_cast<double>(n);
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t d = 0; d < 2; ++d) sd[d] += (obs[t][d] - mean[d]) * (obs[t][d] - mean[d]);
  }
  for (std::size_t d = 0; d < 2; ++d) {
    const double var = sd[d] / static_cast<double>(n);
    floor[d] = std::max(config.variance_floor_fraction * var, 1e-300);
    sd[d] = var > 0 ? std::sqrt(var) : 1.0;
  }

  HmmFitResult result;
  HmmParams p = initialise(obs, config, mean, sd, floor);
  std::vector<double> b, offset, alpha, scale, beta(n * kk), xi(kk * kk), gamma_sum(kk), gamma_from(kk);
  for (int iteration = 0;; ++iteration) {
    emissions(p, obs, b, offset);
    const double ll = forward(p, b, offset, alpha, scale);
    if (!result.log_likelihood.empty()) {
      const double previous = result.log_likelihood.back();
      result.log_likelihood.push_back(ll);
      if (ll - previous < config.tolerance * (1 + std::fabs(ll))) {
        result.converged = true;
        break;
      }
    } else {
      result.log_likelihood.push_back(ll);
    }
    if (config.on_iteration) config.on_iteration(iteration + 1, config.max_iterations);
    if (iteration == config.max_iterations) break;

    // Backward pass with the forward scales: beta_t(i) = Σ_j A_ij b_{t+1}(j) beta_{t+1}(j) / c_{t+1}.
    std::fill(beta.end() - static_cast<std::ptrdiff_t>(kk), beta.end(), 1.0);
    for (std::size_t t = n - 1; t-- > 0;) {
      for (int i = 0; i < k_count; ++i) {
        double s = 0;
        for (int j = 0; j < k_count; ++j)
          s += p.a(i, j) * b[(t + 1) * kk + static_cast<std::size_t>(j)] *
               beta[(t + 1) * kk + static_cast<std::size_t>(j)];
        beta[t * kk + static_cast<std::size_t>(i)] = s / scale[t + 1];
      }
    }
    // Expected counts. With this scaling gamma_t(i) = alpha_t(i) beta_t(i).
    std::fill(xi.begin(), xi.end(), 0.0);
    std::fill(gamma_sum.begin(), gamma_sum.end(), 0.0);
    std::fill(gamma_from.begin(), gamma_from.end(), 0.0);
    std::vector<std::array<double, 2>> weighted(kk, {0, 0});
    for (std::size_t t = 0; t < n; ++t) {
      for (std::size_t i = 0; i < kk; ++i) {
        const double g = alpha[t * kk + i] * beta[t * kk + i];
        gamma_sum[i] += g;
        weighted[i][0] += g * obs[t][0];
        weighted[i][1] += g * obs[t][1];
        if (t + 1 < n) {
          gamma_from[i] += g;
          const double ai = alpha[t * kk + i] / scale[t + 1];
          for (std::size_t j = 0; j < kk; ++j) {
            xi[i * kk + j] += ai * p.transition[i * kk + j] * b[(t + 1) * kk + j] * beta[(t + 1) * kk + j];
          }
        }
      }
    }
    // M step. A state with (numerically) no weight keeps its parameters.
    for (std::size_t i = 0; i < kk; ++i) p.initial[i] = alpha[i] * beta[i];
    const double initial_sum = std::accumulate(p.initial.begin(), p.initial.end(), 0.0);
    for (auto& v : p.initial) v /= initial_sum;
    for (std::size_t i = 0; i < kk; ++i) {
      double row = 0;
      for (std::size_t j = 0; j < kk; ++j) row += xi[i * kk + j];
      if (row > 0) {
        for (std::size_t j = 0; j < kk; ++j) p.transition[i * kk + j] = xi[i * kk + j] / row;
      }
      if (!(gamma_sum[i] > 1e-12)) continue;
      for (std::size_t d = 0; d < 2; ++d) p.mean[i * 2 + d] = weighted[i][d] / gamma_sum[i];
      std::array<double, 2> v{0, 0};
      for (std::size_t t = 0; t < n; ++t) {
        const double g = alpha[t * kk + i] * beta[t * kk + i];
        for (std::size_t d = 0; d < 2; ++d) {
          const double diff = obs[t][d] - p.mean[i * 2 + d];
          v[d] += g * diff * diff;
        }
      }
      for (std::size_t d = 0; d < 2; ++d) p.variance[i * 2 + d] = std::max(v[d] / gamma_sum[i], floor[d]);
    }
    result.iterations = iteration + 1;
  }
  result.params = canonical(p);
  return result;
}

HmmFilter::HmmFilter(HmmParams params) : params_(std::move(params)) {
  QUANT_CHECK(params_.validate().has_value());
  const auto k = static_cast<std::size_t>(params_.states);
  log_norm_.resize(k);
  inv_var_.resize(k * kHmmDims);
  for (std::size_t i = 0; i < k; ++i) {
    log_norm_[i] = 0;
    for (std::size_t d = 0; d < kHmmDims; ++d) {
      const double v = params_.variance[i * kHmmDims + d];
      log_norm_[i] += -0.5 * (kLog2Pi + std::log(v));
      inv_var_[i * kHmmDims + d] = -0.5 / v;
    }
  }
  probabilities_ = params_.initial;
  predicted_.resize(k);
  log_emission_.resize(k);
}

std::span<const double> HmmFilter::update(const HmmObservation& observation) {
  if (!finite(observation)) return probabilities_;
  const int k_count = params_.states;
  const auto kk = static_cast<std::size_t>(k_count);
  if (started_) {
    for (std::size_t j = 0; j < kk; ++j) {
      double s = 0;
      for (std::size_t i = 0; i < kk; ++i) s += probabilities_[i] * params_.transition[i * kk + j];
      predicted_[j] = s;
    }
  } else {
    std::copy(params_.initial.begin(), params_.initial.end(), predicted_.begin());
  }
  double m = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < kk; ++k) {
    const double d0 = observation[0] - params_.mean[k * 2];
    const double d1 = observation[1] - params_.mean[k * 2 + 1];
    const double le = log_norm_[k] + inv_var_[k * 2] * d0 * d0 + inv_var_[k * 2 + 1] * d1 * d1;
    log_emission_[k] = le;
    m = std::max(m, le);
  }
  double sum = 0;
  for (std::size_t k = 0; k < kk; ++k) {
    probabilities_[k] = predicted_[k] * std::exp(log_emission_[k] - m);
    sum += probabilities_[k];
  }
  if (sum > 0) {
    for (auto& p : probabilities_) p /= sum;
  } else {
    // Only states the chain cannot reach had weight: keep the prediction.
    double s = 0;
    for (double p : predicted_) s += p;
    for (std::size_t k = 0; k < kk; ++k) probabilities_[k] = s > 0 ? predicted_[k] / s : 1.0 / k_count;
  }
  started_ = true;
  return probabilities_;
}

int HmmFilter::most_probable() const {
  return static_cast<int>(std::max_element(probabilities_.begin(), probabilities_.end()) - probabilities_.begin());
}

void HmmFilter::reset() {
  probabilities_ = params_.initial;
  started_ = false;
}

Expected<HmmRegimeGate> HmmRegimeGate::create(const HmmGateConfig& config, int states) {
  if (!(config.min_probability >= 0 && config.min_probability <= 1)) {
    return make_error("hmm gate: min_probability must be in [0, 1], got " + std::to_string(config.min_probability));
  }
  if (config.allowed_states.empty())
    return make_error("hmm gate: allowed_states is empty (every entry would be blocked)");
  std::uint64_t mask = 0;
  for (int s : config.allowed_states) {
    if (s < 0 || s >= states) {
      return make_error("hmm gate: allowed state " + std::to_string(s) + " is outside [0, " + std::to_string(states) +
                        ")");
    }
    mask |= std::uint64_t{1} << s;
  }
  return HmmRegimeGate(mask, config.min_probability);
}

bool HmmRegimeGate::allow(std::span<const double> probabilities) const {
  if (probabilities.empty()) return false;
  const auto best = std::max_element(probabilities.begin(), probabilities.end());
  const auto state = static_cast<std::size_t>(best - probabilities.begin());
  return state < 64 && ((allowed_mask_ >> state) & 1u) != 0 && *best >= min_probability_;
}

}  // namespace quant::features
