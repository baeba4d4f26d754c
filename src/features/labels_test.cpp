#include "features/labels.h"

#include <vector>

#include <gtest/gtest.h>

namespace quant::features {
namespace {

// Bar k opens at minute k.
Bar bar(int k, double open, double high, double low, double close) {
  Bar b;
  b.ts = from_epoch_ns(0) + std::chrono::minutes(k);
  b.open = open;
  b.high = high;
  b.low = low;
  b.close = close;
  return b;
}

Timestamp minute(int k) { return from_epoch_ns(0) + std::chrono::minutes(k); }

// Target 100, stop 2 × ATR 25 = 50 points, horizon 3 bars. Signal at bar 0 → entry at bar 1's open (1000).
const LabelConfig kConfig{100, 2, 3};

TEST(LabelsTest, TargetFirstIsOne) {
  const std::vector<Bar> bars = {bar(0, 990, 1000, 980, 1000), bar(1, 1000, 1040, 970, 1030),
                                 bar(2, 1030, 1100, 1020, 1090), bar(3, 1090, 1095, 900, 910)};
  const std::vector<Event> events = {{0, Side::Buy, 25}};
  LabelStats stats;
  const auto samples = label_events(bars, events, kConfig, &stats);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 1);
  EXPECT_EQ(samples[0].t0, minute(0));
  EXPECT_EQ(samples[0].t1, minute(2));                      // high 1100 >= 1000 + 100
  EXPECT_DOUBLE_EQ(samples[0].forward_points, 910 - 1000);  // close[i + H] − entry, whatever the barriers did
  EXPECT_DOUBLE_EQ(samples[0].atr, 25);
  EXPECT_EQ(stats.labelled, 1u);
  EXPECT_EQ(stats.positives, 1u);
}

TEST(LabelsTest, StopFirstIsZero) {
  const std::vector<Bar> bars = {bar(0, 990, 1000, 980, 1000), bar(1, 1000, 1010, 950, 960),  // low 950 = stop
                                 bar(2, 960, 1200, 960, 1150), bar(3, 1150, 1160, 1140, 1150)};
  const std::vector<Event> events = {{0, Side::Buy, 25}};
  const auto samples = label_events(bars, events, kConfig);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 0);
  EXPECT_EQ(samples[0].t1, minute(1));
  EXPECT_DOUBLE_EQ(samples[0].forward_points, 150);
}

TEST(LabelsTest, BothInOneBarCountsAsStop) {
  const std::vector<Bar> bars = {bar(0, 990, 1000, 980, 1000), bar(1, 1000, 1020, 990, 1000),
                                 bar(2, 1000, 1100, 950, 1050), bar(3, 1050, 1060, 1040, 1050)};
  const std::vector<Event> events = {{0, Side::Buy, 25}};
  const auto samples = label_events(bars, events, kConfig);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 0);
  EXPECT_EQ(samples[0].t1, minute(2));
}

TEST(LabelsTest, ABarOpeningBeyondTheTargetCountsAsTargetEvenIfItThenFallsThroughTheStop) {
  // Bar 2 gaps up to 1120 (≥ target 1100), then falls to 940 (≤ stop 950): the
  // backtest fills the target at the open, so the label is 1.
  const std::vector<Bar> bars = {bar(0, 990, 1000, 980, 1000), bar(1, 1000, 1020, 990, 1000),
                                 bar(2, 1120, 1130, 940, 950), bar(3, 950, 960, 940, 950)};
  const std::vector<Event> events = {{0, Side::Buy, 25}};
  const auto samples = label_events(bars, events, kConfig);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 1);
  EXPECT_EQ(samples[0].t1, minute(2));
}

