#include "research/overfitting.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/random.h"

// Expected values marked "scipy" come from tests/research/overfitting_reference.py, an
// independent implementation (scipy's norm, skew, kurtosis and rankdata; CSCV as a plain
// loop over itertools.combinations), printed by:
//   /usr/bin/python3 tests/research/overfitting_reference.py
// (Debian 12, python3-scipy 1.10.1). Its series come from the same 32-bit LCG as
// `lcg_returns` below, so both languages see bit-identical returns.

namespace quant::research {
namespace {

double relative_error(double actual, double expected) {
  return std::fabs(actual - expected) / std::max(std::fabs(expected), 1e-300);
}

std::vector<double> lcg_returns(std::uint64_t seed, std::size_t count, double drift) {
  std::vector<double> out;
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < count; ++i) {
    x = (1664525 * x + 1013904223) % (std::uint64_t{1} << 32);
    const auto k = static_cast<std::int64_t>((x >> 8) % 2001) - 1000;
    out.push_back(static_cast<double>(k) / 100000.0 + drift);
  }
  return out;
}

// Trial-major storage from columns.
std::vector<double> join(const std::vector<std::vector<double>>& columns) {
  std::vector<double> values;
  for (const auto& c : columns) values.insert(values.end(), c.begin(), c.end());
  return values;
}

std::vector<std::vector<double>> noise(SplitMix64& rng, std::size_t periods, std::size_t trials, double sd) {
  std::vector<std::vector<double>> columns(trials, std::vector<double>(periods));
  for (auto& c : columns)
    for (double& v : c) v = sd * rng.normal();
  return columns;
}

PboResult pbo_of(const std::vector<std::vector<double>>& columns, PboConfig config = {}) {
  const std::vector<double> values = join(columns);
  auto r = probability_of_backtest_overfitting({values, columns.front().size(), columns.size()}, config);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r.value_or(PboResult{});
}

// ---------------------------------------------------------------- Φ and Φ⁻¹

TEST(NormalQuantileTest, MatchesKnownQuantiles) {
  EXPECT_LT(relative_error(normal_quantile(0.975), 1.959963984540054), 1e-14);
  EXPECT_LT(relative_error(normal_quantile(0.999), 3.090232306167813), 1e-14);
  EXPECT_LT(relative_error(normal_quantile(0.3), -0.5244005127080409), 1e-14);      // scipy
  EXPECT_LT(relative_error(normal_quantile(1e-10), -6.361340902404056), 1e-14);     // scipy
  EXPECT_LT(relative_error(normal_quantile(1 - 1e-10), 6.361340889697422), 1e-14);  // scipy, same double
  EXPECT_LT(relative_error(normal_quantile(1e-300), -37.0470962993612), 1e-14);     // scipy
  EXPECT_EQ(normal_quantile(0.5), 0.0);
}

TEST(NormalQuantileTest, EndsAndOutsideTheUnitInterval) {
  EXPECT_EQ(normal_quantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile(1.0), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(normal_quantile(-0.1)));
  EXPECT_TRUE(std::isnan(normal_quantile(1.5)));
  EXPECT_TRUE(std::isnan(normal_quantile(std::numeric_limits<double>::quiet_NaN())));
}

TEST(NormalQuantileTest, InvertsTheCdfFromFarTailToCentre) {
  for (int k = 1; k <= 600; ++k) {  // p = 10^-0.5 down to 10^-300
    const double p = std::pow(10.0, -0.5 * k);
    EXPECT_LT(relative_error(normal_cdf(normal_quantile(p)), p), 1e-12) << p;
  }
  for (double p : {0.01, 0.1, 0.25, 0.4, 0.49})
    EXPECT_NEAR(normal_quantile(p), -normal_quantile(1 - p), 1e-15 * (1 + std::fabs(normal_quantile(p))));
}

TEST(NormalCdfTest, MatchesScipyIncludingTheFarTail) {
  EXPECT_LT(relative_error(normal_cdf(-1.0), 0.15865525393145707), 1e-14);      // scipy
  EXPECT_LT(relative_error(normal_cdf(2.5), 0.9937903346742238), 1e-14);        // scipy
  EXPECT_LT(relative_error(normal_cdf(-9.0), 1.1285884059538324e-19), 1e-13);   // scipy
  EXPECT_LT(relative_error(normal_cdf(-37.5), 4.605353009581954e-308), 1e-12);  // scipy
  EXPECT_EQ(normal_cdf(0.0), 0.5);
}

// ---------------------------------------------------------------- moments, PSR, DSR

TEST(ReturnMomentsTest, MatchScipyOnAnLcgSeries) {
  const auto r = lcg_returns(7, 500, 0.0004);
  const auto m = return_moments(r).value();
  EXPECT_EQ(m.n, 500u);
  EXPECT_LT(relative_error(m.mean, 0.00035418), 1e-12);             // scipy
  EXPECT_LT(relative_error(m.sd, 0.00595443247167347), 1e-12);      // scipy, ddof = 1
  EXPECT_LT(relative_error(m.skew, 0.01080918228376372), 1e-9);     // scipy.stats.skew
  EXPECT_LT(relative_error(m.kurtosis, 1.702643122484447), 1e-12);  // scipy.stats.kurtosis(fisher=False)
  EXPECT_LT(relative_error(m.sharpe, 0.05948173930679561), 1e-12);
  EXPECT_DOUBLE_EQ(sharpe_ratio(r).value(), m.sharpe);
}

TEST(ReturnMomentsTest, NormalReturnsHaveKurtosisNearThree) {
  SplitMix64 rng(11);
  std::vector<double> r(200000);
  for (double& v : r) v = 0.001 + 0.01 * rng.normal();
  const auto m = return_moments(r).value();
  EXPECT_NEAR(m.skew, 0.0, 0.03);
  EXPECT_NEAR(m.kurtosis, 3.0, 0.05);
  EXPECT_NEAR(m.sharpe, 0.1, 0.01);
}

TEST(ReturnMomentsTest, DegenerateSeriesAreErrors) {
  EXPECT_FALSE(return_moments(std::vector<double>{}).has_value());
  EXPECT_FALSE(return_moments(std::vector<double>{0.01}).has_value());
  EXPECT_FALSE(return_moments(std::vector<double>(50, 0.0)).has_value());
  // 0.1 is not exact in binary: the mean differs from the values by rounding only.
  const auto constant = return_moments(std::vector<double>(1000, 0.1));
  ASSERT_FALSE(constant.has_value());
  EXPECT_NE(constant.error().message.find("do not vary"), std::string::npos) << constant.error().message;
  EXPECT_FALSE(return_moments(std::vector<double>{0.01, std::numeric_limits<double>::quiet_NaN()}).has_value());
  EXPECT_FALSE(sharpe_ratio(std::vector<double>{0.01}).has_value());
  EXPECT_FALSE(probabilistic_sharpe_ratio(std::vector<double>(10, 0.0), 0.0).has_value());
}

TEST(ProbabilisticSharpeTest, MatchesScipyOnAnLcgSeries) {
  const auto r = lcg_returns(7, 500, 0.0004);
  EXPECT_LT(relative_error(probabilistic_sharpe_ratio(r, 0.0).value(), 0.9080324015788304), 1e-11);   // scipy
  EXPECT_LT(relative_error(probabilistic_sharpe_ratio(r, 0.05).value(), 0.5838716970755082), 1e-11);  // scipy
}

TEST(ProbabilisticSharpeTest, IsOneHalfAtItsOwnSharpeAndFallsWithTheBenchmark) {
  const auto m = return_moments(lcg_returns(3, 300, 0.001)).value();
  EXPECT_DOUBLE_EQ(probabilistic_sharpe_ratio(m, m.sharpe).value(), 0.5);
  double previous = 1.0;
  for (int k = -6; k <= 10; ++k) {
    const double benchmark = 0.05 * k;
    const double psr = probabilistic_sharpe_ratio(m, benchmark).value();
    EXPECT_LT(psr, previous);
    previous = psr;
  }
}

TEST(ProbabilisticSharpeTest, NegativeSkewAndFatTailsLowerConfidence) {
  const ReturnMoments normal{1000, 0, 0, 0.08, 0.0, 3.0};
  const ReturnMoments skewed{1000, 0, 0, 0.08, -3.0, 10.0};
  EXPECT_GT(probabilistic_sharpe_ratio(normal, 0).value(), probabilistic_sharpe_ratio(skewed, 0).value());
}

TEST(ProbabilisticSharpeTest, ImpossibleMomentsAndShortSeriesAreErrors) {
  // γ4 < 1 + γ3² (here excess kurtosis passed as raw): 1 − 3·1 + (0 − 1)/4 < 0.
  const auto bad = probabilistic_sharpe_ratio(ReturnMoments{100, 0, 0, 1.0, 3.0, 0.0}, 0.0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("not positive"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(probabilistic_sharpe_ratio(ReturnMoments{1, 0, 0, 0.1, 0, 3}, 0.0).has_value());
  EXPECT_FALSE(probabilistic_sharpe_ratio(ReturnMoments{100, 0, 0, std::numeric_limits<double>::quiet_NaN(), 0, 3}, 0.0)
                   .has_value());
}

TEST(ExpectedMaximumSharpeTest, MatchesScipyAndTheEdgeCases) {
  EXPECT_LT(relative_error(expected_maximum_sharpe(2, 1.0).value(), 0.5197553442805939), 1e-13);       // scipy
  EXPECT_LT(relative_error(expected_maximum_sharpe(1000, 0.01).value(), 0.32551215136527234), 1e-13);  // scipy
  EXPECT_EQ(expected_maximum_sharpe(1, 0.5).value(), 0.0);
  EXPECT_EQ(expected_maximum_sharpe(50, 0.0).value(), 0.0);
  EXPECT_FALSE(expected_maximum_sharpe(0, 0.5).has_value());
  EXPECT_FALSE(expected_maximum_sharpe(10, -0.1).has_value());
  EXPECT_FALSE(expected_maximum_sharpe(10, std::numeric_limits<double>::infinity()).has_value());
}

TEST(ExpectedMaximumSharpeTest, GrowsWithTrialsAndScalesWithTheSpread) {
  double previous = 0;
  for (std::size_t n : {2u, 5u, 10u, 100u, 1000u, 100000u}) {
    const double sr0 = expected_maximum_sharpe(n, 1.0).value();
    EXPECT_GT(sr0, previous);
    previous = sr0;
    EXPECT_NEAR(expected_maximum_sharpe(n, 4.0).value(), 2 * sr0, 1e-12);
  }
}

TEST(ExpectedMaximumSharpeTest, ApproximatesTheSimulatedMaximumOfNormalSharpes) {
  // The formula approximates E[max of N iid N(0, V)] (the paper's "N >> 1").
  SplitMix64 rng(5);
  const std::size_t trials = 100, draws = 20000;
  double total = 0;
  for (std::size_t d = 0; d < draws; ++d) {
    double best = -1e300;
    for (std::size_t n = 0; n < trials; ++n) best = std::max(best, 0.1 * rng.normal());
    total += best;
  }
  EXPECT_NEAR(expected_maximum_sharpe(trials, 0.01).value(), total / static_cast<double>(draws), 0.005);
}

// Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", numerical example: annualised
// SR 2.5 over 5 years of daily returns (T = 1250, 250 days a year), skewness −3, kurtosis 10,
// N = 100 trials whose annualised Sharpe ratios have variance 1/2. The paper reports
// SR0 ≈ 0.1132 per day and DSR ≈ 0.9004.
TEST(DeflatedSharpeTest, ReproducesThePapersExample) {
  const ReturnMoments m{1250, 0, 0, 2.5 / std::sqrt(250.0), -3.0, 10.0};
  const auto d = deflated_sharpe_ratio(m, 100, 0.5 / 250).value();
  EXPECT_NEAR(d.expected_maximum_sharpe, 0.1132, 5e-5);
  EXPECT_NEAR(d.deflated_sharpe, 0.9004, 5e-5);
  EXPECT_LT(relative_error(d.expected_maximum_sharpe, 0.11317200186513214), 1e-13);  // scipy
  EXPECT_LT(relative_error(d.deflated_sharpe, 0.9003968344493903), 1e-12);           // scipy
  EXPECT_EQ(d.trials, 100u);
  EXPECT_EQ(d.moments.n, 1250u);
}

TEST(DeflatedSharpeTest, OfAReturnSeriesMatchesScipy) {
  const auto d = deflated_sharpe_ratio(lcg_returns(7, 500, 0.0004), 20, 0.002).value();
  EXPECT_LT(relative_error(d.deflated_sharpe, 0.28430799014460917), 1e-10);  // scipy
}

TEST(DeflatedSharpeTest, OneTrialIsThePsrAgainstZeroAndMoreTrialsDeflate) {
  const auto m = return_moments(lcg_returns(9, 750, 0.0005)).value();
  EXPECT_DOUBLE_EQ(deflated_sharpe_ratio(m, 1, 0.003).value().deflated_sharpe,
                   probabilistic_sharpe_ratio(m, 0.0).value());
  EXPECT_GT(deflated_sharpe_ratio(m, 10, 0.003).value().deflated_sharpe,
            deflated_sharpe_ratio(m, 1000, 0.003).value().deflated_sharpe);
  EXPECT_FALSE(deflated_sharpe_ratio(m, 0, 0.003).has_value());
  EXPECT_FALSE(deflated_sharpe_ratio(std::vector<double>{0.01}, 5, 0.003).has_value());
}

TEST(SharpeVarianceTest, IsTheSampleVariance) {
  EXPECT_DOUBLE_EQ(sharpe_variance(std::vector<double>{0.1, 0.2, 0.3}).value(), 0.01);
  EXPECT_FALSE(sharpe_variance(std::vector<double>{0.1}).has_value());
  EXPECT_FALSE(sharpe_variance(std::vector<double>{0.1, std::numeric_limits<double>::infinity()}).has_value());
}

// ---------------------------------------------------------------- PBO (CSCV)

// An independent, slow CSCV: the rows of each half gathered explicitly, two-pass Sharpe
// ratios, ranks by counting. Subsets in lexicographic order, as the fast one.
struct Reference {
  std::vector<double> logits, is_sharpe, oos_sharpe;
  double pbo = 0;
};

double two_pass_sharpe(const std::vector<double>& x) {
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
  double squares = 0;
  for (double v : x) squares += (v - mean) * (v - mean);
  const double sd = std::sqrt(squares / static_cast<double>(x.size() - 1));
  return sd == 0 ? 0.0 : mean / sd;
}

Reference brute_force(const std::vector<std::vector<double>>& columns, std::size_t blocks) {
  const std::size_t periods = columns.front().size(), trials = columns.size();
  const std::size_t rows = periods / blocks, skip = periods - rows * blocks;
  Reference ref;
  std::size_t overfit = 0;
  for (unsigned mask = 0; mask < (1u << blocks); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != blocks / 2) continue;
    std::vector<double> is(trials), oos(trials);
    for (std::size_t n = 0; n < trials; ++n) {
      std::vector<double> a, b;
      for (std::size_t blk = 0; blk < blocks; ++blk)
        for (std::size_t t = skip + blk * rows; t < skip + (blk + 1) * rows; ++t)
          ((mask >> blk) & 1u ? a : b).push_back(columns[n][t]);
      is[n] = two_pass_sharpe(a);
      oos[n] = two_pass_sharpe(b);
    }
    std::size_t best = 0;
    for (std::size_t n = 1; n < trials; ++n)
      if (is[n] > is[best] || (is[n] == is[best] && oos[n] < oos[best])) best = n;
    double rank = 0;
    std::size_t ties = 0;
    for (std::size_t n = 0; n < trials; ++n) {
      if (oos[n] < oos[best]) rank += 1;
      if (oos[n] == oos[best]) ++ties;
    }
    rank += (static_cast<double>(ties) + 1) / 2;
    const double w = rank / static_cast<double>(trials + 1);
    ref.logits.push_back(std::log(w / (1 - w)));
    ref.is_sharpe.push_back(is[best]);
    ref.oos_sharpe.push_back(oos[best]);
    if (w <= 0.5) ++overfit;
  }
  ref.pbo = static_cast<double>(overfit) / static_cast<double>(ref.logits.size());
  return ref;
}

// Bit masks in increasing order are not lexicographic subsets: compare as multisets.
void expect_same_multiset(std::vector<double> a, std::vector<double> b, double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tolerance) << i;
}

TEST(PboTest, SmallCaseMatchesScipyCombinationByCombination) {
  // 9 periods × 3 trials, S = 4: the oldest period is left out, 2 periods per block.
  const std::vector<std::vector<double>> columns = {lcg_returns(70, 9, 0), lcg_returns(71, 9, 0),
                                                    lcg_returns(72, 9, 0)};
  const auto r = pbo_of(columns, {.blocks = 4, .min_block_rows = 2});
  EXPECT_EQ(r.blocks, 4);
  EXPECT_EQ(r.block_rows, 2u);
  EXPECT_EQ(r.periods_used, 8u);
  ASSERT_EQ(r.combinations, 6u);
  const double ln3 = std::log(3.0);
  const std::vector<double> expected = {ln3, -ln3, 0.0, -ln3, 0.0, ln3};  // scipy, itertools order
  for (std::size_t c = 0; c < 6; ++c) EXPECT_NEAR(r.logits[c], expected[c], 1e-12) << c;
  EXPECT_DOUBLE_EQ(r.pbo, 4.0 / 6.0);  // λ = 0 (the median of 3) counts as overfit
  EXPECT_DOUBLE_EQ(r.probability_of_loss, 4.0 / 6.0);
  ASSERT_TRUE(r.degradation.has_value());
  EXPECT_NEAR(r.degradation->slope, -0.5770622548010489, 1e-10);      // scipy (numpy.polyfit)
  EXPECT_NEAR(r.degradation->intercept, 0.17472928247102062, 1e-10);  // scipy
  EXPECT_NEAR(r.logit_summary.mean, 0.0, 1e-12);
  EXPECT_NEAR(r.logit_summary.max, ln3, 1e-12);

  const Reference ref = brute_force(columns, 4);
  EXPECT_DOUBLE_EQ(ref.pbo, r.pbo);
  expect_same_multiset(ref.logits, r.logits, 1e-12);
}

TEST(PboTest, LargerLcgCaseMatchesScipy) {
  std::vector<std::vector<double>> columns;
  for (std::uint64_t k = 0; k < 5; ++k) columns.push_back(lcg_returns(100 + k, 240, 0.0002 * static_cast<double>(k)));
  const auto r = pbo_of(columns, {.blocks = 8});
  ASSERT_EQ(r.combinations, 70u);
  EXPECT_DOUBLE_EQ(r.pbo, 0.5857142857142857);                        // scipy: 41 of 70
  EXPECT_DOUBLE_EQ(r.probability_of_loss, 0.05714285714285714);       // scipy: 4 of 70
  EXPECT_NEAR(r.degradation->slope, -0.3742891487637992, 1e-10);      // scipy
  EXPECT_NEAR(r.degradation->intercept, 0.15248052253956124, 1e-10);  // scipy
  EXPECT_NEAR(r.logit_summary.mean, 0.23629523181384898, 1e-12);      // scipy
  const std::vector<double> first = {std::log(2.0), -std::log(2.0), -std::log(5.0), -std::log(5.0), -std::log(2.0)};
  for (std::size_t c = 0; c < first.size(); ++c) EXPECT_NEAR(r.logits[c], first[c], 1e-12) << c;
}

TEST(PboTest, BlockMomentsAgreeWithTheBruteForceLoop) {
  SplitMix64 rng(21);
  struct Case {
    std::size_t periods, trials, blocks;
  };
  for (const Case& k : {Case{8, 3, 4}, Case{37, 4, 6}, Case{120, 7, 8}, Case{200, 12, 10}}) {
    const auto [periods, trials, blocks] = k;
    auto columns = noise(rng, periods, trials, 0.01);
    for (std::size_t n = 0; n < trials; ++n)
      for (double& v : columns[n]) v += 0.0005 * static_cast<double>(n) + 0.5;  // a large mean would cancel in raw sums
    const auto r = pbo_of(columns, {.blocks = static_cast<int>(blocks), .min_block_rows = 2});
    const Reference ref = brute_force(columns, blocks);
    EXPECT_DOUBLE_EQ(r.pbo, ref.pbo) << periods << "x" << trials;
    expect_same_multiset(ref.logits, r.logits, 1e-12);
    expect_same_multiset(ref.is_sharpe, r.in_sample_sharpe, 1e-9);
    expect_same_multiset(ref.oos_sharpe, r.out_of_sample_sharpe, 1e-9);
  }
}

TEST(PboTest, PureNoiseIsAboutOneHalf) {
  // N even: a skill-less IS winner lands at or below the OOS median half the time. One
  // matrix's combinations are strongly dependent (PBO ranges ~0.1..0.9 between seeds), so
  // average over seeds.
  SplitMix64 rng(31);
  double total = 0, logit_mean = 0;
  const int seeds = 40;
  for (int s = 0; s < seeds; ++s) {
    const auto r = pbo_of(noise(rng, 400, 10, 0.01), {.blocks = 10});
    total += r.pbo;
    logit_mean += r.logit_summary.mean;
  }
  EXPECT_NEAR(total / seeds, 0.5, 0.1);
  EXPECT_NEAR(logit_mean / seeds, 0.0, 0.3);
}

TEST(PboTest, ATrueEdgeInEveryBlockIsNotOverfit) {
  SplitMix64 rng(41);
  for (int s = 0; s < 5; ++s) {
    auto columns = noise(rng, 1000, 20, 0.01);
    for (double& v : columns[7]) v += 0.005;  // per-period Sharpe ≈ 0.5 in every block
    const auto r = pbo_of(columns);
    EXPECT_EQ(r.combinations, 12870u);
    EXPECT_EQ(r.pbo, 0.0);
    EXPECT_EQ(r.probability_of_loss, 0.0);
    EXPECT_TRUE(std::all_of(r.chosen_trial.begin(), r.chosen_trial.end(), [](std::size_t n) { return n == 7; }));
    EXPECT_NEAR(r.logit_summary.min, std::log(20.0), 1e-12);  // always the OOS best: ω = 20/21
  }
}

TEST(PboTest, TrialsFittedToSomePeriodsAreOverfit) {
  // Each trial earns +μ in a random half of the blocks and −μ in the other half: zero edge
  // overall, but an IS winner is one whose good blocks fell IS, so its OOS blocks are its bad ones.
  SplitMix64 rng(51);
  const std::size_t blocks = 10, rows = 40, trials = 10;
  double total = 0;
  for (int s = 0; s < 10; ++s) {
    auto columns = noise(rng, blocks * rows, trials, 0.01);
    for (auto& c : columns) {
      std::vector<int> sign(blocks, -1);
      std::fill(sign.begin(), sign.begin() + blocks / 2, 1);
      for (std::size_t i = blocks - 1; i > 0; --i) std::swap(sign[i], sign[rng.next() % (i + 1)]);
      for (std::size_t t = 0; t < c.size(); ++t) c[t] += 0.005 * sign[t / rows];
    }
    const auto r = pbo_of(columns, {.blocks = static_cast<int>(blocks)});
    total += r.pbo;
    EXPECT_GT(r.pbo, 0.7);
    EXPECT_GT(r.probability_of_loss, 0.7);
    ASSERT_TRUE(r.degradation.has_value());
    EXPECT_LT(r.degradation->slope, 0.0);
  }
  EXPECT_GT(total / 10, 0.9);
}

TEST(PboTest, InvariantToColumnOrderAndScale) {
  SplitMix64 rng(61);
  auto columns = noise(rng, 300, 9, 0.01);
  for (std::size_t n = 0; n < columns.size(); ++n)
    for (double& v : columns[n]) v += 0.0003 * static_cast<double>(n % 3);
  const auto base = pbo_of(columns, {.blocks = 12});

  auto permuted = columns;
  std::reverse(permuted.begin(), permuted.end());
  std::rotate(permuted.begin(), permuted.begin() + 4, permuted.end());
  const auto p = pbo_of(permuted, {.blocks = 12});
  EXPECT_EQ(p.pbo, base.pbo);
  EXPECT_EQ(p.logits, base.logits);
  EXPECT_EQ(p.out_of_sample_sharpe, base.out_of_sample_sharpe);

  auto scaled = columns;
  for (auto& c : scaled)
    for (double& v : c) v *= 37.3;
  const auto s = pbo_of(scaled, {.blocks = 12});
  EXPECT_EQ(s.pbo, base.pbo);
  EXPECT_EQ(s.chosen_trial, base.chosen_trial);
  for (std::size_t c = 0; c < base.combinations; ++c) EXPECT_NEAR(s.logits[c], base.logits[c], 1e-12);
}

TEST(PboTest, IdenticalTrialsShareTheMidrank) {
  SplitMix64 rng(71);
  const auto one = noise(rng, 100, 1, 0.01).front();
  const auto r = pbo_of({one, one}, {.blocks = 4});
  // Both trials tie in and out of sample: rank 1.5 of 2, ω = ½, λ = 0, counted as overfit.
  for (double l : r.logits) EXPECT_EQ(l, 0.0);
  EXPECT_EQ(r.pbo, 1.0);
}

TEST(PboTest, AnInSampleTieGoesToTheWorseOutOfSampleTrial) {
  // Trials 0 and 1 are equal in blocks 0 and 1 (the first combination's IS half) and
  // differ after; trial 2 is poor IS. The first combination must pick the trial that is
  // worse out of sample, whichever column it is in.
  SplitMix64 rng(81);
  auto columns = noise(rng, 40, 3, 0.01);
  for (std::size_t t = 0; t < 20; ++t) {
    columns[1][t] = columns[0][t];
    columns[2][t] = -std::fabs(columns[2][t]) - 0.01;
  }
  for (std::size_t t = 20; t < 40; ++t) columns[1][t] = columns[0][t] + 0.004;  // trial 1 better OOS
  const auto r = pbo_of(columns, {.blocks = 4});
  EXPECT_EQ(r.chosen_trial[0], 0u);
  const auto swapped = pbo_of({columns[1], columns[0], columns[2]}, {.blocks = 4});
  EXPECT_EQ(swapped.chosen_trial[0], 1u);
  EXPECT_EQ(swapped.logits[0], r.logits[0]);
}

TEST(PboTest, ATrialThatNeverTradesScoresZeroNotNan) {
  SplitMix64 rng(91);
  auto columns = noise(rng, 160, 4, 0.01);
  for (auto& c : columns)
    for (double& v : c) v -= 0.004;                             // every trading trial loses in every half
  std::fill(columns[2].begin(), columns[2].end(), 0.0);         // never trades
  std::fill(columns[3].begin(), columns[3].begin() + 80, 0.0);  // trades in the second half only
  const auto r = pbo_of(columns, {.blocks = 4});
  for (std::size_t c = 0; c < r.combinations; ++c) {
    EXPECT_TRUE(std::isfinite(r.logits[c]));
    EXPECT_EQ(r.in_sample_sharpe[c], 0.0);  // doing nothing beats losing
  }
  // Combination 0 has blocks {0, 1} in sample, where trials 2 and 3 are both flat: the tie
  // goes to trial 3, which loses out of sample.
  EXPECT_EQ(r.chosen_trial[0], 3u);
  EXPECT_EQ(r.chosen_trial[1], 2u);
  EXPECT_NEAR(r.logits[1], std::log(4.0), 1e-12);  // flat beats every loser out of sample too

  // A constant non-zero return has no Sharpe ratio either: it scores 0, not +infinity.
  auto winner = noise(rng, 160, 1, 0.01).front();
  for (double& v : winner) v += 0.003;
  const auto constant = pbo_of({std::vector<double>(160, 0.001), winner}, {.blocks = 4});
  for (std::size_t n : constant.chosen_trial) EXPECT_EQ(n, 1u);
}

TEST(PboTest, ShortSeriesGetFewerBlocks) {
  SplitMix64 rng(101);
  const auto r = pbo_of(noise(rng, 43, 3, 0.01));  // 16 blocks of 5 need 80 periods
  EXPECT_EQ(r.blocks, 8);
  EXPECT_EQ(r.block_rows, 5u);
  EXPECT_EQ(r.periods_used, 40u);
  EXPECT_EQ(r.combinations, 70u);
}

TEST(PboTest, InvalidInputsAreErrors) {
  SplitMix64 rng(111);
  const auto values = join(noise(rng, 100, 3, 0.01));
  const TrialReturns ok{values, 100, 3};
  EXPECT_TRUE(probability_of_backtest_overfitting(ok, {.blocks = 4}).has_value());
  EXPECT_FALSE(probability_of_backtest_overfitting(ok, {.blocks = 5}).has_value());
  EXPECT_FALSE(probability_of_backtest_overfitting(ok, {.blocks = 0}).has_value());
  EXPECT_FALSE(probability_of_backtest_overfitting(ok, {.blocks = 22}).has_value());
  EXPECT_FALSE(probability_of_backtest_overfitting(ok, {.blocks = 4, .min_block_rows = 1}).has_value());
  EXPECT_FALSE(probability_of_backtest_overfitting({values, 99, 3}).has_value());
  EXPECT_FALSE(probability_of_backtest_overfitting({std::span(values).first(100), 100, 1}).has_value());
  EXPECT_FALSE(
      probability_of_backtest_overfitting({std::span(values).first(27), 9, 3}).has_value());  // < 2 blocks of 5
  auto with_nan = values;
  with_nan[150] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(probability_of_backtest_overfitting({with_nan, 100, 3}).has_value());
}

TEST(PboTest, SixteenBlocksAndTwoHundredTrialsRun) {
  SplitMix64 rng(121);
  const auto r = pbo_of(noise(rng, 2500, 200, 0.01));
  EXPECT_EQ(r.combinations, 12870u);
  EXPECT_EQ(r.logits.size(), 12870u);
  EXPECT_GE(r.pbo, 0.0);
  EXPECT_LE(r.pbo, 1.0);
}

RC_GTEST_PROP(PboProperty, BoundedAndInvariantUnderRotatingColumns, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto trials = static_cast<std::size_t>(*rc::gen::inRange(2, 9));
  const int blocks = 2 * *rc::gen::inRange(1, 5);
  const auto periods = static_cast<std::size_t>(*rc::gen::inRange(2 * blocks, 120));
  SplitMix64 rng(seed);
  auto columns = noise(rng, periods, trials, 0.01);
  const auto values = join(columns);
  const auto r =
      probability_of_backtest_overfitting({values, periods, trials}, {.blocks = blocks, .min_block_rows = 2});
  RC_ASSERT(r.has_value());
  RC_ASSERT(r->pbo >= 0.0 && r->pbo <= 1.0);
  const double bound = std::log(static_cast<double>(trials)) + 1e-12;
  for (double l : r->logits) RC_ASSERT(std::fabs(l) <= bound);
  std::rotate(columns.begin(), columns.begin() + 1, columns.end());
  const auto rotated_values = join(columns);
  const auto rotated =
      probability_of_backtest_overfitting({rotated_values, periods, trials}, {.blocks = blocks, .min_block_rows = 2});
  RC_ASSERT(rotated->pbo == r->pbo);
  RC_ASSERT(rotated->logits == r->logits);
}

}  // namespace
}  // namespace quant::research
