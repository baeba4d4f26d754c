#include "engine/session_clock.h"

namespace quant::engine {

SessionClock::SessionClock(const InstrumentSpec& spec, TimeZone zone) : locator_(spec, std::move(zone)) {}

SessionPosition SessionClock::locate(Timestamp bar_start) {
  const SessionPlace p = locator_.locate(bar_start);
  return SessionPosition{p.day, p.in_session, p.minutes_to_close};
}

std::string SessionClock::day_text(std::int64_t day) const {
  // Trading day numbers count local dates since 1970-01-01.
  return format_date(Date{std::chrono::days{day}});
}

}  // namespace quant::engine
