#include "registry/tracking.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry/file_registry.h"
#include "registry/file_tracking.h"
#include "registry/test_files.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using quant::testing::unique_dir;
using quant::testing::slurp;

constexpr std::int64_t kNow = 1764115800000;  // 2025-11-26T00:10:00Z

TrackingOptions fixed_options(std::int64_t now = kNow) {
  TrackingOptions o;
  o.user = "alice";
  o.source_name = "quant";
  o.clock_ms = [now] { return now; };
  return o;
}

std::unique_ptr<FileTracker> open_store(const fs::path& root, const TrackingOptions& options = fixed_options()) {
  auto t = FileTracker::open(root.string(), options);
  EXPECT_TRUE(t) << (t ? "" : t.error().message);
  return t ? std::move(*t) : nullptr;
}

FlatYaml yaml_of(const fs::path& file) {
  auto y = parse_flat_yaml(slurp(file), file.string());
  EXPECT_TRUE(y) << (y ? "" : y.error().message);
  return y ? *y : FlatYaml{};
}

/// Experiment id -> name of every experiment with a meta.yaml under root.
std::map<std::string, std::string> experiments(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(root)) {
    if (!e.is_directory() || !fs::exists(e.path() / "meta.yaml")) continue;
    out[e.path().filename().string()] = yaml_of(e.path() / "meta.yaml").scalars["name"];
  }
  return out;
}

std::vector<std::string> runs_in(const fs::path& experiment_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(experiment_dir)) {
    if (e.is_directory() && fs::exists(e.path() / "meta.yaml")) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FileTrackingTest, NewStoreHasMlflowsDefaultExperimentAndTrash) {
  const fs::path root = unique_dir("default") / "mlruns";
  auto tracker = open_store(root);
  ASSERT_TRUE(tracker);
  EXPECT_TRUE(fs::is_directory(root / ".trash"));
  const std::string uri = "file://" + (root / "0").string();
  EXPECT_EQ(slurp(root / "0" / "meta.yaml"),
            "artifact_location: '" + uri +
                "'\ncreation_time: 1764115800000\nexperiment_id: '0'\n"
                "last_update_time: 1764115800000\nlifecycle_stage: active\nname: 'Default'\n");
  EXPECT_EQ(tracker->uri(), "file://" + root.string());
  // Opening again changes nothing.
  auto again = open_store(root, fixed_options(kNow + 5));
  EXPECT_NE(slurp(root / "0" / "meta.yaml").find("creation_time: 1764115800000"), std::string::npos);
}

