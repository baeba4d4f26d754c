#pragma once
// `quant train`: lake bars → the Gatekeeper's three ONNX models and manifest.

#include <string>

#include <nlohmann/json.hpp>

#include "app_context.h"
#include "features/feature_pipeline.h"
#include "research/gatekeeper_training.h"

namespace quant::app {

struct TrainArgs {
  std::string symbol, from, to, out;
  bool json = false;  ///< the summary as one JSON object on stdout
};

int run_train(const GlobalOptions& global, const TrainArgs& args);

/// Reads a symbol's bars in [from, to) from the lake into memory (shared with backtest wiring).
Expected<std::vector<Bar>> load_bars(const GlobalOptions& global, const config::AppConfig& cfg,
                                     const std::string& symbol, Timestamp from, Timestamp to);

/// The feature configuration the gate and training share, derived from the strategy settings.
features::FeatureConfig gate_feature_config(const config::AppConfig& cfg);

/// [train] and the backtest's settings as a training configuration for `spec`.
Expected<research::TrainConfig> train_config(const config::AppConfig& cfg, const InstrumentSpec& spec);

/// The training summary as JSON (`quant train --json`; fields in docs/research.md).
nlohmann::ordered_json training_json(const research::TrainResult& result, const std::string& symbol,
                                     const std::string& out);

/// The training summary on stdout (segments, early-stopping and test metrics).
void print_training(const research::TrainResult& result, const std::string& symbol, const std::string& out);

}  // namespace quant::app
