#pragma once
/// Training the Gatekeeper from bars: the strategy's entry signals become
/// samples (features at the signal bar, triple-barrier label, forward move),
/// split in time order with purging and an embargo, and three models are
/// trained (classifier, q10, q90), exported to ONNX with a manifest.
/// The feature pipeline is the same object the backtest gate and the live
/// engine run, so the numbers the models see in training are the numbers they
/// see in production.

#include <cstdint>
#include <span>
#include <string>

#include "core/instrument.h"
#include "core/market_data.h"
#include "features/feature_pipeline.h"
#include "features/labels.h"
#include "model/manifest.h"
#include "model_train/metrics.h"
#include "model_train/xgboost_trainer.h"
#include "strategy/strategy_config.h"

namespace quant::research {

struct TrainConfig {
  features::FeatureConfig features;
  features::LabelConfig labels;
  int hmm_states = 3;             ///< 0 = no HMM regime features
  double validation_share = 0.2;  ///< the last share of samples (in time) validates
  int embargo_bars = 60;          ///< training samples whose label ends this close to validation are dropped too
  model_train::ClassifierParams classifier;
  model_train::BoostParams quantile;  ///< q10 and q90 (leaf refresh on)
};

struct TrainResult {
  model::Manifest manifest;
  model_train::ValidationMetrics metrics;
  features::LabelStats labels;
  std::size_t train_rows = 0, valid_rows = 0, purged = 0, not_ready = 0;
  double seconds = 0;
};

/// Trains on `bars` (time order) and writes the models and manifest into
/// `out_dir`. `window` and `data_hash` describe the data for the manifest.
Expected<TrainResult> train_gatekeeper(std::span<const Bar> bars, const InstrumentSpec& spec,
                                       const strategy::StrategyConfig& strategy, const TrainConfig& config,
                                       const std::string& out_dir, const std::string& window_start,
                                       const std::string& window_end, const std::string& data_hash);

/// Entry signals of the strategy over `bars` as label events, with the
/// feature row of each signal bar (rows of `pipeline` order). Signals before
/// the pipeline is ready are counted in `not_ready` and skipped.
struct SignalRows {
  std::vector<features::Event> events;
  std::vector<float> features;  ///< events.size() × feature count
  std::size_t not_ready = 0;
};
Expected<SignalRows> collect_signals(std::span<const Bar> bars, const InstrumentSpec& spec,
                                     const strategy::StrategyConfig& strategy, features::FeaturePipeline& pipeline);

}  // namespace quant::research
