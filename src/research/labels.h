#pragma once
/// Training labels that pay what the backtest pays. The strategy runs through
/// the one trading kernel (`backtest::simulate`: the engine, the risk engine,
/// the session rules, the simulated venue with its fees and slippage) with a
/// gate that lets every entry through and records it. Each entry the kernel
/// actually takes becomes one sample, labelled by the trade it opened:
///   label       = 1 when the trade's net PnL (fees and slippage paid) > 0
///   net_points  = net PnL per contract in price points (the quantile target)
///   t1          = the bar the trade closed on (stop, trailing stop, target,
///                 session-end flatten, reverse, exit signal, breaker)
/// So a signal on the side already held, one inside the no-entry window, one
/// on a halted day or one the risk engine sized to zero is not a sample: the
/// backtest would not act on it. A trade still open at the end of the data
/// has no outcome and is dropped (counted).
///
/// The gate is being trained, so the strategy runs without it, and without the
/// filters that depend on a model (HMM regime, book imbalance).

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "backtest/backtest.h"
#include "core/instrument.h"
#include "core/market_data.h"
#include "core/order.h"
#include "strategy/strategy.h"
#include "strategy/strategy_config.h"

namespace quant::research {

/// One entry the kernel took, and what its trade paid.
struct LabelledSignal {
  std::size_t index = 0;       ///< the signal bar (the entry order was sent at its close)
  std::size_t exit_index = 0;  ///< the bar whose open or range filled the closing order
  Timestamp t0{}, t1{};        ///< bars[index].ts and bars[exit_index].ts: the label depends on bars (index, exit_index]
  Side side = Side::Buy;
  double atr = 0;         ///< the signal's ATR, price units
  int label = 0;          ///< 1: the trade's net PnL > 0
  double net_points = 0;  ///< net PnL per contract, price points (fees and slippage included)
  std::string exit_reason;
};

struct LabelStats {
  std::size_t signals = 0;      ///< entries the strategy signalled while flat or opposite
  std::size_t taken = 0;        ///< entries filled (each one a trade)
  std::size_t not_taken = 0;    ///< no-entry window, halted day, pending entry, sized to zero, unfilled
  std::size_t open_at_end = 0;  ///< trades still open when the data ended (no outcome, dropped)
  std::size_t positives = 0;    ///< samples with label 1
};

/// Runs the ungated strategy over `bars` (time order) with `settings` (engine,
/// risk, costs: the backtest's) and returns one sample per closed trade, in
/// time order. Fails when the strategy cannot be built or the kernel fails.
Expected<std::vector<LabelledSignal>> label_signals(std::span<const Bar> bars, const InstrumentSpec& spec,
                                                    const strategy::StrategyConfig& strategy,
                                                    const backtest::BacktestConfig& settings,
                                                    LabelStats* stats = nullptr);

/// What a trade that exits at its target pays beyond the target, in price
/// points per contract: fees on both sides and the entry's slippage (the
/// target fills as a limit), plus half a tick of slack (float32 quantiles hit
/// the atom at target − costs only within rounding). The gate's quantile
/// thresholds are net of it: q90 ≥ target − cost, q10 ≥ −(stop + cost).
double target_cost_points(const backtest::BacktestConfig& settings, const InstrumentSpec& spec);

/// The same for a strategy object (its filters as they are; a gate is added
/// last in its chain to record the entries it signals).
Expected<std::vector<LabelledSignal>> label_signals(std::span<const Bar> bars, const InstrumentSpec& spec,
                                                    strategy::Strategy& strategy,
                                                    const backtest::BacktestConfig& settings,
                                                    LabelStats* stats = nullptr);

}  // namespace quant::research
