#pragma once
/// Internal to ingest: allocation-free field splitting, number and date/time
/// parsing, and a UTC-offset cache for local timestamps.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace quant::ingest::detail {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kNanosPerHour = 3600 * kNanosPerSecond;
constexpr std::int64_t kNanosPerDay = 24 * kNanosPerHour;

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Trims spaces and a pair of surrounding double quotes.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

/// Splits on `delimiter` into `out` (cleared first; its capacity is reused).
/// Quoted fields may not contain the delimiter (no exports here do).
inline void split(std::string_view line, char delimiter, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = line.find(delimiter, start);
    if (pos == std::string_view::npos) {
      out.push_back(line.substr(start));
      return;
    }
    out.push_back(line.substr(start, pos - start));
    start = pos + 1;
  }
}

/// Whole-field decimal number (from_chars; a leading '+' is allowed).
inline bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

inline bool parse_int(std::string_view s, std::int64_t& out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

/// Reads exactly `n` digits at `p`.
inline bool read_digits(const char* p, int n, int& out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!is_digit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  out = v;
  return true;
}

inline bool valid_civil_date(int year, int month, int day) {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max_day = kDays[month - 1];
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) max_day = 29;
  return day <= max_day;
}

/// Result of reading a text timestamp: local nanoseconds since the epoch, and
/// the offset when the text carried one.
struct TextTime {
  std::int64_t local_ns = 0;
  bool has_offset = false;
  std::int64_t offset_ns = 0;  ///< local - UTC
  bool has_time = false;       ///< false for a date alone
};

/// Date "YYYY-MM-DD", "YYYY.MM.DD", "YYYY/MM/DD" or "YYYYMMDD" at the start of
/// `s`; advances `pos`. Fails on an impossible date.
inline bool parse_date_part(std::string_view s, std::size_t& pos, std::int64_t& days) {
  int y = 0, m = 0, d = 0;
  if (s.size() < 8 || !read_digits(s.data(), 4, y)) return false;
  if (s[4] == '-' || s[4] == '.' || s[4] == '/') {
    if (s.size() < 10 || s[7] != s[4] || !read_digits(s.data() + 5, 2, m) || !read_digits(s.data() + 8, 2, d)) {
      return false;
    }
    pos = 10;
  } else {
    if (!read_digits(s.data() + 4, 2, m) || !read_digits(s.data() + 6, 2, d)) return false;
    pos = 8;
  }
  // Timestamps are int64 nanoseconds: years 1678..2262 fit; keep to 1700..2261.
  if (y < 1700 || y > 2261 || !valid_civil_date(y, m, d)) return false;
  days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

/// Time of day "HH:MM", "HH:MM:SS", "HH:MM:SS.f…" (up to 9 digits) or compact
/// "HHMMSS" starting at `pos`; advances `pos`.
inline bool parse_time_part(std::string_view s, std::size_t& pos, std::int64_t& nanos_of_day) {
  int h = 0, mi = 0, sec = 0;
  std::int64_t frac = 0;
  if (pos + 2 > s.size() || !read_digits(s.data() + pos, 2, h)) return false;
  if (pos + 2 < s.size() && s[pos + 2] == ':') {
    if (pos + 5 > s.size() || !read_digits(s.data() + pos + 3, 2, mi)) return false;
    pos += 5;
    if (pos < s.size() && s[pos] == ':') {
      if (pos + 3 > s.size() || !read_digits(s.data() + pos + 1, 2, sec)) return false;
      pos += 3;
    }
  } else {
    if (pos + 6 > s.size() || !read_digits(s.data() + pos + 2, 2, mi) || !read_digits(s.data() + pos + 4, 2, sec)) {
      return false;
    }
    pos += 6;
  }
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      if (digits < 9) {
        frac = frac * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) frac *= 10;
  }
  if (h > 23 || mi > 59 || sec > 59) return false;
  nanos_of_day = (h * 3600 + mi * 60 + sec) * kNanosPerSecond + frac;
  return true;
}

