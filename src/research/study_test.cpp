#include "research/study.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "research/test_functions.h"
#include "stream/test_redis.h"

namespace quant::research {
namespace {

namespace research = quant::research;
using namespace std::chrono_literals;

/// A fresh temporary directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("quant_study_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

SearchSpace branin_space() { return testing::branin_problem().space; }

StudyOptions quick_options(std::uint64_t seed = 1) {
  StudyOptions o;
  o.seed = seed;
  o.heartbeat_interval = 50ms;
  o.wait_poll = 20ms;
  return o;
}

Study open_study(std::shared_ptr<StudyStorage> storage, StudyOptions options = quick_options()) {
  auto study = Study::open(std::move(storage), branin_space(), options);
  if (!study) ADD_FAILURE() << study.error().message;
  return std::move(*study);
}

std::shared_ptr<StudyStorage> open_file(const std::filesystem::path& path, StorageOptions options = {}) {
  auto storage = open_file_storage(path, std::move(options));
  if (!storage) ADD_FAILURE() << storage.error().message;
  return *storage;
}

/// Branin, reported after each of three "folds", `pause` per fold.
Objective slow_branin(std::chrono::milliseconds pause) {
  return [pause](Trial& trial) -> Expected<double> {
    const double v = testing::branin(trial.float_param("x1"), trial.float_param("x2"));
    for (int fold = 0; fold < 3; ++fold) {
      std::this_thread::sleep_for(pause);
      if (trial.report(fold, v * (3 - fold))) return v;
    }
    return v;
  };
}

/// slow_branin(2ms) for trials below `n`; from trial `n` on, reports the first
/// fold and then hangs (the test kills the worker there: inside a trial, by
/// construction rather than by timing).
Objective hangs_from(std::int64_t n) {
  return [n](Trial& trial) -> Expected<double> {
    if (trial.number() < n) return slow_branin(2ms)(trial);
    trial.report(0, 1.0);
    std::this_thread::sleep_for(60s);
    return make_error("not killed");
  };
}

std::vector<nlohmann::json> journal_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::size_t count_finished(const std::vector<TrialRecord>& trials) {
  std::size_t n = 0;
  for (const auto& t : trials) n += t.finished();
  return n;
}

/// Waits until `storage` holds at least `n` finished trials (or 30 s pass).
bool wait_finished(StudyStorage& storage, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto trials = storage.trials();
    if (trials && count_finished(*trials) >= n) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

/// Waits until `storage` holds at least `n` finished trials and a Running one
/// that has reported its first fold.
bool wait_mid_trial(StudyStorage& storage, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto trials = storage.trials();
    if (trials && count_finished(*trials) >= n) {
      for (const TrialRecord& t : *trials)
        if (t.state == TrialState::Running && t.intermediate.size() == 1) return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

/// Finished trials before a crash are still there, unchanged, after the resume;
/// every number is finished once and re-runs reuse their params.
void expect_resumed(const std::vector<TrialRecord>& before, const std::vector<TrialRecord>& after,
                    std::size_t n_trials) {
  ASSERT_EQ(after.size(), n_trials);
  EXPECT_EQ(count_finished(after), n_trials);
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].number, static_cast<std::int64_t>(i));
  for (const TrialRecord& old : before) {
    const TrialRecord& now = after[static_cast<std::size_t>(old.number)];
    EXPECT_EQ(now.params, old.params) << "trial " << old.number;
    if (!old.finished()) continue;
    EXPECT_EQ(now.state, old.state) << "trial " << old.number;
    EXPECT_EQ(now.token, old.token) << "trial " << old.number << " was run again";
    if (old.state == TrialState::Complete) {
      EXPECT_EQ(now.value, old.value);
    }
  }
}

/// Runs `body` in a child process; returns its pid. The child exits 0 when
/// body returns true, 1 otherwise, and never returns here.
template <class F>
pid_t spawn(F body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = false;
    try {
      ok = body();
    } catch (...) {
    }
    ::_exit(ok ? 0 : 1);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(StudyTest, TheHeadersExampleRuns) {
  // study.h's example, word for word but for the path and a made-up fold score.
  TempDir dir;
  auto sharpe_of_fold = [](int fold, std::int64_t fast, double atr_mult) {
    return 1.0 - std::abs(static_cast<double>(fast) - 20) / 45 - std::abs(atr_mult - 2.5) / 3 + 0.01 * fold;
  };
  auto storage = research::open_file_storage(dir / "study.jsonl");  // or open_redis_storage
  ASSERT_TRUE(storage);
  research::SearchSpace space;
  space.add_int("fast", 5, 50).add_float("atr_mult", 1.0, 4.0).add_categorical("filter", {"none", "hmm"});
  auto study = research::Study::open(*storage, space, {.direction = research::Direction::Maximize, .seed = 7});
  ASSERT_TRUE(study);
  auto done = research::optimize(
      *study,
      [&](research::Trial& trial) -> Expected<double> {
        double sum = 0;
        for (int fold = 0; fold < 5; ++fold) {
          sum += sharpe_of_fold(fold, trial.int_param("fast"), trial.float_param("atr_mult"));
          if (trial.report(fold, sum / (fold + 1))) return sum / (fold + 1);  // pruned: stop early
        }
        return sum / 5;
      },
      60);
  ASSERT_TRUE(done) << done.error().message;
  auto best = study->best();
  ASSERT_TRUE(best && *best);
  EXPECT_GT((*best)->value, 0.85);
  EXPECT_NEAR((*best)->params.at("fast"), 20, 8);
}

TEST(StudyTest, AskReportTellAndBest) {
  Study study = open_study(make_memory_storage());
  auto a = study.ask();
  auto b = study.ask();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->number(), 0);
  EXPECT_EQ(b->number(), 1);
  EXPECT_FALSE(a->report(0, 5.0));
  ASSERT_TRUE(study.tell(*a, 2.5));
  ASSERT_TRUE(study.tell_pruned(*b));
  auto c = study.ask();
  ASSERT_TRUE(c && study.tell(*c, 1.5));
  auto d = study.ask();
  ASSERT_TRUE(d && study.tell(*d, std::nan("")));  // NaN ends a trial as Failed, as in Optuna
  auto trials = study.trials();
  ASSERT_TRUE(trials);
  ASSERT_EQ(trials->size(), 4u);
  EXPECT_EQ((*trials)[0].state, TrialState::Complete);
  EXPECT_EQ((*trials)[0].intermediate, (std::map<std::int64_t, double>{{0, 5.0}}));
  EXPECT_EQ((*trials)[1].state, TrialState::Pruned);
  EXPECT_EQ((*trials)[3].state, TrialState::Failed);
  auto best = study.best();
  ASSERT_TRUE(best && *best);
  EXPECT_EQ((*best)->number, 2);
  EXPECT_EQ((*best)->value, 1.5);
  EXPECT_TRUE(study.tell(*a, 2.5)) << "the same tell again (a retry) is accepted";
  EXPECT_FALSE(study.tell_failed(*a)) << "another outcome is not";
}

TEST(StudyTest, ParamHelpersReadTheTrialsValues) {
  SearchSpace space;
  space.add_int("n", 3, 30, 3).add_float("f", 0.5, 2.0, true).add_categorical("c", {"x", "y", "z"});
  auto study = Study::open(make_memory_storage(), space, quick_options());
  ASSERT_TRUE(study);
  for (int i = 0; i < 20; ++i) {
    auto trial = study->ask();
    ASSERT_TRUE(trial);
    const std::int64_t n = trial->int_param("n");
    EXPECT_EQ(n % 3, 0);
    EXPECT_GE(n, 3);
    EXPECT_LE(n, 30);
    EXPECT_GE(trial->float_param("f"), 0.5);
    const std::string& c = trial->choice("c");
    EXPECT_TRUE(c == "x" || c == "y" || c == "z");
    ASSERT_TRUE(study->tell(*trial, static_cast<double>(n)));
  }
}

TEST(StudyTest, OptimizePrunesBadTrialsAndKeepsTheirReports) {
  auto storage = make_memory_storage();
  Study study = open_study(storage);
  int early_stops = 0;
  auto done = optimize(
      study,
      [&](Trial& trial) -> Expected<double> {
        const double v = testing::branin(trial.float_param("x1"), trial.float_param("x2"));
        for (int step = 0; step < 5; ++step) {
          if (trial.report(step, v + 5 - step)) {
            ++early_stops;
            return v;
          }
        }
        return v;
      },
      60);
  ASSERT_TRUE(done) << done.error().message;
  auto trials = study.trials();
  ASSERT_TRUE(trials);
  ASSERT_EQ(trials->size(), 60u);
  int pruned = 0;
  for (const TrialRecord& t : *trials) {
    if (t.state != TrialState::Pruned) continue;
    ++pruned;
    EXPECT_GE(t.number, 5) << "no pruning before 5 complete trials";
    ASSERT_FALSE(t.intermediate.empty());
    EXPECT_LT(t.intermediate.size(), 5u) << "the objective stopped at the pruned step";
  }
  EXPECT_GT(pruned, 10);
  EXPECT_EQ(pruned, early_stops);
}

TEST(StudyTest, TheBudgetCountsFinishedTrialsOfTheWholeStudy) {
  Study study = open_study(make_memory_storage());
  ASSERT_TRUE(optimize(study, slow_branin(0ms), 10));
  int runs = 0;
  auto counting = [&](Trial& trial) -> Expected<double> {
    ++runs;
    return slow_branin(0ms)(trial);
  };
  ASSERT_TRUE(optimize(study, counting, 5));
  EXPECT_EQ(runs, 0) << "10 finished trials already cover a budget of 5";
  ASSERT_TRUE(optimize(study, counting, 12));
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(study.trials()->size(), 12u);
}

TEST(StudyTest, AWorkerThatLostItsTrialCannotTellIt) {
  std::int64_t now = 1'000'000;
  StorageOptions options;
  options.stale_after = 1000ms;
  options.now_ms = [&now] { return now; };
  auto storage = make_memory_storage(options);
  Study first = open_study(storage);
  Study second = open_study(storage);
  auto lost = first.ask();
  ASSERT_TRUE(lost);
  now += 500;
  auto fresh = second.ask();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->number(), 1) << "a live trial is not re-claimed";
  now += 1500;  // trial 0's heartbeat is 2 s old, trial 1's 1.5 s
  auto retaken = second.ask();
  ASSERT_TRUE(retaken);
  EXPECT_EQ(retaken->number(), 0);
  EXPECT_EQ(retaken->params(), lost->params());
  EXPECT_EQ(retaken->record().attempt, 2);
  EXPECT_TRUE(lost->report(0, 1.0)) << "a lost trial stops";
  auto told = first.tell(*lost, 1.0);
  ASSERT_FALSE(told);
  EXPECT_NE(told.error().message.find("no longer this worker's"), std::string::npos);
  EXPECT_TRUE(second.tell(*retaken, 2.0));
}

TEST(StudyTest, OpenRefusesAnotherDefinition) {
  TempDir dir;
  auto storage = open_file(dir / "s.jsonl");
  ASSERT_TRUE(Study::open(storage, branin_space(), quick_options(1)));
  EXPECT_FALSE(Study::open(storage, branin_space(), quick_options(2))) << "another seed";
  auto other = Study::open(open_file(dir / "s.jsonl"), testing::hartmann6_problem().space, quick_options(1));
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("different definition"), std::string::npos);
}

TEST(FileStorageTest, TornLastLineIsIgnoredAndCutOff) {
  TempDir dir;
  const auto path = dir / "s.jsonl";
  {
    Study study = open_study(open_file(path));
    ASSERT_TRUE(optimize(study, slow_branin(0ms), 4));
  }
  const auto whole = std::filesystem::file_size(path);
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"op":"finish","n":3,"token":"x","sta)";  // a writer killed inside write()
  }
  Study study = open_study(open_file(path));
  auto trials = study.trials();
  ASSERT_TRUE(trials) << trials.error().message;
  EXPECT_EQ(trials->size(), 4u);
  EXPECT_EQ(count_finished(*trials), 4u);
  EXPECT_EQ(std::filesystem::file_size(path), whole) << "the torn line is cut off under the lock";
  ASSERT_TRUE(optimize(study, slow_branin(0ms), 6));
  EXPECT_EQ(journal_lines(path).back()["op"], "finish") << "later records start on a line of their own";
}

