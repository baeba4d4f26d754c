#pragma once
/// Typed configuration of the strategies (defaults in the structs), their
/// validation and the factory. TOML parsing lives in `quant::config`; this
/// module only defines the values and checks them.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/instrument.h"
#include "features/moving_average.h"
#include "strategy/strategy.h"

namespace quant::strategy {

using features::MaKind;

/// "sma" → Sma, "ema" → Ema; nullopt otherwise.
std::optional<MaKind> ma_kind_from_string(std::string_view text);

/// The reference strategy: SMA fast/slow crossover, always in the market.
struct SmaCrossConfig {
  int fast = 10;  ///< bars, >= 1
  int slow = 30;  ///< bars, > fast
};

/// MA fast/slow breakout with the Keltner filter and its arming window.
struct MaBreakoutConfig {
  MaKind kind = MaKind::Sma;       ///< both averages: Sma or Ema (fixed point)
  int fast = 9;                    ///< bars, >= 1
  int slow = 21;                   ///< bars, > fast
  bool keltner_filter = true;      ///< long needs close > upper band, short close < lower band
  int keltner_period = 20;         ///< EMA period of the middle line, >= 1
  double keltner_multiple = 1.5;   ///< band half-width in ATRs, > 0
  int atr_period = 14;             ///< Wilder ATR period (bands and signal.atr), >= 1
  int confirm_bars = 5;            ///< arming window in bars, >= 1 (1 = the crossover bar only)
  bool exit_on_opposite_cross = true;
  bool session_reset = false;      ///< reset all indicators at each session start
  bool book_imbalance_filter = false;  ///< not available yet (roadmap step 3)
  bool hmm_filter = false;             ///< not available yet (roadmap step 3)
  bool model_gate = false;             ///< not available yet (roadmap step 3)
};

/// Which strategy and the settings of each.
struct StrategyConfig {
  std::string name = "ma_breakout";  ///< "ma_breakout" | "sma_cross"
  MaBreakoutConfig ma_breakout;
  SmaCrossConfig sma_cross;
};

/// Largest accepted period (bars): bounds the ring buffers allocated at construction.
inline constexpr int kMaxPeriod = 100000;

/// Checks the values; the error names the field as `<prefix>.<field>` and says
/// what is allowed, e.g. "strategy.slow: must be greater than strategy.fast (9), got 5".
Expected<void> validate(const SmaCrossConfig& config, std::string_view prefix = "strategy");
Expected<void> validate(const MaBreakoutConfig& config, std::string_view prefix = "strategy");
/// Checks `name` and the selected strategy's fields (named `strategy.<field>`).
Expected<void> validate(const StrategyConfig& config);

/// Builds the configured strategy for one instrument (its tick grid converts
/// closes to ticks). Fails with a message naming the field when the config is
/// invalid, the instrument has no tick size, or a filter that is not available
/// yet is switched on.
Expected<std::unique_ptr<Strategy>> make_strategy(const StrategyConfig& config, const InstrumentSpec& instrument);

}  // namespace quant::strategy
