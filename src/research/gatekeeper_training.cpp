#include "research/gatekeeper_training.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "model_train/write_models.h"

namespace quant::research {

Expected<SignalRows> collect_signals(std::span<const Bar> bars, const InstrumentSpec& spec,
                                     const strategy::StrategyConfig& strategy_config,
                                     features::FeaturePipeline& pipeline) {
  // The strategy without the gate (the gate is what we are training): every
  // entry signal is a candidate, as if flat, so each breakout is one sample.
  strategy::StrategyConfig plain = strategy_config;
  plain.ma_breakout.model_gate = false;
  plain.ma_breakout.hmm_filter = false;
  plain.ma_breakout.book_imbalance_filter = false;
  auto strategy = strategy::make_strategy(plain, spec);
  if (!strategy) return tl::unexpected(strategy.error());
  SignalRows out;
  const std::size_t cols = pipeline.values().size();
  for (std::size_t i = 0; i < bars.size(); ++i) {
    pipeline.update(bars[i]);
    const strategy::Signal s = (*strategy)->on_bar(bars[i], 0);
    if (s.action != strategy::Action::EnterLong && s.action != strategy::Action::EnterShort) continue;
    if (!pipeline.ready() || !(s.atr > 0)) {
      ++out.not_ready;
      continue;
    }
    out.events.push_back({i, s.action == strategy::Action::EnterLong ? Side::Buy : Side::Sell, s.atr});
    const auto v = pipeline.values();
    out.features.insert(out.features.end(), v.begin(), v.begin() + static_cast<std::ptrdiff_t>(cols));
  }
  return out;
}

Expected<TrainResult> train_gatekeeper(std::span<const Bar> bars, const InstrumentSpec& spec,
                                       const strategy::StrategyConfig& strategy_config, const TrainConfig& config,
                                       const std::string& out_dir, const std::string& window_start,
                                       const std::string& window_end, const std::string& data_hash) {
  const auto started = std::chrono::steady_clock::now();
  if (bars.size() < 1000)
    return make_error("train: " + std::to_string(bars.size()) + " bars are too few (need >= 1000)");
  if (!(config.validation_share > 0 && config.validation_share < 1)) {
    return make_error("train.validation_share must be within (0, 1)");
  }
  TrainResult result;

  // HMM regimes, fitted on the training part of the bars only (no look-ahead
  // into the validation window).
  std::optional<features::HmmParams> hmm;
  if (config.hmm_states > 0) {
    const auto fit_bars =
        bars.first(static_cast<std::size_t>(static_cast<double>(bars.size()) * (1 - config.validation_share)));
    const auto observations = features::hmm_observations(fit_bars, config.features.hmm_volatility_window);
    features::HmmFitConfig fit;
    fit.states = config.hmm_states;
    fit.seed = config.classifier.boost.seed;
    auto fitted = features::fit_hmm(observations, fit);
    if (!fitted) return make_error("train: HMM fit: " + fitted.error().message);
    hmm = fitted->params;
  }
  auto pipeline = features::FeaturePipeline::create(config.features, spec, /*with_book=*/false, hmm ? &*hmm : nullptr);
  if (!pipeline) return tl::unexpected(pipeline.error());
  auto signals = collect_signals(bars, spec, strategy_config, *pipeline);
  if (!signals) return tl::unexpected(signals.error());
  result.not_ready = signals->not_ready;

  const auto samples = features::label_events(bars, signals->events, config.labels, &result.labels);
  if (samples.size() < 50) {
    return make_error("train: only " + std::to_string(samples.size()) +
                      " labelled signals in the window (need >= 50): use a longer window");
  }
  const std::size_t cols = pipeline->manifest().names.size();
  // Index of each sample's feature row: samples keep the events' order.
  std::vector<std::size_t> row_of;
  {
    std::size_t e = 0;
    for (const auto& s : samples) {
      while (e < signals->events.size() && signals->events[e].index != s.index) ++e;
      QUANT_CHECK(e < signals->events.size());
      row_of.push_back(e);
    }
  }
  // Time-ordered split; purge training samples whose label interval reaches
  // into the validation window (plus the embargo).
  const std::size_t n_valid = std::max<std::size_t>(
      10, static_cast<std::size_t>(std::round(static_cast<double>(samples.size()) * config.validation_share)));
  const std::size_t split = samples.size() - n_valid;
  const std::size_t valid_start_index = samples[split].index;
  auto make = [&](bool regression_target) {
    model_train::Dataset train, valid;
    train.feature_names = valid.feature_names = pipeline->manifest().names;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      const float y = regression_target ? static_cast<float>(s.forward_points) : static_cast<float>(s.label);
      const float* row = signals->features.data() + row_of[i] * cols;
      if (i < split) {
        const std::size_t t1_index = s.index + static_cast<std::size_t>(config.labels.horizon);
        if (t1_index + static_cast<std::size_t>(config.embargo_bars) >= valid_start_index) continue;  // purged
        train.features.insert(train.features.end(), row, row + cols);
        train.labels.push_back(y);
      } else {
        valid.features.insert(valid.features.end(), row, row + cols);
        valid.labels.push_back(y);
      }
    }
    return std::pair{std::move(train), std::move(valid)};
  };
  auto [train_c, valid_c] = make(false);
  auto [train_r, valid_r] = make(true);
  result.train_rows = train_c.rows();
  result.valid_rows = valid_c.rows();
  result.purged = split - train_c.rows();
  if (train_c.rows() < 30)
    return make_error("train: too few training rows after purging (" + std::to_string(train_c.rows()) + ")");

