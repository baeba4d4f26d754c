#pragma once
/// The reference strategy: SMA fast/slow crossover, always in the market.

#include <string_view>

#include "core/tick_grid.h"
#include "features/moving_average.h"
#include "strategy/crossover.h"
#include "strategy/strategy.h"
#include "strategy/strategy_config.h"

namespace quant::strategy {

/// "sma_cross": closes → ticks (TickGrid), exact SMA(fast) vs SMA(slow) sign,
/// `CrossoverDetector` rule. A crossover up emits EnterLong (the engine
/// reverses a short), down EnterShort, unless the position already has that
/// side (no pyramiding: then None). No filters of its own, signal.atr = 0;
/// the filter chain (`add_filter`) still runs on entries. Indicators carry
/// across sessions. Not thread-safe.
class SmaCross final : public Strategy {
 public:
  /// `config` must be valid (`validate`; QUANT_CHECK otherwise).
  SmaCross(const SmaCrossConfig& config, TickGrid grid);

  std::string_view name() const override { return "sma_cross"; }
  Signal on_bar(const Bar& bar, std::int64_t position) override;

  const features::MaSpread& spread() const { return spread_; }

 private:
  features::MaSpread spread_;
  CrossoverDetector detector_;
  TickGrid grid_;
};

}  // namespace quant::strategy
