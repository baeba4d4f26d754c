#include "research/tpe.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include <gtest/gtest.h>

#include "research/study.h"
#include "research/test_functions.h"

namespace quant::research {
namespace {

using testing::Problem;

/// One single-worker study in memory: the objective values in trial order.
std::vector<TrialRecord> run(const SearchSpace& space, double (*objective)(const Params&), TpeOptions sampler,
                             std::uint64_t seed, int n_trials, Direction direction = Direction::Minimize) {
  StudyOptions options;
  options.direction = direction;
  options.seed = seed;
  options.sampler = sampler;
  options.pruner = std::nullopt;
  options.heartbeat_interval = std::chrono::milliseconds(0);
  auto study = Study::open(make_memory_storage(), space, options);
  EXPECT_TRUE(study.has_value()) << study.error().message;
  auto done = optimize(
      *study, [&](Trial& trial) -> Expected<double> { return objective(trial.params()); }, n_trials);
  EXPECT_TRUE(done.has_value()) << done.error().message;
  return *study->trials();
}

double best_of(const std::vector<TrialRecord>& trials) {
  double best = std::numeric_limits<double>::infinity();
  for (const auto& t : trials) best = std::min(best, t.value);
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size();
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

/// Median over seeds of the best value after `n` trials, TPE and random.
std::pair<double, double> tpe_and_random(const Problem& p, int seeds, int n) {
  std::vector<double> tpe, random;
  for (int s = 0; s < seeds; ++s) {
    tpe.push_back(best_of(run(p.space, p.objective, TpeOptions{}, 1000 + static_cast<std::uint64_t>(s), n)));
    random.push_back(
        best_of(run(p.space, p.objective, TpeOptions::random_search(), 1000 + static_cast<std::uint64_t>(s), n)));
  }
  return {median(tpe), median(random)};
}

TEST(TpeTest, GammaAndWeightsAreOptunas) {
  EXPECT_EQ(default_gamma(1), 1);
  EXPECT_EQ(default_gamma(10), 1);
  EXPECT_EQ(default_gamma(11), 2);
  EXPECT_EQ(default_gamma(100), 10);
  EXPECT_EQ(default_gamma(1000), 25);
  EXPECT_TRUE(default_weights(0).empty());
  EXPECT_EQ(default_weights(24), std::vector<double>(24, 1.0));
  // numpy: concatenate([linspace(1/30, 1, 5), ones(25)])
  const std::vector<double> w = default_weights(30);
  ASSERT_EQ(w.size(), 30u);
  const double expected[5] = {1.0 / 30, 1.0 / 30 + (1 - 1.0 / 30) / 4, 1.0 / 30 + (1 - 1.0 / 30) / 2,
                              1.0 / 30 + 3 * (1 - 1.0 / 30) / 4, 1.0};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(w[static_cast<std::size_t>(i)], expected[i], 1e-15);
  for (std::size_t i = 5; i < 30; ++i) EXPECT_EQ(w[i], 1.0);
  EXPECT_EQ(default_weights(26),
            (std::vector<double>{1.0 / 26, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(TpeTest, BeatsRandomSearchOnBranin) {
  const auto [tpe, random] = tpe_and_random(testing::branin_problem(), 7, 80);
  EXPECT_LT(tpe, random) << "median best after 80 trials";
  EXPECT_LT(tpe - 0.397887, 0.25) << "TPE should get near Branin's minimum in 80 trials";
}

TEST(TpeTest, BeatsRandomSearchOnHartmann6) {
  const auto [tpe, random] = tpe_and_random(testing::hartmann6_problem(), 7, 120);
  EXPECT_LT(tpe, random) << "median best after 120 trials";
  EXPECT_LT(tpe, -2.8);
}

TEST(TpeTest, BeatsRandomSearchOnRosenbrock4) {
  const auto [tpe, random] = tpe_and_random(testing::rosenbrock4_problem(), 7, 120);
  EXPECT_LT(tpe * 3, random) << "median best after 120 trials: TPE " << tpe << ", random " << random;
}

TEST(TpeTest, SameSeedSameTrialsOtherSeedOthers) {
  const Problem p = testing::hartmann6_problem();
  const auto a = run(p.space, p.objective, TpeOptions{}, 42, 40);
  const auto b = run(p.space, p.objective, TpeOptions{}, 42, 40);
  const auto c = run(p.space, p.objective, TpeOptions{}, 43, 40);
  ASSERT_EQ(a.size(), 40u);
  ASSERT_EQ(b.size(), 40u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].params, b[i].params) << "trial " << i;
    EXPECT_EQ(a[i].value, b[i].value) << "trial " << i;
  }
  int same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i].params == c[i].params;
  EXPECT_EQ(same, 0);
}

TEST(TpeTest, SampleDependsOnlyOnSeedNumberAndHistory) {
  const Problem p = testing::branin_problem();
  const auto history = run(p.space, p.objective, TpeOptions{}, 5, 30);
  const TpeSampler sampler;
  // Trial 20 drawn again from the 20 trials before it gives what the study drew.
  const std::span<const TrialRecord> before(history.data(), 20);
  EXPECT_EQ(sampler.sample(p.space, Direction::Minimize, before, 5, 20), history[20].params);
  // The history's order does not matter.
  std::vector<TrialRecord> shuffled(history.begin(), history.begin() + 20);
  std::reverse(shuffled.begin(), shuffled.end());
  EXPECT_EQ(sampler.sample(p.space, Direction::Minimize, shuffled, 5, 20), history[20].params);
}

double mixed_objective(const Params& p) {
  // Best at lr = 1e-3, depth = 7, batch = 64, optimiser "adam".
  const double lr = std::log10(p.at("lr")) + 3;
  const double depth = p.at("depth") - 7;
  const double batch = std::log2(p.at("batch")) - 6;
  const double choice = p.at("optimizer") == 1 ? 0.0 : 2.0;
  return lr * lr + 0.1 * depth * depth + batch * batch + choice;
}

SearchSpace mixed_space() {
  SearchSpace s;
  s.add_float("lr", 1e-5, 1e-1, true)
      .add_int("depth", 2, 20, 1)
      .add_int("batch", 8, 512, 1, true)
      .add_int("window", 10, 100, 5)
      .add_categorical("optimizer", {"sgd", "adam", "rmsprop"});
  return s;
}

TEST(TpeTest, IntLogAndCategoricalSpacesAreRespected) {
  const SearchSpace space = mixed_space();
  ASSERT_TRUE(space.validate().has_value());
  for (const auto& options : {TpeOptions::random_search(), TpeOptions{}}) {
    const auto trials = run(space, mixed_objective, options, 3, 80);
    for (const TrialRecord& t : trials) {
      EXPECT_TRUE(space.contains(t.params)) << "trial " << t.number;
      const double window = t.params.at("window");
      EXPECT_EQ(std::fmod(window - 10, 5), 0.0) << window;
      EXPECT_EQ(t.params.at("depth"), std::round(t.params.at("depth")));
      EXPECT_EQ(t.params.at("batch"), std::round(t.params.at("batch")));
    }
  }
}

TEST(TpeTest, LogScaleDrawsUniformlyInLogSpace) {
  SearchSpace space;
  space.add_float("lr", 1e-6, 1.0, true).add_int("n", 1, 10000, 1, true);
  const auto trials = run(
      space, [](const Params&) { return 0.0; }, TpeOptions::random_search(), 9, 400);
  int lr_small = 0, n_small = 0;
  for (const TrialRecord& t : trials) {
    lr_small += t.params.at("lr") < 1e-3;  // half of the log range; 0.1 % of the linear one
    n_small += t.params.at("n") <= 100;    // half of the log range; 1 % of the linear one
  }
  EXPECT_GT(lr_small, 150);
  EXPECT_LT(lr_small, 250);
  EXPECT_GT(n_small, 150);
  EXPECT_LT(n_small, 250);
}

TEST(TpeTest, LearnsIntLogAndCategoricalOptimum) {
  const SearchSpace space = mixed_space();
  int adam_late = 0, late = 0;
  std::vector<double> tpe_best, random_best;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const auto trials = run(space, mixed_objective, TpeOptions{}, seed, 80);
    for (std::size_t i = 40; i < trials.size(); ++i, ++late) adam_late += trials[i].params.at("optimizer") == 1;
    tpe_best.push_back(best_of(trials));
    random_best.push_back(best_of(run(space, mixed_objective, TpeOptions::random_search(), seed, 80)));
  }
  EXPECT_GT(adam_late, late * 2 / 3) << "TPE should pick the best choice most of the time once it has learnt it";
  EXPECT_LT(median(tpe_best), median(random_best));
}

TEST(TpeTest, MaximizeIsMinimizeOfTheNegation) {
  const Problem p = testing::branin_problem();
  const auto minimised = run(p.space, p.objective, TpeOptions{}, 11, 40);
  static double (*f)(const Params&) = p.objective;
  const auto maximised = run(
      p.space, [](const Params& x) { return -f(x); }, TpeOptions{}, 11, 40, Direction::Maximize);
  for (std::size_t i = 0; i < minimised.size(); ++i) EXPECT_EQ(minimised[i].params, maximised[i].params);
}

TEST(TpeTest, PrunedTrialsRankAfterCompleteOnes) {
  // Complete trials cover [0, 9.5] with |x − 1|; the pruned ones sit at
  // x ≈ 9 with tiny last values: were they ranked with the complete ones
  // they would form "below" and pull the draws to x = 9.
  SearchSpace space;
  space.add_float("x", 0, 10);
  std::vector<TrialRecord> history;
  for (int i = 0; i < 30; ++i) {
    TrialRecord t;
    t.number = i;
    if (i % 3 == 0) {
      t.state = TrialState::Pruned;
      t.params["x"] = 9.0 + 0.01 * i;
      t.intermediate[0] = -100.0;
    } else {
      t.state = TrialState::Complete;
      t.params["x"] = 0.5 * (i - i / 3 - 1);
      t.value = std::abs(t.params["x"] - 1.0);
    }
    history.push_back(t);
  }
  const TpeSampler sampler;
  int near_one = 0;
  for (int k = 0; k < 40; ++k)
    near_one += std::abs(sampler.sample(space, Direction::Minimize, history, 1, 30 + k).at("x") - 1.0) < 1.5;
  EXPECT_GT(near_one, 30);
}

TEST(MedianPrunerTest, PrunesABadCurveNotAGoodOne) {
  std::vector<TrialRecord> history;
  for (int i = 0; i < 5; ++i) {
    TrialRecord t;
    t.number = i;
    t.state = TrialState::Complete;
    for (int step = 0; step < 10; ++step) t.intermediate[step] = 1.0 + 0.1 * i - 0.05 * step;  // medians 1.2 - 0.05 s
    t.value = t.intermediate[9];
    history.push_back(t);
  }
  const MedianPruner pruner;
  std::map<std::int64_t, double> bad, good;
  for (int step = 0; step < 10; ++step) {
    bad[step] = 3.0 - 0.01 * step;
    EXPECT_TRUE(pruner.should_prune(Direction::Minimize, bad, history)) << "step " << step;
    good[step] = 0.9 - 0.05 * step;
    EXPECT_FALSE(pruner.should_prune(Direction::Minimize, good, history)) << "step " << step;
  }
  // Maximising, the good curve is the bad one.
  EXPECT_TRUE(pruner.should_prune(Direction::Maximize, {{0, 0.9}}, history));
  EXPECT_FALSE(pruner.should_prune(Direction::Maximize, {{0, 3.0}}, history));
}

TEST(MedianPrunerTest, WaitsForStartupTrialsWarmupAndIntervals) {
  std::vector<TrialRecord> history;
  for (int i = 0; i < 5; ++i) {
    TrialRecord t;
    t.number = i;
    t.state = i < 4 ? TrialState::Complete : TrialState::Pruned;
    for (int step = 0; step < 10; ++step) t.intermediate[step] = 1.0;
    history.push_back(t);
  }
  std::map<std::int64_t, double> bad{{0, 5.0}};
  EXPECT_FALSE(MedianPruner().should_prune(Direction::Minimize, bad, history)) << "4 complete < 5 start-up";
  history[4].state = TrialState::Complete;
  EXPECT_TRUE(MedianPruner().should_prune(Direction::Minimize, bad, history));
  EXPECT_FALSE(
      MedianPruner({.n_startup_trials = 5, .n_warmup_steps = 3}).should_prune(Direction::Minimize, bad, history));
  const MedianPruner every_third({.n_startup_trials = 5, .n_warmup_steps = 0, .interval_steps = 3});
  bad[1] = 5.0;  // steps 0 and 1: step 1 is not the first report of its interval [0, 3)
  EXPECT_FALSE(every_third.should_prune(Direction::Minimize, bad, history));
  bad[3] = 5.0;
  EXPECT_TRUE(every_third.should_prune(Direction::Minimize, bad, history));
  // The best value so far counts (Optuna): one good early report keeps the trial.
  std::map<std::int64_t, double> recovered{{0, 0.5}, {1, 5.0}};
  EXPECT_FALSE(MedianPruner().should_prune(Direction::Minimize, recovered, history));
  // No complete trial reported at this step: keep going.
  std::map<std::int64_t, double> far{{50, 5.0}};
  EXPECT_FALSE(MedianPruner().should_prune(Direction::Minimize, far, history));
  // All NaN: prune.
  std::map<std::int64_t, double> nan{{0, std::nan("")}};
  EXPECT_TRUE(MedianPruner().should_prune(Direction::Minimize, nan, history));
}

TEST(SearchSpaceTest, ValidateNamesTheProblem) {
  auto error_of = [](const SearchSpace& s) { return s.validate().error().message; };
  EXPECT_NE(error_of(SearchSpace().add_float("a", 1, 0)).find("'a'"), std::string::npos);
  EXPECT_NE(error_of(SearchSpace().add_float("a", 0, 1, true)).find("log"), std::string::npos);
  EXPECT_NE(error_of(SearchSpace().add_int("w", 0, 10, 3)).find("whole number of steps"), std::string::npos);
  EXPECT_NE(error_of(SearchSpace().add_int("w", 1, 10, 2, true)).find("step 1"), std::string::npos);
  EXPECT_NE(error_of(SearchSpace().add_categorical("c", {})).find("no choices"), std::string::npos);
  EXPECT_NE(error_of(SearchSpace().add_float("a", 0, 1).add_int("a", 0, 1)).find("twice"), std::string::npos);
  EXPECT_TRUE(SearchSpace().add_int("w", 0, 9, 3).add_float("f", 2, 2).validate().has_value());
}

}  // namespace
}  // namespace quant::research
