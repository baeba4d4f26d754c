// Our TPE and random search on Branin, Hartmann-6 and Rosenbrock-4: the C++
// side of bench/research/run.sh (bench/research/optuna_bench.py is the peer).
//
// For each problem and sampler, SEEDS single-worker studies (seed s) of TRIALS
// trials in memory storage; one tab-separated line per (problem, sampler):
//   ours <sampler> <problem> <tolerance> <reached> <median trials-to-tolerance> <median best> <ask ms>
// trials-to-tolerance = the first trial (1-based) whose value is within
// `tolerance` of the minimum (TRIALS + 1 when never). ask ms = the median time
// of Study::ask() (claim + sampling) over trials TRIALS-10 .. TRIALS-1, all
// seeds. Then the same ask time with the journal file storage (flock + one
// fdatasync'd line per ask) on Hartmann-6, for scale.
//
// Usage: tpe_bench [SEEDS=20] [TRIALS=200] [--journal-dir DIR=/tmp] [--first-seed N=0]
// (seeds N .. N+SEEDS-1: other seed sets show how far a median moves by chance)
//        tpe_bench --one-step HISTORY N: one TPE step on the fixed history optuna_bench.py
//        --one-step wrote; the 10/25/50/75/90 % quantiles of the x0 and x1 our sampler picks
//        for trial 60 with seeds 0 .. N-1 (compare with Optuna's over its seeds).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "research/study.h"
#include "research/test_functions.h"

namespace {

using namespace quant::research;
using Clock = std::chrono::steady_clock;

struct Tolerance {
  testing::Problem problem;
  double tolerance;  // keep in step with optuna_bench.py
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size();
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

struct Run {
  std::vector<double> values;
  std::vector<double> ask_ms;  // the last 10 trials
};

Run run(const testing::Problem& p, const TpeOptions& sampler, std::uint64_t seed, int trials,
        std::shared_ptr<StudyStorage> storage) {
  StudyOptions options;
  options.seed = seed;
  options.sampler = sampler;
  options.pruner = std::nullopt;
  auto study = Study::open(std::move(storage), p.space, options);
  if (!study) {
    std::fprintf(stderr, "tpe_bench: %s\n", study.error().message.c_str());
    std::exit(1);
  }
  Run out;
  for (int k = 0; k < trials; ++k) {
    const auto t0 = Clock::now();
    auto trial = study->ask();
    const auto t1 = Clock::now();
    if (!trial) {
      std::fprintf(stderr, "tpe_bench: %s\n", trial.error().message.c_str());
      std::exit(1);
    }
    const double v = p.objective(trial->params());
    if (!study->tell(*trial, v)) std::exit(1);
    out.values.push_back(v);
    if (k >= trials - 10) out.ask_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return out;
}

/// Quantiles of the x0 and x1 TPE picks after the history at `path`, over `n` seeds.
int one_step(const std::string& path, int n) {
  std::ifstream in(path);
  const nlohmann::json history = nlohmann::json::parse(in, nullptr, false);
  if (history.is_discarded()) {
    std::fprintf(stderr, "tpe_bench: cannot read %s\n", path.c_str());
    return 1;
  }
  const testing::Problem p = testing::rosenbrock4_problem();
  std::vector<TrialRecord> trials;
  for (const auto& h : history) {
    TrialRecord t;
    t.number = static_cast<std::int64_t>(trials.size());
    t.state = TrialState::Complete;
    t.value = h["v"].get<double>();
    for (int i = 0; i < 4; ++i) t.params["x" + std::to_string(i)] = h["x"][static_cast<std::size_t>(i)].get<double>();
    trials.push_back(std::move(t));
  }
  const TpeSampler sampler;
  std::vector<double> x0, x1;
  for (int s = 0; s < n; ++s) {
    const Params picked = sampler.sample(p.space, Direction::Minimize, trials, static_cast<std::uint64_t>(s),
                                         static_cast<std::int64_t>(trials.size()));
    x0.push_back(picked.at("x0"));
    x1.push_back(picked.at("x1"));
  }
  // numpy's default (linear) percentile.
  auto quantiles = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::string out;
    for (double q : {0.10, 0.25, 0.50, 0.75, 0.90}) {
      const double pos = q * static_cast<double>(v.size() - 1);
      const auto lo = static_cast<std::size_t>(pos);
      const double frac = pos - static_cast<double>(lo);
      const double value = lo + 1 < v.size() ? v[lo] + frac * (v[lo + 1] - v[lo]) : v[lo];
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.3f", out.empty() ? "" : " ", value);
      out += buf;
    }
    return out;
  };
  std::printf("ours\tone-step\t%s\t%s\t%d\n", quantiles(x0).c_str(), quantiles(x1).c_str(), n);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--one-step") return one_step(argv[2], std::atoi(argv[3]));
  std::vector<std::string> args;
  std::filesystem::path journal_dir = "/tmp";
  std::uint64_t first_seed = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--journal-dir" && i + 1 < argc) {
      journal_dir = argv[++i];
    } else if (std::string(argv[i]) == "--first-seed" && i + 1 < argc) {
      first_seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      args.emplace_back(argv[i]);
    }
  }
  const int seeds = args.size() > 0 ? std::atoi(args[0].c_str()) : 20;
  const int trials = args.size() > 1 ? std::atoi(args[1].c_str()) : 200;
  const std::vector<Tolerance> problems = {
      {testing::branin_problem(), 0.1}, {testing::hartmann6_problem(), 0.2}, {testing::rosenbrock4_problem(), 20.0}};
  for (const auto& [p, tol] : problems) {
    for (const auto& [label, sampler] :
         {std::pair{"tpe", TpeOptions{}}, std::pair{"random", TpeOptions::random_search()}}) {
      std::vector<double> to_tol, bests, asks;
      int reached = 0;
      for (int s = 0; s < seeds; ++s) {
        const Run r = run(p, sampler, first_seed + static_cast<std::uint64_t>(s), trials, make_memory_storage());
        int hit = trials + 1;
        for (int i = 0; i < trials; ++i)
          if (r.values[static_cast<std::size_t>(i)] <= p.minimum + tol) {
            hit = i + 1;
            break;
          }
        reached += hit <= trials;
        to_tol.push_back(hit);
        bests.push_back(*std::min_element(r.values.begin(), r.values.end()));
        asks.insert(asks.end(), r.ask_ms.begin(), r.ask_ms.end());
      }
      std::printf("ours\t%s\t%s\t%g\t%d/%d\t%g\t%.6g\t%.3f\n", label, p.name.c_str(), tol, reached, seeds,
                  median(to_tol), median(bests), median(asks));
      std::fflush(stdout);
    }
  }
  // The journal file storage's ask: flock, read the new lines, sample, one fdatasync'd append.
  std::vector<double> asks;
  for (int s = 0; s < 3; ++s) {
    const auto path = journal_dir / ("tpe_bench_" + std::to_string(::getpid()) + "_" + std::to_string(s) + ".jsonl");
    std::filesystem::remove(path);
    auto storage = open_file_storage(path);
    if (!storage) {
      std::fprintf(stderr, "tpe_bench: %s\n", storage.error().message.c_str());
      return 1;
    }
    const Run r = run(problems[1].problem, TpeOptions{}, static_cast<std::uint64_t>(s), trials, *storage);
    asks.insert(asks.end(), r.ask_ms.begin(), r.ask_ms.end());
    std::filesystem::remove(path);
  }
  std::printf("ours-journal\ttpe\thartmann6\t-\t-\t-\t-\t%.3f\n", median(asks));
  return 0;
}
