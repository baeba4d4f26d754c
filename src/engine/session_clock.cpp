#include "engine/session_clock.h"

#include <cstdio>

namespace quant::engine {

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

SessionClock::SessionClock(const InstrumentSpec& spec, TimeZone zone) : zone_(std::move(zone)) {
  open_minute_ = static_cast<int>(spec.session.open.count());
  int length = static_cast<int>((spec.session.close - spec.session.open).count());
  if (length <= 0) length += 1440;  // crosses midnight, or 24 h when open == close
  length_minutes_ = length;
  for (int d : spec.weekdays) weekday_mask_ = static_cast<std::uint8_t>(weekday_mask_ | (1u << d));
  span_.end = Timestamp::min();  // force a lookup on the first bar
}

SessionPosition SessionClock::locate(Timestamp bar_start) {
  if (bar_start < span_.begin || bar_start >= span_.end) span_ = zone_.offset_span(bar_start);
  const std::int64_t local_minute =
      std::chrono::duration_cast<std::chrono::minutes>((bar_start + span_.offset).time_since_epoch()).count();
  // Trading days start at the session open: day = floor((local − open) / 1 day).
  const std::int64_t since_open_total = local_minute - open_minute_;
  SessionPosition p;
  p.day = floor_div(since_open_total, 1440);
  const auto minute_in_day = static_cast<int>(since_open_total - p.day * 1440);
  // p.day counts days since 1970-01-01 (a Thursday, weekday 4) of the local
  // date on which this session opened: its weekday decides if it trades.
  const auto weekday = static_cast<unsigned>(((p.day % 7) + 7 + 4) % 7);
  const bool trading_day = (weekday_mask_ >> weekday) & 1u;
  p.in_session = trading_day && minute_in_day < length_minutes_;
  p.minutes_to_close = p.in_session ? length_minutes_ - minute_in_day - 1 : 0;
  return p;
}

std::string SessionClock::day_text(std::int64_t day) const {
  // The local date on which trading day `day` opens.
  const LocalTime local(std::chrono::minutes(day * 1440 + open_minute_));
  const CivilTime c = to_civil(local);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

}  // namespace quant::engine