TEST(FileStorageTest, ACorruptLineIsAnErrorNamingIt) {
  TempDir dir;
  const auto path = dir / "s.jsonl";
  {
    Study study = open_study(open_file(path));
    ASSERT_TRUE(optimize(study, slow_branin(0ms), 2));
  }
  {
    std::ofstream out(path, std::ios::app);
    out << "garbage\n";
  }
  auto storage = open_file_storage(path);
  ASSERT_FALSE(storage);
  EXPECT_NE(storage.error().message.find("s.jsonl:"), std::string::npos) << storage.error().message;
}

TEST(FileStorageTest, ResumeRetriesTheRunningTrialWithItsParams) {
  TempDir dir;
  const auto path = dir / "s.jsonl";
  std::int64_t now = 5'000'000;
  StorageOptions options;
  options.stale_after = 10'000ms;
  options.check_pid = false;  // this process stays alive: only the heartbeat tells
  options.now_ms = [&now] { return now; };
  std::vector<TrialRecord> before;
  {
    Study study = open_study(open_file(path, options));
    ASSERT_TRUE(optimize(study, slow_branin(0ms), 5));
    auto crashed = study.ask();  // claimed, then the worker "dies"
    ASSERT_TRUE(crashed);
    EXPECT_EQ(crashed->number(), 5);
    before = *study.trials();
  }
  now += 11'000;
  Study study = open_study(open_file(path, options));
  ASSERT_TRUE(optimize(study, slow_branin(0ms), 8));
  auto after = study.trials();
  ASSERT_TRUE(after);
  expect_resumed(before, *after, 8);
  EXPECT_EQ((*after)[5].attempt, 2);
  EXPECT_EQ((*after)[6].attempt, 1);
}

