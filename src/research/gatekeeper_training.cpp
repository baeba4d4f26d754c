#include "research/gatekeeper_training.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>

#include "features/hmm.h"
#include "model_train/write_models.h"

namespace quant::research {

std::vector<int> assign_segments(std::span<const LabelledSignal> samples, const SplitBars& split, int embargo_bars) {
  const std::array<std::size_t, 3> starts{split.early_stopping_from, split.calibration_from, split.test_from};
  std::vector<int> out(samples.size(), -1);
  const auto embargo = static_cast<std::size_t>(std::max(embargo_bars, 0));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    int seg = 0;
    while (seg < 3 && s.index >= starts[static_cast<std::size_t>(seg)]) ++seg;
    // The next segment that holds bars; its first bar is the boundary a label may not reach.
    bool purged = false;
    for (int next = seg; next < 3; ++next) {
      const std::size_t boundary = starts[static_cast<std::size_t>(next)];
      const std::size_t end = next + 1 < 3 ? starts[static_cast<std::size_t>(next + 1)] : SIZE_MAX;
      if (boundary >= end) continue;  // an empty segment: the one after it is the next
      purged = s.exit_index + embargo >= boundary;
      break;
    }
    out[i] = purged ? -1 : seg;
  }
  return out;
}

SplitBars split_by_shares(std::span<const LabelledSignal> samples, const SplitShares& shares, std::size_t bar_count) {
  const auto n = static_cast<double>(samples.size());
  auto count = [&](double share) { return static_cast<std::size_t>(std::llround(std::max(share, 0.0) * n)); };
  const std::size_t test = count(shares.test), cal = count(shares.calibration), es = count(shares.early_stopping);
  auto start_of = [&](std::size_t tail) -> std::size_t {
    if (tail == 0) return bar_count;
    if (tail >= samples.size()) return samples.empty() ? bar_count : samples.front().index;
    return samples[samples.size() - tail].index;
  };
  SplitBars s;
  s.test_from = start_of(test);
  s.calibration_from = start_of(test + cal);
  s.early_stopping_from = start_of(test + cal + es);
  return s;
}

