#include "train_command.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "lake/lake.h"
#include "model/manifest.h"
#include "research/gatekeeper_training.h"

namespace quant::app {

Expected<std::vector<Bar>> load_bars(const GlobalOptions& global, const config::AppConfig& cfg,
                                     const std::string& symbol, Timestamp from, Timestamp to) {
  lake::LakeOptions o;
  o.threads = cfg.lake.threads;
  o.memory_limit = cfg.lake.memory_limit;
  const std::string root = lake_dir(global, cfg);
  auto lk = lake::Lake::open(root, /*create=*/false, o);
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
  const InstrumentSpec* spec = cfg->instruments.find(args.symbol);
  if (spec == nullptr) return fail("train: unknown symbol '" + args.symbol + "': not configured");
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

  const auto& t = cfg->train;
  research::TrainConfig tc;
  tc.features = gate_feature_config(*cfg);
  tc.labels.target_points = cfg->backtest.target_points(args.symbol);
  if (!(tc.labels.target_points > 0)) {
    return fail("train: labels need a profit target for " + args.symbol +
                ": set [risk] target_points or [risk.target_points_by_symbol] " + args.symbol);
  }
  tc.labels.stop_atr_multiple = cfg->backtest.backtest.risk.stop_atr_multiple;
  tc.labels.horizon = t.horizon;
  tc.hmm_states = t.hmm_states;
  tc.validation_share = t.validation_share;
  tc.embargo_bars = t.embargo_bars;
  tc.classifier.boost.rounds = t.rounds;
  tc.classifier.boost.max_leaves = t.max_leaves;
  tc.classifier.boost.eta = t.eta;
  tc.classifier.boost.seed = static_cast<std::uint64_t>(t.seed);
  tc.classifier.early_stopping_rounds = t.early_stopping_rounds;
  tc.quantile = tc.classifier.boost;
  tc.quantile.rounds = std::min(t.rounds, 150);

  if (!global.quiet) {
    std::fprintf(stderr,
                 "[train] %s: %zu bars %s .. %s; labels: target %.0f points, stop %.1f × ATR, horizon %d bars\n",
                 args.symbol.c_str(), bars->size(), format_utc(bars->front().ts).c_str(),
                 format_utc(bars->back().ts + kMinute).c_str(), tc.labels.target_points, tc.labels.stop_atr_multiple,
                 tc.labels.horizon);
  }
  auto result =
      research::train_gatekeeper(*bars, *spec, cfg->backtest.strategy, tc, args.out, format_utc(bars->front().ts),
                                 format_utc(bars->back().ts + kMinute), data_hash);
  if (!result) return fail(result.error().message);
  const auto& m = result->metrics;
  std::printf(
      "gatekeeper for %s trained in %.1f s: %zu signals labelled (%zu reached the target first), %zu train, "
      "%zu validation, %zu purged\n",
      args.symbol.c_str(), result->seconds, result->labels.labelled, result->labels.positives, result->train_rows,
      result->valid_rows, result->purged);
  for (const auto& f : result->manifest.models) {
    std::printf("  %-4s %s (%d trees) sha256 %.16s…\n", f.output.c_str(), f.file.c_str(), f.trees, f.sha256.c_str());
  }
  std::printf("validation: AUC %.3f, log-loss %.4f, Brier %.4f; below q10 %.1f %%, above q90 %.1f %% (ideal 10 / 10)\n",
              m.auc, m.log_loss, m.brier, 100 * m.coverage.below_lower, 100 * m.coverage.above_upper);
  std::printf("calibration (predicted → observed, count):");
  for (const auto& b : m.calibration) {
    if (b.count == 0) continue;
    std::printf(" %.2f→%.2f (%zu)", b.mean_predicted, b.observed, b.count);
  }
  std::printf("\nmodels and manifest in %s\n", args.out.c_str());
  return 0;
}

}  // namespace quant::app
