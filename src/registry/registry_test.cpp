#include "registry/registry.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "registry/file_registry.h"
#include "registry/file_tracking.h"
#include "registry/test_files.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using quant::testing::unique_dir;
using quant::testing::slurp;
using quant::testing::write_text;

constexpr std::int64_t kNow = 1764115800000;  // 2025-11-26T00:10:00Z

/// A model directory as quant train writes one (contents made up; the registry does not parse them).
fs::path make_model(const fs::path& dir, const std::string& marker) {
  write_text(dir / "manifest.json", "{\"marker\": \"" + marker + "\"}\n");
  write_text(dir / "gatekeeper_prob.onnx", "onnx-" + marker);
  write_text(dir / "gatekeeper_prob.xgboost.json", "{}");
  write_text(dir / "scratch" / "ignored.txt", "not copied");
  return dir;
}

struct Store {
  fs::path root;
  TrackingOptions options;
  std::unique_ptr<Registry> registry;
};

Store open_store(const std::string& tag) {
  Store s;
  s.root = unique_dir(tag) / "mlruns";
  s.options.user = "alice";
  s.options.clock_ms = [] { return kNow; };
  auto r = open_file_registry(s.root.string(), s.options);
  EXPECT_TRUE(r);
  s.registry = std::move(*r);
  return s;
}

TEST(FileRegistryWriteTest, RegisterCopiesTheModelIntoTheRunSoTheVersionIsImmutable) {
  Store s = open_store("copy");
  const fs::path model = make_model(s.root.parent_path() / "train_out", "v1");
  auto tracker = FileTracker::open(s.root.string(), s.options);
  ASSERT_TRUE(tracker);
  auto run = (*tracker)->start_run("train", "WIN");
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->log_metric("oos_sharpe", 1.5));
  auto v = s.registry->register_version("gatekeeper-WIN", model.string(), (*run)->run_id(), {{"symbol", "WIN"}});
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, 1);

  const fs::path stored = s.root / (*run)->experiment_id() / (*run)->run_id() / "artifacts" / "model";
  EXPECT_EQ(slurp(stored / "manifest.json"), "{\"marker\": \"v1\"}\n");
  EXPECT_EQ(slurp(stored / "gatekeeper_prob.onnx"), "onnx-v1");
  EXPECT_TRUE(fs::exists(stored / "gatekeeper_prob.xgboost.json"));
  EXPECT_FALSE(fs::exists(stored / "scratch")) << "only the top-level files are the model";

  // MLflow's version meta.yaml, keys sorted, pointing at the copy.
  const fs::path meta = s.root / "models" / "gatekeeper-WIN" / "version-1" / "meta.yaml";
  const std::string uri = "file://" + stored.string();
  EXPECT_EQ(slurp(meta),
            "aliases: []\ncreation_timestamp: 1764115800000\ncurrent_stage: None\ndescription: null\n"
            "last_updated_timestamp: 1764115800000\nname: 'gatekeeper-WIN'\nrun_id: '" +
                (*run)->run_id() + "'\nrun_link: null\nsource: '" + uri +
                "'\nstatus: READY\nstatus_message: null\nstorage_location: '" + uri +
                "'\nuser_id: 'alice'\nversion: 1\n");
  EXPECT_EQ(slurp(s.root / "models" / "gatekeeper-WIN" / "version-1" / "tags" / "symbol"), "WIN");
  EXPECT_EQ(slurp(s.root / "models" / "gatekeeper-WIN" / "meta.yaml"),
            "creation_timestamp: 1764115800000\ndescription: ''\nlast_updated_timestamp: 1764115800000\n"
            "name: 'gatekeeper-WIN'\n");

  // The source changes afterwards; the registered version does not.
  write_text(model / "manifest.json", "{\"marker\": \"changed\"}\n");
  ASSERT_TRUE(s.registry->set_alias("gatekeeper-WIN", "champion", 1));
  auto resolved = resolve(s.root.string(), "gatekeeper-WIN", "champion");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->dir, stored.string());
  EXPECT_EQ(slurp(fs::path(resolved->dir) / "manifest.json"), "{\"marker\": \"v1\"}\n");

  // A second registration from the same run gets its own artifact directory.
  auto v2 = s.registry->register_version("gatekeeper-WIN", model.string(), (*run)->run_id());
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(*v2, 2);
  EXPECT_EQ(slurp(stored.parent_path() / "model-2" / "manifest.json"), "{\"marker\": \"changed\"}\n");
  for (const auto& e : fs::recursive_directory_iterator(s.root)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(FileRegistryWriteTest, WithoutARunTheFilesGoToAFinishedRunInDefault) {
  Store s = open_store("norun");
  const fs::path model = make_model(s.root.parent_path() / "m", "x");
  auto v = s.registry->register_version("g", model.string());
  ASSERT_TRUE(v) << v.error().message;
  auto info = s.registry->get_version("g", *v);
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_EQ(info->run_id.size(), 32U);
  auto run = read_run(s.root.string(), info->run_id);
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->experiment_id, "0");
  EXPECT_EQ(run->run_name, "register g");
  EXPECT_EQ(run->status, 3);
  EXPECT_EQ(run->tags.at("quant.registry.model"), "g");
  EXPECT_EQ(info->storage_location, "file://" + (fs::path(run->dir) / "artifacts" / "model").string());
}

