#pragma once
/// Typed configuration of the strategies (defaults in the structs), their
/// validation and the factory. TOML parsing lives in `quant::config`; this
/// module only defines the values and checks them.

#include <cstdint>
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

/// Which order-flow data the book-imbalance filter reads.
enum class ImbalanceData : std::uint8_t {
  Auto,    ///< order-book snapshots when the window has any, else trades
  Book,    ///< L2 snapshots only
  Trades,  ///< time and sales only (aggressor side, else the tick rule)
};

/// What the book-imbalance filter does with an entry on a bar without data.
enum class MissingImbalance : std::uint8_t {
  Block,  ///< no evidence, no entry (the default: a filter that is on never passes blind)
  Allow,  ///< let the entry through
};

/// `[strategy.ma_breakout.book_imbalance]`: the filter switched on by
/// `MaBreakoutConfig::book_imbalance_filter`. A long entry passes when the
/// bar's imbalance >= threshold, a short when <= −threshold.
struct BookImbalanceConfig {
  double threshold = 0.1;  ///< in [0, 1]
  int depth = 5;           ///< book levels per side summed, 1..1000 (trades: unused)
  ImbalanceData source = ImbalanceData::Auto;
  MissingImbalance on_missing = MissingImbalance::Block;
  int max_book_age_seconds = 60;  ///< an older latest snapshot is no data; 1..86400
};

/// "auto" | "book" | "trades"; nullopt otherwise.
std::optional<ImbalanceData> imbalance_data_from_string(std::string_view text);
std::string_view imbalance_data_name(ImbalanceData data);
/// "block" | "allow"; nullopt otherwise.
std::optional<MissingImbalance> missing_imbalance_from_string(std::string_view text);
std::string_view missing_imbalance_name(MissingImbalance policy);

/// MA fast/slow breakout with the Keltner filter and its arming window.
struct MaBreakoutConfig {
  MaKind kind = MaKind::Sma;      ///< both averages: Sma or Ema (fixed point)
  int fast = 9;                   ///< bars, >= 1
  int slow = 21;                  ///< bars, > fast
  bool keltner_filter = true;     ///< long needs close > upper band, short close < lower band
  int keltner_period = 20;        ///< EMA period of the middle line, >= 1
  double keltner_multiple = 1.5;  ///< band half-width in ATRs, > 0
  int atr_period = 14;            ///< Wilder ATR period (bands and signal.atr), >= 1
  int confirm_bars = 5;           ///< arming window in bars, >= 1 (1 = the crossover bar only)
  bool exit_on_opposite_cross = true;
  bool session_reset = false;  ///< reset all indicators at each session start
  /// Entries pass `BookImbalanceFilter` (settings in `book_imbalance`); the
  /// caller adds it with its per-bar data (the backtest reads the lake).
  bool book_imbalance_filter = false;
  bool hmm_filter = false;  ///< the caller adds HmmRegimeFilter (the HMM fitted by quant train)
  bool model_gate = false;  ///< the engine adds the Gatekeeper (trained models)
  BookImbalanceConfig book_imbalance;
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
/// `MaBreakoutConfig` checks its `book_imbalance` table as well (whether the
/// filter is on or not), e.g. "strategy.book_imbalance.threshold: ...".
Expected<void> validate(const SmaCrossConfig& config, std::string_view prefix = "strategy");
Expected<void> validate(const BookImbalanceConfig& config, std::string_view prefix = "strategy.book_imbalance");
Expected<void> validate(const MaBreakoutConfig& config, std::string_view prefix = "strategy");
/// Checks `name` and the selected strategy's fields (named `strategy.<field>`).
Expected<void> validate(const StrategyConfig& config);

/// Builds the configured strategy for one instrument (its tick grid converts
/// closes to ticks). Fails with a message naming the field when the config is
/// invalid or the instrument has no tick size. The switchable filters that
/// need data from outside the bars (book imbalance, HMM regime, model gate)
/// are not built here: the caller adds them with `add_filter` (book imbalance
/// first, the gate last).
Expected<std::unique_ptr<Strategy>> make_strategy(const StrategyConfig& config, const InstrumentSpec& instrument);

}  // namespace quant::strategy
