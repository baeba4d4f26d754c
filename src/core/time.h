#pragma once
/// Time: UTC nanoseconds internally, exchange local time only at the edges.
///
/// `Timestamp` is a `std::chrono::sys_time` in nanoseconds (UTC, no leap
/// seconds). `TimeZone` wraps an IANA zone from the system tz database
/// (Debian's tzdata, through Howard Hinnant's date/tz) and converts in both
/// directions, DST-correct. Looking up a zone reads the system database once;
/// that is the only file access in `core`.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace date {
class time_zone;
}

namespace quant {

using Duration = std::chrono::nanoseconds;
using Timestamp = std::chrono::sys_time<Duration>;
/// Wall-clock time in some zone, not yet tied to UTC.
using LocalTime = std::chrono::local_time<Duration>;

constexpr Duration kMinute = std::chrono::minutes(1);

/// Nanoseconds since the Unix epoch (UTC) ↔ Timestamp.
constexpr std::int64_t to_epoch_ns(Timestamp t) { return t.time_since_epoch().count(); }
constexpr Timestamp from_epoch_ns(std::int64_t ns) { return Timestamp(Duration(ns)); }

/// Civil date/time → LocalTime without any zone. Fails (returns false) on an
/// impossible date such as 2021-02-30 or an hour of 24.
bool make_local_time(int year, int month, int day, int hour, int minute, int second, std::int64_t nanos,
                     LocalTime& out);

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
std::int64_t days_from_civil(int year, unsigned month, unsigned day);

struct CivilTime {
  int year;
  unsigned month, day, hour, minute, second;
  std::int64_t nanos;
  unsigned weekday;  ///< 0 = Sunday
};
/// Splits a LocalTime (or a UTC timestamp treated as local) into its fields.
CivilTime to_civil(LocalTime t);
inline CivilTime to_civil_utc(Timestamp t) { return to_civil(LocalTime(t.time_since_epoch())); }

/// What to do with a local time that a DST change skipped or repeated.
enum class AmbiguityPolicy {
  Reject,    ///< fail: the caller reports the row
  Earliest,  ///< first occurrence (repeated hour) / shift forward (skipped hour)
};

/// An IANA time zone. Cheap to copy (a pointer into the process-wide database).
class TimeZone {
 public:
  /// Looks the zone up ("America/Sao_Paulo", "UTC", "Etc/GMT+5"). Fails with a
  /// message naming the zone when it does not exist.
  static Expected<TimeZone> find(std::string_view name);
  static TimeZone utc();

  const std::string& name() const { return name_; }
  /// Local wall-clock time → UTC. Fails for skipped/repeated times under Reject.
  Expected<Timestamp> to_utc(LocalTime local, AmbiguityPolicy policy = AmbiguityPolicy::Earliest) const;
  /// UTC → local wall-clock time.
  LocalTime to_local(Timestamp utc) const;
  /// Offset of local time from UTC at the instant `utc`.
  Duration offset(Timestamp utc) const;
  /// The offset at `utc` and the UTC interval [begin, end) over which it holds,
  /// so hot loops can convert many timestamps with one lookup.
  struct OffsetSpan {
    Timestamp begin{}, end{};
    Duration offset{};
  };
  OffsetSpan offset_span(Timestamp utc) const;

 private:
  TimeZone(const date::time_zone* zone, std::string name) : zone_(zone), name_(std::move(name)) {}
  const date::time_zone* zone_ = nullptr;  // nullptr means UTC
  std::string name_;
};

/// ISO 8601 UTC text with nanoseconds trimmed to what is non-zero:
/// "2020-11-06T13:28:00Z", "2013-01-01T22:00:00.295Z".
std::string format_utc(Timestamp t);
/// "2020-11-06 10:28:00" in the given local time.
std::string format_local(LocalTime t);

/// Parses "YYYY-MM-DD" or ISO 8601 date-time ("YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]").
/// A value without offset is read in `zone`. Used for --from/--to style options.
Expected<Timestamp> parse_time_arg(std::string_view text, const TimeZone& zone);

}  // namespace quant
