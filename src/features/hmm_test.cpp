#include "features/hmm.h"

#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "core/random.h"
#include "features/feature_pipeline.h"

namespace quant::features {
namespace {

// Deterministic generator for the synthetic regimes.
using Rng = quant::SplitMix64;

struct Regimes {
  std::vector<Bar> bars;
  std::vector<int> regime;  // true regime of each bar (0 calm … 2 wild)
};

// Three regimes with different volatility and drift, Markov switching (stay
// 0.99: mean stretch 100 bars), prices from log returns.
Regimes generate_regimes(std::size_t n, std::uint64_t seed) {
  const double drift[3] = {0.00005, 0.0003, -0.0004};
  const double vol[3] = {0.0004, 0.0010, 0.0025};
  Rng rng(seed);
  Regimes out;
  int state = 0;
  double log_price = std::log(100000.0);
  for (std::size_t t = 0; t < n; ++t) {
    if (rng.uniform() >= 0.99) state = (state + 1 + static_cast<int>(rng.next() % 2)) % 3;
    log_price += drift[state] + vol[state] * rng.normal();
    Bar b;
    b.ts = from_epoch_ns(0) + std::chrono::minutes(static_cast<long>(t));
    b.open = b.high = b.low = b.close = std::exp(log_price);
    out.bars.push_back(b);
    out.regime.push_back(state);
  }
  return out;
}

constexpr int kWindow = 10;

TEST(HmmTest, RecoversKnownRegimesByForwardFiltering) {
  const Regimes data = generate_regimes(20000, 7);
  const auto obs = hmm_observations(data.bars, kWindow);
  ASSERT_EQ(obs.size(), data.bars.size() - kWindow);
  HmmFitConfig config;
  config.states = 3;
  const auto fit = fit_hmm(obs, config);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;
  std::printf("[ hmm ] Baum-Welch: %d iterations, converged %d, log-likelihood %.3f -> %.3f\n", fit->iterations,
              fit->converged, fit->log_likelihood.front(), fit->log_likelihood.back());

  // EM never lowers the likelihood (tiny slack for rounding).
  for (std::size_t i = 1; i < fit->log_likelihood.size(); ++i) {
    EXPECT_GE(fit->log_likelihood[i], fit->log_likelihood[i - 1] - 1e-9 * std::fabs(fit->log_likelihood[i - 1]))
        << "iteration " << i;
  }
  EXPECT_NEAR(fit->log_likelihood.back(), hmm_log_likelihood(fit->params, obs),
              1e-6 * std::fabs(fit->log_likelihood.back()));

  // Canonical order: ascending volatility mean.
  for (int k = 1; k < 3; ++k) EXPECT_LT(fit->params.mu(k - 1, 1), fit->params.mu(k, 1));

  HmmFilter filter(fit->params);
  std::size_t hits = 0;
  for (std::size_t t = 0; t < obs.size(); ++t) {
    filter.update(obs[t]);
    hits += filter.most_probable() == data.regime[t + kWindow];
  }
  const double accuracy = static_cast<double>(hits) / static_cast<double>(obs.size());
  std::printf("[ hmm ] filtered argmax accuracy vs true regime: %.4f over %zu observations\n", accuracy, obs.size());
  EXPECT_GE(accuracy, 0.8);
}

TEST(HmmTest, FitIsDeterministic) {
  const Regimes data = generate_regimes(3000, 11);
  const auto obs = hmm_observations(data.bars, kWindow);
  HmmFitConfig config;
  const auto a = fit_hmm(obs, config);
  const auto b = fit_hmm(obs, config);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->params.to_json().dump(), b->params.to_json().dump());
  EXPECT_EQ(a->log_likelihood, b->log_likelihood);
}

TEST(HmmTest, FitRejectsBadInput) {
  std::vector<HmmObservation> obs(100, HmmObservation{0.001, 0.01});
  HmmFitConfig config;
  config.states = 0;
  EXPECT_FALSE(fit_hmm(obs, config).has_value());
  config.states = 20;
  EXPECT_FALSE(fit_hmm(obs, config).has_value());
  config.states = 3;
  EXPECT_FALSE(fit_hmm(std::span(obs).first(20), config).has_value());
  obs[42][1] = std::nan("");
  const auto r = fit_hmm(obs, config);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("observation 42"), std::string::npos) << r.error().message;
}

