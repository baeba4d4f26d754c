#include "signal_path.h"

#include <utility>

#include "features/feature_pipeline.h"
#include "features/hmm.h"
#include "gate/remote_scorer.h"
#include "research/labels.h"
#include "strategy/strategy_config.h"
#include "train_command.h"

namespace quant::app {

Expected<SignalPath> build_signal_path(const config::AppConfig& cfg, config::BacktestSettings settings,
                                       const InstrumentSpec& spec, const std::string& gate_dir, const std::string& who,
                                       std::unique_ptr<strategy::SignalFilter> first_filter, const GateModels& models) {
  SignalPath path;
  auto strategy = strategy::make_strategy(settings.strategy, spec);
  if (!strategy) return tl::unexpected(strategy.error());
  path.strategy = std::move(*strategy);
  if (first_filter) path.strategy->add_filter(std::move(first_filter));

  // The Gatekeeper in the signal path: the same feature pipeline as training,
  // rebuilt from the manifest, and the models through ONNX Runtime.
  const bool gated =
      settings.strategy.name == "ma_breakout" && (settings.strategy.ma_breakout.model_gate || !gate_dir.empty());
  const std::string model_dir = gate_dir.empty() ? cfg.gate.model_dir : gate_dir;
  if (gated) {
    auto manifest = model::load_manifest(model_dir);
    if (!manifest) {
      return make_error(who + ": the model gate needs trained models in " + model_dir + " (run quant train --out " +
                        model_dir + "): " + manifest.error().message);
    }
    std::optional<features::HmmParams> hmm;
    const auto& fp = manifest->params["features"];
    if (fp.contains("hmm")) {
      auto h = features::HmmParams::from_json(fp["hmm"]["model"]);
      if (!h) return make_error(who + ": " + model_dir + ": HMM parameters: " + h.error().message);
      hmm = *h;
    }
    auto pipeline = features::FeaturePipeline::create(gate_feature_config(cfg), spec, false, hmm ? &*hmm : nullptr);
    if (!pipeline) return make_error(who + ": gate features: " + pipeline.error().message);
    auto gatekeeper = model::Gatekeeper::load(model_dir, {pipeline->manifest().names, pipeline->manifest().hash});
    if (!gatekeeper) {
      return make_error(who + ": the models in " + model_dir +
                        " do not fit this configuration's features (retrain): " + gatekeeper.error().message);
    }
    gate::GateConfig gc;
    gc.rule.p_min = cfg.gate.p_min;
    gc.rule.use_quantiles = cfg.gate.use_quantiles;
    // The quantiles are of a trade's net result (fees and slippage paid): the
    // target a trade can reach is the target net of what reaching it costs.
    gc.target_points = settings.target_points(spec.symbol);
    gc.stop_atr_multiple = settings.backtest.risk.stop_atr_multiple;
    gc.cost_points = research::target_cost_points(engine_settings(settings, spec), spec);
    // The engine puts the gate last in the strategy's filter chain (after the HMM filter below).
    if (models.url.empty()) {
      path.model_gate = std::make_unique<gate::ModelGate>(std::move(*pipeline), std::move(*gatekeeper), gc);
    } else {
      // The same features and rule; the three models behind the signal service.
      gate::RemoteScorerConfig rc;
      rc.url = models.url;
      rc.model = models.model;
      rc.symbol = spec.symbol;
      auto remote = gate::RemoteScorer::create(rc, pipeline->manifest().names);
      if (!remote) return make_error(who + ": " + remote.error().message);
      auto scorer = std::make_shared<gate::RemoteScorer>(std::move(*remote));
      path.model_gate = std::make_unique<gate::ModelGate>(
          std::move(*pipeline), [scorer](std::span<const float> row) { return scorer->score(row); }, gc);
    }
    path.manifest = *manifest;
  }
  if (settings.strategy.name == "ma_breakout" && settings.strategy.ma_breakout.hmm_filter) {
    // The regime filter uses the HMM that quant train fitted (in the manifest).
    auto manifest = path.manifest ? Expected<model::Manifest>(*path.manifest) : model::load_manifest(model_dir);
    if (!manifest)
      return make_error(who + ": the HMM filter needs trained models in " + model_dir + ": " +
                        manifest.error().message);
    const auto& fp = manifest->params["features"];
    if (!fp.contains("hmm"))
      return make_error(who + ": the models in " + model_dir + " were trained without HMM ([train] hmm_states = 0)");
    auto hmm = features::HmmParams::from_json(fp["hmm"]["model"]);
    if (!hmm) return make_error(who + ": " + model_dir + ": HMM parameters: " + hmm.error().message);
    auto regime_gate =
        features::HmmRegimeGate::create({cfg.gate.hmm_allowed_states, cfg.gate.hmm_min_probability}, hmm->states);
    if (!regime_gate) return make_error(who + ": [gate] hmm_allowed_states: " + regime_gate.error().message);
    path.make_regime_filter = [hmm = *hmm, window = fp["hmm"].value("volatility_window", 20), gate = *regime_gate] {
      return std::make_unique<strategy::HmmRegimeFilter>(hmm, window, gate);
    };
    path.strategy->add_filter(path.make_regime_filter());
  }
  path.settings = engine_settings(settings, spec);
  return path;
}

backtest::BacktestConfig engine_settings(const config::BacktestSettings& settings, const InstrumentSpec& spec) {
  backtest::BacktestConfig bt = settings.backtest;
  bt.risk.target_points = settings.target_points(spec.symbol);
  if (settings.strategy.name == "sma_cross") {
    // The plain reference: always in the market, size 1, no risk engine, no
    // costs, no session rules, so results compare with other engines.
    bt.engine.use_risk_engine = false;
    bt.engine.fixed_qty = 1;
    bt.engine.session.day_trade = false;
    bt.engine.session.respect_sessions = false;
    bt.zero_costs = true;
  }
  return bt;
}


}  // namespace quant::app
