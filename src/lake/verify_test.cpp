#include "lake/verify.h"

#include <gtest/gtest.h>

#include "core/test_calendar.h"

namespace quant::lake {
namespace {

Bar bar_at(std::int64_t minute, double open) {
  Bar b;
  b.ts = from_epoch_ns(0) + std::chrono::hours(24 * 365 * 50) + kMinute * minute;
  b.open = open;
  b.high = open + 10;
  b.low = open - 10;
  b.close = open + 5;
  return b;
}

std::int64_t count_of(const VerifyReport& report, const std::string& check) {
  for (const auto& [name, count] : report.counts) {
    if (name == check) return count;
  }
  return -1;
}

TEST(SeriesVerifierTest, CountsStayExactWhileExamplesAreCapped) {
  auto verifier = SeriesVerifier::make("X", nullptr);
  ASSERT_TRUE(verifier.has_value());
  for (int i = 0; i < 250; ++i) verifier->add_bar(bar_at(0, 100));  // 249 duplicates
  const VerifyReport report = verifier->finish();
  EXPECT_EQ(report.bars, 250);
  EXPECT_EQ(count_of(report, "duplicate"), 249);
  EXPECT_EQ(report.findings.size(), kMaxFindingsPerCheck);
  EXPECT_TRUE(report.has_errors());
  const std::string text = report.to_text(3);
  EXPECT_NE(text.find("duplicate              249 errors"), std::string::npos) << text;
  EXPECT_NE(text.find("non_monotonic          OK"), std::string::npos) << text;
  EXPECT_NE(text.find("      ...\n"), std::string::npos) << text;
}

TEST(SeriesVerifierTest, UnknownTimeZoneFails) {
  InstrumentSpec spec;
  spec.time_zone = "Mars/Olympus_Mons";
  spec.tick_size = 1;
  auto verifier = SeriesVerifier::make("X", &spec);
  ASSERT_FALSE(verifier.has_value());
  EXPECT_NE(verifier.error().message.find("Mars/Olympus_Mons"), std::string::npos);
}

TEST(SeriesVerifierTest, SessionCrossingMidnightCountsGapsAcrossMidnight) {
  InstrumentSpec spec;
  spec.time_zone = "UTC";
  spec.tick_size = 0.5;
  spec.session = Session{std::chrono::minutes(17 * 60), std::chrono::minutes(17 * 60)};  // FX: 24 h from 17:00
  auto verifier = SeriesVerifier::make("FX", &spec);
  ASSERT_TRUE(verifier.has_value());
  verifier->add_bar(bar_at(23 * 60 + 58, 1.5));            // 23:58
  verifier->add_bar(bar_at(24 * 60 + 3, 1.5));             // 00:03 next day, same trading day
  verifier->add_bar(bar_at(24 * 60 + 17 * 60 + 5, 1.5));   // 17:05: a new trading day
  verifier->add_bar(bar_at(24 * 60 + 17 * 60 + 6, 1.25));  // off the 0.5 grid
  const VerifyReport report = verifier->finish();
  EXPECT_EQ(count_of(report, "gap"), 1);
  EXPECT_EQ(report.largest_gap, std::chrono::minutes(4));
  EXPECT_EQ(count_of(report, "off_grid"), 1);
}

TEST(SeriesVerifierTest, EachMonthOfAnotherTimeframeIsAnError) {
  auto verifier = SeriesVerifier::make("X", nullptr);
  ASSERT_TRUE(verifier.has_value());
  // January: 1-minute bars; February: 15-minute bars; March: 1-minute bars again.
  const Timestamp jan = Timestamp(std::chrono::hours(24 * days_from_civil(2021, 1, 1)));
  auto day_of = [&](int day, int step) {
    for (int m = 0; m < 8 * 60; m += step) {
      Bar b = bar_at(0, 100);
      b.ts = jan + std::chrono::hours(24 * day + 12) + std::chrono::minutes(m);
      verifier->add_bar(b);
    }
  };
  for (int day = 0; day < 5; ++day) day_of(day, 1);
  for (int day = 31; day < 36; ++day) day_of(day, 15);
  for (int day = 59; day < 64; ++day) day_of(day, 1);
  const VerifyReport report = verifier->finish();
  EXPECT_EQ(count_of(report, "timeframe"), 1) << report.to_text();
  ASSERT_FALSE(report.findings.empty());
  EXPECT_EQ(report.findings[0].ts, jan + std::chrono::hours(24 * 31 + 12));
  EXPECT_NE(report.findings[0].message.find("the bars of 2021-02 are 15-minute (M15) bars"), std::string::npos)
      << report.findings[0].message;
  EXPECT_EQ(report.timeframe.kind, Timeframe::Kind::OneMinute);  // the series as a whole
  EXPECT_TRUE(report.has_errors());
}

TEST(SeriesVerifierTest, WeeklyBarsFailAsASeries) {
  auto verifier = SeriesVerifier::make("X", nullptr);
  ASSERT_TRUE(verifier.has_value());
  for (int week = 0; week < 52; ++week) {
    Bar b = bar_at(0, 100);
    // Sundays of 2021.
    b.ts = Timestamp(std::chrono::hours(24 * (days_from_civil(2021, 1, 3) + std::int64_t{7} * week)));
    verifier->add_bar(b);
  }
  const VerifyReport report = verifier->finish();
  EXPECT_EQ(count_of(report, "timeframe"), 1) << report.to_text();
  EXPECT_NE(report.to_text().find("the series holds weekly (W1) bars"), std::string::npos) << report.to_text();
}

TEST(SeriesVerifierTest, AFewBarsCannotFailTheTimeframe) {
  auto verifier = SeriesVerifier::make("X", nullptr);
  ASSERT_TRUE(verifier.has_value());
  for (int m : {0, 5, 10, 15}) verifier->add_bar(bar_at(m, 100));
  const VerifyReport report = verifier->finish();
  EXPECT_EQ(count_of(report, "timeframe"), 0);
  EXPECT_FALSE(report.has_errors()) << report.to_text();
}

/// A full WIN session of `local` date (BRT) from `open` to `close` (exclusive), one bar a minute.
void add_session(SeriesVerifier& v, int y, int m, int d, int open_h, int open_m, int close_h, int close_m) {
  using quant::testing::brt;
  for (Timestamp t = brt(y, m, d, open_h, open_m); t < brt(y, m, d, close_h, close_m); t += kMinute) {
    Bar b = bar_at(0, 100000);
    b.ts = t;
    v.add_bar(b);
  }
}

// B3 in February 2021 (core/test_calendar.h): Carnival Monday and Tuesday
// closed, Ash Wednesday from 13:00; Jan 25 closed.
TEST(SeriesVerifierTest, HolidaysAndWeekendsAreNotGapsButAMissingTradingDayIs) {
  const InstrumentSpec spec = quant::testing::win_with_b3_calendar();
  auto v = SeriesVerifier::make("WIN", &spec);
  ASSERT_TRUE(v.has_value());
  add_session(*v, 2021, 1, 22, 9, 0, 18, 25);   // Friday
  add_session(*v, 2021, 1, 26, 9, 0, 18, 25);   // Tuesday: the weekend and Jan 25 are closed
  add_session(*v, 2021, 2, 12, 9, 0, 18, 25);   // Friday: Jan 27 .. Feb 11 (12 trading days) missing
  add_session(*v, 2021, 2, 17, 13, 0, 18, 25);  // Ash Wednesday: the weekend and Carnival are closed
  add_session(*v, 2021, 2, 18, 9, 0, 18, 25);
  add_session(*v, 2021, 2, 22, 9, 0, 18, 25);  // Monday: Friday the 19th is missing
  const VerifyReport report = v->finish();
  EXPECT_EQ(count_of(report, "gap"), 0) << report.to_text();
  EXPECT_EQ(count_of(report, "missing_day"), 13) << report.to_text();
  EXPECT_FALSE(report.has_errors());  // a warning
  std::vector<std::string> days;
  for (const Finding& f : report.findings) {
    if (f.check == "missing_day") days.push_back(f.message.substr(f.message.find("day ") + 4, 10));
  }
  ASSERT_EQ(days.size(), 13u);
  EXPECT_EQ(days.front(), "2021-01-27");
  EXPECT_EQ(days[11], "2021-02-11");
  EXPECT_EQ(days.back(), "2021-02-19");
  const std::string text = report.to_text(20);
  EXPECT_NE(text.find("calendar B3 (hours index)"), std::string::npos) << text;
  EXPECT_NE(text.find("missing_day            13 warnings"), std::string::npos) << text;
  EXPECT_NE(text.find("2021-02-19T12:00:00Z  no bars on trading day 2021-02-19 (session 09:00-18:25 local)"),
            std::string::npos)
      << text;
}

TEST(SeriesVerifierTest, BarsOnAHolidayMakeNoGapWithTheCalendar) {
  // Bars on Carnival Monday inside the regular hours, with a hole: the
  // calendar says there is no session, so no gap; the fixed session counts it.
  const InstrumentSpec spec = quant::testing::win_with_b3_calendar();
  InstrumentSpec fixed = spec;
  fixed.calendar = nullptr;
  fixed.session = Session{quant::testing::hh_mm(9, 0), quant::testing::hh_mm(18, 25)};
  for (const InstrumentSpec* s : {&spec, static_cast<const InstrumentSpec*>(&fixed)}) {
    auto v = SeriesVerifier::make("WIN", s);
    ASSERT_TRUE(v.has_value());
    add_session(*v, 2021, 2, 15, 10, 0, 10, 30);
    add_session(*v, 2021, 2, 15, 11, 0, 11, 30);
    const VerifyReport report = v->finish();
    EXPECT_EQ(count_of(report, "gap"), s == &spec ? 0 : 1) << report.to_text();
    // Only a calendar knows which days trade: without one there is no missing_day check.
    EXPECT_EQ(count_of(report, "missing_day"), s == &spec ? 0 : -1);
  }
}

TEST(SeriesVerifierTest, GapsInsideAShortenedSessionFollowItsHours) {
  // Ash Wednesday opens at 13:00. The 12:58 bar belongs to Tuesday's (closed)
  // trading day, so 12:58 → 13:05 is no gap; the hole from 14:00 to 14:10 is.
  const InstrumentSpec spec = quant::testing::win_with_b3_calendar();
  auto v = SeriesVerifier::make("WIN", &spec);
  ASSERT_TRUE(v.has_value());
  add_session(*v, 2021, 2, 17, 12, 58, 12, 59);
  add_session(*v, 2021, 2, 17, 13, 5, 14, 0);
  add_session(*v, 2021, 2, 17, 14, 10, 18, 25);
  const VerifyReport report = v->finish();
  EXPECT_EQ(count_of(report, "gap"), 1) << report.to_text();
  EXPECT_EQ(report.largest_gap, std::chrono::minutes(10));
}

}  // namespace
}  // namespace quant::lake
