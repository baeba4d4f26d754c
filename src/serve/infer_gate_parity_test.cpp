// One rule decides `pass` for the backtest and for /infer: the backtest's
// gate (gate::ModelGate, the engine's Gate port) and the signal service's
// /infer, given the same feature rows, ATR and target, give the same verdicts
// with the same reasons. Models: trained here on the feature pipeline's own
// values over generated WIN bars (so the quantiles are price moves in points,
// and every branch of the rule is taken).
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "features/atr.h"
#include "features/feature_pipeline.h"
#include "features/test_bars.h"
#include "gate/model_gate.h"
#include "gate/remote_scorer.h"
#include "generator/market_generator.h"
#include "serve/http_server.h"
#include "serve/service.h"
#include "serve/test_models.h"

namespace quant::serve {
namespace {

using nlohmann::json;

using features::testing::win_spec;

features::FeaturePipeline make_pipeline(const InstrumentSpec& spec) {
  auto p = features::FeaturePipeline::create(features::FeatureConfig{}, spec, false);
  QUANT_CHECK(p.has_value());
  return std::move(*p);
}

/// One entry the backtest's gate judged, and what /infer needs for the same question.
struct Entry {
  std::vector<float> row;
  double atr = 0;
  gate::GateRecord record;
};

double quantile_of(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

json features_object(const std::vector<std::string>& names, const std::vector<float>& row) {
  json f = json::object();
  for (std::size_t i = 0; i < names.size(); ++i) f[names[i]] = static_cast<double>(row[i]);
  return f;
}

TEST(InferGateParityTest, ModelGateVerdictsEqualInferPass) {
  const InstrumentSpec spec = win_spec();
  generator::GeneratorConfig gc;
  gc.seed = 11;
  gc.days = 12;
  auto generated = generator::generate_bars(spec, gc);
  ASSERT_TRUE(generated) << generated.error().message;
  const std::vector<Bar>& bars = *generated;
  const std::size_t train_end = bars.size() / 2;

  // Models trained on the first half: the pipeline's rows, labelled by the
  // move 30 bars later (points): up or not, and its quantiles.
  auto pipeline = make_pipeline(spec);
  const auto names = pipeline.manifest().names;
  const auto schema_hash = pipeline.manifest().hash;
  std::vector<float> rows, labels, moves;
  for (std::size_t i = 0; i + 30 < train_end; ++i) {
    pipeline.update(bars[i]);
    if (!pipeline.ready()) continue;
    const auto v = pipeline.values();
    rows.insert(rows.end(), v.begin(), v.end());
    const double move = bars[i + 30].close - bars[i].close;
    labels.push_back(move > 0 ? 1.0f : 0.0f);
    moves.push_back(static_cast<float>(move));
  }
  ASSERT_GT(labels.size(), 1000u);
  const auto dir_root = ::testing::TempDir() + "infer_gate_parity." + std::to_string(::getpid());
  std::filesystem::create_directories(dir_root);
  const std::string dir =
      testing::write_models_for_rows(dir_root, "gatekeeper", 1, names, schema_hash, rows, labels, moves);

  // The second half, an entry every 7th bar: first only scored (to pick a rule
  // whose every branch is taken), then judged by ModelGate.
  auto collect = [&](gate::ModelGate* gate, std::vector<model::GatekeeperScore>* scores) {
    auto twin = make_pipeline(spec);
    features::WilderAtr atr(14);
    auto gk = model::Gatekeeper::load(dir, {names, schema_hash});
    QUANT_CHECK(gk.has_value());
    std::vector<Entry> entries;
    for (std::size_t i = 0; i < bars.size(); ++i) {
      twin.update(bars[i]);
      atr.update(bars[i]);
      if (gate != nullptr) gate->observe(bars[i]);
      if (i < train_end || i % 7 != 0 || !twin.ready() || !atr.ready()) continue;
      Entry e;
      e.row.assign(twin.values().begin(), twin.values().end());
      e.atr = atr.value();
      if (gate != nullptr) {
        gate->judge({bars[i].ts, Side::Buy, bars[i].close, e.atr});
        e.record = gate->records().back();
      }
      if (scores != nullptr) scores->push_back(gk->predict(e.row).value());
      entries.push_back(std::move(e));
    }
    return entries;
  };
  std::vector<model::GatekeeperScore> scores;
  const auto scored = collect(nullptr, &scores);
  ASSERT_GT(scored.size(), 200u);
  std::vector<double> probs, q90s, q10_in_atrs;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    probs.push_back(scores[i].prob);
    q90s.push_back(scores[i].q90);
    q10_in_atrs.push_back(-scores[i].q10 / scored[i].atr);
  }
  gate::GateConfig config;
  config.rule = {quantile_of(probs, 0.3), true};
  config.target_points = quantile_of(q90s, 0.3);
  config.stop_atr_multiple = quantile_of(q10_in_atrs, 0.5);

  auto gk = model::Gatekeeper::load(dir, {names, schema_hash});
  ASSERT_TRUE(gk) << gk.error().message;
  gate::ModelGate model_gate(make_pipeline(spec), std::move(*gk), config);
  const auto entries = collect(&model_gate, nullptr);
  ASSERT_EQ(entries.size(), scored.size());

  std::map<std::string, int> reasons;
  for (const auto& e : entries) ++reasons[e.record.reason];
  for (const char* r : {"passed", "probability below p_min", "q90 below the target", "q10 beyond the stop"}) {
    EXPECT_GT(reasons[r], 0) << "no entry judged '" << r << "': the parity check would not cover that branch";
  }

  // The signal service with the same rule ([[serve.gates]] p_min/use_quantiles)
  // and the same distances ([risk] target for WIN, stop_atr_multiple).
  ModelHost host({{"gatekeeper", dir, "", "champion", config.rule.p_min, config.rule.use_quantiles}}, 1);
  ASSERT_TRUE(host.reload());
  monitor::Registry registry("serve", "test");
  Metrics metrics(registry);
  InferSettings settings;
  settings.target_points = 1e9;  // not WIN's: proves the symbol's own target is used
  settings.target_points_by_symbol["WIN"] = config.target_points;
  settings.stop_atr_multiple = config.stop_atr_multiple;
  SignalService service(host, nullptr, BearerAuth(), metrics, settings);
  auto infer = [&](const json& body) {
    HttpRequest r;
    r.method = Method::Post;
    r.method_text = "POST";
    r.path = "/infer";
    const std::string text = body.dump();
    r.body = text;
    HttpResponse out;
    service.handle(r, out);
    EXPECT_EQ(out.status, 200) << out.body;
    return json::parse(out.body);
  };

  // A batch per 256 entries with per-row ATRs; the symbol gives the target.
  for (std::size_t begin = 0; begin < entries.size(); begin += 256) {
    const std::size_t end = std::min(entries.size(), begin + 256);
    json batch_rows = json::array(), atrs = json::array();
    for (std::size_t i = begin; i < end; ++i) {
      batch_rows.push_back(features_object(names, entries[i].row));
      atrs.push_back(entries[i].atr);
    }
    const auto answer = infer({{"model", "gatekeeper"}, {"symbol", "WIN"}, {"rows", batch_rows}, {"atr", atrs}});
    ASSERT_EQ(answer["rows"].size(), end - begin);
    for (std::size_t i = begin; i < end; ++i) {
      const auto& row = answer["rows"][i - begin];
      const auto& rec = entries[i].record;
      EXPECT_EQ(row["pass"].get<bool>(), rec.allowed) << "entry " << i << ": " << row.dump();
      EXPECT_EQ(row["reason"].get<std::string>(), rec.reason) << "entry " << i;
      EXPECT_FLOAT_EQ(row["prob"].get<float>(), rec.prob);
      EXPECT_DOUBLE_EQ(row["target"].get<double>(), rec.target);
      EXPECT_DOUBLE_EQ(row["stop"].get<double>(), rec.stop);
    }
  }
  // One row at a time: with the chain (model omitted), with `stop` and
  // `target` in price points instead of `atr` and the symbol.
  for (std::size_t i = 0; i < entries.size(); i += 3) {
    const auto& rec = entries[i].record;
    const json features = features_object(names, entries[i].row);
    const auto chain = infer({{"symbol", "WIN"}, {"atr", entries[i].atr}, {"features", features}});
    EXPECT_EQ(chain["pass"].get<bool>(), rec.allowed) << "entry " << i;
    EXPECT_EQ(chain["gates"][0]["reason"].get<std::string>(), rec.reason) << "entry " << i;
    const auto explicit_distances = infer({{"target", rec.target}, {"stop", rec.stop}, {"features", features}});
    EXPECT_EQ(explicit_distances["pass"].get<bool>(), rec.allowed) << "entry " << i;
  }

  // The live engine's remote gate: the same ModelGate with its models behind
  // this service over HTTP (a real server on a free port) judges every entry
  // as the in-process one did.
  ServerOptions options;
  auto server = HttpServer::start(options, [&](const HttpRequest& r, HttpResponse& out) { service.handle(r, out); });
  ASSERT_TRUE(server) << server.error().message;
  gate::RemoteScorerConfig rc;
  rc.url = "http://127.0.0.1:" + std::to_string((*server)->port()) + "/infer";
  rc.symbol = "WIN";
  rc.timeout = std::chrono::milliseconds(2000);
  auto remote = gate::RemoteScorer::create(rc, names);
  ASSERT_TRUE(remote) << remote.error().message;
  auto scorer = std::make_shared<gate::RemoteScorer>(std::move(*remote));
  gate::ModelGate remote_gate(
      make_pipeline(spec), [scorer](std::span<const float> row) { return scorer->score(row); }, config);
  const auto remote_entries = collect(&remote_gate, nullptr);
  ASSERT_EQ(remote_entries.size(), entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(remote_entries[i].record.allowed, entries[i].record.allowed) << "entry " << i;
    EXPECT_STREQ(remote_entries[i].record.reason, entries[i].record.reason) << "entry " << i;
    EXPECT_FLOAT_EQ(remote_entries[i].record.prob, entries[i].record.prob) << "entry " << i;
  }
  (*server)->stop();

  // A service that does not answer: the entry is blocked ("model error"), never let through.
  gate::RemoteScorerConfig dead = rc;
  dead.url = "http://127.0.0.1:1/infer";
  auto unreachable = gate::RemoteScorer::create(dead, names);
  ASSERT_TRUE(unreachable);
  auto dead_scorer = std::make_shared<gate::RemoteScorer>(std::move(*unreachable));
  EXPECT_FALSE(dead_scorer->score(entries[0].row).has_value());
}

}  // namespace
}  // namespace quant::serve