TEST(LabelsTest, NeitherWithinHorizonIsZeroEndingAtHorizon) {
  const std::vector<Bar> bars = {bar(0, 990, 1000, 980, 1000), bar(1, 1000, 1050, 960, 1040),
                                 bar(2, 1040, 1090, 1000, 1080), bar(3, 1080, 1099, 1060, 1070),
                                 bar(4, 1070, 1300, 1070, 1300)};  // after the horizon: ignored
  const std::vector<Event> events = {{0, Side::Buy, 25}};
  const auto samples = label_events(bars, events, kConfig);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 0);
  EXPECT_EQ(samples[0].t1, minute(3));
  EXPECT_DOUBLE_EQ(samples[0].forward_points, 70);
}

TEST(LabelsTest, GapThroughStopAtOpenIsZero) {
  // Short from 1000: stop 1050, target 900. Bar 2 gaps open at 1080 (through the
  // stop) and later trades down to 880 (the target): the stop came first.
  const std::vector<Bar> bars = {bar(0, 1010, 1010, 995, 1000), bar(1, 1000, 1020, 990, 1010),
                                 bar(2, 1080, 1090, 880, 890), bar(3, 890, 900, 850, 860)};
  const std::vector<Event> events = {{0, Side::Sell, 25}};
  const auto samples = label_events(bars, events, kConfig);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 0);
  EXPECT_EQ(samples[0].t1, minute(2));
  EXPECT_DOUBLE_EQ(samples[0].forward_points, 1000 - 860);  // signed for a short
}

TEST(LabelsTest, ShortTargetFirstIsOne) {
  const std::vector<Bar> bars = {bar(0, 1010, 1010, 995, 1000), bar(1, 1000, 1040, 990, 1000),
                                 bar(2, 1000, 1010, 900, 905), bar(3, 905, 1100, 900, 1100)};
  const std::vector<Event> events = {{0, Side::Sell, 25}};
  const auto samples = label_events(bars, events, kConfig);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 1);
  EXPECT_EQ(samples[0].t1, minute(2));
  EXPECT_DOUBLE_EQ(samples[0].forward_points, -100);
}

TEST(LabelsTest, EntryIsNextOpenNotSignalClose) {
  // Signal close 1000 but bar 1 opens at 1060: target 1160, stop 1010.
  const std::vector<Bar> bars = {bar(0, 990, 1000, 980, 1000), bar(1, 1060, 1100, 1040, 1090),
                                 bar(2, 1090, 1150, 1080, 1140), bar(3, 1140, 1160, 1130, 1150)};
  const std::vector<Event> events = {{0, Side::Buy, 25}};
  const auto samples = label_events(bars, events, kConfig);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].label, 1);
  EXPECT_EQ(samples[0].t1, minute(3));
  EXPECT_DOUBLE_EQ(samples[0].forward_points, 90);
}

TEST(LabelsTest, DropsEventsWithoutFullHorizonAndInvalidOnes) {
  std::vector<Bar> bars;
  bars.reserve(10);
  for (int k = 0; k < 10; ++k) bars.push_back(bar(k, 1000, 1010, 990, 1000));
  const std::vector<Event> events = {
      {2, Side::Buy, 25},   // ok: needs bars 3..5
      {1, Side::Buy, 25},   // index goes back in time: invalid
      {5, Side::Sell, 0},   // no ATR: invalid
      {6, Side::Sell, 25},  // ok: 6 + 3 = 9 is the last bar
      {7, Side::Buy, 25},   // 7 + 3 = 10 is beyond the data
      {9, Side::Buy, 25},   // last bar: no next open
      {12, Side::Buy, 25},  // out of range
  };
  LabelStats stats;
  const auto samples = label_events(bars, events, kConfig, &stats);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].index, 2u);
  EXPECT_EQ(samples[1].index, 6u);
  EXPECT_EQ(samples[1].t1, minute(9));
  EXPECT_EQ(stats.events, 7u);
  EXPECT_EQ(stats.labelled, 2u);
  EXPECT_EQ(stats.dropped_horizon, 2u);
  EXPECT_EQ(stats.dropped_invalid, 3u);
  EXPECT_EQ(stats.positives, 0u);
}

}  // namespace
}  // namespace quant::features