TEST(FileRegistryWriteTest, BadInputsFailWithClearMessages) {
  Store s = open_store("bad");
  const fs::path model = make_model(s.root.parent_path() / "m", "x");
  auto no_manifest = s.registry->register_version("g", (s.root.parent_path() / "m" / "scratch").string());
  ASSERT_FALSE(no_manifest);
  EXPECT_NE(no_manifest.error().message.find("no manifest.json"), std::string::npos);
  auto bad_run = s.registry->register_version("g", model.string(), "0123456789abcdef0123456789abcdef");
  ASSERT_FALSE(bad_run);
  EXPECT_NE(bad_run.error().message.find("no run 0123456789abcdef0123456789abcdef"), std::string::npos)
      << bad_run.error().message;
  EXPECT_FALSE(s.registry->register_version("a/b", model.string()));
  ASSERT_TRUE(s.registry->register_version("alpha", model.string()));
  ASSERT_TRUE(s.registry->register_version("beta", model.string()));
  auto unknown = s.registry->list_versions("gamma");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no model 'gamma' (models: alpha, beta)"), std::string::npos)
      << unknown.error().message;
  auto no_version = s.registry->get_version("alpha", 7);
  ASSERT_FALSE(no_version);
  EXPECT_NE(no_version.error().message.find("has no version 7 (versions: 1)"), std::string::npos)
      << no_version.error().message;
  EXPECT_FALSE(s.registry->set_alias("alpha", "champion", 2));
  EXPECT_FALSE(s.registry->set_alias("alpha", "latest", 1));
  EXPECT_FALSE(s.registry->set_alias("alpha", "12", 1));
  auto no_alias = s.registry->get_alias("alpha", "champion");
  ASSERT_FALSE(no_alias);
  EXPECT_NE(no_alias.error().message.find("has no alias 'champion' (aliases: none)"), std::string::npos);
  EXPECT_FALSE(s.registry->delete_alias("alpha", "champion"));
}

TEST(FileRegistryWriteTest, ConcurrentRegistrationsGetDistinctVersions) {
  Store s = open_store("race");
  const fs::path model = make_model(s.root.parent_path() / "m", "x");
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<std::int64_t> versions(kThreads, 0);
  std::atomic<int> failures{0};
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto own = open_file_registry(s.root.string(), s.options);
      auto v = own ? (*own)->register_version("raced", model.string()) : Expected<std::int64_t>(0);
      if (!v) {
        ++failures;
        return;
      }
      versions[t] = *v;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::sort(versions.begin(), versions.end());
  std::vector<std::int64_t> expected(kThreads);
  for (int i = 0; i < kThreads; ++i) expected[i] = i + 1;
  EXPECT_EQ(versions, expected);
  auto listed = s.registry->list_versions("raced");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), static_cast<std::size_t>(kThreads));
  std::set<std::string> locations;
  for (const auto& v : *listed) locations.insert(v.storage_location);
  EXPECT_EQ(locations.size(), static_cast<std::size_t>(kThreads)) << "each version has its own copy";
}

