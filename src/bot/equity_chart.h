#pragma once
/// The daily summary's picture: the account's equity over one trading day as
/// a PNG (drawn with cairo), with the day's start equity and the daily
/// breaker's level as dashed lines.

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace quant::bot {

struct EquityPoint {
  std::int64_t ts_ms = 0;  ///< Unix ms UTC
  double equity = 0;
};

struct ChartOptions {
  std::string title;             ///< e.g. "Equity 2026-12-07 (America/Sao_Paulo)"
  double day_start_equity = 0;   ///< 0 = no line
  double breaker_equity = 0;     ///< the −3 % level; 0 = no line
  std::int64_t utc_offset_s = 0; ///< added to ts_ms for the time axis' labels (local time)
  int width = 800;
  int height = 400;
};

/// The PNG bytes. Fails without points, or when cairo fails (named).
Expected<std::string> equity_chart_png(std::vector<EquityPoint> points, const ChartOptions& options);

}  // namespace quant::bot
