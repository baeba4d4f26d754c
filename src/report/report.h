#pragma once
/// The HTML report of one backtest run.
///
/// `write_report` reads the files of a run directory
/// (docs/contracts/backtest_outputs.md), checks them, and writes one
/// self-contained `report.html` beside them: page, style, data and the
/// Lightweight Charts library are all inlined, so the file opens offline and
/// can be mailed. The library is embedded in the binary at build time; nothing
/// but the run directory is read at run time.

#include <cstddef>
#include <string>

#include "core/error.h"

namespace quant::report {

/// Limits that keep the page fast on long runs. Defaults suit a browser.
struct ReportOptions {
  /// Above this many trades the trade table shows the first and last half.
  std::size_t max_trade_rows = 2000;
  /// Above this many risk events only counts per kind plus the first this many are shown.
  std::size_t max_risk_event_rows = 2000;
  /// Orders listed in the (collapsed) order table; counts cover all of them.
  std::size_t max_order_rows = 2000;
  /// The equity and drawdown curves are reduced to about this many points
  /// (per bucket the lowest and highest equity are kept, so drawdowns stay visible).
  std::size_t max_equity_points = 20000;
  /// Rows of the gate table (gate.csv of a gated run); the chart and counts cover all.
  std::size_t max_gate_rows = 2000;
};

/// Writes `run_dir/report.html` (through a `.partial` file renamed into place)
/// and returns its path. Fails, writing nothing, when a file of the run is
/// missing or does not parse; the error names the file and, for CSV and JSON,
/// the line. Thread safety: none needed beyond not writing the same run twice at once.
Expected<std::string> write_report(const std::string& run_dir, const ReportOptions& options = {});

}  // namespace quant::report