TEST(FileRegistryWriteTest, ListsModelsAndVersionsWithAliasesTagsAndRunMetrics) {
  Store s = open_store("list");
  const fs::path model = make_model(s.root.parent_path() / "m", "x");
  auto tracker = FileTracker::open(s.root.string(), s.options);
  auto run = (*tracker)->start_run("wf", "WIN");
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->log_metric("oos_sharpe", 1.0, 0));
  ASSERT_TRUE((*run)->log_metric("oos_sharpe", 1.75, 1));
  ASSERT_TRUE(s.registry->register_version("m", model.string(), (*run)->run_id(), {{"symbol", "WIN"}}));
  ASSERT_TRUE(s.registry->register_version("m", model.string()));
  ASSERT_TRUE(s.registry->set_alias("m", "champion", 1));
  ASSERT_TRUE(s.registry->set_alias("m", "challenger", 2));
  ASSERT_TRUE(s.registry->register_version("other", model.string()));

  auto models = s.registry->list_models();
  ASSERT_TRUE(models) << models.error().message;
  ASSERT_EQ(models->size(), 2U);
  EXPECT_EQ((*models)[0].name, "m");
  EXPECT_EQ((*models)[0].version_count, 2);
  EXPECT_EQ((*models)[0].latest_version, 2);
  EXPECT_EQ((*models)[0].aliases, (std::map<std::string, std::int64_t>{{"challenger", 2}, {"champion", 1}}));
  EXPECT_EQ((*models)[1].name, "other");

  auto versions = s.registry->list_versions("m");
  ASSERT_TRUE(versions) << versions.error().message;
  ASSERT_EQ(versions->size(), 2U);
  EXPECT_EQ((*versions)[0].aliases, std::vector<std::string>{"champion"});
  EXPECT_EQ((*versions)[0].tags.at("symbol"), "WIN");
  EXPECT_EQ((*versions)[0].metrics.at("oos_sharpe"), 1.75);
  EXPECT_EQ((*versions)[0].status, "READY");
  EXPECT_EQ((*versions)[1].aliases, std::vector<std::string>{"challenger"});
  EXPECT_TRUE((*versions)[1].metrics.empty());

  auto champion = s.registry->get_alias("m", "champion");
  ASSERT_TRUE(champion);
  EXPECT_EQ(champion->version, 1);
  ASSERT_TRUE(s.registry->delete_alias("m", "challenger"));
  EXPECT_FALSE(fs::exists(s.root / "models" / "m" / "aliases" / "challenger"));
  EXPECT_EQ(s.registry->get_model("m")->aliases.size(), 1U);

  // A version MLflow deleted is left out.
  const fs::path meta2 = s.root / "models" / "m" / "version-2" / "meta.yaml";
  std::string text = slurp(meta2);
  text.replace(text.find("current_stage: None"), 19, "current_stage: Deleted_Internal");
  write_text(meta2, text);
  EXPECT_EQ(s.registry->list_versions("m")->size(), 1U);
}

