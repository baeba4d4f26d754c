#pragma once
/// A deterministic generated market for demos and tests that need no account
/// anywhere: 1-minute bars of a WIN-like future (or any configured
/// instrument) inside its sessions, on its tick grid, with volatility/trend
/// regimes that switch at random. Same seed → same bars, on every machine
/// (our own PRNG and integer tick arithmetic; no std:: distributions, whose
/// output differs between standard libraries).

#include <cstdint>
#include <vector>

#include "core/instrument.h"
#include "core/market_data.h"
#include "core/random.h"

namespace quant::generator {

struct GeneratorConfig {
  std::uint64_t seed = 42;
  int days = 20;                                          ///< trading days to generate (weekdays of the spec)
  int start_year = 2024, start_month = 1, start_day = 2;  ///< first calendar day (local)
  double start_price = 120000;                            ///< snapped to the tick grid
  double base_volatility_ticks = 6;                       ///< per-minute standard deviation in ticks, calm regime
};

/// Regime of a generated stretch: drift and volatility multipliers.
enum class Regime : std::uint8_t { Calm = 0, TrendUp = 1, TrendDown = 2, Volatile = 3 };

struct GeneratedBar {
  Bar bar;
  Regime regime = Regime::Calm;
};

/// Generates bars for `config.days` trading days of `spec`'s session.
/// Requires spec.tick_size > 0 and a session that does not cross midnight.
Expected<std::vector<GeneratedBar>> generate_market(const InstrumentSpec& spec, const GeneratorConfig& config);

/// The bars of `generate_market` alone (tests, research).
Expected<std::vector<Bar>> generate_bars(const InstrumentSpec& spec, const GeneratorConfig& config);

/// The generator (defined in core so that every module shares one).
using quant::SplitMix64;

}  // namespace quant::generator
