#pragma once
/// A backtest run: the engine (engine/) over a market-data feed, with the
/// simulated venue, the strategy and the risk engine plugged in, writing the
/// run directory described in docs/contracts/backtest_outputs.md.
/// Memory stays flat whatever the length of the run: bars stream through,
/// outputs stream to files, statistics keep one value per day.

#include <cstdint>
#include <functional>
#include <string>

#include "backtest/metrics.h"
#include "core/instrument.h"
#include "engine/engine.h"
#include "engine/ports.h"
#include "risk/risk_engine.h"
#include "strategy/strategy.h"

namespace quant::backtest {

enum class FillModelKind { NextOpen, VolumeParticipation };
enum class EquityOutput { Bar, Day, None };

struct BacktestConfig {
  engine::EngineConfig engine;
  risk::RiskConfig risk;
  int slippage_ticks = 1;
  bool zero_costs = false;  ///< the reference run: no fees, no slippage
  FillModelKind fill_model = FillModelKind::NextOpen;
  double participation = 0.1;  ///< VolumeParticipation: share of each bar's volume
  EquityOutput equity_output = EquityOutput::Bar;
  /// EquityOutput::Bar only: write the rows to equity.parquet instead of
  /// equity.csv (for long runs, see docs/contracts/backtest_outputs.md).
  bool equity_parquet = false;
  bool write_orders = true;
  std::size_t chart_max_bars = 60000;  ///< chart_bars.csv uses the finest timeframe that fits
};

/// Where the data came from, for the report.
struct RunMeta {
  std::string symbol, strategy, data_source, config_text, version = "0.1.0";
  bool generated_data = false;
  std::uint64_t seed = 0;
};

struct BacktestResult {
  Summary summary;
  std::int64_t bars = 0;
  double seconds = 0;
  double bars_per_second = 0;
  Timestamp first_bar{}, last_bar{};
  double final_equity = 0;
};

using ProgressCallback = std::function<void(std::int64_t bars, Timestamp last)>;

/// What `simulate` measured.
struct Simulation {
  std::int64_t bars = 0;
  double seconds = 0;
  Timestamp first_bar{}, last_bar{};
  double final_equity = 0;
};

using FinishCallback = std::function<void(const engine::Engine&, const Simulation&)>;

/// The one backtest loop: the engine with the simulated venue (costs and fill
/// model from `config`) over `feed`, reporting to `observer` and writing
/// nothing. `on_finish` sees the engine after `finish()`, before it is gone.
/// `run_backtest` is this loop with the run directory's writer as observer;
/// research runs it to label signals and to score walk-forward folds.
Expected<Simulation> simulate(const BacktestConfig& config, const InstrumentSpec& spec, strategy::Strategy& strategy,
                              engine::MarketDataFeed& feed, engine::EngineObserver& observer,
                              const ProgressCallback& progress = {}, engine::Gate* gate = nullptr,
                              const FinishCallback& on_finish = {});

/// Runs `strategy` over `feed` and writes the run directory `out_dir` (created
/// if missing). `config.risk` is ignored when config.engine.use_risk_engine is
/// false. With a `gate`, entries also pass the gate (engine::GateFilter, last
/// in the strategy's filter chain). Fails on an empty feed ("no bars in the
/// requested range"), a feed error or an output file that cannot be written.
Expected<BacktestResult> run_backtest(const BacktestConfig& config, const InstrumentSpec& spec,
                                      strategy::Strategy& strategy, engine::MarketDataFeed& feed,
                                      const std::string& out_dir, const RunMeta& meta,
                                      const ProgressCallback& progress = {}, engine::Gate* gate = nullptr);

}  // namespace quant::backtest
