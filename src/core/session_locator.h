#pragma once
/// Places a bar in its instrument's trading sessions: which trading day it
/// belongs to, how far it is from that day's open and close, whether the
/// market is open. The one implementation of these rules, shared by the
/// engine's session clock, the feature pipeline and the lake's verifier, so
/// that backtest, training and live cannot disagree about a session.
///
/// Trading days start at their open: a bar belongs to local date D when it
/// starts at or after D's open, else to D − 1. With a calendar, D's open is
/// that date's (a special session's, else its dated regular hours, also on a
/// holiday); without one, the spec's fixed `session.open` on every date.

#include <cstdint>

#include "core/calendar.h"
#include "core/instrument.h"
#include "core/time.h"

namespace quant {

/// Where a bar (by its start time) sits.
struct SessionPlace {
  /// The trading day: days since 1970-01-01 of the local date whose session
  /// the bar follows (changes at each day's open, local time).
  std::int64_t day = 0;
  unsigned weekday = 0;                 ///< local weekday of `day`, 0 = Sunday
  std::int64_t minutes_since_open = 0;  ///< local minutes from the day's open to the bar's start, >= 0
  bool within_hours = false;            ///< inside the day's hours, whether or not the day trades
  bool in_session = false;              ///< inside the day's hours on a trading day
  int minutes_to_close = 0;             ///< from the bar's close (start + 1 min) to the session close; in_session only
};

/// Locates bars in the sessions of one instrument. O(1) per bar: one time-zone
/// lookup per UTC offset period and one calendar lookup per local date (the
/// last two dates are cached); no allocation after construction. Bars may
/// come in any order (the caches are refreshed, not assumed). Not thread-safe:
/// one per consumer.
class SessionLocator {
 public:
  /// The spec's calendar when it has one, else its `session` on `weekdays`.
  /// `zone` is the spec's time zone, looked up by the caller.
  SessionLocator(const InstrumentSpec& spec, TimeZone zone);

  /// For a bar starting at `bar_start` (UTC).
  SessionPlace locate(Timestamp bar_start);
  /// The calendar's view of local date `day` (days since 1970-01-01).
  CalendarDay day(std::int64_t day) const;
  /// True when the spec has a calendar.
  bool has_calendar() const { return calendar_ != nullptr; }
  const TimeZone& zone() const { return zone_; }

 private:
  struct DayHours {
    int open = 0;       // minutes after local midnight
    int length = 1440;  // minutes, (0, 1440]
    bool trading = false;
  };
  DayHours hours_of(std::int64_t date) const;

  TimeZone zone_;
  TimeZone::OffsetSpan span_{};
  std::shared_ptr<const TradingCalendar> calendar_;
  Session session_{};              // without a calendar
  std::uint8_t weekday_mask_ = 0;  // without a calendar
  std::int64_t cached_date_ = 0;
  bool cache_valid_ = false;
  DayHours today_{}, yesterday_{};  // of cached_date_ and cached_date_ − 1
  // The previous answer, for the next minute's shortcut (bars in time order):
  // its bar start, its minute of the local date, and whether it was after the open.
  Timestamp last_start_{};
  int last_minute_of_date_ = -1;
  bool last_after_open_ = false;
  SessionPlace last_{};
};

}  // namespace quant