TEST(FileTrackingTest, LayoutHasEveryFieldMlflowWritesWithItsTypes) {
  const fs::path root = unique_dir("layout");
  auto tracker = open_store(root);
  auto run = tracker->start_run("walkforward", "WIN 2024", {{"symbol", "WIN"}});
  ASSERT_TRUE(run) << run.error().message;
  const std::string id = (*run)->run_id();
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
  EXPECT_EQ((*run)->experiment_id(), "1");

  // Experiment meta.yaml: experiment_id a string, times in ms.
  const fs::path exp = root / "1";
  EXPECT_EQ(slurp(exp / "meta.yaml"), "artifact_location: 'file://" + exp.string() +
                                          "'\ncreation_time: 1764115800000\nexperiment_id: '1'\n"
                                          "last_update_time: 1764115800000\nlifecycle_stage: active\n"
                                          "name: 'walkforward'\n");

  const fs::path dir = exp / id;
  for (const char* sub : {"params", "metrics", "tags", "artifacts"}) EXPECT_TRUE(fs::is_directory(dir / sub)) << sub;
  const std::string artifacts_uri = "file://" + (dir / "artifacts").string();
  EXPECT_EQ((*run)->artifact_uri(), artifacts_uri);
  const std::string running =
      "artifact_uri: '" + artifacts_uri +
      "'\ndeleted_time: null\nend_time: null\nentry_point_name: ''\n"
      "experiment_id: '1'\nlifecycle_stage: active\nrun_id: '" +
      id + "'\nrun_name: 'WIN 2024'\nrun_uuid: '" + id +
      "'\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1764115800000\nstatus: 1\ntags: []\n"
      "user_id: 'alice'\n";
  EXPECT_EQ(slurp(dir / "meta.yaml"), running);

  // The keys REFERENCE.md lists, read back with their types.
  FlatYaml meta = yaml_of(dir / "meta.yaml");
  for (const char* key : {"run_id", "run_uuid", "run_name", "experiment_id", "user_id", "artifact_uri", "start_time",
                          "status", "lifecycle_stage", "source_type"}) {
    EXPECT_EQ(meta.scalars.count(key), 1U) << key;
  }
  EXPECT_EQ(meta.nulls.count("end_time"), 1U);
  EXPECT_EQ(meta.nested.count("tags"), 1U);  // tags: []
  EXPECT_EQ(meta.scalars["run_id"], meta.scalars["run_uuid"]);

  // Tags MLflow's default context sets, plus ours; no trailing newline.
  EXPECT_EQ(slurp(dir / "tags" / "mlflow.runName"), "WIN 2024");
  EXPECT_EQ(slurp(dir / "tags" / "mlflow.user"), "alice");
  EXPECT_EQ(slurp(dir / "tags" / "mlflow.source.name"), "quant");
  EXPECT_EQ(slurp(dir / "tags" / "mlflow.source.type"), "LOCAL");
  EXPECT_EQ(slurp(dir / "tags" / "symbol"), "WIN");

  ASSERT_TRUE((*run)->end(RunStatus::Finished));
  std::string finished = running;
  finished.replace(finished.find("end_time: null"), 14, "end_time: 1764115800000");
  finished.replace(finished.find("status: 1"), 9, "status: 3");
  EXPECT_EQ(slurp(dir / "meta.yaml"), finished);
  // Nothing but finished files: no temporary left behind.
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(FileTrackingTest, ParamsMetricsAndTagsRoundTrip) {
  const fs::path root = unique_dir("roundtrip");
  std::int64_t now = kNow;
  TrackingOptions options = fixed_options();
  options.clock_ms = [&now] { return now; };
  auto tracker = open_store(root, options);
  auto run = tracker->start_run("optimize", "", {});
  ASSERT_TRUE(run) << run.error().message;
  registry::Run& r = **run;
  ASSERT_TRUE(r.log_param("fast", 9));
  ASSERT_TRUE(r.log_param("stop_atr", 2.5));
  ASSERT_TRUE(r.log_param("symbol", "WIN"));
  ASSERT_TRUE(r.log_param("symbol", "WIN")) << "the same value again is fine";
  auto changed = r.log_param("symbol", "WDO");
  ASSERT_FALSE(changed);
  EXPECT_NE(changed.error().message.find("already logged as 'WIN'"), std::string::npos) << changed.error().message;
  ASSERT_TRUE(r.log_metric("oos_sharpe", 1.25, 0));
  now += 10;
  ASSERT_TRUE(r.log_metric("oos_sharpe", 0.5, 1));
  ASSERT_TRUE(r.log_metric("oos_sharpe", 3.0, 2, 42));
  ASSERT_TRUE(r.log_metric("folds/drawdown", -0.125, 7));
  ASSERT_TRUE(r.log_metric("empty", std::nan("")));
  ASSERT_TRUE(r.set_tag("stage", "draft"));
  ASSERT_TRUE(r.set_tag("stage", "final"));

  const fs::path dir = root / r.experiment_id() / r.run_id();
  EXPECT_EQ(slurp(dir / "params" / "fast"), "9");
  EXPECT_EQ(slurp(dir / "params" / "stop_atr"), "2.5");
  EXPECT_EQ(slurp(dir / "metrics" / "oos_sharpe"), "1764115800000 1.25 0\n1764115800010 0.5 1\n42 3.0 2\n");
  EXPECT_EQ(slurp(dir / "metrics" / "folds" / "drawdown"), "1764115800010 -0.125 7\n");
  EXPECT_EQ(slurp(dir / "metrics" / "empty"), "1764115800010 nan 0\n");

  auto back = read_run(root.string(), r.run_id());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->params, (Tags{{"fast", "9"}, {"stop_atr", "2.5"}, {"symbol", "WIN"}}));
  EXPECT_EQ(back->tags.at("stage"), "final");
  EXPECT_EQ(back->tags.at("mlflow.runName"), back->run_name);
  EXPECT_EQ(back->run_name, "run-" + r.run_id().substr(0, 8));
  // MLflow's value of a metric: the point with the largest (step, timestamp, value).
  EXPECT_EQ(back->metrics.at("oos_sharpe").value, 3.0);
  EXPECT_EQ(back->metrics.at("oos_sharpe").step, 2);
  EXPECT_EQ(back->metrics.at("folds/drawdown").value, -0.125);
  EXPECT_TRUE(std::isnan(back->metrics.at("empty").value));
  auto history = read_metric_history(root.string(), r.run_id(), "oos_sharpe");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 3U);
  EXPECT_EQ((*history)[1].timestamp_ms, kNow + 10);
  EXPECT_EQ((*history)[1].value, 0.5);

  // Renaming through the tag keeps meta.yaml in step, as MLflow does.
  ASSERT_TRUE(r.set_tag("mlflow.runName", "renamed"));
  EXPECT_EQ(read_run(root.string(), r.run_id())->run_name, "renamed");
}

