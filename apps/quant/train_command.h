#pragma once
// `quant train`: lake bars → the Gatekeeper's three ONNX models and manifest.

#include <string>

#include "app_context.h"
#include "features/feature_pipeline.h"
#include "research/gatekeeper_training.h"

namespace quant::app {

struct TrainArgs {
  std::string symbol, from, to, out;
};

int run_train(const GlobalOptions& global, const TrainArgs& args);

/// Reads a symbol's bars in [from, to) from the lake into memory (shared with backtest wiring).
Expected<std::vector<Bar>> load_bars(const GlobalOptions& global, const config::AppConfig& cfg,
                                     const std::string& symbol, Timestamp from, Timestamp to);

/// The feature configuration the gate and training share, derived from the strategy settings.
features::FeatureConfig gate_feature_config(const config::AppConfig& cfg);

/// [train] and the backtest's settings as a training configuration for `spec`.
Expected<research::TrainConfig> train_config(const config::AppConfig& cfg, const InstrumentSpec& spec);

/// The training summary on stdout (segments, early-stopping and test metrics).
void print_training(const research::TrainResult& result, const std::string& symbol, const std::string& out);

}  // namespace quant::app
