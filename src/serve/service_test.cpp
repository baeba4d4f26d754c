#include "serve/service.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "serve/test_models.h"

namespace quant::serve {
namespace {

using nlohmann::json;

constexpr const char* kToken = "s3cret-token";

std::string temp_root() {
  static const std::string dir = [] {
    auto d = ::testing::TempDir() + "serve_test." + std::to_string(::getpid());
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

const std::string& model_dir_v1() {
  static const std::string dir = testing::write_test_models(temp_root(), "gk", 1, 11);
  return dir;
}
const std::string& model_dir_v2() {
  static const std::string dir = testing::write_test_models(temp_root(), "gk", 2, 29);
  return dir;
}

json features_row(double base) {
  json f = json::object();
  for (std::size_t i = 0; i < 5; ++i) f["f" + std::to_string(i)] = base + 0.25 * static_cast<double>(i);
  return f;
}

struct Harness {
  explicit Harness(std::vector<GateSpec> gates, unsigned workers = 2, InferSettings settings = {})
      : host(std::move(gates), workers),
        service((host.reload().value(), host), nullptr, BearerAuth(kToken), metrics, std::move(settings)) {}

  HttpResponse call(Method method, std::string_view path, std::string_view body = {}, std::string_view auth = {},
                    unsigned worker = 0) {
    HttpRequest r;
    r.method = method;
    r.method_text = method == Method::Get ? "GET" : method == Method::Post ? "POST" : "PUT";
    r.path = path;
    r.body = body;
    r.authorization = auth;
    r.worker = worker;
    HttpResponse out;
    service.handle(r, out);
    return out;
  }
  HttpResponse infer(const json& body, unsigned worker = 0) {
    return call(Method::Post, "/infer", body.dump(), {}, worker);
  }

  monitor::Registry registry{"serve", "test"};
  Metrics metrics{registry};
  ModelHost host;
  SignalService service;
};

/// A probability-only rule unless `use_quantiles` (the tests of the chain's
/// mechanics; the rule's quantile checks have tests of their own).
GateSpec gate(const std::string& name, const std::string& dir, double p_min = 0.5, bool use_quantiles = false) {
  return {name, dir, "", "champion", p_min, use_quantiles};
}

TEST(ServiceTest, HealthReadyAndModels) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  auto r = h.call(Method::Get, "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["status"], "ok");
  r = h.call(Method::Get, "/ready");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["gates"], 1);
  r = h.call(Method::Get, "/models");
  ASSERT_EQ(r.status, 200);
  const auto m = json::parse(r.body);
  EXPECT_EQ(m["generation"], 1);
  ASSERT_EQ(m["gates"].size(), 1u);
  EXPECT_EQ(m["gates"][0]["name"], "gatekeeper");
  EXPECT_EQ(m["gates"][0]["version"], 1);
  EXPECT_EQ(m["gates"][0]["manifest_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["gates"][0]["features"], json(testing::test_feature_names()));
  EXPECT_EQ(m["gates"][0]["outputs"].size(), 3u);
}

TEST(ServiceTest, InferMatchesTheGatekeeperOnEveryWorker) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  auto gk = model::Gatekeeper::load(model_dir_v1(), {testing::test_feature_names(), "serve-test-features"});
  ASSERT_TRUE(gk) << gk.error().message;
  for (unsigned worker = 0; worker < 2; ++worker) {
    for (double base : {-1.0, 0.0, 0.7}) {
      const auto r = h.infer({{"model", "gatekeeper"}, {"symbol", "WIN"}, {"features", features_row(base)}}, worker);
      ASSERT_EQ(r.status, 200) << r.body;
      const auto j = json::parse(r.body);
      std::vector<float> row;
      for (std::size_t i = 0; i < 5; ++i) row.push_back(static_cast<float>(base + 0.25 * static_cast<double>(i)));
      const auto expected = gk->predict(row).value();
      EXPECT_FLOAT_EQ(j["prob"].get<float>(), expected.prob);
      EXPECT_FLOAT_EQ(j["q10"].get<float>(), expected.q10);
      EXPECT_FLOAT_EQ(j["q90"].get<float>(), expected.q90);
      EXPECT_LE(j["q10"].get<float>(), j["q90"].get<float>());
      EXPECT_EQ(j["pass"].get<bool>(), expected.prob >= 0.5f);
      EXPECT_EQ(j["reason"], expected.prob >= 0.5f ? "passed" : "probability below p_min");
      EXPECT_EQ(j["model"], "gatekeeper");
      EXPECT_EQ(j["version"], 1);
      EXPECT_EQ(j["symbol"], "WIN");
      EXPECT_GE(j["latency_us"].get<std::int64_t>(), 0);
    }
  }
}

TEST(ServiceTest, FeatureErrorsNameTheFeature) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  auto expect_400 = [&](const json& features, const std::string& field, const std::string& fragment) {
    const auto r = h.infer({{"features", features}});
    ASSERT_EQ(r.status, 400) << r.body;
    const auto j = json::parse(r.body);
    EXPECT_EQ(j.value("field", ""), field) << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(fragment), std::string::npos) << r.body;
  };
  json f = features_row(0);
  f.erase("f3");
  expect_400(f, "features.f3", "missing feature 'f3'");
  f = features_row(0);
  f["zzz"] = 1.0;
  expect_400(f, "features.zzz", "unknown feature 'zzz'");
  f = features_row(0);
  f["f1"] = "0.5";
  expect_400(f, "features.f1", "must be a number");
  f["f1"] = nullptr;
  expect_400(f, "features.f1", "must be a number");
  f["f1"] = true;
  expect_400(f, "features.f1", "must be a number");
  f["f1"] = 1e300;  // finite as a double, not as the model's float
  expect_400(f, "features.f1", "finite");
  expect_400(json::array({1, 2}), "features", "must be an object");
}

TEST(ServiceTest, BodyErrors) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  auto status_of = [&](std::string_view body) { return h.call(Method::Post, "/infer", body).status; };
  EXPECT_EQ(status_of("{not json"), 400);
  EXPECT_EQ(status_of(""), 400);
  EXPECT_EQ(status_of("[1,2]"), 400);
  EXPECT_EQ(status_of(R"({"features":{"f0":1e999,"f1":0,"f2":0,"f3":0,"f4":0}})"), 400);
  EXPECT_EQ(status_of(R"({"features":{},"rows":[]})"), 400);
  EXPECT_EQ(status_of(R"({})"), 400);
  // A name given twice is ambiguous: refused, not "last one wins".
  const auto twice = h.call(Method::Post, "/infer", R"({"features":{"f0":1,"f1":2,"f2":3,"f3":4,"f4":5,"f0":6}})");
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(json::parse(twice.body)["field"], "features.f0");
  EXPECT_EQ(status_of(R"({"model":"gatekeeper","model":"gatekeeper","features":{}})"), 400);
  EXPECT_EQ(status_of("{\"features\":{\"f\xff\":1}}"), 400);  // not UTF-8
  const auto unknown = h.infer({{"feature", features_row(0)}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json::parse(unknown.body)["field"], "feature");
  const auto model = h.infer({{"model", "nope"}, {"features", features_row(0)}});
  EXPECT_EQ(model.status, 404);
  EXPECT_EQ(json::parse(model.body)["field"], "model");
  const auto version = h.infer({{"model", "gatekeeper"}, {"version", 9}, {"features", features_row(0)}});
  EXPECT_EQ(version.status, 404);
  EXPECT_EQ(json::parse(version.body)["field"], "version");
  EXPECT_EQ(h.infer({{"version", "latest"}, {"features", features_row(0)}}).status, 400);
  EXPECT_EQ(h.infer({{"version", "champion"}, {"features", features_row(0)}}).status, 200);
  EXPECT_EQ(h.infer({{"version", 1}, {"features", features_row(0)}}).status, 200);
  EXPECT_EQ(h.infer({{"model", 3}, {"features", features_row(0)}}).status, 400);
}

TEST(ServiceTest, BatchEqualsSingleRows) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  json rows = json::array();
  for (double base : {-0.5, 0.1, 0.9}) rows.push_back(features_row(base));
  const auto r = h.infer({{"model", "gatekeeper"}, {"rows", rows}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = json::parse(r.body);
  ASSERT_EQ(j["rows"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto single = json::parse(h.infer({{"model", "gatekeeper"}, {"features", rows[i]}}).body);
    EXPECT_NEAR(j["rows"][i]["prob"].get<double>(), single["prob"].get<double>(), 1e-6);
    EXPECT_NEAR(j["rows"][i]["q90"].get<double>(), single["q90"].get<double>(), 1e-5);
  }
  json bad_rows = rows;
  bad_rows[1].erase("f2");
  const auto bad = h.infer({{"rows", bad_rows}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["field"], "rows[1].f2");
  EXPECT_EQ(h.infer({{"rows", json::array()}}).status, 400);
  json too_many = json::array();
  for (int i = 0; i < 1025; ++i) too_many.push_back(features_row(0));
  EXPECT_EQ(h.infer({{"rows", too_many}}).status, 400);
}

TEST(ServiceTest, ChainAppliesGatesInOrderAndStopsAtTheFirstNo) {
  // Second gate: p_min 1.0 never passes; the first with p_min 0 always does.
  Harness both({gate("gatekeeper", model_dir_v1(), 0.0), gate("book", model_dir_v2(), 1.0)});
  auto j = json::parse(both.infer({{"features", features_row(0.2)}}).body);
  EXPECT_EQ(j["model"], "gatekeeper");
  EXPECT_FALSE(j["pass"].get<bool>());
  ASSERT_EQ(j["gates"].size(), 2u);
  EXPECT_TRUE(j["gates"][0]["pass"].get<bool>());
  EXPECT_EQ(j["gates"][1]["model"], "book");
  EXPECT_EQ(j["gates"][1]["version"], 2);
  EXPECT_FALSE(j["gates"][1]["pass"].get<bool>());
  // Naming one model answers that model only.
  j = json::parse(both.infer({{"model", "book"}, {"features", features_row(0.2)}}).body);
  EXPECT_EQ(j["version"], 2);
  EXPECT_FALSE(j.contains("gates"));

  Harness first_says_no({gate("gatekeeper", model_dir_v1(), 1.0), gate("book", model_dir_v2(), 0.0)});
  j = json::parse(first_says_no.infer({{"features", features_row(0.2)}}).body);
  EXPECT_FALSE(j["pass"].get<bool>());
  EXPECT_EQ(j["gates"].size(), 1u);
}

// A probability-only model (e.g. an order-book classifier) plugs into the chain
// as it is: its manifest lists only a 'prob' model; its quantiles answer null.
std::string probability_only_dir() {
  // The classifier alone, without a merged file (its merge holds q10 and q90 too).
  std::string dir = temp_root() + "/prob_only";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(model_dir_v2(), dir);
  std::ifstream in(dir + "/manifest.json");
  json m = json::parse(in);
  json kept = json::array();
  for (const auto& model : m["models"]) {
    if (model["output"] == "prob") kept.push_back(model);
  }
  m["models"] = kept;
  m.erase("merged");
  std::ofstream(dir + "/manifest.json", std::ios::trunc) << m.dump(2);
  std::filesystem::remove(dir + "/gatekeeper_q10.onnx");
  std::filesystem::remove(dir + "/gatekeeper_q90.onnx");
  std::filesystem::remove(dir + "/gatekeeper.onnx");
  return dir;
}

TEST(ServiceTest, AProbabilityOnlyGatePlugsIntoTheChain) {
  Harness h({gate("gatekeeper", model_dir_v1(), 0.0), gate("book", probability_only_dir(), 0.0)});
  const auto r = h.infer({{"features", features_row(0.4)}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = json::parse(r.body);
  ASSERT_EQ(j["gates"].size(), 2u);
  EXPECT_TRUE(j["gates"][1]["q10"].is_null());
  EXPECT_TRUE(j["gates"][1]["q90"].is_null());
  const auto p = j["gates"][1]["prob"].get<double>();
  EXPECT_GE(p, 0.0);
  EXPECT_LE(p, 1.0);
  // Its probability is the full model's (same classifier file).
  const auto full = json::parse(Harness({gate("book", model_dir_v2())}).infer({{"features", features_row(0.4)}}).body);
  EXPECT_DOUBLE_EQ(p, full["prob"].get<double>());
  const auto models = json::parse(h.call(Method::Get, "/models").body);
  EXPECT_EQ(models["gates"][1]["outputs"], json::array({"prob"}));

  // Quantiles come in pairs: q10 without q90 is refused at load, naming it.
  const std::string half = temp_root() + "/half_quantiles";
  std::filesystem::remove_all(half);
  std::filesystem::copy(model_dir_v2(), half);
  std::ifstream in(half + "/manifest.json");
  json m = json::parse(in);
  json kept = json::array();
  for (const auto& model : m["models"]) {
    if (model["output"] != "q90") kept.push_back(model);
  }
  m["models"] = kept;
  std::ofstream(half + "/manifest.json", std::ios::trunc) << m.dump(2);
  auto set = load_model_set({gate("half", half)}, 1, 1);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find("'q10' model without its 'q90' twin"), std::string::npos) << set.error().message;
}

model::GatekeeperScore score_of(const std::string& dir, double base) {
  auto gk = model::Gatekeeper::load(dir, {testing::test_feature_names(), "serve-test-features"});
  QUANT_CHECK(gk.has_value());
  std::vector<float> row;
  for (std::size_t i = 0; i < 5; ++i) row.push_back(static_cast<float>(base + 0.25 * static_cast<double>(i)));
  return gk->predict(row).value();
}

TEST(ServiceTest, PassIsTheBacktestsGateRule) {
  // Every combination of target and stop around this row's quantiles, through
  // each way of giving them: `pass` and `reason` are model::judge's.
  const double base = 0.3;
  const auto s = score_of(model_dir_v1(), base);
  InferSettings settings;
  settings.target_points = 1000;  // a symbol without its own target gets this
  settings.target_points_by_symbol["WDO"] = static_cast<double>(s.q90) - 0.01;
  settings.stop_atr_multiple = 2.0;
  for (const double p_min : {0.0, static_cast<double>(s.prob) + 0.01}) {
    Harness h({gate("gatekeeper", model_dir_v1(), p_min, true)}, 1, settings);
    const model::GateRule rule{p_min, true};
    for (const double target : {static_cast<double>(s.q90) - 0.01, static_cast<double>(s.q90) + 0.01}) {
      for (const double stop : {-static_cast<double>(s.q10) - 0.01, -static_cast<double>(s.q10) + 0.01}) {
        if (target < 0 || stop < 0) continue;
        const auto expected = model::judge(rule, s, target, stop);
        const auto j =
            json::parse(h.infer({{"target", target}, {"stop", stop}, {"features", features_row(base)}}).body);
        EXPECT_EQ(j["pass"].get<bool>(), expected.pass) << j.dump();
        EXPECT_EQ(j["reason"], expected.reason);
        EXPECT_DOUBLE_EQ(j["target"].get<double>(), target);
        EXPECT_DOUBLE_EQ(j["stop"].get<double>(), stop);
        // atr in price units × [risk] stop_atr_multiple is the same stop.
        const auto a =
            json::parse(h.infer({{"target", target}, {"atr", stop / 2}, {"features", features_row(base)}}).body);
        EXPECT_EQ(a["pass"], j["pass"]);
        EXPECT_DOUBLE_EQ(a["stop"].get<double>(), stop);
        // The symbol's configured target, else [risk] target_points.
        if (target == settings.target_points_by_symbol["WDO"]) {
          const auto w =
              json::parse(h.infer({{"symbol", "WDO"}, {"stop", stop}, {"features", features_row(base)}}).body);
          EXPECT_EQ(w["pass"], j["pass"]);
          EXPECT_DOUBLE_EQ(w["target"].get<double>(), target);
        }
        const auto d = json::parse(h.infer({{"symbol", "XYZ"}, {"stop", stop}, {"features", features_row(base)}}).body);
        EXPECT_DOUBLE_EQ(d["target"].get<double>(), 1000);
        EXPECT_EQ(d["pass"].get<bool>(), model::judge(rule, s, 1000, stop).pass);
      }
    }
  }
}

TEST(ServiceTest, WithoutAStopAQuantileGateIsUndecidedNeverPassed) {
  const double base = 0.3;
  const auto s = score_of(model_dir_v1(), base);
  const double below_q90 = std::max(0.0, static_cast<double>(s.q90) - 0.01);
  Harness h({gate("gatekeeper", model_dir_v1(), 0.0, true)});
  // Everything the rule can check passes; q10 needs a stop: null, with the reason.
  auto j = json::parse(h.infer({{"target", below_q90}, {"features", features_row(base)}}).body);
  EXPECT_TRUE(j["pass"].is_null()) << j.dump();
  EXPECT_EQ(j["reason"], "no stop distance (give stop or atr)");
  EXPECT_TRUE(j["stop"].is_null());
  // Decided without a stop when it fails on what is known.
  j = json::parse(h.infer({{"target", static_cast<double>(s.q90) + 1}, {"features", features_row(base)}}).body);
  EXPECT_EQ(j["pass"], false);
  EXPECT_EQ(j["reason"], "q90 below the target");
  Harness strict({gate("gatekeeper", model_dir_v1(), 1.0, true)});
  j = json::parse(strict.infer({{"features", features_row(base)}}).body);
  EXPECT_EQ(j["pass"], false);
  EXPECT_EQ(j["reason"], "probability below p_min");
  // A probability-only rule, or a probability-only model, needs no stop.
  Harness prob_rule({gate("gatekeeper", model_dir_v1(), 0.0, false)});
  EXPECT_EQ(json::parse(prob_rule.infer({{"features", features_row(base)}}).body)["pass"], true);

  // The chain: an undecided gate does not stop it; a later "no" decides it.
  Harness chain({gate("gatekeeper", model_dir_v1(), 0.0, true), gate("book", model_dir_v2(), 1.0, false)});
  j = json::parse(chain.infer({{"target", below_q90}, {"features", features_row(base)}}).body);
  EXPECT_EQ(j["pass"], false) << j.dump();
  EXPECT_EQ(j["reason"], "probability below p_min");
  ASSERT_EQ(j["gates"].size(), 2u);
  EXPECT_TRUE(j["gates"][0]["pass"].is_null());
  Harness chain_unknown({gate("gatekeeper", model_dir_v1(), 0.0, true), gate("book", model_dir_v2(), 0.0, false)});
  j = json::parse(chain_unknown.infer({{"target", below_q90}, {"features", features_row(base)}}).body);
  EXPECT_TRUE(j["pass"].is_null()) << j.dump();
  EXPECT_EQ(j["reason"], "no stop distance (give stop or atr)");
  EXPECT_EQ(j["gates"][1]["pass"], true);
  // Batch rows: the same.
  j = json::parse(chain_unknown.infer({{"target", below_q90}, {"rows", {features_row(base)}}}).body);
  EXPECT_TRUE(j["rows"][0]["pass"].is_null()) << j.dump();
  j = json::parse(chain_unknown.infer({{"target", below_q90}, {"stop", 1e6}, {"rows", {features_row(base)}}}).body);
  EXPECT_EQ(j["rows"][0]["pass"], true) << j.dump();
}

TEST(ServiceTest, BatchDistancesPerRowEqualSingleRows) {
  Harness h({gate("gatekeeper", model_dir_v1(), 0.0, true)});
  json rows = json::array(), atrs = json::array(), targets = json::array();
  const std::vector<double> bases = {-0.5, 0.1, 0.3, 0.9};
  for (std::size_t i = 0; i < bases.size(); ++i) {
    rows.push_back(features_row(bases[i]));
    atrs.push_back(0.05 * static_cast<double>(i));
    targets.push_back(0.2 * static_cast<double>(i));
  }
  const auto batch = json::parse(h.infer({{"rows", rows}, {"atr", atrs}, {"target", targets}}).body);
  ASSERT_EQ(batch["rows"].size(), bases.size()) << batch.dump();
  for (std::size_t i = 0; i < bases.size(); ++i) {
    const auto single = json::parse(h.infer({{"features", rows[i]}, {"atr", atrs[i]}, {"target", targets[i]}}).body);
    for (const char* key : {"pass", "reason", "target", "stop"}) EXPECT_EQ(batch["rows"][i][key], single[key]) << key;
  }
  // One number for every row.
  const auto all = json::parse(h.infer({{"rows", rows}, {"stop", 0.5}}).body);
  for (const auto& r : all["rows"]) EXPECT_DOUBLE_EQ(r["stop"].get<double>(), 0.5);
}

TEST(ServiceTest, DistanceErrorsNameTheField) {
  InferSettings settings;
  settings.stop_atr_multiple = 2.0;
  Harness h({gate("gatekeeper", model_dir_v1(), 0.5, true)}, 1, settings);
  const std::string row = features_row(0).dump();
  auto expect_400 = [&](const std::string& body, const std::string& field, const std::string& fragment) {
    const auto r = h.call(Method::Post, "/infer", body);
    ASSERT_EQ(r.status, 400) << body << " → " << r.body;
    const auto j = json::parse(r.body);
    EXPECT_EQ(j.value("field", ""), field) << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(fragment), std::string::npos) << r.body;
  };
  for (const char* name : {"target", "stop", "atr"}) {
    const std::string n = name;
    expect_400(R"({")" + n + R"(":"100","features":)" + row + "}", n, "must be a number");
    expect_400(R"({")" + n + R"(":true,"features":)" + row + "}", n, "must be a number");
    expect_400(R"({")" + n + R"(":null,"features":)" + row + "}", n, "must be a number");
    expect_400(R"({")" + n + R"(":{},"features":)" + row + "}", n, "must be a number");
    expect_400(R"({")" + n + R"(":-1,"features":)" + row + "}", n, ">= 0");
    expect_400(R"({")" + n + R"(":1e999,"features":)" + row + "}", n, "finite");
    expect_400(R"({")" + n + R"(":-1e999,"features":)" + row + "}", n, "finite");
    expect_400(R"({")" + n + R"(":[1],"features":)" + row + "}", n, "one row");
    expect_400(R"({")" + n + R"(":[1,2,3],"rows":[)" + row + "," + row + "]}", n, "one number per row (2 rows)");
    expect_400(R"({")" + n + R"(":[1,"x"],"rows":[)" + row + "," + row + "]}", n + "[1]", "must be a number");
    expect_400(R"({")" + n + R"(":[1,-0.5],"rows":[)" + row + "," + row + "]}", n + "[1]", ">= 0");
    expect_400(R"({")" + n + R"(":[1,1e999],"rows":[)" + row + "," + row + "]}", n + "[1]", "finite");
    expect_400(R"({")" + n + R"(":1,")" + n + R"(":2,"features":)" + row + "}", n, "given twice");
  }
  expect_400(R"({"atr":1e308,"features":)" + row + "}", "atr", "stop_atr_multiple is not finite");
  expect_400(R"({"atr":1,"stop":2,"features":)" + row + "}", "stop", "at most one of 'stop'");
  expect_400(R"({"target":)" + std::string(400, '9') + R"(,"features":)" + row + "}", "target", "finite");
  // Out-of-range numbers elsewhere are named too.
  expect_400(R"({"features":{"f0":1e999,"f1":0,"f2":0,"f3":0,"f4":0}})", "features.f0", "finite");
  expect_400(R"({"rows":[)" + row + R"(,{"f0":0,"f1":0,"f2":-1e999,"f3":0,"f4":0}]})", "rows[1].f2", "finite");
  // Zero distances are distances (the backtest's stop with an ATR of 0).
  EXPECT_EQ(h.infer({{"target", 0}, {"stop", 0}, {"features", features_row(0)}}).status, 200);
  EXPECT_EQ(h.infer({{"atr", 0}, {"features", features_row(0)}}).status, 200);
}

TEST(ServiceTest, ReadyAnswers503WhileShuttingDown) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  EXPECT_EQ(h.call(Method::Get, "/ready").status, 200);
  h.service.set_draining();
  const auto r = h.call(Method::Get, "/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["reason"], "shutting down");
  EXPECT_EQ(h.infer({{"features", features_row(0)}}).status, 200);  // requests in flight are still answered
}

TEST(ServiceTest, RoutesMethodsAndAuth) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  EXPECT_EQ(h.call(Method::Get, "/nope").status, 404);
  auto r = h.call(Method::Get, "/infer");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "POST");
  r = h.call(Method::Other, "/health");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET");
  r = h.call(Method::Post, "/order", "{}");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.www_authenticate);
  EXPECT_EQ(h.call(Method::Post, "/order", "{}", "Bearer wrong").status, 401);
  EXPECT_EQ(h.call(Method::Post, "/order", "{}", "Basic s3cret-token").status, 401);
  EXPECT_EQ(h.call(Method::Post, "/admin/reload", "", "Bearer s3cret-token-and-more").status, 401);
  // Right token, no venue configured.
  EXPECT_EQ(h.call(Method::Post, "/order", "{}", "Bearer s3cret-token").status, 503);
  EXPECT_EQ(h.call(Method::Post, "/admin/reload", "", "bearer s3cret-token").status, 200);
}

TEST(ServiceTest, ReloadSwapsVersionsAndKeepsTheOldSetOnFailure) {
  const std::string dir = temp_root() + "/live_gate";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(model_dir_v1(), dir);
  Harness h({gate("gatekeeper", dir)});
  const auto before = h.infer({{"features", features_row(0.3)}});
  EXPECT_EQ(json::parse(before.body)["version"], 1);

  // Deploy v2 into the same directory, reload.
  std::filesystem::remove_all(dir);
  std::filesystem::copy(model_dir_v2(), dir);
  auto r = h.call(Method::Post, "/admin/reload", "", "Bearer s3cret-token");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["generation"], 2);
  EXPECT_EQ(json::parse(h.infer({{"features", features_row(0.3)}}).body)["version"], 2);

