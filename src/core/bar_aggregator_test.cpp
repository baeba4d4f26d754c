#include "core/bar_aggregator.h"

#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace quant {
namespace {

using namespace std::chrono;

Timestamp at(int64_t seconds) { return Timestamp(Duration(seconds * 1'000'000'000LL)); }
Timestamp utc_time(int year, unsigned month, unsigned day, int hour) {
  return Timestamp(std::chrono::sys_days(std::chrono::year(year) / std::chrono::month(month) / std::chrono::day(day)).time_since_epoch() +
                   std::chrono::hours(hour));
}
constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 60 * kMinute;

TEST(BarAggregatorTest, TradesBecomeMinuteBars) {
  BarAggregator agg;
  EXPECT_FALSE(agg.add_trade(at(60), 10, 1));
  EXPECT_FALSE(agg.add_trade(at(70), 12, 2));
  EXPECT_FALSE(agg.add_trade(at(119), 9, 1));
  auto bar = agg.add_trade(at(120), 11, 5);
  ASSERT_TRUE(bar);
  EXPECT_EQ(bar->ts, at(60));
  EXPECT_EQ(bar->open, 10);
  EXPECT_EQ(bar->high, 12);
  EXPECT_EQ(bar->low, 9);
  EXPECT_EQ(bar->close, 9);
  EXPECT_EQ(bar->tick_volume, 3);
  EXPECT_EQ(bar->volume, 4);
  auto last = agg.finish();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->ts, at(120));
  EXPECT_FALSE(agg.finish());
}

TEST(BarAggregatorTest, LateUpdatesAreCountedNotMerged) {
  BarAggregator agg;
  agg.add_trade(at(120), 10, 1);
  EXPECT_FALSE(agg.add_trade(at(60), 99, 1));
  EXPECT_EQ(agg.late_updates(), 1);
  EXPECT_EQ(agg.finish()->high, 10);
}

TEST(BarAggregatorTest, FlushByClock) {
  BarAggregator agg;
  agg.add_trade(at(60), 10, 1);
  EXPECT_FALSE(agg.flush_until(at(119)));
  EXPECT_TRUE(agg.flush_until(at(120)));
}

TEST(BarAggregatorTest, TicksUseLastElseBid) {
  BarAggregator agg;
  Tick fx;
  fx.ts = at(0);
  fx.bid = 1.1;
  fx.ask = 1.2;
  agg.add_tick(fx);
  EXPECT_EQ(agg.finish()->close, 1.1);
  Tick exch = fx;
  exch.last = 1.15;
  exch.flags = kTickLast;
  agg.add_tick(exch);
  EXPECT_EQ(agg.finish()->close, 1.15);
}

TEST(BarResamplerTest, HourBarsAlignToLocalHoursAndDaysToLocalMidnight) {
  auto zone = TimeZone::find("America/Sao_Paulo").value();
  BarResampler hourly(hours(1), zone);
  // 12:58, 12:59 UTC = 09:58, 09:59 BRT → one bar at 09:00 BRT = 12:00 UTC; 13:00 UTC starts the next.
  Bar b;
  b.open = b.high = b.low = b.close = 1;
  b.ts = at(12 * kHour + 58 * kMinute);
  EXPECT_FALSE(hourly.add(b));
  b.ts = at(12 * kHour + 59 * kMinute);
  EXPECT_FALSE(hourly.add(b));
  b.ts = at(13 * kHour);
  auto out = hourly.add(b);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ts, at(12 * kHour));
  EXPECT_EQ(out->tick_volume, 0);

  BarResampler daily(hours(24), zone);
  b.ts = at(2 * kHour);  // 23:00 BRT of the previous day
  daily.add(b);
  b.ts = at(4 * kHour);  // 01:00 BRT
  out = daily.add(b);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ts, at(-21 * kHour));  // previous local midnight = 03:00 UTC of Dec 31
}

// Across both DST changes of New York (and a day start of 17:00, as FX uses),
// every 1-minute bar lands in the bucket its local time says: the resampler's
// shortcut for bars of the open bucket agrees with the zone, minute by minute.
TEST(BarResamplerTest, BucketsFollowLocalTimeAcrossDaylightSavingChanges) {
  auto zone = TimeZone::find("America/New_York").value();
  const std::vector<std::pair<Duration, Duration>> cases = {
      {hours(1), Duration(0)}, {hours(24), hours(17)}, {std::chrono::minutes(15), Duration(0)}};
  for (const auto& [interval, day_start] : cases) {
    BarResampler resampler(interval, zone, day_start);
    std::vector<Bar> got;
    // Runs of consecutive bars with the same local bucket (a repeated local
    // hour after the autumn change is a new run): (bucket, first bar, bars).
    std::vector<std::tuple<std::int64_t, Timestamp, std::int64_t>> expected;
    for (const Timestamp start : {utc_time(2024, 3, 9, 12), utc_time(2024, 11, 2, 12)}) {
      for (int m = 0; m < 3 * 24 * 60; ++m) {
        Bar b;
        b.ts = start + std::chrono::minutes(m);
        b.open = b.high = b.low = b.close = 100;
        b.tick_volume = 1;
        if (auto out = resampler.add(b)) got.push_back(*out);
        const auto local = zone.to_local(b.ts).time_since_epoch() - day_start;
        std::int64_t q = local.count() / interval.count();
        if (local.count() % interval.count() < 0) --q;
        if (expected.empty() || std::get<0>(expected.back()) != q) expected.emplace_back(q, b.ts, 0);
        ++std::get<2>(expected.back());
      }
    }
    if (auto out = resampler.finish()) got.push_back(*out);
    ASSERT_EQ(got.size(), expected.size());
    std::size_t i = 0;
    for (const auto& [bucket, first, bars] : expected) {
      EXPECT_EQ(got[i].tick_volume, bars) << "bucket " << i << " of " << interval.count();
      EXPECT_LE(got[i].ts, first);
      ++i;
    }
  }
}

RC_GTEST_PROP(BarAggregatorProperty, VolumesAndExtremesArePreserved, ()) {
  const auto n = *rc::gen::inRange(1, 400);
  std::vector<std::pair<int64_t, int>> trades;
  int64_t t = 0;
  for (int i = 0; i < n; ++i) {
    t += *rc::gen::inRange(0, 90);
    trades.emplace_back(t, *rc::gen::inRange(1, 1000));
  }
  BarAggregator agg;
  std::vector<Bar> bars;
  for (auto [s, p] : trades) {
    if (auto b = agg.add_trade(at(s), p, 1)) bars.push_back(*b);
  }
  if (auto b = agg.finish()) bars.push_back(*b);
  int64_t ticks = 0;
  double hi = 0, lo = 1e9;
  for (size_t i = 0; i < bars.size(); ++i) {
    ticks += bars[i].tick_volume;
    hi = std::max(hi, bars[i].high);
    lo = std::min(lo, bars[i].low);
    RC_ASSERT(bars[i].low <= std::min(bars[i].open, bars[i].close));
    RC_ASSERT(bars[i].high >= std::max(bars[i].open, bars[i].close));
    if (i > 0) RC_ASSERT(bars[i].ts > bars[i - 1].ts);
  }
  RC_ASSERT(ticks == n);
  double want_hi = 0, want_lo = 1e9;
  for (auto [s, p] : trades) {
    want_hi = std::max<double>(want_hi, p);
    want_lo = std::min<double>(want_lo, p);
  }
  RC_ASSERT(hi == want_hi);
  RC_ASSERT(lo == want_lo);
}

}  // namespace
}  // namespace quant
