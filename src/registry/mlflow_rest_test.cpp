// The REST client against mlflow_test_server.py, a stand-in MLflow server
// (Python stdlib) that checks every request body against MLflow's documented
// shapes and reports what it received at GET /_test/state.

#include "registry/mlflow_rest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http/http_client.h"
#include "registry/test_files.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using quant::testing::unique_dir;
using quant::testing::write_text;
using json = nlohmann::json;

constexpr std::int64_t kNow = 1764115800000;

/// The stand-in server, started for one test and stopped (SIGTERM, waited for) after it.
class StubServer {
 public:
  explicit StubServer(std::vector<std::string> extra = {}) {
    dir_ = unique_dir("server");
    const std::string port_file = (dir_ / "port").string();
    const std::string script = std::string(QUANT_SOURCE_DIR) + "/src/registry/mlflow_test_server.py";
    std::vector<std::string> args = {"python3", script, "--port-file", port_file};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      // The server dies with the test, even when the test crashes.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      std::vector<char*> argv;
      argv.reserve(args.size() + 1);
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("python3", argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (in >> port_) break;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;
  ~StubServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    fs::remove_all(dir_);
  }

  [[nodiscard]] bool up() const { return port_ != 0; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// GET /_test/state: what the server received and holds.
  json state() const {
    auto client = http::Client::create("registry-test");
    if (!client) return nullptr;
    http::Request request;
    request.url = url() + "/_test/state";
    request.timeout = std::chrono::milliseconds(5000);
    auto answer = client->perform(request);
    if (!answer) return nullptr;
    const std::string& body = answer->body;
    return json::parse(body, nullptr, false);
  }

  /// The requests to `path`, in order.
  std::vector<json> requests(const std::string& path) const {
    std::vector<json> out;
    const json all = state();  // a named copy: a range-for over a temporary's member would dangle
    for (const auto& r : all["requests"]) {
      if (r["path"] == path) out.push_back(r);
    }
    return out;
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TrackingOptions options_for(const StubServer& server) {
  TrackingOptions o;
  o.uri = server.url();
  o.user = "alice";
  o.source_name = "quant";
  o.clock_ms = [] { return kNow; };
  o.timeout = std::chrono::milliseconds(10000);
  return o;
}

#define REQUIRE_SERVER(server)                                                                        \
  if (!(server).up()) {                                                                               \
    if (std::getenv("CI") != nullptr) FAIL() << "the stand-in MLflow server did not start (python3)"; \
    GTEST_SKIP() << "python3 is not available to run the stand-in MLflow server";                     \
  }

TEST(MlflowRestTest, StartRunCreatesTheExperimentAndSendsMlflowsRunFields) {
  StubServer server;
  REQUIRE_SERVER(server);
  auto tracker = open_rest_tracker(options_for(server));
  ASSERT_TRUE(tracker);
  auto run = (*tracker)->start_run("walkforward", "WIN 2024", {{"symbol", "WIN"}});
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ((*run)->experiment_id(), "1");
  EXPECT_EQ((*run)->artifact_uri(), "mlflow-artifacts:/1/" + (*run)->run_id() + "/artifacts");
  // A second run finds the experiment by name instead of creating it again.
  auto second = (*tracker)->start_run("walkforward", "WIN 2025");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ((*second)->experiment_id(), "1");
  EXPECT_EQ(server.requests("/api/2.0/mlflow/experiments/create").size(), 1U);
  const auto gets = server.requests("/api/2.0/mlflow/experiments/get-by-name");
  ASSERT_EQ(gets.size(), 2U);
  EXPECT_EQ(gets[0]["query"]["experiment_name"], "walkforward");

  const auto creates = server.requests("/api/2.0/mlflow/runs/create");
  ASSERT_EQ(creates.size(), 2U);
  const json& body = creates[0]["json"];
  EXPECT_EQ(body["experiment_id"], "1");
  EXPECT_EQ(body["user_id"], "alice");
  EXPECT_EQ(body["run_name"], "WIN 2024");
  EXPECT_EQ(body["start_time"], kNow);
  std::map<std::string, std::string> tags;
  for (const auto& t : body["tags"]) tags[t["key"]] = t["value"];
  EXPECT_EQ(tags, (std::map<std::string, std::string>{{"mlflow.runName", "WIN 2024"},
                                                      {"mlflow.source.name", "quant"},
                                                      {"mlflow.source.type", "LOCAL"},
                                                      {"mlflow.user", "alice"},
                                                      {"symbol", "WIN"}}));
  EXPECT_EQ(creates[0]["content_type"], "application/json");
}

TEST(MlflowRestTest, ParamsAndMetricsGoInLogBatchAndEndUpdatesTheRun) {
  StubServer server;
  REQUIRE_SERVER(server);
  auto tracker = open_rest_tracker(options_for(server));
  auto run = (*tracker)->start_run("opt", "trial 1");
  ASSERT_TRUE(run) << run.error().message;
  registry::Run& r = **run;
  ASSERT_TRUE(r.log_param("fast", 9));
  ASSERT_TRUE(r.log_param("stop_atr", 2.5));
  ASSERT_TRUE(r.log_metric("oos_sharpe", 1.25, 3));
  ASSERT_TRUE(r.log_metric("oos_sharpe", 1.5, 4, 77));
  ASSERT_TRUE(r.log_metric("broken", std::nan("")));
  ASSERT_TRUE(r.set_tag("stage", "final"));
  EXPECT_TRUE(server.requests("/api/2.0/mlflow/runs/log-batch").empty()) << "batched until flush/end";
  ASSERT_TRUE(r.end(RunStatus::Killed));

  const auto batches = server.requests("/api/2.0/mlflow/runs/log-batch");
  ASSERT_EQ(batches.size(), 1U);
  const json& b = batches[0]["json"];
  EXPECT_EQ(b["run_id"], r.run_id());
  EXPECT_EQ(b["params"], json::parse(R"([{"key":"fast","value":"9"},{"key":"stop_atr","value":"2.5"}])"));
  ASSERT_EQ(b["metrics"].size(), 3U);
  EXPECT_EQ(b["metrics"][0], json::parse(R"({"key":"oos_sharpe","value":1.25,"timestamp":1764115800000,"step":3})"));
  EXPECT_EQ(b["metrics"][1]["timestamp"], 77);
  EXPECT_EQ(b["metrics"][2]["value"], "NaN");
  const auto tags = server.requests("/api/2.0/mlflow/runs/set-tag");
  ASSERT_EQ(tags.size(), 1U);
  EXPECT_EQ(tags[0]["json"], json({{"run_id", r.run_id()}, {"key", "stage"}, {"value", "final"}}));
  const auto updates = server.requests("/api/2.0/mlflow/runs/update");
  ASSERT_EQ(updates.size(), 1U);
  EXPECT_EQ(updates[0]["json"], json({{"run_id", r.run_id()}, {"status", "KILLED"}, {"end_time", kNow}}));
  const json stored = server.state()["runs"][r.run_id()];
  EXPECT_EQ(stored["info"]["status"], "KILLED");
  EXPECT_EQ(stored["params"]["fast"], "9");
}

TEST(MlflowRestTest, MlflowsErrorJsonAndHttpFailuresNameTheUrl) {
  StubServer server;
  REQUIRE_SERVER(server);
  auto tracker = open_rest_tracker(options_for(server));
  auto run = (*tracker)->start_run("e");
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->log_param("k", "a"));
  ASSERT_TRUE((*run)->flush());
  ASSERT_TRUE((*run)->log_param("k", "b"));
  auto changed = (*run)->flush();
  ASSERT_FALSE(changed);
  const std::string& m = changed.error().message;
  EXPECT_NE(m.find("POST " + server.url() + "/api/2.0/mlflow/runs/log-batch"), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 400 INVALID_PARAMETER_VALUE: Changing param values is not allowed"), std::string::npos) << m;

  auto boom = (*tracker)->start_run("boom");
  ASSERT_FALSE(boom);
  EXPECT_NE(boom.error().message.find("GET " + server.url() + "/api/2.0/mlflow/experiments/get-by-name"),
            std::string::npos)
      << boom.error().message;
  EXPECT_NE(boom.error().message.find("HTTP 500: Internal Server Error"), std::string::npos) << boom.error().message;

  TrackingOptions nowhere = options_for(server);
  nowhere.uri = "http://127.0.0.1:1";
  nowhere.connect_timeout = std::chrono::milliseconds(2000);
  auto down = (*open_rest_tracker(nowhere))->start_run("x");
  ASSERT_FALSE(down);
  EXPECT_NE(down.error().message.find("http://127.0.0.1:1/api/2.0/mlflow/experiments/get-by-name"), std::string::npos)
      << down.error().message;
}

TEST(MlflowRestTest, BearerTokenAndBasicAuthAreSent) {
  StubServer bearer({"--token", "s3cret"});
  REQUIRE_SERVER(bearer);
  TrackingOptions o = options_for(bearer);
  o.token = "s3cret";
  ASSERT_TRUE((*open_rest_tracker(o))->experiment_id("x"));
  EXPECT_EQ(bearer.requests("/api/2.0/mlflow/experiments/get-by-name")[0]["auth"], "Bearer s3cret");
  o.token = "wrong";
  auto refused = (*open_rest_tracker(o))->experiment_id("x");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("HTTP 401 UNAUTHENTICATED"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("wrong"), std::string::npos) << "the token is never in a message";

  StubServer basic({"--basic", "ana:pw"});
  REQUIRE_SERVER(basic);
  TrackingOptions b = options_for(basic);
  b.username = "ana";
  b.password = "pw";
  ASSERT_TRUE((*open_rest_tracker(b))->experiment_id("x"));
  EXPECT_EQ(basic.requests("/api/2.0/mlflow/experiments/get-by-name")[0]["auth"], "Basic YW5hOnB3");
}

TEST(MlflowRestTest, ArtifactsArePutThroughTheProxy) {
  StubServer server;
  REQUIRE_SERVER(server);
  const fs::path dir = unique_dir("art");
  write_text(dir / "report" / "index.html", "<html>");
  write_text(dir / "report" / "charts" / "equity.svg", "<svg/>");
  write_text(dir / "summary.json", "{}");
  auto tracker = open_rest_tracker(options_for(server));
  auto run = (*tracker)->start_run("wf");
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->log_artifact((dir / "report").string(), "report"));
  ASSERT_TRUE((*run)->log_artifact((dir / "summary.json").string()));
  const std::string base = "1/" + (*run)->run_id() + "/artifacts/";
  const json artifacts = server.state()["artifacts"];
  EXPECT_EQ(artifacts[base + "report/index.html"], "<html>");
  EXPECT_EQ(artifacts[base + "report/charts/equity.svg"], "<svg/>");
  EXPECT_EQ(artifacts[base + "summary.json"], "{}");
  bool octet = false;
  const json all = server.state();
  for (const auto& r : all["requests"]) {
    if (r["method"] == "PUT") octet = r["content_type"] == "application/octet-stream";
  }
  EXPECT_TRUE(octet);
}

TEST(MlflowRestTest, RegistryRegistersPromotesRollsBackAndLists) {
  StubServer server({"--page-size", "1"});  // every search answer is paged
  REQUIRE_SERVER(server);
  const fs::path model = unique_dir("model");
  write_text(model / "manifest.json", "{\"v\": 1}");
  write_text(model / "gatekeeper_prob.onnx", "onnx");
  auto tracker = open_rest_tracker(options_for(server));
  auto run = (*tracker)->start_run("train", "WIN");
  ASSERT_TRUE(run);
  ASSERT_TRUE((*run)->log_metric("oos_sharpe", 1.4));
  ASSERT_TRUE((*run)->flush());

  auto reg = open_rest_registry(options_for(server));
  ASSERT_TRUE(reg);
  Registry& r = **reg;
  auto v1 = r.register_version("gatekeeper-WIN", model.string(), (*run)->run_id(), {{"symbol", "WIN"}});
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(*v1, 1);
  auto v2 = r.register_version("gatekeeper-WIN", model.string(), (*run)->run_id());
  ASSERT_TRUE(v2) << v2.error().message;
  auto v3 = r.register_version("gatekeeper-WIN", model.string());  // a run of its own
  ASSERT_TRUE(v3) << v3.error().message;
  EXPECT_EQ(*v3, 3);

  const json state = server.state();
  const std::string run_base = "1/" + (*run)->run_id() + "/artifacts/";
  EXPECT_EQ(state["artifacts"][run_base + "model/manifest.json"], "{\"v\": 1}");
  EXPECT_EQ(state["artifacts"][run_base + "model-2/gatekeeper_prob.onnx"], "onnx");
  const json& versions = state["models"]["gatekeeper-WIN"]["versions"];
  EXPECT_EQ(versions["1"]["source"], "mlflow-artifacts:/1/" + (*run)->run_id() + "/artifacts/model");
  EXPECT_EQ(versions["1"]["run_id"], (*run)->run_id());
  EXPECT_EQ(versions["1"]["tags"]["symbol"], "WIN");
  const std::string own_run = versions["3"]["run_id"];
  EXPECT_EQ(state["runs"][own_run]["info"]["experiment_id"], "0");
  EXPECT_EQ(state["runs"][own_run]["info"]["status"], "FINISHED");

  ASSERT_TRUE(r.promote("gatekeeper-WIN", 1, kChampion, R"({"oos_sharpe": 1.4})", "first"));
  ASSERT_TRUE(
      r.promote("gatekeeper-WIN", 3, kChampion, R"({"oos_sharpe": 1.6, "margin": 0.2, "dsr": 0.95})", "better"));
  EXPECT_EQ(server.state()["models"]["gatekeeper-WIN"]["aliases"]["champion"], "3");
  auto back = r.rollback("gatekeeper-WIN", kChampion, "bad live");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->from, 3);
  EXPECT_EQ(back->to, 1);
  auto champion = r.get_alias("gatekeeper-WIN", kChampion);
  ASSERT_TRUE(champion) << champion.error().message;
  EXPECT_EQ(champion->version, 1);
  EXPECT_EQ(champion->metrics.at("oos_sharpe"), 1.4);
  auto history = r.alias_history("gatekeeper-WIN", kChampion);
  ASSERT_TRUE(history) << history.error().message;
  ASSERT_EQ(history->size(), 3U);
  EXPECT_EQ((*history)[1].decision_json, R"({"dsr":0.95,"margin":0.2,"oos_sharpe":1.6})");
  EXPECT_EQ((*history)[2].action, "rollback");
  const std::string tag = server.state()["models"]["gatekeeper-WIN"]["tags"]["quant.alias_history.champion"];
  EXPECT_EQ(std::count(tag.begin(), tag.end(), '\n'), 3);

  const auto alias_posts = server.requests("/api/2.0/mlflow/registered-models/alias");
  ASSERT_FALSE(alias_posts.empty());
  EXPECT_EQ(alias_posts.front()["json"], json({{"name", "gatekeeper-WIN"}, {"alias", "champion"}, {"version", "1"}}));

  ASSERT_TRUE(r.register_version("other", model.string()));
  auto models = r.list_models();
  ASSERT_TRUE(models) << models.error().message;
  ASSERT_EQ(models->size(), 2U);
  EXPECT_EQ((*models)[0].name, "gatekeeper-WIN");
  EXPECT_EQ((*models)[0].version_count, 3);
  EXPECT_EQ((*models)[0].latest_version, 3);
  EXPECT_EQ((*models)[0].aliases.at("champion"), 1);
  auto listed = r.list_versions("gatekeeper-WIN");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 3U);
  EXPECT_EQ((*listed)[0].aliases, std::vector<std::string>{"champion"});
  EXPECT_EQ((*listed)[0].tags.at("symbol"), "WIN");
  EXPECT_EQ((*listed)[1].metrics.at("oos_sharpe"), 1.4);

  ASSERT_TRUE(r.set_alias("gatekeeper-WIN", "challenger", 2));
  ASSERT_TRUE(r.delete_alias("gatekeeper-WIN", "challenger"));
  const auto deletes = server.requests("/api/2.0/mlflow/registered-models/alias");
  EXPECT_EQ(deletes.back()["method"], "DELETE");
  EXPECT_EQ(deletes.back()["json"], json({{"name", "gatekeeper-WIN"}, {"alias", "challenger"}}));

  auto unknown = r.list_versions("nope");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no model 'nope' (models: gatekeeper-WIN, other)"), std::string::npos)
      << unknown.error().message;
  auto no_version = r.get_version("gatekeeper-WIN", 9);
  ASSERT_FALSE(no_version);
  EXPECT_NE(no_version.error().message.find("has no version 9"), std::string::npos) << no_version.error().message;
}

}  // namespace
}  // namespace quant::registry
