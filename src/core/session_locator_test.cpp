#include "core/session_locator.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/test_calendar.h"

namespace quant {
namespace {

using testing::brt;
using testing::date_of;
using testing::hh_mm;

/// The fixed-session rule the engine's clock used before calendars existed:
/// day = floor((local minute − open) / 1 day), in session on the spec's
/// weekdays within [open, open + length).
struct Reference {
  std::int64_t day;
  std::int64_t minute_in_day;
  bool in_session;
  int minutes_to_close;
};
Reference reference_locate(const InstrumentSpec& spec, const TimeZone& zone, Timestamp bar_start) {
  const std::int64_t local_minute =
      std::chrono::duration_cast<std::chrono::minutes>((bar_start + zone.offset(bar_start)).time_since_epoch()).count();
  const std::int64_t open = spec.session.open.count();
  std::int64_t length = (spec.session.close - spec.session.open).count();
  if (length <= 0) length += 1440;
  const std::int64_t since_open = local_minute - open;
  std::int64_t day = since_open / 1440;
  if (since_open % 1440 != 0 && since_open < 0) --day;
  const std::int64_t minute_in_day = since_open - day * 1440;
  const auto weekday = static_cast<int>(((day % 7) + 7 + 4) % 7);
  const bool trading = std::find(spec.weekdays.begin(), spec.weekdays.end(), weekday) != spec.weekdays.end();
  const bool in_session = trading && minute_in_day < length;
  return {day, minute_in_day, in_session, in_session ? static_cast<int>(length - minute_in_day - 1) : 0};
}

InstrumentSpec random_fixed_spec() {
  InstrumentSpec spec;
  spec.time_zone = *rc::gen::element<std::string>("UTC", "America/Sao_Paulo", "America/New_York", "Europe/London");
  const int open = *rc::gen::inRange(0, 1440);
  const int close = *rc::gen::inRange(0, 1440);
  spec.session = Session{std::chrono::minutes(open), std::chrono::minutes(close)};
  spec.weekdays.clear();
  for (int d = 0; d < 7; ++d) {
    if (*rc::gen::arbitrary<bool>()) spec.weekdays.push_back(d);
  }
  return spec;
}

/// Bar starts within a few days, in random order (the caches must not assume time order).
std::vector<Timestamp> random_bars() {
  const auto start = brt(2021, 3, 10, 0, 0) + std::chrono::hours(24 * 30 * *rc::gen::inRange(0, 300));
  const auto minutes = *rc::gen::container<std::vector<int>>(rc::gen::inRange(-3 * 1440, 3 * 1440));
  std::vector<Timestamp> out;
  out.reserve(minutes.size());
  for (int m : minutes) out.push_back(start + std::chrono::minutes(m));
  return out;
}

RC_GTEST_PROP(SessionLocatorProperty, WithoutCalendarItIsTheFixedSessionRule, ()) {
  const InstrumentSpec spec = random_fixed_spec();
  const TimeZone zone = TimeZone::find(spec.time_zone).value();
  SessionLocator locator(spec, zone);
  for (Timestamp t : random_bars()) {
    const SessionPlace p = locator.locate(t);
    const Reference r = reference_locate(spec, zone, t);
    RC_ASSERT(p.day == r.day);
    RC_ASSERT(p.minutes_since_open == r.minute_in_day);
    RC_ASSERT(p.in_session == r.in_session);
    RC_ASSERT(p.minutes_to_close == r.minutes_to_close);
    RC_ASSERT(p.weekday == static_cast<unsigned>(((r.day % 7) + 7 + 4) % 7));
  }
}

RC_GTEST_PROP(SessionLocatorProperty, ACalendarOfOneEntryWithoutClosuresChangesNothing, ()) {
  const InstrumentSpec plain = random_fixed_spec();
  InstrumentSpec with_calendar = plain;
  TradingCalendar c;
  c.name = "X";
  c.hours_name = "all";
  c.weekdays = plain.weekdays;
  c.hours = {DatedSession{date_of(2000, 1, 3), plain.session}};
  with_calendar.calendar = std::make_shared<const TradingCalendar>(c);
  const TimeZone zone = TimeZone::find(plain.time_zone).value();
  SessionLocator a(plain, zone), b(with_calendar, zone);
  for (Timestamp t : random_bars()) {
    const SessionPlace pa = a.locate(t), pb = b.locate(t);
    RC_ASSERT(pa.day == pb.day);
    RC_ASSERT(pa.minutes_since_open == pb.minutes_since_open);
    RC_ASSERT(pa.within_hours == pb.within_hours);
    RC_ASSERT(pa.in_session == pb.in_session);
    RC_ASSERT(pa.minutes_to_close == pb.minutes_to_close);
  }
}

RC_GTEST_PROP(SessionLocatorProperty, CachedAnswersEqualFreshOnes, ()) {
  const InstrumentSpec spec = testing::win_with_b3_calendar();
  const TimeZone zone = TimeZone::find(spec.time_zone).value();
  SessionLocator cached(spec, zone);
  const auto start = brt(2021, 2, 10, 0, 0);
  for (int m : *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 50 * 1440))) {
    const Timestamp t = start + std::chrono::minutes(m);
    SessionLocator fresh(spec, zone);
    const SessionPlace a = cached.locate(t), b = fresh.locate(t);
    RC_ASSERT(a.day == b.day);
    RC_ASSERT(a.minutes_since_open == b.minutes_since_open);
    RC_ASSERT(a.in_session == b.in_session);
    RC_ASSERT(a.minutes_to_close == b.minutes_to_close);
  }
}

