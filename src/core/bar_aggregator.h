#pragma once
/// Streaming bar building, shared by ingest (ticks/trades → 1-minute bars),
/// resampling (1m → 5m/15m/1h/1d) and, later, the live engine. O(1) per input.

#include <cstdint>
#include <optional>

#include "core/market_data.h"
#include "core/time.h"

namespace quant {

/// Builds bars of a fixed interval from prices (trades or ticks), in time order.
///
/// A bar is emitted when the first update of a later interval arrives, or by
/// `flush_until(now)` when a clock says the interval is over (live), or by
/// `finish()` at the end of input. An update older than the open bar's start
/// cannot be placed any more: it is counted in `late_updates()` and ignored.
/// Not thread-safe.
class BarAggregator {
 public:
  explicit BarAggregator(Duration interval = kMinute);

  /// One trade at `price` for `volume`; returns the bar this update closed, if any.
  std::optional<Bar> add_trade(Timestamp ts, double price, double volume);
  /// One L1 tick. Uses the last trade price when the tick carries one (exchange
  /// symbols), else the bid (how MT5 draws FX bars); ticks with neither are skipped.
  std::optional<Bar> add_tick(const Tick& tick);
  /// Closes the open bar if its interval ended at or before `now`.
  std::optional<Bar> flush_until(Timestamp now);
  /// Closes the open bar, if any (end of input).
  std::optional<Bar> finish();

  std::int64_t late_updates() const { return late_; }

 private:
  std::optional<Bar> update(Timestamp ts, double price, double volume, bool count_tick);
  Duration interval_;
  Bar bar_{};
  bool open_ = false;
  std::int64_t late_ = 0;
};

/// Resamples bars of a smaller interval into larger ones aligned to local
/// wall-clock time (an hour bar starts at a local full hour; a day bar starts at
/// local midnight plus `day_start`, e.g. 17:00 New York for FX). Input bars
/// must be in time order; output `ts` is the UTC start of the bucket.
class BarResampler {
 public:
  BarResampler(Duration interval, TimeZone zone, Duration day_start = Duration(0));

  /// Adds one bar; returns the resampled bar it closed, if any.
  std::optional<Bar> add(const Bar& bar);
  std::optional<Bar> finish();

 private:
  std::int64_t bucket_of(Timestamp ts);
  Timestamp bucket_start_utc(LocalTime local_start, Timestamp fallback);
  Duration interval_;
  TimeZone zone_;
  Duration day_start_;
  // The offset in force over [span_.begin, span_.end): one tz lookup per offset
  // period instead of two per bar (the same results as to_local/to_utc).
  TimeZone::OffsetSpan span_{};
  Bar bar_{};
  std::int64_t bucket_ = 0;
  bool open_ = false;
  // UTC times that map to the open bucket under the cached offset: a bar in
  // [same_from_, same_to_) merges without computing its bucket again.
  Timestamp same_from_{}, same_to_{};
};

/// Parses "1m", "5m", "15m", "1h", "4h", "1d" into a Duration.
Expected<Duration> parse_timeframe(std::string_view text);

}  // namespace quant
