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

/// Limits that keep the page small and fast whatever the run's length: the
/// report streams every file (each row is read and checked) but keeps and
/// embeds only what these allow, so its memory and the page's size are bounded
/// by them and by the chart bars (at most 60,000 from the backtest). Defaults
/// suit a browser: a 400,000-trade run gives a page of about 5 MB.
struct ReportOptions {
  /// Trades embedded (the first and the last half of this many): the trade
  /// table pages through them and the price chart marks them one by one.
  /// Counts, statistics and the per-bar markers cover all trades.
  std::size_t max_trade_rows = 4000;
  /// Orders embedded (first and last half); counts per status cover all.
  std::size_t max_order_rows = 2000;
  /// Risk events embedded (first and last half); counts per kind cover all.
  std::size_t max_risk_event_rows = 2000;
  /// Daily rows embedded (first and last half); monthly returns cover all.
  std::size_t max_daily_rows = 2000;
  /// Rows of the gate table (gate.csv of a gated run; first and last half); counts cover all.
  std::size_t max_gate_rows = 2000;
  /// Gate signals drawn one by one up to this many; above, the chart draws
  /// their means per group of chart bars (at most this many groups).
  std::size_t max_gate_points = 20000;
  /// Chart bars drawn at most: above (a run written with a larger chart cap),
  /// consecutive bars are merged (OHLC, equity at the last close, deepest drawdown).
  std::size_t max_chart_bars = 60000;
};

/// Writes `run_dir/report.html` (through a `.partial` file renamed into place)
/// and returns its path. Fails, writing nothing, when a file of the run is
/// missing or does not parse; the error names the file and, for CSV and JSON,
/// the line. Thread safety: none needed beyond not writing the same run twice at once.
Expected<std::string> write_report(const std::string& run_dir, const ReportOptions& options = {});

}  // namespace quant::report
