#include "core/timeframe_detector.h"

#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/random.h"

namespace quant {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimeZone& brt() {
  static const TimeZone zone = *TimeZone::find("America/Sao_Paulo");
  return zone;
}

/// Local BRT wall clock → UTC.
Timestamp local(const TimeZone& zone, int year, int month, int day, int hh, int mm) {
  LocalTime l;
  EXPECT_TRUE(make_local_time(year, month, day, hh, mm, 0, 0, l));
  return *zone.to_utc(l);
}

/// Bars every `step` minutes from 09:00 to before 18:25 BRT on `days` weekdays from 2024-01-01 (a Monday);
/// `keep` decides per bar whether it exists.
template <class Keep>
Timeframe intraday(int step, int days, Keep keep) {
  TimeframeDetector detector(brt());
  int added_days = 0;
  for (int day = 1; added_days < days; ++day) {
    const Timestamp midnight = local(brt(), 2024, 1, 1, 0, 0) + hours(24 * (day - 1));
    const CivilTime c = to_civil(brt().to_local(midnight));
    if (c.weekday == 0 || c.weekday == 6) continue;
    ++added_days;
    for (int m = 9 * 60; m < 18 * 60 + 25; m += step) {
      if (keep()) detector.add(midnight + minutes(m));
    }
  }
  return detector.result();
}

Timeframe intraday(int step, int days) {
  return intraday(step, days, [] { return true; });
}

TEST(TimeframeDetectorTest, OneMinuteSessionsAreOneMinuteBars) {
  const Timeframe t = intraday(1, 3);
  EXPECT_EQ(t.kind, Timeframe::Kind::OneMinute);
  EXPECT_EQ(t.mt5_name(), "M1");
  EXPECT_EQ(t.bars, 3 * 565);
  EXPECT_EQ(t.pairs, 3 * 564);  // the overnight pairs are not judged
  EXPECT_EQ(t.pairs_at_spacing, 3 * 564);
  EXPECT_EQ(t.evidence(), "1,692 of 1,692 consecutive bars of the same day are 1 minute apart");
}

TEST(TimeframeDetectorTest, FiveMinuteExportIsTold) {
  const Timeframe t = intraday(5, 10);
  ASSERT_EQ(t.kind, Timeframe::Kind::Other);
  EXPECT_EQ(t.spacing, minutes(5));
  EXPECT_EQ(t.mt5_name(), "M5");
  EXPECT_EQ(t.label(), "5-minute (M5)");
  EXPECT_EQ(t.evidence(),
            "1,120 of 1,120 consecutive bars of the same day are 5 minutes apart and 1,130 of 1,130 bars lie on the "
            "5-minute grid");
}

TEST(TimeframeDetectorTest, CoarserExportsWithMissingBarsAreTold) {
  SplitMix64 rng(3);
  auto most = [&] { return rng.uniform() < 0.8; };
  EXPECT_EQ(intraday(15, 20, most).mt5_name(), "M15");
  EXPECT_EQ(intraday(30, 20, most).mt5_name(), "M30");
  EXPECT_EQ(intraday(60, 20).mt5_name(), "H1");
  EXPECT_EQ(intraday(60, 20).label(), "1-hour (H1)");
  // H4 bars are aligned to the server's midnight: 08:00, 12:00, 16:00 on B3.
  TimeframeDetector h4(brt());
  for (int day = 1; day <= 26; ++day) {
    for (int hh : {8, 12, 16}) h4.add(local(brt(), 2024, 2, day, hh, 0));
  }
  EXPECT_EQ(h4.result().mt5_name(), "H4");
  EXPECT_EQ(h4.result().label(), "4-hour (H4)");
}

TEST(TimeframeDetectorTest, DailyWeeklyAndMonthlyBarsAreTold) {
  TimeframeDetector d1(brt());
  for (int day = 1; day <= 31; ++day) {
    const Timestamp midnight = local(brt(), 2024, 1, day, 0, 0);
    const unsigned weekday = to_civil(brt().to_local(midnight)).weekday;
    if (weekday != 0 && weekday != 6) d1.add(midnight);
  }
  const Timeframe daily = d1.result();
  ASSERT_EQ(daily.kind, Timeframe::Kind::Other);
  EXPECT_EQ(daily.label(), "daily (D1)");
  EXPECT_EQ(daily.evidence(), "18 of 22 consecutive bars are 1 day apart, at most one bar a day, all at 00:00");

  TimeframeDetector w1(brt()), mn1(brt());
  for (int week = 0; week < 30; ++week) w1.add(local(brt(), 2024, 1, 7, 0, 0) + hours(24 * 7 * week));
  for (int month = 1; month <= 12; ++month) mn1.add(local(brt(), 2023, month, 1, 0, 0));
  EXPECT_EQ(w1.result().label(), "weekly (W1)");
  EXPECT_EQ(mn1.result().label(), "monthly (MN1)");
}

TEST(TimeframeDetectorTest, SessionsWithMissingBarsAreStillOneMinute) {
  SplitMix64 rng(11);
  // A liquid market that lost a third of its minutes.
  EXPECT_EQ(intraday(1, 5, [&] { return rng.uniform() < 0.66; }).kind, Timeframe::Kind::OneMinute);
}

TEST(TimeframeDetectorTest, SparseIlliquidOneMinuteDataIsNotMistakenForACoarserTimeframe) {
  // A bar in one minute of four to one of eight: 1 minute is no longer the
  // most common spacing, but the bars keep no coarser grid.
  for (double density : {0.25, 0.125}) {
    SplitMix64 rng(7);
    const Timeframe t = intraday(1, 30, [&] { return rng.uniform() < density; });
    EXPECT_EQ(t.kind, Timeframe::Kind::OneMinute) << "density " << density << ": " << t.label() << ", " << t.evidence();
  }
}

TEST(TimeframeDetectorTest, ACommonSpacingOffItsGridIsStillOneMinuteData) {
  // Bars 2, 2, 3 minutes apart: 2 minutes is the most common spacing, but the
  // bars keep no 2-minute grid (half of them are on odd minutes).
  TimeframeDetector detector(brt());
  for (int day = 2; day <= 5; ++day) {
    int m = 9 * 60;
    for (int i = 0; m < 18 * 60; ++i) {
      detector.add(local(brt(), 2024, 1, day, m / 60, m % 60));
      m += i % 3 == 2 ? 3 : 2;
    }
  }
  const Timeframe t = detector.result();
  EXPECT_EQ(t.kind, Timeframe::Kind::OneMinute) << t.label() << ": " << t.evidence();
}

TEST(TimeframeDetectorTest, TooFewBarsCannotBeTold) {
  TimeframeDetector few(brt());
  for (int m : {0, 5, 10, 15}) few.add(local(brt(), 2024, 1, 2, 9, m));
  EXPECT_EQ(few.result().kind, Timeframe::Kind::Unknown);
  EXPECT_EQ(few.result().label(), "unknown");
  TimeframeDetector two(brt());
  two.add(local(brt(), 2024, 1, 2, 0, 0));
  two.add(local(brt(), 2024, 1, 3, 0, 0));
  EXPECT_EQ(two.result().kind, Timeframe::Kind::Unknown);
  EXPECT_EQ(TimeframeDetector(brt()).result().kind, Timeframe::Kind::Unknown);
}

TEST(TimeframeDetectorTest, SubMinuteBarsAreNotOneMinuteBars) {
  TimeframeDetector detector;
  for (int i = 0; i < 200; ++i) detector.add(Timestamp(std::chrono::seconds(1'700'000'000 + 30 * i)));
  EXPECT_EQ(detector.result().kind, Timeframe::Kind::Other);
  EXPECT_EQ(detector.result().label(), "30-second");
}

TEST(TimeframeDetectorTest, AShiftedGridIsStillAGrid) {
  // Hour bars of an exchange at UTC+05:30 lie on its local hours; read in UTC
  // (a lake verified without the instrument's zone) they sit at half past.
  const TimeZone india = *TimeZone::find("Asia/Kolkata");
  TimeframeDetector local_zone(india), utc;
  for (int day = 1; day <= 10; ++day) {
    for (int hh = 9; hh <= 15; ++hh) {
      const Timestamp ts = local(india, 2024, 1, day, hh, 0);
      local_zone.add(ts);
      utc.add(ts);
    }
  }
  EXPECT_EQ(local_zone.result().mt5_name(), "H1");
  EXPECT_EQ(utc.result().mt5_name(), "H1");
}

// Property: 1-minute bars, however many are missing, are never refused.
RC_GTEST_PROP(TimeframeDetectorProperty, OneMinuteBarsWithAnyGapsAreNeverAnotherTimeframe, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const double density = *rc::gen::inRange(5, 101) / 100.0;
  SplitMix64 rng(seed);
  const Timeframe t = intraday(1, 5, [&] { return rng.uniform() < density; });
  RC_ASSERT(t.kind != Timeframe::Kind::Other);
}

TEST(TimeframeDetectorTest, ThousandsAreSeparated) {
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1234), "1,234");
  EXPECT_EQ(with_thousands(1234567), "1,234,567");
  EXPECT_EQ(with_thousands(-1234), "-1,234");
}

}  // namespace
}  // namespace quant