TEST(FileStorageTest, KillNineMidRunLosesNoFinishedTrial) {
  TempDir dir;
  const auto path = dir / "s.jsonl";
  constexpr int kTrials = 30;
  const pid_t worker = spawn([&] {
    auto storage = open_file_storage(path);
    if (!storage) return false;
    auto study = Study::open(*storage, branin_space(), quick_options());
    return study && optimize(*study, hangs_from(8), kTrials).has_value();
  });
  ASSERT_GT(worker, 0);
  auto watcher = open_file(path);
  ASSERT_TRUE(wait_mid_trial(*watcher, 8));
  ::kill(worker, SIGKILL);
  EXPECT_EQ(wait_exit(worker), 128 + SIGKILL);
  auto before = watcher->trials();
  ASSERT_TRUE(before);
  ASSERT_LT(count_finished(*before), static_cast<std::size_t>(kTrials));

  // Same host, the worker's pid gone: its Running trial is re-claimed at once.
  Study study = open_study(open_file(path));
  ASSERT_TRUE(optimize(study, slow_branin(0ms), kTrials));
  auto after = study.trials();
  ASSERT_TRUE(after);
  expect_resumed(*before, *after, kTrials);
  // Every start of a number (first run and re-runs) carries the same params.
  std::map<std::int64_t, nlohmann::json> params;
  int restarts = 0;
  for (const auto& op : journal_lines(path)) {
    if (op["op"] != "start") continue;
    const auto n = op["n"].get<std::int64_t>();
    if (params.count(n) != 0) {
      ++restarts;
      EXPECT_EQ(op["params"], params[n]) << "trial " << n;
    }
    params[n] = op["params"];
  }
  EXPECT_EQ(static_cast<int>(params.size()), kTrials);
  EXPECT_EQ(restarts, static_cast<int>(before->size() - count_finished(*before)));
}