TEST(HmmTest, ConstantDataDoesNotBreakTheFit) {
  const std::vector<HmmObservation> obs(200, HmmObservation{0.0, 0.001});
  HmmFitConfig config;
  const auto fit = fit_hmm(obs, config);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;
  EXPECT_TRUE(fit->params.validate().has_value());
  EXPECT_TRUE(std::isfinite(fit->log_likelihood.back()));
}

HmmParams two_states() {
  HmmParams p;
  p.states = 2;
  p.initial = {0.5, 0.5};
  p.transition = {0.95, 0.05, 0.1, 0.9};
  p.mean = {0.0, 0.001, 0.0, 0.004};
  p.variance = {1e-6, 1e-7, 4e-6, 1e-6};
  return p;
}

TEST(HmmTest, JsonRoundTripAndValidation) {
  const HmmParams p = two_states();
  const auto j = p.to_json();
  EXPECT_EQ(j["transition"][1][0], 0.1);
  const auto q = HmmParams::from_json(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->to_json(), j);
  EXPECT_EQ(q->transition, p.transition);
  EXPECT_EQ(q->variance, p.variance);

  auto bad = j;
  bad["transition"][0] = {0.5, 0.4};
  auto r = HmmParams::from_json(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("transition row 0"), std::string::npos) << r.error().message;
  bad = j;
  bad["variance"][1][0] = 0.0;
  EXPECT_FALSE(HmmParams::from_json(bad).has_value());
  bad = j;
  bad["mean"][1] = {1.0};
  EXPECT_FALSE(HmmParams::from_json(bad).has_value());
  bad = j;
  bad.erase("initial");
  EXPECT_FALSE(HmmParams::from_json(bad).has_value());
}

TEST(HmmTest, FilterMatchesHandComputedForwardStep) {
  const HmmParams p = two_states();
  HmmFilter filter(p);
  const HmmObservation x{0.0005, 0.0035};
  const auto density = [&](int k) {
    double s = 1;
    for (int d = 0; d < 2; ++d) {
      const double diff = x[static_cast<std::size_t>(d)] - p.mu(k, d);
      s *= std::exp(-0.5 * diff * diff / p.var(k, d)) / std::sqrt(2 * std::numbers::pi * p.var(k, d));
    }
    return s;
  };
  auto prob = filter.update(x);
  double a0 = 0.5 * density(0), a1 = 0.5 * density(1);
  EXPECT_NEAR(prob[0], a0 / (a0 + a1), 1e-12);
  prob = filter.update(x);
  const double b0 = ((a0 * 0.95 + a1 * 0.1) / (a0 + a1)) * density(0);
  const double b1 = ((a0 * 0.05 + a1 * 0.9) / (a0 + a1)) * density(1);
  EXPECT_NEAR(prob[1], b1 / (b0 + b1), 1e-12);
  EXPECT_EQ(filter.most_probable(), 1);
  // A non-finite observation is skipped; a far outlier keeps probabilities finite.
  const std::vector<double> before(prob.begin(), prob.end());
  prob = filter.update({std::nan(""), 0.0});
  EXPECT_EQ(std::vector<double>(prob.begin(), prob.end()), before);
  prob = filter.update({5.0, 5.0});
  EXPECT_TRUE(std::isfinite(prob[0]) && std::isfinite(prob[1]));
  EXPECT_NEAR(prob[0] + prob[1], 1.0, 1e-12);
}

TEST(HmmTest, RegimeGateAllowsOnlyConfidentAllowedStates) {
  auto gate = HmmRegimeGate::create({{0, 1}, 0.6}, 3);
  ASSERT_TRUE(gate.has_value());
  const std::vector<double> calm = {0.7, 0.2, 0.1}, unsure = {0.5, 0.3, 0.2}, wild = {0.1, 0.2, 0.7};
  EXPECT_TRUE(gate->allow(calm));
  EXPECT_FALSE(gate->allow(unsure));
  EXPECT_FALSE(gate->allow(wild));
  EXPECT_FALSE(gate->allow(std::span<const double>{}));
  EXPECT_FALSE(HmmRegimeGate::create({{3}, 0.5}, 3).has_value());
  EXPECT_FALSE(HmmRegimeGate::create({{0}, 1.5}, 3).has_value());
  EXPECT_FALSE(HmmRegimeGate::create({{}, 0.5}, 3).has_value());
}

}  // namespace
}  // namespace quant::features