// Bars minute after minute (the engine's case, which takes the locator's
// next-minute shortcut) get the answers of a fresh locator: across B3's
// calendar (carnival, Ash Wednesday, holidays, weekends) and across New
// York's DST changes with a session that opens in the evening.
TEST(SessionLocatorTest, MinuteByMinuteAnswersEqualFreshOnes) {
  InstrumentSpec ny = testing::win_with_b3_calendar();
  ny.calendar = nullptr;
  ny.time_zone = "America/New_York";
  ny.session.open = std::chrono::hours(18);
  ny.session.close = std::chrono::hours(17);
  struct Case {
    InstrumentSpec spec;
    Timestamp start;
  };
  const std::vector<Case> cases = {{testing::win_with_b3_calendar(), brt(2021, 2, 10, 0, 0)},
                                   {ny, brt(2024, 3, 7, 0, 0)},
                                   {ny, brt(2024, 10, 31, 0, 0)}};
  for (const Case& c : cases) {
    const TimeZone zone = TimeZone::find(c.spec.time_zone).value();
    SessionLocator walking(c.spec, zone);
    for (int m = 0; m < 10 * 1440; ++m) {
      const Timestamp t = c.start + std::chrono::minutes(m);
      SessionLocator fresh(c.spec, zone);
      const SessionPlace a = walking.locate(t), b = fresh.locate(t);
      ASSERT_EQ(a.day, b.day) << m;
      ASSERT_EQ(a.weekday, b.weekday) << m;
      ASSERT_EQ(a.minutes_since_open, b.minutes_since_open) << m;
      ASSERT_EQ(a.within_hours, b.within_hours) << m;
      ASSERT_EQ(a.in_session, b.in_session) << m;
      ASSERT_EQ(a.minutes_to_close, b.minutes_to_close) << m;
    }
  }
}

std::int64_t day_number(Date d) { return d.time_since_epoch().count(); }

TEST(SessionLocatorTest, AshWednesdayStartsAtOneOClock) {
  const InstrumentSpec spec = testing::win_with_b3_calendar();
  SessionLocator locator(spec, TimeZone::find(spec.time_zone).value());
  // 12:59: before the day's open, so still Carnival Tuesday's (closed) trading day.
  const SessionPlace before = locator.locate(brt(2021, 2, 17, 12, 59));
  EXPECT_FALSE(before.in_session);
  EXPECT_EQ(before.day, day_number(date_of(2021, 2, 16)));
  // 13:00: the session opens; the day changes here.
  const SessionPlace open = locator.locate(brt(2021, 2, 17, 13, 0));
  EXPECT_TRUE(open.in_session);
  EXPECT_EQ(open.day, day_number(date_of(2021, 2, 17)));
  EXPECT_EQ(open.weekday, 3u);
  EXPECT_EQ(open.minutes_since_open, 0);
  EXPECT_EQ(open.minutes_to_close, 18 * 60 + 25 - (13 * 60 + 1));  // from the bar's close 13:01 to 18:25
  // The next day opens at 09:00 again.
  const SessionPlace thursday = locator.locate(brt(2021, 2, 18, 9, 30));
  EXPECT_TRUE(thursday.in_session);
  EXPECT_EQ(thursday.minutes_since_open, 30);
}

TEST(SessionLocatorTest, AHolidayIsNotATradingDay) {
  const InstrumentSpec spec = testing::win_with_b3_calendar();
  SessionLocator locator(spec, TimeZone::find(spec.time_zone).value());
  const SessionPlace carnival = locator.locate(brt(2021, 2, 15, 10, 0));
  EXPECT_TRUE(carnival.within_hours);
  EXPECT_FALSE(carnival.in_session);
  EXPECT_EQ(carnival.day, day_number(date_of(2021, 2, 15)));
  EXPECT_FALSE(locator.locate(brt(2021, 1, 25, 10, 0)).in_session);
  EXPECT_TRUE(locator.locate(brt(2021, 1, 26, 10, 0)).in_session);
  // Without the calendar the same bar is inside the session.
  InstrumentSpec plain = spec;
  plain.calendar = nullptr;
  plain.session = Session{hh_mm(9, 0), hh_mm(18, 25)};
  SessionLocator fixed(plain, TimeZone::find(plain.time_zone).value());
  EXPECT_TRUE(fixed.locate(brt(2021, 2, 15, 10, 0)).in_session);
}

TEST(SessionLocatorTest, DatedHoursApplyFromTheirDate) {
  const InstrumentSpec spec = testing::win_with_b3_calendar();
  SessionLocator locator(spec, TimeZone::find(spec.time_zone).value());
  // Friday Mar 12: still the 18:25 close.
  const SessionPlace friday = locator.locate(brt(2021, 3, 12, 18, 0));
  EXPECT_TRUE(friday.in_session);
  EXPECT_EQ(friday.minutes_to_close, 24);
  // Monday Mar 15: 17:55.
  EXPECT_FALSE(locator.locate(brt(2021, 3, 15, 18, 0)).in_session);
  const SessionPlace last = locator.locate(brt(2021, 3, 15, 17, 54));
  EXPECT_TRUE(last.in_session);
  EXPECT_EQ(last.minutes_to_close, 0);
  EXPECT_FALSE(locator.locate(brt(2021, 3, 15, 17, 55)).in_session);
}

}  // namespace
}  // namespace quant