TEST(FileStorageTest, TwoProcessesShareOneJournal) {
  TempDir dir;
  const auto path = dir / "s.jsonl";
  constexpr int kTrials = 40;
  auto worker = [&] {
    auto storage = open_file_storage(path);
    if (!storage) return false;
    auto study = Study::open(*storage, branin_space(), quick_options());
    return study && optimize(*study, slow_branin(1ms), kTrials).has_value();
  };
  const pid_t a = spawn(worker);
  const pid_t b = spawn(worker);
  EXPECT_EQ(wait_exit(a), 0);
  EXPECT_EQ(wait_exit(b), 0);
  auto trials = open_file(path)->trials();
  ASSERT_TRUE(trials);
  ASSERT_EQ(trials->size(), static_cast<std::size_t>(kTrials));
  std::set<std::int64_t> pids;
  for (const TrialRecord& t : *trials) {
    EXPECT_TRUE(t.finished());
    EXPECT_EQ(t.attempt, 1) << "trial " << t.number << " ran twice";
    pids.insert(t.pid);
  }
  EXPECT_EQ(pids, (std::set<std::int64_t>{a, b})) << "both workers ran trials";
  int starts = 0;
  for (const auto& op : journal_lines(path)) starts += op["op"] == "start";
  EXPECT_EQ(starts, kTrials);
}

