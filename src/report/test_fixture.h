#pragma once
/// Deterministic backtest run directories for the report's tests.
///
/// `write_fixture_run`: a small run: H4 bars from 2024-01-15 (about 50 days,
/// so daily rows span two months), a few long and short trades with different
/// exit reasons, orders, equity per bar (equity.csv and chart_equity.csv),
/// risk events, summary.json (generated data) and config.toml; optionally the
/// gate files of a gated run.
///
/// `write_large_fixture_run`: a long run written directly and fast (no
/// simulation): by default 60,000 hourly chart bars and 400,000 trades, two
/// orders per trade, a risk event per four trades, a daily row per day and no
/// equity.csv (the report must not need it).
/// Not part of quant_report: only tests and report_fixture link it.

#include <cstddef>
#include <filesystem>

namespace quant::report::testing {

/// model_metrics.json of the gated fixture: a long directory (with a '<' the
/// page must escape) and a SHA-256, as real runs have; they must wrap on the page.
inline constexpr const char* kModelDir =
    "/srv/quant/registry/models/gatekeeper/WIN$N/ma_breakout/<2024-06>/version-17/"
    "trained-2024-06-30T21-15-00Z_walkforward-fold-5_calibrated";
inline constexpr const char* kManifestHash = "3f9a1c0d5e7b8a2f4c6d9e0b1a3c5d7f9e2b4a6c8d0f1e3a5b7c9d2e4f6a8b0c";

struct FixtureOptions {
  std::size_t bars = 300;
  std::size_t trades = 6;  ///< spread over the bars; every third one (from the second) short
  std::size_t risk_events = 12;
  bool generated_data = true;
  /// A gated run: also writes gate.csv, model_metrics.json and ungated/ (a
  /// complete run of the same backtest without the gate, with more trades).
  bool gate = false;
};

/// Creates `dir` (and parents) and writes the contract's files into it.
/// Aborts (QUANT_CHECK) when a file cannot be written: a broken test setup.
void write_fixture_run(const std::filesystem::path& dir, const FixtureOptions& options = {});

struct LargeFixtureOptions {
  std::size_t bars = 60'000;     ///< hourly chart bars (chart_bars.csv, chart_equity.csv), from 2015-01-05
  std::size_t trades = 400'000;  ///< spread evenly over the bars, 25 minutes each
};

/// Creates `dir` and writes a long run into it (about 130 MB for the defaults,
/// in a few seconds). Aborts (QUANT_CHECK) when a file cannot be written.
void write_large_fixture_run(const std::filesystem::path& dir, const LargeFixtureOptions& options = {});

}  // namespace quant::report::testing