/// "Z", "+HH:MM", "+HHMM" or "+HH" (also "-") at `pos`, to the end of `s`.
inline bool parse_offset_part(std::string_view s, std::size_t pos, std::int64_t& offset_ns) {
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    offset_ns = 0;
    return pos + 1 == s.size();
  }
  if (s[pos] != '+' && s[pos] != '-') return false;
  const bool negative = s[pos] == '-';
  int h = 0, m = 0;
  std::string_view rest = s.substr(pos + 1);
  if (rest.size() == 2) {
    if (!read_digits(rest.data(), 2, h)) return false;
  } else if (rest.size() == 4) {
    if (!read_digits(rest.data(), 2, h) || !read_digits(rest.data() + 2, 2, m)) return false;
  } else if (rest.size() == 5 && rest[2] == ':') {
    if (!read_digits(rest.data(), 2, h) || !read_digits(rest.data() + 3, 2, m)) return false;
  } else {
    return false;
  }
  if (h > 23 || m > 59) return false;
  offset_ns = (h * 3600 + m * 60) * kNanosPerSecond * (negative ? -1 : 1);
  return true;
}

/// A whole text timestamp: date, optionally ' ' or 'T' and a time, optionally
/// an offset. Covers ISO 8601, MT5 "2020.11.06 10:28" and HistData "20170102 020000".
inline bool parse_text_time(std::string_view s, TextTime& out) {
  s = trim(s);
  std::size_t pos = 0;
  std::int64_t days = 0;
  if (!parse_date_part(s, pos, days)) return false;
  out.local_ns = days * kNanosPerDay;
  out.has_offset = false;
  out.has_time = false;
  if (pos == s.size()) return true;
  if (s[pos] == ' ' || s[pos] == 'T' || s[pos] == 't') {
    ++pos;
    std::int64_t tod = 0;
    if (!parse_time_part(s, pos, tod)) return false;
    out.local_ns += tod;
    out.has_time = true;
    if (pos == s.size()) return true;
  }
  if (!parse_offset_part(s, pos, out.offset_ns)) return false;
  out.has_offset = true;
  return true;
}

/// A time of day alone (its own column): "HH:MM[:SS[.f…]]".
inline bool parse_time_of_day(std::string_view s, std::int64_t& nanos_of_day) {
  s = trim(s);
  std::size_t pos = 0;
  return parse_time_part(s, pos, nanos_of_day) && pos == s.size() && s.size() >= 5 && s[2] == ':';
}

/// Converts local wall-clock nanoseconds to UTC through a TimeZone, caching the
/// offset for the current local hour: TimeZone::to_utc costs a tz database
/// lookup, and rows arrive in time order, so one lookup per hour suffices. An
/// hour whose start and end do not share one valid offset (a DST change inside
/// it) is converted row by row. Nonexistent local times (DST gap) fail;
/// repeated ones (DST end) resolve to the earliest instant.
class LocalClock {
 public:
  explicit LocalClock(TimeZone zone) : zone_(std::move(zone)), utc_(zone_.name() == "UTC") {}

  bool to_utc(std::int64_t local_ns, std::int64_t& utc_ns) {
    if (utc_) {
      utc_ns = local_ns;
      return true;
    }
    const std::int64_t hour = floor_div(local_ns, kNanosPerHour);
    if (hour != hour_) refresh(hour);
    if (uniform_) {
      utc_ns = local_ns - offset_ns_;
      return true;
    }
    return exact(local_ns, utc_ns);
  }
  const TimeZone& zone() const { return zone_; }

 private:
  static std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
  }
  bool exact(std::int64_t local_ns, std::int64_t& utc_ns) const {
    const LocalTime local{Duration(local_ns)};
    auto t = zone_.to_utc(local, AmbiguityPolicy::Earliest);
    if (!t || zone_.to_local(*t) != local) return false;
    utc_ns = to_epoch_ns(*t);
    return true;
  }
  void refresh(std::int64_t hour) {
    hour_ = hour;
    std::int64_t a = 0, b = 0;
    const std::int64_t start = hour * kNanosPerHour, end = start + kNanosPerHour - 1;
    uniform_ = exact(start, a) && exact(end, b) && start - a == end - b;
    offset_ns_ = start - a;
  }

  TimeZone zone_;
  bool utc_;
  std::int64_t hour_ = INT64_MIN;
  bool uniform_ = false;
  std::int64_t offset_ns_ = 0;
};

/// Shortest text of a double for messages ("100122", "1.0519").
inline std::string number_text(double v) {
  char buf[64];
  // Fixed notation while it stays short ("100000", not "1e+05"): as the file wrote it.
  const auto r = std::fabs(v) < 1e15 ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                                     : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace quant::ingest::detail
