#include "train_command.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "lake/lake.h"
#include "model/manifest.h"
#include "research/gatekeeper_training.h"
#include "research_command.h"
#include "signal_path.h"

namespace quant::app {

Expected<std::vector<Bar>> load_bars(const GlobalOptions& global, const config::AppConfig& cfg,
                                     const std::string& symbol, Timestamp from, Timestamp to) {
  const std::string root = lake_dir(global, cfg);
  auto lk = open_existing_lake(global, cfg);
  if (!lk) return tl::unexpected(lk.error());
  auto stream = (*lk)->stream_bars(symbol, from, to, 65536);
  if (!stream) return tl::unexpected(stream.error());
  std::vector<Bar> bars, batch;
  while (true) {
    auto more = (*stream)->next(batch);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    bars.insert(bars.end(), batch.begin(), batch.end());
  }
  if (bars.empty()) return make_error("no bars for " + symbol + " in the lake " + root + " for that range");
  return bars;
}

features::FeatureConfig gate_feature_config(const config::AppConfig& cfg) {
  const auto& mb = cfg.backtest.strategy.ma_breakout;
  features::FeatureConfig f;
  f.ma_kind = mb.kind;
  f.ma_fast = mb.fast;
  f.ma_slow = mb.slow;
  f.atr_period = mb.atr_period;
  f.keltner_period = mb.keltner_period;
  f.keltner_multiple = mb.keltner_multiple;
  return f;
}

int run_train(const GlobalOptions& global, const TrainArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto found = find_instrument(global, *cfg, args.symbol, "train");
  if (!found) return fail(found.error().message);
  const InstrumentSpec* spec = *found;
  if (args.out.empty()) return fail("train: --out DIR is required");
  auto zone = TimeZone::find(spec->time_zone);
  if (!zone) return fail(zone.error().message);
  auto range = parse_range(args.from, args.to, *zone);
  if (!range) return fail(range.error().message);
  const Timestamp from = range->from, to = range->to;
  auto bars = load_bars(global, *cfg, args.symbol, from, to);
  if (!bars) return fail("train: " + bars.error().message);

  // The data's fingerprint for the manifest: SHA-256 of the bars as used.
  std::string raw(reinterpret_cast<const char*>(bars->data()), bars->size() * sizeof(Bar));
  const std::string data_hash = model::sha256_hex(raw);

  const std::string window_start = format_utc(bars->front().ts), window_end = format_utc(bars->back().ts + kMinute);
  auto tc = train_config(*cfg, *spec);
  if (!tc) return fail("train: " + tc.error().message);
  if (!global.quiet) {
    std::fprintf(stderr,
                 "[train] %s: %zu bars %s .. %s; labels: the kernel's trades (stop %.10g × ATR, target %.10g "
                 "points, fees and slippage paid)\n",
                 args.symbol.c_str(), bars->size(), window_start.c_str(), window_end.c_str(),
                 tc->settings.risk.stop_atr_multiple, tc->settings.risk.target_points);
  }
  Progress progress("train " + args.symbol, global.quiet);
  tc->progress = [&](std::string_view stage, int done, int total) {
    progress.step(std::string(stage) + (stage == "HMM fit" ? ": EM iteration" : ": boosting round"), done, total);
  };
  auto result = research::train_gatekeeper(*bars, *spec, cfg->backtest.strategy, *tc, args.out,
                                           {window_start, window_end, data_hash});
  progress.finish();
  if (!result) return fail(result.error().message);
  if (args.json) {
    std::printf("%s\n", training_json(*result, args.symbol, args.out).dump(2).c_str());
  } else {
    print_training(*result, args.symbol, args.out);
  }
  TrackedRun tr;
  tr.experiment = "train " + args.symbol;
  tr.name = window_start.substr(0, 10) + " .. " + window_end.substr(0, 10);
  tr.tags = {{"symbol", args.symbol}, {"command", "train"}};
  const auto& t = cfg->train;
  tr.params = {{"symbol", args.symbol}, {"window_start", window_start}, {"window_end", window_end},
               {"data_hash", data_hash}, {"early_stopping_share", std::to_string(t.early_stopping_share)},
               {"calibration_share", std::to_string(t.calibration_share)}, {"test_share", std::to_string(t.test_share)},
               {"embargo_bars", std::to_string(t.embargo_bars)}, {"hmm_states", std::to_string(t.hmm_states)},
               {"rounds", std::to_string(t.rounds)}, {"max_leaves", std::to_string(t.max_leaves)},
               {"eta", std::to_string(t.eta)}, {"seed", std::to_string(t.seed)}};
  const auto& m = result->test;
  tr.metrics = {{"test_auc", m.auc, 0}, {"test_log_loss", m.log_loss, 0}, {"test_brier", m.brier, 0},
                {"test_below_q10", m.coverage.below_lower, 0}, {"test_above_q90", m.coverage.above_upper, 0},
                {"test_raw_quantiles_crossed", result->test_raw_crossed, 0},
                {"early_stopping_auc", result->early_stopping_auc, 0},
                {"trades_labelled", static_cast<double>(result->labels.taken - result->labels.open_at_end), 0}};
  tr.artifacts = {{args.out, "model"}};
  track(*cfg, tr, global.quiet);
  return 0;
}

Expected<research::TrainConfig> train_config(const config::AppConfig& cfg, const InstrumentSpec& spec) {
  const auto& t = cfg.train;
  research::TrainConfig tc;
  tc.features = gate_feature_config(cfg);
  tc.settings = engine_settings(cfg.backtest, spec);
  if (!(tc.settings.risk.target_points > 0)) {
    return make_error("labels need a profit target for " + spec.symbol + ": set [risk] target_points or "
                      "[risk.target_points_by_symbol] " + spec.symbol);
  }
  tc.hmm_states = t.hmm_states;
  tc.split = {t.early_stopping_share, t.calibration_share, t.test_share};
  tc.interval_miss = t.interval_miss;
  tc.embargo_bars = t.embargo_bars;
  tc.classifier.boost.rounds = t.rounds;
  tc.classifier.boost.max_leaves = t.max_leaves;
  tc.classifier.boost.eta = t.eta;
  tc.classifier.boost.seed = static_cast<std::uint64_t>(t.seed);
  tc.classifier.early_stopping_rounds = t.early_stopping_rounds;
  tc.quantile = tc.classifier.boost;
  tc.quantile.rounds = std::min(t.rounds, 150);
  return tc;
}

nlohmann::ordered_json training_json(const research::TrainResult& r, const std::string& symbol,
                                     const std::string& out) {
  auto number = [](double v) -> nlohmann::ordered_json {
    if (std::isfinite(v)) return v;
    return nullptr;
  };
  auto segment = [](const research::SegmentCount& c) {
    return nlohmann::ordered_json{{"rows", c.rows},
                                  {"purged", c.purged},
                                  {"from", c.rows > 0 ? format_utc(c.from) : ""},
                                  {"to", c.rows > 0 ? format_utc(c.to) : ""}};
  };
  nlohmann::ordered_json j;
  j["symbol"] = symbol;
  j["out"] = out;
  j["seconds"] = r.seconds;
  j["labels"] = {{"signals", r.labels.signals},
                 {"labelled", r.labels.taken - r.labels.open_at_end},
                 {"positives", r.labels.positives},
                 {"not_taken", r.labels.not_taken},
                 {"open_at_end", r.labels.open_at_end}};
  j["segments"] = {{"train", segment(r.train)},
                   {"early_stopping", segment(r.early_stopping)},
                   {"calibration", segment(r.calibration)},
                   {"test", segment(r.test_segment)}};
  j["not_ready"] = r.not_ready;
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const auto& f : r.manifest.models) {
    models.push_back({{"output", f.output}, {"file", f.file}, {"trees", f.trees}, {"sha256", f.sha256}});
  }
  j["models"] = models;
  j["early_stopping"] = {{"auc", number(r.early_stopping_auc)}, {"log_loss", number(r.early_stopping_log_loss)}};
  j["test"] = {{"rows", r.test.rows},
               {"auc", number(r.test.auc)},
               {"log_loss", number(r.test.log_loss)},
               {"brier", number(r.test.brier)},
               {"below_q10", number(r.test.coverage.below_lower)},
               {"above_q90", number(r.test.coverage.above_upper)},
               {"raw_quantiles_crossed", number(r.test_raw_crossed)}};
  j["conformal"] = {{"q10_offset", number(r.q10_offset)}, {"q90_offset", number(r.q90_offset)}};
  j["fit_end"] = format_utc(r.fit_end);
  return j;
}

