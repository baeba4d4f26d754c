#pragma once
/// The body of a `mon:metrics` entry (kMetrics): quant live's state at one
/// bar close of one symbol, as plain stream fields (no JSON), written by
/// `quant live` and read by `quant logger` into ClickHouse's `metrics` table.
///
/// Fields: `type` = "metrics", `symbol`, `ts_ms` (the bar's close: its open +
/// 1 minute, Unix ms UTC), `session`, `equity`, `position`, `realized_pnl`,
/// `open_pnl`, `day_start_equity`, `drawdown`, `halted` (0/1), `sent_ns`
/// (the publisher's clock, Unix ns), `breaker_drawdown` (absent in entries
/// written before it existed: read as 0). Doubles are written so they read back
/// exactly. (symbol, ts_ms, session) names one message: a bar processed again
/// after a crash publishes the same values under the same names.

#include <cstdint>
#include <string>

#include "core/error.h"
#include "stream/stream.h"

namespace quant::stream {

struct Metrics {
  std::string symbol;
  std::int64_t ts_ms = 0;       ///< the bar's close, Unix ms UTC
  std::string session;          ///< quant live's session (client order id prefix)
  double equity = 0;            ///< the account's, marked at this close
  std::int64_t position = 0;    ///< this symbol's, signed contracts
  double realized_pnl = 0;      ///< this symbol's since start, after fees
  double open_pnl = 0;          ///< this symbol's at this close
  double day_start_equity = 0;  ///< the account's at the trading day's start (0 before the first session)
  /// min(0, equity / day_start_equity − 1): the day's loss as a fraction, the
  /// quantity the −3 % breaker watches (0 without a day start).
  double drawdown = 0;
  bool halted = false;
  std::int64_t sent_ns = 0;  ///< when it was published, Unix ns (0 = unknown)
  /// Where this symbol's breaker trips, as a drawdown (−daily_loss_pct, e.g.
  /// −0.03): the risk engine's own limit; 0 = no breaker (no risk engine).
  double breaker_drawdown = 0;
};

/// The entry's fields.
Fields metrics_fields(const Metrics& m);
/// Parses an entry's fields; the error names the field ("mon:metrics: field equity: not a number: 'x'").
Expected<Metrics> parse_metrics(const Fields& fields);

}  // namespace quant::stream