  auto classifier = model_train::train_classifier(train_c, valid_c, config.classifier);
  if (!classifier) return make_error("train: classifier: " + classifier.error().message);
  model_train::QuantileParams qp;
  qp.boost = config.quantile;
  qp.alpha = 0.1;
  auto q10 = model_train::train_quantile(train_r, valid_r, qp);
  if (!q10) return make_error("train: q10: " + q10.error().message);
  qp.alpha = 0.9;
  auto q90 = model_train::train_quantile(train_r, valid_r, qp);
  if (!q90) return make_error("train: q90: " + q90.error().message);

  // Validation metrics from our own tree evaluation (equal to ONNX Runtime's
  // within 1e-5: the parity test).
  std::vector<float> prob, lo, hi;
  for (std::size_t i = 0; i < valid_c.rows(); ++i) {
    prob.push_back(static_cast<float>(classifier->ensemble.predict(valid_c.row(i))));
    float a = static_cast<float>(q10->ensemble.predict(valid_r.row(i)));
    float b = static_cast<float>(q90->ensemble.predict(valid_r.row(i)));
    if (a > b) std::swap(a, b);
    lo.push_back(a);
    hi.push_back(b);
  }
  result.metrics.rows = valid_c.rows();
  result.metrics.auc = model_train::auc(prob, valid_c.labels);
  result.metrics.log_loss = model_train::log_loss(prob, valid_c.labels);
  result.metrics.brier = model_train::brier_score(prob, valid_c.labels);
  result.metrics.calibration = model_train::calibration_table(prob, valid_c.labels);
  result.metrics.coverage = model_train::quantile_coverage(lo, hi, valid_r.labels);

  model_train::ManifestInfo info;
  info.features = {pipeline->manifest().names, pipeline->manifest().hash};
  info.train_start = window_start;
  info.train_end = window_end;
  info.data_hash = data_hash;
  info.params = {{"features", pipeline->manifest().params},
                 {"labels",
                  {{"target_points", config.labels.target_points},
                   {"stop_atr_multiple", config.labels.stop_atr_multiple},
                   {"horizon", config.labels.horizon}}},
                 {"split",
                  {{"validation_share", config.validation_share},
                   {"embargo_bars", config.embargo_bars},
                   {"train_rows", result.train_rows},
                   {"valid_rows", result.valid_rows},
                   {"purged", result.purged}}},
                 {"boost",
                  {{"rounds", config.classifier.boost.rounds},
                   {"max_leaves", config.classifier.boost.max_leaves},
                   {"eta", config.classifier.boost.eta},
                   {"early_stopping_rounds", config.classifier.early_stopping_rounds},
                   {"seed", config.classifier.boost.seed}}},
                 {"strategy", strategy_config.name}};
  info.metrics = result.metrics.to_json();
  auto manifest = model_train::write_models(out_dir, {&*classifier, &*q10, &*q90}, info);
  if (!manifest) return tl::unexpected(manifest.error());
  result.manifest = *manifest;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace quant::research