TEST(FileRegistryWriteTest, PromoteAndRollbackFollowAndRecordTheHistory) {
  Store s = open_store("promote");
  const fs::path model = make_model(s.root.parent_path() / "m", "x");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.registry->register_version("g", model.string()));

  auto first = s.registry->promote("g", 1, kChampion, R"({"oos_sharpe": 1.1, "dsr": 0.91})", "first champion");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->from);
  EXPECT_EQ(first->to, 1);
  auto second = s.registry->promote("g", 2, kChampion, R"({"oos_sharpe": 1.4, "margin": 0.3, "dsr": 0.97})",
                                    "beat v1 by 0.3 Sharpe");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->from, 1);
  ASSERT_TRUE(s.registry->promote("g", 3, kChampion, "{}", "third"));
  EXPECT_EQ(resolve(s.root.string(), "g", "champion")->version, 3);

  auto again = s.registry->promote("g", 3);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already points at version 3"), std::string::npos);
  auto bad_json = s.registry->promote("g", 2, kChampion, "[1, 2]");
  ASSERT_FALSE(bad_json);
  EXPECT_NE(bad_json.error().message.find("JSON object"), std::string::npos);
  EXPECT_FALSE(s.registry->promote("g", 2, kChampion, "{not json"));
  EXPECT_FALSE(s.registry->promote("g", 9));

  auto back = s.registry->rollback("g", kChampion, "v3 lost money live");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->from, 3);
  EXPECT_EQ(back->to, 2);
  EXPECT_EQ(resolve(s.root.string(), "g", "champion")->version, 2);
  auto back2 = s.registry->rollback("g");
  ASSERT_TRUE(back2) << back2.error().message;
  EXPECT_EQ(back2->to, 1);
  auto none = s.registry->rollback("g");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no earlier version"), std::string::npos) << none.error().message;
  EXPECT_EQ(resolve(s.root.string(), "g", "champion")->version, 1);

  // Every decision is on disk: one JSON object a line, with its numbers.
  const fs::path file = s.root / "models" / "g" / "aliases_history" / "champion.jsonl";
  std::ifstream in(file);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 5U);
  EXPECT_TRUE(lines[0]["from"].is_null());
  EXPECT_EQ(lines[0]["to"], 1);
  EXPECT_EQ(lines[1]["action"], "promote");
  EXPECT_EQ(lines[1]["from"], 1);
  EXPECT_EQ(lines[1]["to"], 2);
  EXPECT_EQ(lines[1]["reason"], "beat v1 by 0.3 Sharpe");
  EXPECT_EQ(lines[1]["decision"]["margin"], 0.3);
  EXPECT_EQ(lines[1]["decision"]["dsr"], 0.97);
  EXPECT_EQ(lines[1]["time_ms"], kNow);
  EXPECT_EQ(lines[1]["time"], "2025-11-26T00:10:00.000Z");
  EXPECT_EQ(detail::iso_utc_ms(kNow + 45), "2025-11-26T00:10:00.045Z");
  EXPECT_EQ(lines[1]["user"], "alice");
  EXPECT_EQ(lines[3]["action"], "rollback");
  EXPECT_EQ(lines[3]["from"], 3);
  EXPECT_EQ(lines[3]["to"], 2);
  EXPECT_EQ(lines[3]["reason"], "v3 lost money live");
  auto history = s.registry->alias_history("g", kChampion);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 5U);
  EXPECT_EQ((*history)[1].decision_json, R"({"dsr":0.97,"margin":0.3,"oos_sharpe":1.4})");
  // Promoting again after the rollbacks pushes onto what is left.
  ASSERT_TRUE(s.registry->promote("g", 3));
  EXPECT_EQ(s.registry->rollback("g")->to, 1);
}

TEST(RollbackTargetTest, ReplaysPromotionsAsAStack) {
  const auto change = [](const char* action, std::optional<std::int64_t> from, std::int64_t to) {
    AliasChange c;
    c.action = action;
    c.from = from;
    c.to = to;
    return c;
  };
  EXPECT_FALSE(detail::rollback_target({}, "champion"));
  EXPECT_FALSE(detail::rollback_target({change("promote", std::nullopt, 1)}, "champion"));
  EXPECT_EQ(*detail::rollback_target({change("promote", std::nullopt, 1), change("promote", 1, 4)}, "c"), 1);
  EXPECT_EQ(*detail::rollback_target({change("promote", std::nullopt, 1), change("promote", 1, 4),
                                      change("promote", 4, 6), change("rollback", 6, 4)},
                                     "c"),
            1);
  EXPECT_FALSE(detail::rollback_target(
      {change("promote", std::nullopt, 1), change("promote", 1, 4), change("rollback", 4, 1)}, "c"));
  auto parsed = detail::parse_alias_change(detail::alias_change_json(change("promote", std::nullopt, 3)), "x");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->from);
  EXPECT_EQ(parsed->to, 3);
  EXPECT_FALSE(detail::parse_alias_change("{\"action\": \"demote\", \"to\": 1}", "x"));
  EXPECT_EQ(*detail::normalise_decision("  "), "{}");
  EXPECT_EQ(*detail::normalise_decision(R"({ "b": 1, "a": [1,2] })"), R"({"a":[1,2],"b":1})");
}

}  // namespace
}  // namespace quant::registry