TEST(FileTrackingTest, EndStatusesAndTheDestructorMarksAForgottenRunFailed) {
  const fs::path root = unique_dir("status");
  auto tracker = open_store(root);
  const std::vector<std::pair<RunStatus, int>> cases = {
      {RunStatus::Finished, 3}, {RunStatus::Failed, 4}, {RunStatus::Killed, 5}};
  for (const auto& [status, number] : cases) {
    auto run = tracker->start_run("s");
    ASSERT_TRUE(run);
    ASSERT_TRUE((*run)->end(status));
    EXPECT_EQ(read_run(root.string(), (*run)->run_id())->status, number);
  }
  std::string forgotten;
  {
    auto run = tracker->start_run("s");
    ASSERT_TRUE(run);
    forgotten = (*run)->run_id();
    EXPECT_EQ(read_run(root.string(), forgotten)->status, 1);
  }
  auto back = read_run(root.string(), forgotten);
  EXPECT_EQ(back->status, 4);
  EXPECT_EQ(back->end_time_ms, kNow);
}

TEST(FileTrackingTest, KeysOutsideMlflowsRulesAreRefused) {
  const fs::path root = unique_dir("keys");
  auto tracker = open_store(root);
  auto run = tracker->start_run("k");
  ASSERT_TRUE(run);
  for (const std::string key : {"", "../escape", "/abs", "a//b", "a/./b", "trailing/", "bad\nkey", "semi;colon"}) {
    auto p = (*run)->log_param(key, "x");
    EXPECT_FALSE(p) << "param '" << key << "'";
    EXPECT_FALSE((*run)->log_metric(key, 1.0)) << "metric '" << key << "'";
    EXPECT_FALSE((*run)->set_tag(key, "x")) << "tag '" << key << "'";
  }
  EXPECT_TRUE((*run)->log_param("a b:c/d-e_f.g", "ok"));
  EXPECT_FALSE(tracker->start_run(""));
  EXPECT_FALSE(tracker->start_run("x", "", {{"../t", "v"}}));
  EXPECT_FALSE(tracker->start_run("x", "one", {{"mlflow.runName", "two"}}));
  EXPECT_FALSE((*run)->log_artifact(root.string(), "../up"));
}

TEST(FileTrackingTest, ArtifactsCopyAFileOrADirectorysContents) {
  const fs::path base = unique_dir("artifacts");
  const fs::path root = base / "mlruns";
  fs::create_directories(base / "report" / "charts");
  std::ofstream(base / "report" / "index.html") << "<html>";
  std::ofstream(base / "report" / "charts" / "equity.svg") << "<svg/>";
  std::ofstream(base / "summary.json") << "{}";
  auto tracker = open_store(root);
  auto run = tracker->start_run("wf");
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->log_artifact((base / "report").string(), "report"));
  ASSERT_TRUE((*run)->log_artifact((base / "summary.json").string()));
  ASSERT_TRUE((*run)->log_artifact((base / "summary.json").string(), "nested/deeper"));
  const fs::path art = root / (*run)->experiment_id() / (*run)->run_id() / "artifacts";
  EXPECT_EQ(slurp(art / "report" / "index.html"), "<html>");
  EXPECT_EQ(slurp(art / "report" / "charts" / "equity.svg"), "<svg/>");
  EXPECT_EQ(slurp(art / "summary.json"), "{}");
  EXPECT_EQ(slurp(art / "nested" / "deeper" / "summary.json"), "{}");
  auto missing = (*run)->log_artifact((base / "nope").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("neither a file nor a directory"), std::string::npos);
}

