#include "core/calendar.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace quant {

bool Session::contains(std::chrono::minutes time_of_day) const {
  if (!crosses_midnight()) return time_of_day >= open && time_of_day < close;
  return time_of_day >= open || time_of_day < close;
}

std::optional<Date> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  const char* s = text.data();
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  std::from_chars(s, s + 4, y);
  std::from_chars(s + 5, s + 7, m);
  std::from_chars(s + 8, s + 10, d);
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return Date{ymd};
}

std::string format_date(Date date) {
  const std::chrono::year_month_day ymd{date};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

Session TradingCalendar::regular_session(Date date) const {
  QUANT_CHECK(!hours.empty());
  auto it =
      std::upper_bound(hours.begin(), hours.end(), date, [](Date d, const DatedSession& e) { return d < e.from; });
  return it == hours.begin() ? hours.front().session : std::prev(it)->session;
}

bool TradingCalendar::is_closed(Date date) const { return std::binary_search(closed.begin(), closed.end(), date); }

const SpecialSession* TradingCalendar::special(Date date) const {
  auto it = std::lower_bound(special_sessions.begin(), special_sessions.end(), date,
                             [](const SpecialSession& s, Date d) { return s.date < d; });
  return it != special_sessions.end() && it->date == date ? &*it : nullptr;
}

CalendarDay TradingCalendar::day(Date date) const {
  CalendarDay out;
  out.session = regular_session(date);
  if (is_closed(date)) return out;
  if (const SpecialSession* s = special(date)) {
    out.trading = true;
    out.special = true;
    if (s->open) out.session.open = *s->open;
    if (s->close) out.session.close = *s->close;
    return out;
  }
  const auto wd = static_cast<int>(weekday_of(date));
  out.trading = std::find(weekdays.begin(), weekdays.end(), wd) != weekdays.end();
  return out;
}

Expected<TradingCalendar> make_trading_calendar(const ExchangeCalendar& calendar, const std::string& hours_name) {
  auto schedule = calendar.hours.find(hours_name);
  if (schedule == calendar.hours.end()) {
    std::string known;
    for (const auto& [name, entries] : calendar.hours) known += (known.empty() ? "" : ", ") + name;
    return make_error("calendar " + calendar.name + " has no hours '" + hours_name +
                      "' (it has: " + (known.empty() ? "none" : known) + ")");
  }
  if (schedule->second.empty())
    return make_error("calendar " + calendar.name + ": hours '" + hours_name + "' is empty");
  TradingCalendar out;
  out.name = calendar.name;
  out.hours_name = hours_name;
  out.weekdays = calendar.weekdays;
  out.closed = calendar.holidays;
  out.closed.insert(out.closed.end(), calendar.closed.begin(), calendar.closed.end());
  std::sort(out.closed.begin(), out.closed.end());
  out.closed.erase(std::unique(out.closed.begin(), out.closed.end()), out.closed.end());
  out.special_sessions = calendar.special_sessions;
  out.hours = schedule->second;
  for (const SpecialSession& s : out.special_sessions) {
    // A special session on a day whose regular hours stay within one local
    // date must too: an open at or after the close is a typo, not a session.
    const Session regular = out.regular_session(s.date);
    const Session special{s.open.value_or(regular.open), s.close.value_or(regular.close)};
    if (!regular.crosses_midnight() && special.crosses_midnight()) {
      return make_error("calendar " + calendar.name + ": the special session on " + format_date(s.date) +
                        " would open at or after it closes under hours '" + hours_name + "'");
    }
  }
  return out;
}

}  // namespace quant