TEST(FileStorageTest, ABadPathFailsWithThePath) {
  auto storage = open_file_storage("/proc/quant-no-such-dir/s.jsonl");
  ASSERT_FALSE(storage);
  EXPECT_NE(storage.error().message.find("/proc/quant-no-such-dir/s.jsonl"), std::string::npos);
}

class RedisStudyTest : public quant::testing::RedisTest {
 protected:
  std::shared_ptr<StudyStorage> open_redis(StorageOptions options = {}) {
    auto storage = open_redis_storage(redis.endpoint(), "test", std::move(options));
    if (!storage) ADD_FAILURE() << storage.error().message;
    return storage ? *storage : nullptr;
  }
};

TEST_F(RedisStudyTest, TwoWorkersShareTheBudgetAndNeverRunATrialTwice) {
  constexpr int kTrials = 40;
  std::mutex mutex;
  std::multiset<std::int64_t> ran;
  auto worker = [&] {
    Study study = open_study(open_redis());
    auto done = optimize(
        study,
        [&](Trial& trial) -> Expected<double> {
          {
            std::lock_guard lock(mutex);
            ran.insert(trial.number());
          }
          return slow_branin(1ms)(trial);
        },
        kTrials);
    EXPECT_TRUE(done) << done.error().message;
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  std::set<std::int64_t> once(ran.begin(), ran.end());
  EXPECT_EQ(ran.size(), static_cast<std::size_t>(kTrials)) << "each trial number ran exactly once";
  EXPECT_EQ(once.size(), static_cast<std::size_t>(kTrials));
  auto trials = open_redis()->trials();
  ASSERT_TRUE(trials) << trials.error().message;
  ASSERT_EQ(trials->size(), static_cast<std::size_t>(kTrials));
  for (const TrialRecord& t : *trials) {
    EXPECT_TRUE(t.finished());
    EXPECT_EQ(t.attempt, 1);
    if (t.state == TrialState::Complete) {
      EXPECT_EQ(t.intermediate.size(), 3u);
    }
  }
}

TEST_F(RedisStudyTest, ARedisRestartMidRunLosesNothingAndRunsNothingTwice) {
  // The connection re-sends the commands a crash left unanswered: the claim,
  // report and tell scripts must answer a re-send as they answered the first.
  constexpr int kTrials = 30;
  std::mutex mutex;
  std::multiset<std::int64_t> ran;
  auto storage = open_redis();
  std::thread worker([&] {
    Study study = open_study(storage);
    auto done = optimize(
        study,
        [&](Trial& trial) -> Expected<double> {
          {
            std::lock_guard lock(mutex);
            ran.insert(trial.number());
          }
          return slow_branin(2ms)(trial);
        },
        kTrials);
    EXPECT_TRUE(done) << done.error().message;
  });
  auto watcher = open_redis();
  EXPECT_TRUE(wait_finished(*watcher, 8));
  redis.kill();  // SIGKILL; the AOF is fsync'd on every write
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(redis.start(), "");
  worker.join();
  EXPECT_EQ(ran.size(), static_cast<std::size_t>(kTrials));
  EXPECT_EQ(std::set<std::int64_t>(ran.begin(), ran.end()).size(), static_cast<std::size_t>(kTrials));
  auto trials = open_redis()->trials();
  ASSERT_TRUE(trials) << trials.error().message;
  ASSERT_EQ(trials->size(), static_cast<std::size_t>(kTrials));
  for (const TrialRecord& t : *trials) {
    EXPECT_TRUE(t.finished()) << "trial " << t.number;
    EXPECT_EQ(t.attempt, 1) << "trial " << t.number;
  }
}

TEST_F(RedisStudyTest, SameSeedOneWorkerSameTrialsAsTheFileStorage) {
  TempDir dir;
  Study on_redis = open_study(open_redis());
  Study on_file = open_study(open_file(dir / "s.jsonl"));
  ASSERT_TRUE(optimize(on_redis, slow_branin(0ms), 25));
  ASSERT_TRUE(optimize(on_file, slow_branin(0ms), 25));
  auto r = on_redis.trials();
  auto f = on_file.trials();
  ASSERT_TRUE(r && f);
  ASSERT_EQ(r->size(), f->size());
  for (std::size_t i = 0; i < r->size(); ++i) {
    EXPECT_EQ((*r)[i].params, (*f)[i].params) << "trial " << i;
    EXPECT_EQ((*r)[i].state, (*f)[i].state) << "trial " << i;
    EXPECT_EQ((*r)[i].intermediate, (*f)[i].intermediate) << "trial " << i;
  }
}

TEST_F(RedisStudyTest, KilledWorkersTrialIsReclaimedWithItsParams) {
  constexpr int kTrials = 20;
  const auto endpoint = redis.endpoint();
  const pid_t worker = spawn([&] {
    auto storage = open_redis_storage(endpoint, "test");
    if (!storage) return false;
    auto study = Study::open(*storage, branin_space(), quick_options());
    return study && optimize(*study, hangs_from(5), kTrials).has_value();
  });
  ASSERT_GT(worker, 0);
  auto watcher = open_redis();
  ASSERT_TRUE(wait_mid_trial(*watcher, 5));
  ::kill(worker, SIGKILL);
  EXPECT_EQ(wait_exit(worker), 128 + SIGKILL);
  auto before = watcher->trials();
  ASSERT_TRUE(before);
  const std::size_t running = before->size() - count_finished(*before);
  EXPECT_EQ(running, 1u) << "the worker died inside a trial";

  Study study = open_study(open_redis());  // same host: the dead pid frees the trial at once
  ASSERT_TRUE(optimize(study, slow_branin(0ms), kTrials));
  auto after = study.trials();
  ASSERT_TRUE(after);
  expect_resumed(*before, *after, kTrials);
  for (const TrialRecord& old : *before) {
    if (!old.finished()) {
      EXPECT_EQ((*after)[static_cast<std::size_t>(old.number)].attempt, 2);
    }
  }
}

TEST_F(RedisStudyTest, StaleHeartbeatIsReclaimedByAnotherWorker) {
  Study abandoned = open_study(open_redis());
  auto lost = abandoned.ask();  // ask() starts no heartbeat thread: this trial goes stale
  ASSERT_TRUE(lost);
  StorageOptions options;
  options.stale_after = 300ms;
  options.check_pid = false;  // the owner's process (this one) is alive
  Study other = open_study(open_redis(options));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(optimize(other, slow_branin(0ms), 4));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms) << "trial 0 was taken before it went stale";
  auto trials = other.trials();
  ASSERT_TRUE(trials);
  ASSERT_EQ(trials->size(), 4u);
  EXPECT_EQ(count_finished(*trials), 4u);
  EXPECT_EQ((*trials)[0].params, lost->params());
  EXPECT_EQ((*trials)[0].attempt, 2);
  EXPECT_FALSE(abandoned.tell(*lost, 0.0));
}

TEST_F(RedisStudyTest, TellsAndReportsAnswerByToken) {
  auto storage = open_redis();
  Study study = open_study(storage);
  auto trial = study.ask();
  ASSERT_TRUE(trial);
  const std::string token = trial->record().token;
  EXPECT_EQ(storage->report(0, token, 0, 1.5), true);
  EXPECT_EQ(storage->report(0, "someone-else", 1, 1.5), false);
  EXPECT_EQ(storage->finish(0, token, TrialState::Complete, 1.25), true);
  EXPECT_EQ(storage->finish(0, token, TrialState::Complete, 1.25), true) << "a re-sent tell answers as the first";
  EXPECT_EQ(storage->finish(0, token, TrialState::Failed, 0), false);
  EXPECT_EQ(storage->report(0, token, 1, 2.0), false) << "no reports after the end";
  auto trials = storage->trials();
  ASSERT_TRUE(trials);
  EXPECT_EQ((*trials)[0].value, 1.25);
  EXPECT_EQ((*trials)[0].intermediate, (std::map<std::int64_t, double>{{0, 1.5}}));
  auto other = Study::open(storage, testing::hartmann6_problem().space, quick_options());
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("different definition"), std::string::npos);
}

}  // namespace
}  // namespace quant::research
