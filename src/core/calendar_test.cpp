#include "core/calendar.h"

#include <gtest/gtest.h>

#include "core/test_calendar.h"

namespace quant {
namespace {

using testing::date_of;
using testing::hh_mm;

TEST(CalendarTest, ParseDateAcceptsOnlyRealIsoDates) {
  EXPECT_EQ(parse_date("2021-02-17"), date_of(2021, 2, 17));
  EXPECT_EQ(parse_date("2024-02-29"), date_of(2024, 2, 29));
  EXPECT_FALSE(parse_date("2021-02-29"));  // not a leap year
  EXPECT_FALSE(parse_date("2021-13-01"));
  EXPECT_FALSE(parse_date("2021-2-17"));
  EXPECT_FALSE(parse_date("2021/02/17"));
  EXPECT_FALSE(parse_date("17-02-2021"));
  EXPECT_FALSE(parse_date("2021-02-17T10:00"));
  EXPECT_FALSE(parse_date("+021-02-17"));
  EXPECT_EQ(format_date(date_of(2021, 2, 17)), "2021-02-17");
  EXPECT_EQ(weekday_of(date_of(2021, 2, 17)), 3u);  // a Wednesday
}

TEST(CalendarTest, HolidaysSpecialSessionsAndDatedHours) {
  const TradingCalendar c = make_trading_calendar(testing::b3_2021_exchange_calendar(), "index").value();
  // Carnival Monday: closed; its regular hours stay known (the day still starts at 09:00).
  const CalendarDay carnival = c.day(date_of(2021, 2, 15));
  EXPECT_FALSE(carnival.trading);
  EXPECT_EQ(carnival.session, (Session{hh_mm(9, 0), hh_mm(18, 25)}));
  // Jan 25 2021 (a Monday) is in `closed`, not `holidays`: closed all the same.
  EXPECT_FALSE(c.day(date_of(2021, 1, 25)).trading);
  EXPECT_TRUE(c.day(date_of(2021, 1, 26)).trading);
  // Ash Wednesday: its own open, the regular close.
  const CalendarDay ash = c.day(date_of(2021, 2, 17));
  EXPECT_TRUE(ash.trading);
  EXPECT_TRUE(ash.special);
  EXPECT_EQ(ash.session, (Session{hh_mm(13, 0), hh_mm(18, 25)}));
  // Dated hours: the close moves on Mar 15, not before.
  EXPECT_EQ(c.day(date_of(2021, 3, 12)).session.close, hh_mm(18, 25));
  EXPECT_EQ(c.day(date_of(2021, 3, 15)).session.close, hh_mm(17, 55));
  EXPECT_EQ(c.day(date_of(2021, 12, 1)).session.close, hh_mm(17, 55));
  // The first entry also covers the dates before it.
  EXPECT_EQ(c.day(date_of(2019, 6, 3)).session.close, hh_mm(18, 25));
  // Weekends do not trade.
  EXPECT_FALSE(c.day(date_of(2021, 2, 13)).trading);
  EXPECT_TRUE(c.day(date_of(2021, 2, 18)).trading);
  // The other schedule of the same exchange.
  const TradingCalendar dollar = make_trading_calendar(testing::b3_2021_exchange_calendar(), "dollar").value();
  EXPECT_EQ(dollar.day(date_of(2021, 2, 17)).session, (Session{hh_mm(13, 0), hh_mm(18, 30)}));
  EXPECT_FALSE(dollar.day(date_of(2021, 2, 16)).trading);
}

TEST(CalendarTest, ASpecialSessionMakesAnyDateATradingDay) {
  ExchangeCalendar e = testing::b3_2021_exchange_calendar();
  e.special_sessions.push_back(SpecialSession{date_of(2021, 3, 20), hh_mm(10, 0), hh_mm(14, 0)});  // a Saturday
  const TradingCalendar c = make_trading_calendar(e, "index").value();
  const CalendarDay saturday = c.day(date_of(2021, 3, 20));
  EXPECT_TRUE(saturday.trading);
  EXPECT_EQ(saturday.session, (Session{hh_mm(10, 0), hh_mm(14, 0)}));
  EXPECT_FALSE(c.day(date_of(2021, 3, 13)).trading);
}

TEST(CalendarTest, MakeTradingCalendarMergesClosuresAndChecksTheSchedule) {
  ExchangeCalendar e = testing::b3_2021_exchange_calendar();
  e.closed.push_back(date_of(2021, 2, 15));  // also a holiday: merged once
  const TradingCalendar c = make_trading_calendar(e, "index").value();
  EXPECT_EQ(c.closed.size(), 5u);
  EXPECT_TRUE(std::is_sorted(c.closed.begin(), c.closed.end()));
  EXPECT_EQ(c.name, "B3");
  EXPECT_EQ(c.hours_name, "index");

  auto unknown = make_trading_calendar(e, "equities");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no hours 'equities' (it has: dollar, index)"), std::string::npos)
      << unknown.error().message;

  // Opening at 17:58 is after the index futures' 17:55 close, before the dollar's 18:00.
  e.special_sessions = {SpecialSession{date_of(2021, 3, 17), hh_mm(17, 58), std::nullopt}};
  auto late = make_trading_calendar(e, "index");
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("2021-03-17"), std::string::npos) << late.error().message;
  EXPECT_TRUE(make_trading_calendar(e, "dollar"));
}

}  // namespace
}  // namespace quant