  // A broken deployment: the reload fails, v2 keeps answering.
  { std::ofstream(dir + "/gatekeeper_prob.onnx", std::ios::trunc) << "garbage"; }
  r = h.call(Method::Post, "/admin/reload", "", "Bearer s3cret-token");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(json::parse(r.body)["error"].get<std::string>().find("previous models keep serving"), std::string::npos);
  const auto after = json::parse(h.infer({{"features", features_row(0.3)}}).body);
  EXPECT_EQ(after["version"], 2);
  EXPECT_EQ(json::parse(h.call(Method::Get, "/models").body)["generation"], 2);
}

TEST(ServiceTest, MetricsCountAnswersAndDescribeModels) {
  Harness h({gate("gatekeeper", model_dir_v1())});
  h.infer({{"features", features_row(0)}});
  h.infer({{"features", features_row(0)}});
  h.infer({{"features", 1}});
  h.metrics.record_transport(413);
  const auto r = h.call(Method::Get, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(std::string(r.content_type).find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find(R"(quant_serve_requests_total{endpoint="/infer",status="200"} 2)"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"(quant_serve_requests_total{endpoint="/infer",status="400"} 1)"), std::string::npos);
  EXPECT_NE(r.body.find(R"(quant_serve_requests_total{endpoint="transport",status="413"} 1)"), std::string::npos);
  EXPECT_NE(r.body.find("quant_serve_model_info{"), std::string::npos);
  EXPECT_NE(r.body.find(R"(version="1")"), std::string::npos);
  EXPECT_NE(r.body.find("quant_serve_inference_duration_seconds_bucket{model=\"gatekeeper\""), std::string::npos);
}

TEST(AuthTest, ConstantTimeCompareAndSources) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  BearerAuth none;
  EXPECT_FALSE(none.configured());
  EXPECT_FALSE(none.allows("Bearer "));
  const std::string file = temp_root() + "/token";
  { std::ofstream(file) << "  file-token \n"; }
  auto from_file = BearerAuth::from_sources("QUANT_TEST_NO_SUCH_VAR", file);
  ASSERT_TRUE(from_file);
  EXPECT_TRUE(from_file->allows("Bearer file-token"));
  EXPECT_FALSE(from_file->allows("Bearer file-token2"));
  // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread runs in this test (each test is its own process)
  ::setenv("QUANT_SERVE_TEST_TOKEN", "env-token", 1);
  auto from_env = BearerAuth::from_sources("QUANT_SERVE_TEST_TOKEN", "");
  ASSERT_TRUE(from_env);
  EXPECT_TRUE(from_env->allows("BEARER env-token"));
  EXPECT_FALSE(BearerAuth::from_sources("X", temp_root() + "/missing_token"));
  { std::ofstream(file, std::ios::trunc) << "\n"; }
  EXPECT_FALSE(BearerAuth::from_sources("X", file));
}

}  // namespace
}  // namespace quant::serve
