#include "core/time.h"

#include <charconv>
#include <cstdio>

#include <date/date.h>
#include <date/tz.h>

namespace quant {

std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  // Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

static bool valid_date(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max_day = kDays[month - 1];
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) max_day = 29;
  return day <= max_day;
}

bool make_local_time(int year, int month, int day, int hour, int minute, int second, std::int64_t nanos,
                     LocalTime& out) {
  if (!valid_date(year, month, day) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
      second > 59 || nanos < 0 || nanos >= 1'000'000'000) {
    return false;
  }
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second;
  out = LocalTime(Duration(secs * 1'000'000'000 + nanos));
  return true;
}

CivilTime to_civil(LocalTime t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<Duration> hms{t - day};
  CivilTime c{};
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<unsigned>(ymd.month());
  c.day = static_cast<unsigned>(ymd.day());
  c.hour = static_cast<unsigned>(hms.hours().count());
  c.minute = static_cast<unsigned>(hms.minutes().count());
  c.second = static_cast<unsigned>(hms.seconds().count());
  c.nanos = hms.subseconds().count();
  c.weekday = std::chrono::weekday{day}.c_encoding();
  return c;
}

Expected<TimeZone> TimeZone::find(std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return utc();
  try {
    const date::time_zone* zone = date::locate_zone(name);
    return TimeZone(zone, std::string(name));
  } catch (const std::exception&) {
    return make_error("unknown time zone '" + std::string(name) +
                      "' (use an IANA name such as America/Sao_Paulo, UTC or Etc/GMT+5)");
  }
}

TimeZone TimeZone::utc() { return TimeZone(nullptr, "UTC"); }

Expected<Timestamp> TimeZone::to_utc(LocalTime local, AmbiguityPolicy policy) const {
  if (zone_ == nullptr) return Timestamp(local.time_since_epoch());
  const auto info = zone_->get_info(date::local_time<Duration>(local.time_since_epoch()));
  switch (info.result) {
    case date::local_info::unique: return Timestamp(local.time_since_epoch() - info.first.offset);
    case date::local_info::ambiguous:
      if (policy == AmbiguityPolicy::Reject) {
        return make_error("local time " + format_local(local) + " occurs twice in " + name_ + " (DST change)");
      }
      return Timestamp(local.time_since_epoch() - info.first.offset);
    case date::local_info::nonexistent:
    default:
      if (policy == AmbiguityPolicy::Reject) {
        return make_error("local time " + format_local(local) + " does not exist in " + name_ + " (DST gap)");
      }
      // Shift forward across the gap, as the clock did: read it with the offset before the change.
      return Timestamp(local.time_since_epoch() - info.first.offset);
  }
}

LocalTime TimeZone::to_local(Timestamp utc) const {
  if (zone_ == nullptr) return LocalTime(utc.time_since_epoch());
  const auto info = zone_->get_info(date::sys_time<Duration>(utc.time_since_epoch()));
  return LocalTime(utc.time_since_epoch() + info.offset);
}

Duration TimeZone::offset(Timestamp utc) const {
  if (zone_ == nullptr) return Duration(0);
  return zone_->get_info(date::sys_time<Duration>(utc.time_since_epoch())).offset;
}

TimeZone::OffsetSpan TimeZone::offset_span(Timestamp utc) const {
  if (zone_ == nullptr) return {Timestamp::min(), Timestamp::max(), Duration(0)};
  const auto info = zone_->get_info(date::sys_time<Duration>(utc.time_since_epoch()));
  // date's sys_info bounds are in seconds and may sit at the far ends of time.
  auto clamp = [](date::sys_seconds s, Timestamp fallback) {
    using std::chrono::seconds;
    const auto secs = s.time_since_epoch().count();
    if (secs <= -9'000'000'000LL || secs >= 9'000'000'000LL) return fallback;
    return Timestamp(std::chrono::duration_cast<Duration>(seconds(secs)));
  };
  return {clamp(info.begin, Timestamp::min()), clamp(info.end, Timestamp::max()),
          std::chrono::duration_cast<Duration>(info.offset)};
}

static std::string format_fields(const CivilTime& c, char sep, bool zulu) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u%c%02u:%02u:%02u", c.year, c.month, c.day, sep, c.hour,
                        c.minute, c.second);
  std::string out(buf, static_cast<std::size_t>(n));
  if (c.nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(c.nanos));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  if (zulu) out += 'Z';
  return out;
}

std::string format_utc(Timestamp t) { return format_fields(to_civil_utc(t), 'T', true); }
std::string format_local(LocalTime t) { return format_fields(to_civil(t), ' ', false); }

namespace {
bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return true;
}
}  // namespace

Expected<Timestamp> parse_time_arg(std::string_view text, const TimeZone& zone) {
  auto bad = [&] {
    return make_error("bad time '" + std::string(text) +
                      "': expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM]");
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::int64_t nanos = 0;
  if (!read_int(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !read_int(text, 5, 2, mo) || text[7] != '-' ||
      !read_int(text, 8, 2, d)) {
    return bad();
  }
  std::size_t pos = 10;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != ' ') return bad();
    if (!read_int(text, pos + 1, 2, h) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_int(text, pos + 4, 2, mi)) {
      return bad();
    }
    pos += 6;
    if (pos < text.size() && text[pos] == ':') {
      if (!read_int(text, pos + 1, 2, s)) return bad();
      pos += 3;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (digits < 9) {
            nanos = nanos * 10 + (text[pos] - '0');
            ++digits;
          }
          ++pos;
        }
        if (digits == 0) return bad();
        for (; digits < 9; ++digits) nanos *= 10;
      }
    }
  }
  LocalTime local;
  if (!make_local_time(y, mo, d, h, mi, s, nanos, local)) return bad();
  if (pos == text.size()) return zone.to_utc(local);
  if (text[pos] == 'Z' && pos + 1 == text.size()) return Timestamp(local.time_since_epoch());
  if ((text[pos] == '+' || text[pos] == '-') && text.size() == pos + 6 && text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!read_int(text, pos + 1, 2, oh) || !read_int(text, pos + 4, 2, om)) return bad();
    const Duration off = std::chrono::hours(oh) + std::chrono::minutes(om);
    return Timestamp(local.time_since_epoch() - (text[pos] == '+' ? off : -off));
  }
  return bad();
}

}  // namespace quant
