#pragma once
// The signal path of one instrument as `quant backtest` and `quant live` both
// build it from the configuration: the strategy, its filters (the HMM regime
// filter; the book-imbalance filter is the caller's, first in the chain), the
// Gatekeeper gate, and the engine, risk and cost settings. One function, so a
// live session trades exactly what was backtested.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "backtest/backtest.h"
#include "config/config.h"
#include "core/error.h"
#include "gate/model_gate.h"
#include "model/gatekeeper.h"
#include "strategy/regime_filter.h"
#include "strategy/strategy.h"

namespace quant::app {

struct SignalPath {
  std::unique_ptr<strategy::Strategy> strategy;
  std::unique_ptr<gate::ModelGate> model_gate;  ///< null when the strategy is not gated
  std::optional<model::Manifest> manifest;      ///< the gate's models
  /// A fresh HMM regime filter (empty when none is configured), for a twin run.
  std::function<std::unique_ptr<strategy::HmmRegimeFilter>()> make_regime_filter;
  backtest::BacktestConfig settings;  ///< engine, risk (target included), costs; sma_cross's reference settings applied
};

/// Where the gate's models run: in process (ONNX Runtime), or behind the
/// signal service's POST /infer (`url` set; the features are still computed here).
struct GateModels {
  std::string url;                   ///< e.g. http://127.0.0.1:8080/infer; empty = in process
  std::string model = "gatekeeper";  ///< the service's model name
};

/// `who` prefixes error messages ("backtest", "live"). `gate_dir` overrides
/// [gate] model_dir and turns the gate on; `first_filter`, when given, goes
/// first in the strategy's filter chain (the book-imbalance filter).
Expected<SignalPath> build_signal_path(const config::AppConfig& cfg, config::BacktestSettings settings,
                                       const InstrumentSpec& spec, const std::string& gate_dir, const std::string& who,
                                       std::unique_ptr<strategy::SignalFilter> first_filter = nullptr,
                                       const GateModels& models = {});

/// The backtest's engine, risk (target included) and cost settings for `spec`;
/// sma_cross's reference settings applied. Training labels pay these.
backtest::BacktestConfig engine_settings(const config::BacktestSettings& settings, const InstrumentSpec& spec);


}  // namespace quant::app
