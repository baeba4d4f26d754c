#pragma once
/// A small B3-like calendar for tests (not part of the library): the first
/// quarter of 2021 as B3 traded it, with WIN's hours. Carnival Monday and
/// Tuesday (Feb 15–16) closed, Ash Wednesday (Feb 17) opening at 13:00, Jan 25
/// closed (São Paulo's anniversary, still a B3 holiday in 2021), and the close
/// moving from 18:25 to 17:55 on Monday Mar 15 (US daylight saving time began
/// on Mar 14). The real WIN file in ../shared/data shows exactly this.

#include <chrono>
#include <memory>

#include "core/calendar.h"
#include "core/instrument.h"
#include "core/test_bars.h"
#include "core/time.h"

namespace quant::testing {

inline Date date_of(int y, unsigned m, unsigned d) {
  return Date{std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}};
}

inline std::chrono::minutes hh_mm(int h, int m) { return std::chrono::minutes(h * 60 + m); }

inline ExchangeCalendar b3_2021_exchange_calendar() {
  ExchangeCalendar c;
  c.name = "B3";
  c.time_zone = "America/Sao_Paulo";
  c.holidays = {date_of(2021, 1, 1), date_of(2021, 2, 15), date_of(2021, 2, 16), date_of(2021, 4, 2)};
  c.closed = {date_of(2021, 1, 25)};
  c.special_sessions = {SpecialSession{date_of(2021, 2, 17), hh_mm(13, 0), std::nullopt}};
  c.hours["index"] = {DatedSession{date_of(2020, 11, 3), Session{hh_mm(9, 0), hh_mm(18, 25)}},
                      DatedSession{date_of(2021, 3, 15), Session{hh_mm(9, 0), hh_mm(17, 55)}}};
  c.hours["dollar"] = {DatedSession{date_of(2020, 11, 3), Session{hh_mm(9, 0), hh_mm(18, 30)}},
                       DatedSession{date_of(2021, 3, 15), Session{hh_mm(9, 0), hh_mm(18, 0)}}};
  return c;
}

/// WIN (tick 5, BRL 0.20 a point) trading by the calendar above, "index" hours.
inline InstrumentSpec win_with_b3_calendar() {
  InstrumentSpec s = win_spec();
  s.asset_class = AssetClass::Future;
  s.exchange = "B3";
  s.session = Session{hh_mm(9, 0), hh_mm(17, 55)};
  auto calendar = make_trading_calendar(b3_2021_exchange_calendar(), "index");
  s.calendar = std::make_shared<const TradingCalendar>(std::move(calendar.value()));
  return s;
}

/// Local BRT (UTC−3 all year since 2019) date and time → UTC.
inline Timestamp brt(int y, int mo, int d, int hh, int mm) {
  LocalTime l;
  make_local_time(y, mo, d, hh, mm, 0, 0, l);
  return Timestamp(l.time_since_epoch()) + std::chrono::hours(3);
}

}  // namespace quant::testing
