#pragma once
/// Which timeframe a series of bars holds, told from the bars' spacing alone.
///
/// The lake stores 1-minute bars; an MT5 export of another timeframe (M5, H1,
/// D1 ...) parses just as well, so ingest and `lake verify` ask this detector.
/// The rule, on local wall-clock time in the zone given:
///
/// - intraday: the most common positive spacing between consecutive bars of
///   the same local day. 1 minute means 1-minute bars, however many gaps there
///   are (sessions with missing bars, illiquid markets). A longer spacing `m`
///   means `m`-minute bars only when it is seen at least `kMinEvidence` times
///   and at least 99 % of the bars lie on one `m`-minute grid (their minutes
///   of the day agree modulo `m`; the grid may be shifted, so a zone read at
///   the wrong offset still shows it): sparse 1-minute bars lie on a coarser
///   grid only by chance, a real M5 export lies on it everywhere. A spacing under a minute
///   (30-second bars of another tool) is not 1-minute data either;
/// - daily and coarser: at least `kMinDailyBars` bars, (almost) never two on
///   one day, all at one or two times of day (two: a daylight-saving shift seen
///   from another zone): D1 when consecutive bars are most often 1 day apart,
///   W1 at 7 days, MN1 at 28 to 31 days;
/// - anything else (a handful of bars, irregular stamps) is `Unknown`: too
///   few bars to tell, which callers treat as acceptable.
///
/// No I/O; O(1) per bar (one zone lookup per UTC offset period), fixed memory.
/// Not thread-safe.

#include <array>
#include <cstdint>
#include <string>

#include "core/time.h"

namespace quant {

/// What a series of bars holds.
struct Timeframe {
  enum class Kind {
    Unknown,    ///< too few (or too irregular) bars to tell
    OneMinute,  ///< 1-minute bars (gaps allowed)
    Other,      ///< bars of `spacing`, not 1 minute
  };
  Kind kind = Kind::Unknown;
  Duration spacing{};                 ///< the detected spacing (1 min for OneMinute, 1 day for D1 ...)
  std::int64_t bars = 0;              ///< bars seen
  std::int64_t pairs = 0;             ///< consecutive pairs judged: same-day pairs (intraday), else day-to-day pairs
  std::int64_t pairs_at_spacing = 0;  ///< how many of them are `spacing` apart (MN1: 28 to 31 days)
  std::int64_t bars_on_grid = 0;      ///< intraday: bars on the (possibly shifted) `spacing` grid most bars share
  int minute_of_day = -1;             ///< daily and coarser: the bars' usual local time of day, in minutes

  /// MetaTrader's name: "M1", "M5", "H1", "H4", "D1", "W1", "MN1"; empty for a spacing MT5 has no name for.
  std::string mt5_name() const;
  /// "5-minute (M5)", "1-hour (H1)", "daily (D1)", "7-minute"; "unknown" when Unknown.
  std::string label() const;
  /// The evidence in words: "1,234 of 1,300 consecutive bars are 5 minutes apart and all 1,301 lie on the
  /// 5-minute grid"; for Unknown, why it cannot tell.
  std::string evidence() const;
};

/// Accumulates bar timestamps (in storage order) and tells their timeframe.
class TimeframeDetector {
 public:
  /// A coarser spacing needs at least this many consecutive pairs at it.
  static constexpr std::int64_t kMinEvidence = 10;
  /// Daily or coarser needs at least this many bars.
  static constexpr std::int64_t kMinDailyBars = 5;

  /// `zone`: where the bars' days and clock grid are (the exchange's or the export's zone).
  explicit TimeframeDetector(TimeZone zone = TimeZone::utc());

  void add(Timestamp ts);
  /// The verdict on the bars added so far (the detector may go on).
  Timeframe result() const;
  std::int64_t bars() const { return bars_; }

 private:
  static constexpr std::size_t kMinutesPerDay = 1440;
  static constexpr std::size_t kDaySpacings = 64;  ///< day-to-day spacings counted up to 63 days

  TimeZone zone_;
  TimeZone::OffsetSpan span_{};
  bool have_span_ = false;
  std::int64_t bars_ = 0;
  bool have_prev_ = false;
  std::int64_t prev_local_ns_ = 0;
  std::int64_t prev_day_ = 0;
  std::int64_t irregular_pairs_ = 0;                ///< same-day positive spacings that are not whole minutes
  std::int64_t off_minute_bars_ = 0;                ///< bars not on a whole minute
  std::array<std::int64_t, 60> spacing_seconds_{};  ///< same-day pairs by seconds apart (< 1 min)
  std::array<std::int64_t, kMinutesPerDay> spacing_minutes_{};  ///< same-day pairs by minutes apart
  std::array<std::int64_t, kMinutesPerDay> minute_of_day_{};    ///< whole-minute bars by local minute of the day
  std::array<std::int64_t, kDaySpacings> spacing_days_{};       ///< day-to-day pairs by days apart
};

/// 1234567 → "1,234,567".
std::string with_thousands(std::int64_t value);

}  // namespace quant