TEST(FileTrackingTest, ExperimentIdsIncreaseAndCountTheTrash) {
  const fs::path root = unique_dir("ids");
  auto tracker = open_store(root);
  EXPECT_EQ(*tracker->experiment_id("a"), "1");
  EXPECT_EQ(*tracker->experiment_id("b"), "2");
  EXPECT_EQ(*tracker->experiment_id("a"), "1");
  EXPECT_EQ(*tracker->experiment_id("Default"), "0");
  // A deleted experiment keeps its id: the next one goes past it.
  fs::create_directories(root / ".trash" / "7");
  std::ofstream(root / ".trash" / "7" / "meta.yaml")
      << "artifact_location: file:///x\ncreation_time: 1\nexperiment_id: '7'\nlast_update_time: 2\n"
         "lifecycle_stage: deleted\nname: old\n";
  EXPECT_EQ(*tracker->experiment_id("c"), "8");
  auto deleted = tracker->experiment_id("old");
  ASSERT_FALSE(deleted);
  EXPECT_NE(deleted.error().message.find("deleted state"), std::string::npos) << deleted.error().message;
  EXPECT_EQ(experiments(root),
            (std::map<std::string, std::string>{{"0", "Default"}, {"1", "a"}, {"2", "b"}, {"8", "c"}}));
}

TEST(FileTrackingTest, ConcurrentRunsFromThreadsShareOneExperiment) {
  const fs::path root = unique_dir("threads");
  auto tracker = open_store(root);
  constexpr int kThreads = 8;
  constexpr int kRuns = 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::atomic<int> failures{0};
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread opens its own tracker, as separate workers would.
      auto own = FileTracker::open(root.string(), fixed_options());
      if (!own) {
        ++failures;
        return;
      }
      for (int i = 0; i < kRuns; ++i) {
        auto run = (*own)->start_run("optimize", "trial " + std::to_string(t) + "." + std::to_string(i));
        if (!run || !(*run)->log_metric("score", t * 10 + i) || !(*run)->end()) {
          ++failures;
          continue;
        }
        ids[t].push_back((*run)->run_id());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(experiments(root), (std::map<std::string, std::string>{{"0", "Default"}, {"1", "optimize"}}));
  std::set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kRuns));
  EXPECT_EQ(runs_in(root / "1"), std::vector<std::string>(all.begin(), all.end()));
}

TEST(FileTrackingTest, ConcurrentRunsFromProcessesShareOneExperiment) {
  const fs::path root = unique_dir("processes");
  constexpr int kProcesses = 6;
  constexpr int kRuns = 4;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Every worker opens the store itself (a new store: the Default
      // experiment is also created concurrently) and races for "walkforward".
      int bad = 0;
      auto tracker = FileTracker::open(root.string(), fixed_options());
      if (!tracker) ::_exit(10);
      for (int i = 0; i < kRuns; ++i) {
        auto run = (*tracker)->start_run("walkforward", "w" + std::to_string(p) + "-" + std::to_string(i));
        if (!run || !(*run)->log_param("worker", p) || !(*run)->end()) ++bad;
      }
      ::_exit(bad);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "worker " << pid << " status " << status;
  }
  EXPECT_EQ(experiments(root), (std::map<std::string, std::string>{{"0", "Default"}, {"1", "walkforward"}}));
  const auto runs = runs_in(root / "1");
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(kProcesses * kRuns));
  for (const auto& id : runs) {
    auto r = read_run(root.string(), id);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 3);
    EXPECT_EQ(r->experiment_id, "1");
  }
}

TEST(TrackingUriTest, ChoosesRestOrFileStore) {
  auto rest = parse_tracking_uri("https://mlflow.example:5000/");
  ASSERT_TRUE(rest);
  EXPECT_TRUE(rest->rest);
  EXPECT_EQ(rest->base_url, "https://mlflow.example:5000");
  auto empty = parse_tracking_uri("");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->rest);
  EXPECT_EQ(empty->root, "mlruns");
  auto file = parse_tracking_uri("file:///tmp/some%20where/mlruns");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->root, "/tmp/some where/mlruns");
  auto plain = parse_tracking_uri("/abs/mlruns");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->root, "/abs/mlruns");
  auto db = parse_tracking_uri("sqlite:///mlflow.db");
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("http(s)://"), std::string::npos) << db.error().message;
  EXPECT_FALSE(parse_tracking_uri("file://otherhost/x"));
}

TEST(TrackingUriTest, OpenTrackerOnAFileUriWritesThere) {
  const fs::path root = unique_dir("open") / "store";
  TrackingOptions options = fixed_options();
  options.uri = "file://" + root.string();
  auto tracker = open_tracker(options);
  ASSERT_TRUE(tracker) << tracker.error().message;
  auto run = (*tracker)->start_run("e");
  ASSERT_TRUE(run);
  EXPECT_TRUE(fs::exists(root / "1" / (*run)->run_id() / "meta.yaml"));
  EXPECT_STREQ(run_status_name(RunStatus::Killed), "KILLED");
}

}  // namespace
}  // namespace quant::registry
