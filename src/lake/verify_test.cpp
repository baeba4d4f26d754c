#include "lake/verify.h"

#include <gtest/gtest.h>

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
  verifier->add_bar(bar_at(23 * 60 + 58, 1.5));  // 23:58
  verifier->add_bar(bar_at(24 * 60 + 3, 1.5));   // 00:03 next day, same trading day
  verifier->add_bar(bar_at(24 * 60 + 17 * 60 + 5, 1.5));  // 17:05: a new trading day
  verifier->add_bar(bar_at(24 * 60 + 17 * 60 + 6, 1.25));  // off the 0.5 grid
  const VerifyReport report = verifier->finish();
  EXPECT_EQ(count_of(report, "gap"), 1);
  EXPECT_EQ(report.largest_gap, std::chrono::minutes(4));
  EXPECT_EQ(count_of(report, "off_grid"), 1);
}

}  // namespace
}  // namespace quant::lake
