#pragma once
/// Exchange calendars: on which local dates an exchange trades and with which
/// hours. Plain values built from configuration by `quant::config` (the
/// `[calendars.<NAME>]` tables); nothing here reads files.
///
/// Three kinds of facts, all in the exchange's local time:
/// - no-trading days: `holidays` (national) and `closed` (other closures, such
///   as B3's Dec 24 and Dec 31), on top of the non-trading weekdays;
/// - `special_sessions`: single dates with their own open and/or close (B3's
///   Ash Wednesday opens at 13:00);
/// - `hours`: named schedules of dated entries, each in force from its date
///   until the next entry's (B3 moves its closes when US daylight saving time
///   starts and ends; index and dollar futures close at different times).
///
/// An instrument trades by one `TradingCalendar`: an exchange calendar with
/// one of its schedules chosen (`InstrumentSpec::calendar`).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant {

/// One trading session in exchange local time; `close` may be earlier than
/// `open` for sessions that cross midnight (FX: 17:00 → 17:00 next day).
struct Session {
  std::chrono::minutes open{0};   ///< minutes after local midnight
  std::chrono::minutes close{0};  ///< minutes after local midnight
  bool crosses_midnight() const { return close <= open; }
  /// Length in minutes, in (0, 1440]: open == close is a 24-hour session.
  int length_minutes() const {
    const auto length = static_cast<int>((close - open).count());
    return length <= 0 ? length + 1440 : length;
  }
  /// True when a local time-of-day lies inside [open, close).
  bool contains(std::chrono::minutes time_of_day) const;
  bool operator==(const Session&) const = default;
};

/// A local calendar date, counted in days since 1970-01-01.
using Date = std::chrono::sys_days;

/// Parses exactly "YYYY-MM-DD" naming a real date (2021-02-29 fails).
std::optional<Date> parse_date(std::string_view text);
/// "YYYY-MM-DD".
std::string format_date(Date date);
/// Local weekday, 0 = Sunday.
inline unsigned weekday_of(Date date) { return std::chrono::weekday{date}.c_encoding(); }

/// Session hours in force from `from` on, until the next entry's date. The
/// first entry of a schedule also covers the dates before it.
struct DatedSession {
  Date from{};
  Session session{};
};

/// A date with its own hours (B3's Ash Wednesday opens at 13:00). An absent
/// open or close keeps that date's regular one. A special session makes its
/// date a trading day, whatever its weekday.
struct SpecialSession {
  Date date{};
  std::optional<std::chrono::minutes> open;   ///< minutes after local midnight
  std::optional<std::chrono::minutes> close;  ///< minutes after local midnight
};

/// `[calendars.<NAME>]`: an exchange's trading days and its hour schedules.
/// Invariants (checked by `quant::config`): `holidays` and `closed` sorted and
/// without repeats, `special_sessions` sorted by date, one per date and none on
/// a no-trading day, each schedule non-empty and sorted by strictly increasing
/// `from`.
struct ExchangeCalendar {
  std::string name;                             ///< "B3"
  std::string time_zone;                        ///< IANA zone of every date and hour
  std::vector<int> weekdays = {1, 2, 3, 4, 5};  ///< trading weekdays, 0 = Sunday
  std::vector<Date> holidays;                   ///< national holidays
  std::vector<Date> closed;                     ///< other no-trading days
  std::vector<SpecialSession> special_sessions;
  std::map<std::string, std::vector<DatedSession>> hours;  ///< schedule name → dated entries
};

/// One local date of a trading calendar.
struct CalendarDay {
  bool trading = false;  ///< a trading weekday that is not closed, or a special session
  bool special = false;  ///< hours from a special session
  /// The date's hours; on a no-trading date, the regular hours it would have
  /// had (trading days start at their open, so the clock still needs one).
  Session session{};
};

/// The calendar one instrument trades by: an exchange calendar's days with one
/// of its hour schedules. Immutable once built; queries are O(log n), no
/// allocation. Build it with `make_trading_calendar`.
struct TradingCalendar {
  std::string name;        ///< the exchange calendar, "B3"
  std::string hours_name;  ///< the schedule, "index"
  std::vector<int> weekdays;
  std::vector<Date> closed;                      ///< holidays and other closures merged, sorted, unique
  std::vector<SpecialSession> special_sessions;  ///< sorted by date
  std::vector<DatedSession> hours;               ///< non-empty, sorted by from

  /// The regular hours on `date`: the last entry from on or before it (the
  /// first entry before the first date).
  Session regular_session(Date date) const;
  bool is_closed(Date date) const;
  /// The special session on `date`, or null.
  const SpecialSession* special(Date date) const;
  /// Everything the clock needs about `date`.
  CalendarDay day(Date date) const;
};

/// Builds the trading calendar of `calendar` with its schedule `hours_name`.
/// Fails naming the schedule (and the ones that exist) when it is unknown, or
/// naming the special session whose hours are empty under that schedule.
Expected<TradingCalendar> make_trading_calendar(const ExchangeCalendar& calendar, const std::string& hours_name);

}  // namespace quant
