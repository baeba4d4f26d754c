#include "core/session_locator.h"

namespace quant {

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

SessionLocator::SessionLocator(const InstrumentSpec& spec, TimeZone zone)
    : zone_(std::move(zone)), calendar_(spec.calendar), session_(spec.session) {
  for (int d : spec.weekdays) {
    if (d >= 0 && d <= 6) weekday_mask_ = static_cast<std::uint8_t>(weekday_mask_ | (1u << d));
  }
  span_.end = Timestamp::min();  // force a zone lookup on the first bar
}

SessionLocator::DayHours SessionLocator::hours_of(std::int64_t date) const {
  DayHours h;
  if (calendar_ != nullptr) {
    const CalendarDay day = calendar_->day(Date{std::chrono::days{date}});
    h.open = static_cast<int>(day.session.open.count());
    h.length = day.session.length_minutes();
    h.trading = day.trading;
    return h;
  }
  h.open = static_cast<int>(session_.open.count());
  h.length = session_.length_minutes();
  // Days since 1970-01-01 (a Thursday, weekday 4).
  const auto weekday = static_cast<unsigned>(((date % 7) + 7 + 4) % 7);
  h.trading = ((weekday_mask_ >> weekday) & 1u) != 0;
  return h;
}

CalendarDay SessionLocator::day(std::int64_t day) const {
  if (calendar_ != nullptr) return calendar_->day(Date{std::chrono::days{day}});
  CalendarDay out;
  out.session = session_;
  out.trading = hours_of(day).trading;
  return out;
}

SessionPlace SessionLocator::locate(Timestamp bar_start) {
  // The next minute of the same local date, on the same side of the open and
  // under the same offset: one minute further into the same hours.
  if (last_minute_of_date_ >= 0 && bar_start - last_start_ == std::chrono::minutes(1) && bar_start < span_.end &&
      last_minute_of_date_ + 1 < 1440 && (last_minute_of_date_ + 1 == today_.open) == false) {
    const DayHours& hours = last_after_open_ ? today_ : yesterday_;
    SessionPlace p = last_;
    ++p.minutes_since_open;
    p.within_hours = p.minutes_since_open < hours.length;
    p.in_session = p.within_hours && hours.trading;
    p.minutes_to_close = p.in_session ? hours.length - static_cast<int>(p.minutes_since_open) - 1 : 0;
    last_start_ = bar_start;
    ++last_minute_of_date_;
    last_ = p;
    return p;
  }
  if (bar_start < span_.begin || bar_start >= span_.end) span_ = zone_.offset_span(bar_start);
  const std::int64_t local_minute =
      std::chrono::floor<std::chrono::minutes>((bar_start + span_.offset).time_since_epoch()).count();
  const std::int64_t date = floor_div(local_minute, 1440);
  if (!cache_valid_ || date != cached_date_) {
    if (cache_valid_ && date == cached_date_ + 1) {
      yesterday_ = today_;  // bars in time order: one calendar lookup per date
    } else {
      yesterday_ = hours_of(date - 1);
    }
    today_ = hours_of(date);
    cached_date_ = date;
    cache_valid_ = true;
  }
  // Before the date's open the bar still follows the previous date's session
  // (or the night after it): trading days change at the open.
  const bool after_open = local_minute - date * 1440 >= today_.open;
  const DayHours& hours = after_open ? today_ : yesterday_;
  SessionPlace p;
  p.day = after_open ? date : date - 1;
  p.weekday = static_cast<unsigned>(((p.day % 7) + 7 + 4) % 7);
  p.minutes_since_open = local_minute - (p.day * 1440 + hours.open);
  p.within_hours = p.minutes_since_open < hours.length;
  p.in_session = p.within_hours && hours.trading;
  p.minutes_to_close = p.in_session ? hours.length - static_cast<int>(p.minutes_since_open) - 1 : 0;
  // Whole minutes only: a bar starting mid-minute takes the general path next time.
  const bool whole_minute = (bar_start + span_.offset).time_since_epoch() % std::chrono::minutes(1) == Duration(0);
  last_start_ = bar_start;
  last_minute_of_date_ = whole_minute ? static_cast<int>(local_minute - date * 1440) : -1;
  last_after_open_ = after_open;
  last_ = p;
  return p;
}

}  // namespace quant