namespace {

/// The ⌈level·(n + 1)⌉-th smallest score (the conformal quantile); the largest
/// when that rank exceeds n.
double conformal_quantile(std::vector<double> scores, double level) {
  QUANT_CHECK(!scores.empty());
  std::sort(scores.begin(), scores.end());
  const auto n = static_cast<double>(scores.size());
  auto rank = static_cast<std::size_t>(std::ceil(level * (n + 1)));
  rank = std::clamp<std::size_t>(rank, 1, scores.size());
  return scores[rank - 1];
}

struct Predicted {
  std::vector<float> prob, lo, hi, label, move;
  std::size_t crossed = 0;  ///< raw q10 > q90
};

double share(std::size_t k, std::size_t n) { return n == 0 ? 0.0 : static_cast<double>(k) / static_cast<double>(n); }


Expected<TrainResult> train_labelled(std::span<const Bar> bars, const InstrumentSpec& spec,
                                     const strategy::StrategyConfig& strategy_config, const TrainConfig& config,
                                     const SplitBars& split, const std::vector<LabelledSignal>& all_samples,
                                     const LabelStats& stats, const std::string& out_dir, const DataWindow& window) {
  const auto started = std::chrono::steady_clock::now();
  if (!(split.early_stopping_from <= split.calibration_from && split.calibration_from <= split.test_from &&
        split.test_from <= bars.size() && split.early_stopping_from > 0)) {
    return make_error("train: segment boundaries out of order");
  }
  if (!(config.interval_miss > 0 && config.interval_miss < 0.5))
    return make_error("train: interval_miss must be within (0, 0.5)");
  TrainResult result;
  result.labels = stats;
  const std::vector<LabelledSignal>* samples = &all_samples;
  const std::vector<int> segment = assign_segments(*samples, split, config.embargo_bars);

  // HMM regimes, fitted on the training segment's bars only.
  std::optional<features::HmmParams> hmm;
  if (config.hmm_states > 0) {
    const auto fit_bars = bars.first(split.early_stopping_from);
    const auto observations = features::hmm_observations(fit_bars, config.features.hmm_volatility_window);
    features::HmmFitConfig fit;
    fit.states = config.hmm_states;
    fit.seed = config.classifier.boost.seed;
    if (config.progress) fit.on_iteration = [&](int done, int total) { config.progress("HMM fit", done, total); };
    auto fitted = features::fit_hmm(observations, fit);
    if (!fitted) return make_error("train: HMM fit: " + fitted.error().message);
    hmm = fitted->params;
  }
  auto pipeline = features::FeaturePipeline::create(config.features, spec, /*with_book=*/false, hmm ? &*hmm : nullptr);
  if (!pipeline) return tl::unexpected(pipeline.error());
  const std::vector<std::string> names = pipeline->manifest().names;
  const std::size_t cols = names.size();

  // Feature rows at each sample's signal bar: the pipeline sees the bars up to
  // and including it, as the gate does when it judges the entry.
  std::array<model_train::Dataset, 4> cls, reg;
  std::array<std::vector<const LabelledSignal*>, 4> members;
  for (std::size_t k = 0; k < 4; ++k) cls[k].feature_names = reg[k].feature_names = names;
  std::array<SegmentCount*, 4> counts{&result.train, &result.early_stopping, &result.calibration,
                                      &result.test_segment};
  std::size_t next = 0;
  for (std::size_t i = 0; i < bars.size() && next < samples->size(); ++i) {
    pipeline->update(bars[i]);
    while (next < samples->size() && (*samples)[next].index == i) {
      const LabelledSignal& s = (*samples)[next];
      const int seg = segment[next];
      ++next;
      if (seg < 0) {
        // Purged: counted in the segment it would have joined.
        const std::array<std::size_t, 3> starts{split.early_stopping_from, split.calibration_from, split.test_from};
        std::size_t k = 0;
        while (k < 3 && s.index >= starts[k]) ++k;
        ++counts[k]->purged;
        continue;
      }
      if (!pipeline->ready()) {
        ++result.not_ready;
        continue;
      }
      const auto k = static_cast<std::size_t>(seg);
      const auto v = pipeline->values();
      for (auto* d : {&cls[k], &reg[k]}) d->features.insert(d->features.end(), v.begin(), v.begin() + static_cast<std::ptrdiff_t>(cols));
      cls[k].labels.push_back(static_cast<float>(s.label));
      reg[k].labels.push_back(static_cast<float>(s.net_points));
      members[k].push_back(&s);
      SegmentCount& c = *counts[k];
      if (c.rows++ == 0) c.from = s.t0;
      c.to = s.t0;
    }
  }
  const std::size_t labelled = samples->size();
  if (labelled < 100) {
    return make_error("train: only " + std::to_string(labelled) +
                      " trades in the window (need >= 100 to split into train, early stopping, calibration and test): "
                      "use a longer window");
  }
  const char* seg_names[4] = {"training", "early-stopping", "calibration", "test"};
  const std::size_t minimum[4] = {30, 10, 20, 10};
  for (std::size_t k = 0; k < 4; ++k) {
    if (k == 3 && split.test_from >= bars.size()) continue;
    if (cls[k].rows() < minimum[k]) {
      return make_error("train: the " + std::string(seg_names[k]) + " segment holds " + std::to_string(cls[k].rows()) +
                        " samples after purging (need >= " + std::to_string(minimum[k]) +
                        "): use a longer window or other split shares");
    }
  }

  auto with_progress = [&](model_train::BoostParams params, std::string_view stage) {
    if (config.progress) params.on_round = [&, stage](int done, int total) { config.progress(stage, done, total); };
    return params;
  };
  model_train::ClassifierParams cp = config.classifier;
  cp.boost = with_progress(cp.boost, "classifier");
  auto classifier = model_train::train_classifier(cls[0], cls[1], cp);
  if (!classifier) return make_error("train: classifier: " + classifier.error().message);
  model_train::QuantileParams qp;
  qp.boost = with_progress(config.quantile, "q10");
  qp.alpha = config.interval_miss;
  auto q10 = model_train::train_quantile(reg[0], reg[1], qp);
  if (!q10) return make_error("train: q10: " + q10.error().message);
  qp.alpha = 1 - config.interval_miss;
  qp.boost = with_progress(config.quantile, "q90");
  auto q90 = model_train::train_quantile(reg[0], reg[1], qp);
  if (!q90) return make_error("train: q90: " + q90.error().message);

  // What the models say about a segment, the quantiles as the Gatekeeper
  // serves them (sorted when they cross); raw crossings counted.
  auto predict = [&](std::size_t k) {
    Predicted p;
    for (std::size_t i = 0; i < cls[k].rows(); ++i) {
      p.prob.push_back(static_cast<float>(classifier->ensemble.predict(cls[k].row(i))));
      float a = static_cast<float>(q10->ensemble.predict(reg[k].row(i)));
      float b = static_cast<float>(q90->ensemble.predict(reg[k].row(i)));
      if (a > b) {
        ++p.crossed;
        std::swap(a, b);
      }
      p.lo.push_back(a);
      p.hi.push_back(b);
    }
    p.label = cls[k].labels;
    p.move = reg[k].labels;
    return p;
  };

  // The early-stopping segment chose the number of trees: its metrics are not out-of-sample.
  {
    const Predicted es = predict(1);
    result.early_stopping_auc = model_train::auc(es.prob, es.label);
    result.early_stopping_log_loss = model_train::log_loss(es.prob, es.label);
  }

  // Conformalized quantile regression, one-sided per tail, on the raw model
  // outputs (what the exported models will output before the Gatekeeper sorts).
  {
    std::vector<double> lo_scores, hi_scores;
    std::size_t crossed = 0;
    for (std::size_t i = 0; i < reg[2].rows(); ++i) {
      const double a = q10->ensemble.predict(reg[2].row(i));
      const double b = q90->ensemble.predict(reg[2].row(i));
      crossed += a > b ? 1 : 0;
      const double y = reg[2].labels[i];
      lo_scores.push_back(a - y);
      hi_scores.push_back(y - b);
    }
    result.calibration_raw_crossed = share(crossed, reg[2].rows());
    result.q10_offset = -conformal_quantile(std::move(lo_scores), 1 - config.interval_miss);
    result.q90_offset = conformal_quantile(std::move(hi_scores), 1 - config.interval_miss);
    q10->ensemble.base_margin += result.q10_offset;
    q90->ensemble.base_margin += result.q90_offset;
  }

  {
    const Predicted cal = predict(2);
    for (std::size_t i = 0; i < members[2].size(); ++i)
      result.calibrated.push_back({*members[2][i], cal.prob[i], cal.lo[i], cal.hi[i]});
    result.fit_end = bars[std::min(split.test_from, bars.size()) - 1].ts + kMinute;
  }
  if (cls[3].rows() > 0) {
    Predicted t = predict(3);
    // Raw crossings: before the conformal shift.
    std::size_t raw = 0;
    for (std::size_t i = 0; i < reg[3].rows(); ++i) {
      raw += q10->ensemble.predict(reg[3].row(i)) - result.q10_offset >
                     q90->ensemble.predict(reg[3].row(i)) - result.q90_offset
                 ? 1
                 : 0;
    }
    result.test_raw_crossed = share(raw, reg[3].rows());
    result.test = model_train::evaluate(t.prob, t.label, t.lo, t.hi, t.move, spec.tick_size / 2);
  }

  model_train::ManifestInfo info;
  info.features = {names, pipeline->manifest().hash};
  info.train_start = window.start;
  info.train_end = window.end;
  info.data_hash = window.hash;
  auto seg_json = [](const SegmentCount& c) {
    return nlohmann::json{{"rows", c.rows}, {"purged", c.purged}, {"from", format_utc(c.from)}, {"to", format_utc(c.to)}};
  };
  info.params = {{"features", pipeline->manifest().params},
                 {"labels",
                  {{"kind", "kernel_trade"},
                   {"label", "net PnL > 0 after fees and slippage"},
                   {"target", "net PnL per contract, price points"},
                   {"signals", result.labels.signals},
                   {"taken", result.labels.taken},
                   {"open_at_end", result.labels.open_at_end}}},
                 {"split",
                  {{"train", seg_json(result.train)},
                   {"early_stopping", seg_json(result.early_stopping)},
                   {"calibration", seg_json(result.calibration)},
                   {"test", seg_json(result.test_segment)},
                   {"embargo_bars", config.embargo_bars},
                   {"fit_end", format_utc(result.fit_end)}}},
                 {"conformal",
                  {{"interval_miss", config.interval_miss},
                   {"q10_offset", result.q10_offset},
                   {"q90_offset", result.q90_offset}}},
                 {"boost",
                  {{"rounds", config.classifier.boost.rounds},
                   {"max_leaves", config.classifier.boost.max_leaves},
                   {"eta", config.classifier.boost.eta},
                   {"early_stopping_rounds", config.classifier.early_stopping_rounds},
                   {"seed", config.classifier.boost.seed},
                   {"trees", classifier->trees}}},
                 {"strategy", strategy_config.name}};
  nlohmann::json metrics = result.test.to_json();
  metrics["measured_on"] = cls[3].rows() > 0 ? "test" : "none";
  metrics["raw_quantiles_crossed"] = result.test_raw_crossed;
  metrics["early_stopping"] = {{"rows", cls[1].rows()},
                               {"auc", result.early_stopping_auc},
                               {"log_loss", result.early_stopping_log_loss},
                               {"note", "the classifier's trees were chosen on these rows: not out-of-sample"}};
  metrics["conformal_calibration"] = {{"rows", cls[2].rows()},
                                      {"raw_quantiles_crossed", result.calibration_raw_crossed},
                                      {"q10_offset", result.q10_offset},
                                      {"q90_offset", result.q90_offset}};
  info.metrics = metrics;
  auto manifest = model_train::write_models(out_dir, {&*classifier, &*q10, &*q90}, info);
  if (!manifest) return tl::unexpected(manifest.error());
  result.manifest = *manifest;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace

Expected<TrainResult> train_gatekeeper(std::span<const Bar> bars, const InstrumentSpec& spec,
                                       const strategy::StrategyConfig& strategy, const TrainConfig& config,
                                       const std::string& out_dir, const DataWindow& window) {
  if (bars.size() < 1000)
    return make_error("train: " + std::to_string(bars.size()) + " bars are too few (need >= 1000)");
  const SplitShares& sh = config.split;
  for (double v : {sh.early_stopping, sh.calibration, sh.test}) {
    if (!(v >= 0 && v < 1)) return make_error("train: split shares must be within [0, 1)");
  }
  if (!(sh.early_stopping > 0 && sh.calibration > 0))
    return make_error("train: the early-stopping and calibration shares must be > 0");
  if (!(sh.early_stopping + sh.calibration + sh.test < 0.9))
    return make_error("train: the early-stopping, calibration and test shares must leave >= 10 % for training");
  LabelStats stats;
  auto samples = label_signals(bars, spec, strategy, config.settings, &stats);
  if (!samples) return tl::unexpected(samples.error());
  const SplitBars split = split_by_shares(*samples, sh, bars.size());
  return train_labelled(bars, spec, strategy, config, split, *samples, stats, out_dir, window);
}

Expected<TrainResult> train_gatekeeper(std::span<const Bar> bars, const InstrumentSpec& spec,
                                       const strategy::StrategyConfig& strategy_config, const TrainConfig& config,
                                       const SplitBars& split, const std::string& out_dir, const DataWindow& window) {
  if (bars.size() < 1000)
    return make_error("train: " + std::to_string(bars.size()) + " bars are too few (need >= 1000)");
  LabelStats stats;
  auto samples = label_signals(bars, spec, strategy_config, config.settings, &stats);
  if (!samples) return tl::unexpected(samples.error());
  return train_labelled(bars, spec, strategy_config, config, split, *samples, stats, out_dir, window);
}
}  // namespace quant::research