void print_training(const research::TrainResult& r, const std::string& symbol, const std::string& out) {
  std::printf(
      "gatekeeper for %s trained in %.1f s: %zu trades labelled (%zu with a net profit) from %zu entry signals "
      "(%zu not taken, %zu open at the end)\n",
      symbol.c_str(), r.seconds, r.labels.taken - r.labels.open_at_end, r.labels.positives, r.labels.signals,
      r.labels.not_taken, r.labels.open_at_end);
  auto seg = [](const char* name, const research::SegmentCount& c) {
    if (c.rows == 0 && c.purged == 0) return;
    std::printf("  %-15s %6zu rows, %4zu purged  %s .. %s\n", name, c.rows, c.purged, format_utc(c.from).c_str(),
                format_utc(c.to).c_str());
  };
  seg("train", r.train);
  seg("early stopping", r.early_stopping);
  seg("calibration", r.calibration);
  seg("test", r.test_segment);
  for (const auto& f : r.manifest.models) {
    std::printf("  %-4s %s (%d trees) sha256 %.16s…\n", f.output.c_str(), f.file.c_str(), f.trees, f.sha256.c_str());
  }
  std::printf("early stopping (chose the trees, not out-of-sample): AUC %.3f, log-loss %.4f\n", r.early_stopping_auc,
              r.early_stopping_log_loss);
  std::printf("calibration: q10 %+.6g, q90 %+.6g points (conformal shifts); raw q10 > q90 on %.1f %% of rows\n",
              r.q10_offset, r.q90_offset, 100 * r.calibration_raw_crossed);
  const auto& m = r.test;
  if (m.rows == 0) {
    std::printf("test: none (test_share = 0)\n");
  } else {
    std::printf(
        "test (out-of-sample, %zu rows): AUC %.3f, log-loss %.4f, Brier %.4f\n"
        "  below q10 %.1f %% (at or below %.1f %%), above q90 %.1f %% (at or above %.1f %%), goal 10 / 10; "
        "raw q10 > q90 on %.1f %%\n",
        m.rows, m.auc, m.log_loss, m.brier, 100 * m.coverage.below_lower, 100 * m.coverage.at_or_below_lower,
        100 * m.coverage.above_upper, 100 * m.coverage.at_or_above_upper, 100 * r.test_raw_crossed);
    std::printf("calibration table on test (predicted → observed, count):");
    for (const auto& b : m.calibration) {
      if (b.count == 0) continue;
      std::printf(" %.2f→%.2f (%zu)", b.mean_predicted, b.observed, b.count);
    }
    std::printf("\n");
  }
  std::printf("models and manifest in %s\n", out.c_str());
}

}  // namespace quant::app
