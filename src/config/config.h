#pragma once
/// Typed configuration built from TOML text (STYLE.md §5).
///
/// `apps/` reads the file and hands its text here; this module never touches
/// the file system or the environment. Every table is checked against the keys
/// it knows: an unknown key is an error that names it with its path
/// (e.g. "quant.toml: unknown key 'instruments.WIN.tick'"), so a typo never
/// silently falls back to a default. Defaults live in the structs.

#include <string>
#include <string_view>

#include "backtest/backtest.h"
#include "core/error.h"
#include "core/instrument.h"
#include "strategy/strategy_config.h"

namespace quant::config {

/// `[lake]`
struct LakeConfig {
  std::string dir = "lake";  ///< relative paths resolve against the working directory
  int threads = 0;           ///< DuckDB threads; 0 = DuckDB's default (all cores)
  std::string memory_limit;  ///< DuckDB memory limit such as "4GB"; empty = DuckDB's default
  std::string compression = "zstd";  ///< Parquet compression of new partitions: zstd, lz4_raw, snappy, uncompressed
};

/// `[backtest]`, `[strategy]`, `[strategy.ma_breakout]`, `[strategy.sma_cross]`, `[risk]`.
struct BacktestSettings {
  backtest::BacktestConfig backtest;  ///< includes the engine and risk settings
  strategy::StrategyConfig strategy;
};

/// The whole file.
struct AppConfig {
  LakeConfig lake;
  InstrumentRegistry instruments;  ///< `[instruments.<SYMBOL>]` tables
  BacktestSettings backtest;
};

/// Parses and validates TOML text. `source` names the file in messages.
Expected<AppConfig> parse_config(std::string_view toml_text, std::string_view source);

/// Parses "HH:MM" into minutes after midnight.
Expected<std::chrono::minutes> parse_clock(std::string_view text);

}  // namespace quant::config
