#pragma once
/// A small, deterministic backtest run directory for the report's tests:
/// H4 bars from 2024-01-15 (about 50 days, so daily rows span two months),
/// a few long and short trades with different exit reasons, orders, equity
/// per bar, risk events, summary.json (generated data) and config.toml;
/// optionally the gate files of a gated run.
/// Not part of quant_report: only tests and report_fixture link it.

#include <cstddef>
#include <filesystem>

namespace quant::report::testing {

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

}  // namespace quant::report::testing
