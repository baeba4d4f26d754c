#include "core/time.h"

#include <gtest/gtest.h>

namespace quant {
namespace {

Timestamp utc(int y, int mo, int d, int h, int mi, int s = 0) {
  LocalTime l;
  EXPECT_TRUE(make_local_time(y, mo, d, h, mi, s, 0, l));
  return Timestamp(l.time_since_epoch());
}

LocalTime local(int y, int mo, int d, int h, int mi, int s = 0) {
  LocalTime l;
  EXPECT_TRUE(make_local_time(y, mo, d, h, mi, s, 0, l));
  return l;
}

TEST(TimeTest, EpochNanosRoundTrip) {
  const Timestamp t = utc(2020, 11, 6, 13, 28);
  EXPECT_EQ(to_epoch_ns(t), 1604669280LL * 1'000'000'000);
  EXPECT_EQ(from_epoch_ns(to_epoch_ns(t)), t);
}

TEST(TimeTest, RejectsImpossibleDates) {
  LocalTime l;
  EXPECT_FALSE(make_local_time(2021, 2, 29, 0, 0, 0, 0, l));
  EXPECT_TRUE(make_local_time(2020, 2, 29, 0, 0, 0, 0, l));
  EXPECT_FALSE(make_local_time(2021, 13, 1, 0, 0, 0, 0, l));
  EXPECT_FALSE(make_local_time(2021, 1, 1, 24, 0, 0, 0, l));
}

TEST(TimeTest, SaoPauloWithoutDstSince2019) {
  auto zone = TimeZone::find("America/Sao_Paulo");
  ASSERT_TRUE(zone);
  // 2020-11-06 10:28 BRT = 13:28 UTC (Brazil abolished DST in 2019).
  EXPECT_EQ(zone->to_utc(local(2020, 11, 6, 10, 28)).value(), utc(2020, 11, 6, 13, 28));
}

TEST(TimeTest, SaoPauloWithDstIn2018) {
  auto zone = TimeZone::find("America/Sao_Paulo");
  ASSERT_TRUE(zone);
  // Summer time 2018-11-04 → 2019-02-17: UTC-2.
  EXPECT_EQ(zone->to_utc(local(2019, 1, 10, 10, 0)).value(), utc(2019, 1, 10, 12, 0));
  // 2018-11-04 00:30 did not exist (clocks jumped 00:00 → 01:00).
  EXPECT_FALSE(zone->to_utc(local(2018, 11, 4, 0, 30), AmbiguityPolicy::Reject));
  // 2019-02-16 23:30 happened twice.
  EXPECT_FALSE(zone->to_utc(local(2019, 2, 16, 23, 30), AmbiguityPolicy::Reject));
  EXPECT_TRUE(zone->to_utc(local(2019, 2, 16, 23, 30), AmbiguityPolicy::Earliest));
}

TEST(TimeTest, NewYorkDstAndBack) {
  auto zone = TimeZone::find("America/New_York");
  ASSERT_TRUE(zone);
  const Timestamp summer = utc(2017, 7, 3, 13, 30);
  EXPECT_EQ(format_local(zone->to_local(summer)), "2017-07-03 09:30:00");
  const Timestamp winter = utc(2017, 1, 3, 14, 30);
  EXPECT_EQ(format_local(zone->to_local(winter)), "2017-01-03 09:30:00");
  EXPECT_EQ(zone->offset(winter), std::chrono::hours(-5));
}

TEST(TimeTest, OffsetSpanCoversTheInstantAndEndsAtTheTransition) {
  auto zone = TimeZone::find("America/New_York").value();
  const Timestamp t = utc(2017, 3, 1, 12, 0);
  const auto span = zone.offset_span(t);
  EXPECT_EQ(span.offset, std::chrono::hours(-5));
  EXPECT_LE(span.begin, t);
  EXPECT_EQ(span.end, utc(2017, 3, 12, 7, 0));  // 02:00 EST → 03:00 EDT
  EXPECT_EQ(zone.offset(span.end), std::chrono::hours(-4));
  const auto u = TimeZone::utc().offset_span(t);
  EXPECT_EQ(u.offset, Duration(0));
  EXPECT_EQ(u.end, Timestamp::max());
}

TEST(TimeTest, FixedEstForHistData) {
  auto zone = TimeZone::find("Etc/GMT+5");
  ASSERT_TRUE(zone);
  EXPECT_EQ(zone->to_utc(local(2017, 7, 3, 2, 0)).value(), utc(2017, 7, 3, 7, 0));
}

TEST(TimeTest, UnknownZoneIsAClearError) {
  auto zone = TimeZone::find("Mars/Olympus");
  ASSERT_FALSE(zone);
  EXPECT_NE(zone.error().message.find("Mars/Olympus"), std::string::npos);
}

TEST(TimeTest, FormatAndParseArguments) {
  EXPECT_EQ(format_utc(utc(2013, 1, 1, 22, 0) + std::chrono::milliseconds(295)), "2013-01-01T22:00:00.295Z");
  auto z = TimeZone::find("America/Sao_Paulo").value();
  EXPECT_EQ(parse_time_arg("2021-03-01", z).value(), utc(2021, 3, 1, 3, 0));
  EXPECT_EQ(parse_time_arg("2021-03-01T10:00:00Z", z).value(), utc(2021, 3, 1, 10, 0));
  EXPECT_EQ(parse_time_arg("2021-03-01T10:00-03:00", z).value(), utc(2021, 3, 1, 13, 0));
  EXPECT_FALSE(parse_time_arg("2021-3-1", z));
  EXPECT_FALSE(parse_time_arg("2021-02-30", z));
}

}  // namespace
}  // namespace quant
