// Order-flow imbalance on the real files of ../shared/data: the Tardis 5- and
// 25-level snapshots, the Deribit incremental book, the Binance depth snapshot
// + updates, and the WIN time and sales of 2021-06-15 (no aggressor column:
// the tick rule). Values checked by hand from the rows quoted in comments.
// Skipped when the folder is absent, failed instead when CI is set.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "features/order_flow.h"
#include "features/test_market_files.h"

namespace quant::features {
namespace {

using quant::testing::read_incremental;
using quant::testing::read_tardis_snapshots;
using quant::testing::read_win_trades_gz;
using quant::testing::shared_data;

constexpr const char* kTardis5 = "book/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv";
constexpr const char* kTardis25 = "book/tardis_binance-futures_book_snapshot_25_BTCUSDT.csv";

TEST(OrderFlowRealDataTest, TardisFiveLevelSnapshots) {
  const std::string path = shared_data(kTardis5);
  QUANT_REQUIRE_SHARED_FILE(path);
  const auto books = read_tardis_snapshots(path);
  ASSERT_EQ(books.size(), 10u);
  // Row 1 (1598918403696000 µs = 2020-09-01T00:00:03.696Z):
  //   asks 11657.08 × 1.714, 11657.54 × 5.4, 11657.56 × 0.238, 11657.61 × 0.077, 11657.92 × 0.918 → 8.347
  //   bids 11657.07 × 10.896, 11656.97 × 0.2, 11655.78 × 0.2, 11655.77 × 0.98, 11655.68 × 0.111 → 12.387
  EXPECT_EQ(format_utc(books[0].ts), "2020-09-01T00:00:03.696Z");
  EXPECT_NEAR(*book_imbalance(books[0], 1), (10.896 - 1.714) / (10.896 + 1.714), 1e-12);  // 0.728152
  EXPECT_NEAR(*book_imbalance(books[0], 5), (12.387 - 8.347) / (12.387 + 8.347), 1e-12);  // 0.194849
  EXPECT_NEAR(*book_imbalance(books[0], 5), 0.194849, 1e-6);
  // Row 8 (…404132000): a 4.544 bid appears at 11655.79 → bids 16.805, asks 8.11 → 0.348987.
  EXPECT_NEAR(*book_imbalance(books[7], 5), (16.805 - 8.11) / (16.805 + 8.11), 1e-12);
  // Asking for more levels than the file has uses the five it has.
  EXPECT_EQ(*book_imbalance(books[0], 25), *book_imbalance(books[0], 5));

  // Bars: every snapshot lies in the minute 00:00; the bar closing at 00:01
  // sees the last one (…404284000, 55.7 s old: 12.449 vs 8.026 → 0.216020),
  // the bar closing at 00:02 sees it 115.7 s old: no value at the 60 s limit.
  OrderFlowConfig config;
  config.depth = 5;
  OrderFlowSampler sampler(config);
  for (const auto& b : books) sampler.add(b);
  const Timestamp minute = minute_of(books[0].ts);
  EXPECT_NEAR(*sampler.sample(minute + kMinute), (12.449 - 8.026) / (12.449 + 8.026), 1e-12);
  EXPECT_FALSE(sampler.sample(minute + 2 * kMinute));
  EXPECT_EQ(sampler.counts().snapshots, 10);
  EXPECT_EQ(sampler.counts().unusable_snapshots, 0);
}

TEST(OrderFlowRealDataTest, TardisTwentyFiveLevelsAgreeWithTheFiveLevelFile) {
  const std::string p5 = shared_data(kTardis5), p25 = shared_data(kTardis25);
  QUANT_REQUIRE_SHARED_FILE(p25);
  const auto five = read_tardis_snapshots(p5);
  const auto deep = read_tardis_snapshots(p25);
  ASSERT_EQ(deep.size(), 10u);
  ASSERT_EQ(deep[0].bids.size(), 25u);
  ASSERT_EQ(deep[0].asks.size(), 25u);
  // The two recordings share four timestamps; there the top five levels are the same book.
  int shared = 0;
  for (const auto& d : deep) {
    for (const auto& f : five) {
      if (f.ts != d.ts) continue;
      ++shared;
      EXPECT_EQ(*book_imbalance(d, 5), *book_imbalance(f, 5)) << format_utc(d.ts);
      EXPECT_EQ(*book_imbalance(d, 1), *book_imbalance(f, 1)) << format_utc(d.ts);
    }
  }
  EXPECT_EQ(shared, 4);
  // All 25 levels of row 1: bids 25.872, asks 18.974 → 0.153815; deeper levels dilute the top's 0.7282.
  EXPECT_NEAR(*book_imbalance(deep[0], 25), 0.153815, 1e-6);
  double bids = 0, asks = 0;
  for (const auto& l : deep[0].bids) bids += l.size;
  for (const auto& l : deep[0].asks) asks += l.size;
  EXPECT_NEAR(bids, 25.872, 1e-9);
  EXPECT_NEAR(asks, 18.974, 1e-9);
  EXPECT_DOUBLE_EQ(*book_imbalance(deep[0], 25), (bids - asks) / (bids + asks));
}

TEST(OrderFlowRealDataTest, DeribitIncrementalBookIsOneSided) {
  const std::string path = shared_data("book/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv");
  QUANT_REQUIRE_SHARED_FILE(path);
  OrderBook ob;
  std::vector<BookSnapshot> books;
  read_incremental(path, {2, 5, 6, 7, 4, "bid", "true", 1000}, 25, ob, books);
  // 15 snapshot rows sharing one timestamp, every one of them an ask (6421.5 × 18640 … 6428.5 × 39950):
  // one snapshot with no bid side, so no imbalance and the sampler reports it unusable.
  ASSERT_EQ(books.size(), 1u);
  EXPECT_TRUE(books[0].bids.empty());
  EXPECT_EQ(books[0].asks.size(), 15u);
  EXPECT_EQ(books[0].asks[0], (BookLevel{6421.5, 18640}));
  EXPECT_FALSE(book_imbalance(books[0], 5));
  OrderFlowSampler sampler(OrderFlowConfig{});
  sampler.add(books[0]);
  EXPECT_FALSE(sampler.sample(minute_of(books[0].ts) + kMinute));
  EXPECT_EQ(sampler.counts().unusable_snapshots, 1);
}

TEST(OrderFlowRealDataTest, BinanceDepthSnapshotThenUpdates) {
  const std::string snap = shared_data("book/binance_btcusdt-depth-snap.csv");
  const std::string update = shared_data("book/binance_btcusdt-depth-update.csv");
  QUANT_REQUIRE_SHARED_FILE(snap);
  OrderBook ob;
  std::vector<BookSnapshot> books;
  const quant::testing::IncrementalLayout layout{1, 4, 6, 7, 5, "b", "snap", 1'000'000};
  read_incremental(snap, layout, 100, ob, books);
  // The snapshot file holds 100 bid levels (20377.00 × 1.770 first) and no ask: no value.
  ASSERT_EQ(books.size(), 1u);
  EXPECT_EQ(books[0].bids.size(), 100u);
  EXPECT_TRUE(books[0].asks.empty());
  EXPECT_FALSE(book_imbalance(books[0], 5));
  read_incremental(update, layout, 100, ob, books);
  // 100 "set" rows at 1667347199939 ms (77 asks, 23 bids; qty 0 deletes) on top of it:
  // 120 bids, 30 asks; best bid 20472.1 × 22.276, best ask 20472.2 × 4.211.
  ASSERT_EQ(books.size(), 2u);
  const BookSnapshot& b = books[1];
  EXPECT_EQ(format_utc(b.ts), "2022-11-01T23:59:59.939Z");
  EXPECT_EQ(b.bids.size(), 100u);  // top 100 kept
  EXPECT_EQ(b.asks.size(), 30u);
  EXPECT_EQ(b.bids[0], (BookLevel{20472.1, 22.276}));
  EXPECT_EQ(b.asks[0], (BookLevel{20472.2, 4.211}));
  EXPECT_NEAR(*book_imbalance(b, 1), (22.276 - 4.211) / (22.276 + 4.211), 1e-12);  // 0.682033
  // Top five: bids 28.769, asks 4.974 → 0.705183; top ten 0.547024.
  EXPECT_NEAR(*book_imbalance(b, 5), (28.769 - 4.974) / (28.769 + 4.974), 1e-9);
  EXPECT_NEAR(*book_imbalance(b, 10), 0.547024, 1e-6);
}

TEST(OrderFlowRealDataTest, WinTradesByTheTickRule) {
  const std::string path = shared_data("b3/WIN_trades_2021-06-15.csv.gz");
  QUANT_REQUIRE_SHARED_FILE(path);
  const auto trades = read_win_trades_gz(path);
  ASSERT_EQ(trades.size(), 12399u);
  EXPECT_EQ(format_utc(trades.front().ts), "2021-06-15T18:41:32Z");  // 15:41:32 BRT
  EXPECT_EQ(format_utc(trades.back().ts), "2021-06-15T20:30:57Z");

  // The first 19 rows (15:41:32 … 15:41:41), by hand:
  //   130060 ×1, 130060 ×1                 unknown (no earlier price), 2 lots
  //   130065 ×10, ×1, ×1, ×4; 130070 ×1     buy (uptick, zero ticks, uptick): 17
  //   130065 ×8, ×5, ×1                     sell (downtick, zero ticks): 14
  //   130075 ×50, ×1, ×1, ×2; 130080 ×6, ×5, ×38; 130085 ×5, ×2   buy: 110
  TradeClassifier classifier(5);
  double buy = 0, sell = 0, unknown = 0;
  for (std::size_t i = 0; i < 19; ++i) {
    const Aggressor side = classifier.classify(trades[i]);
    (side == Aggressor::Buy ? buy : side == Aggressor::Sell ? sell : unknown) += trades[i].volume;
  }
  EXPECT_EQ(buy, 127);
  EXPECT_EQ(sell, 14);
  EXPECT_EQ(unknown, 2);

  // Per bar, fed as the backtest feeds it (trades before each close, then sample).
  OrderFlowConfig config;
  config.source = OrderFlowSource::Trades;
  config.tick_size = 5;
  OrderFlowSampler sampler(config);
  std::vector<std::pair<Timestamp, double>> values;
  std::size_t next = 0;
  const Timestamp first = minute_of(trades.front().ts);
  for (Timestamp close = first + kMinute; close <= minute_of(trades.back().ts) + kMinute; close += kMinute) {
    while (next < trades.size() && trades[next].ts < close) sampler.add(trades[next++]);
    if (auto v = sampler.sample(close)) values.emplace_back(close, *v);
  }
  // 15:41 … 17:30 BRT: 110 one-minute bars, every one with trades and a value.
  ASSERT_EQ(values.size(), 110u);
  const OrderFlowCounts& c = sampler.counts();
  EXPECT_EQ(c.trades, 12399);
  EXPECT_EQ(c.trades_by_aggressor, 0);  // the file has no aggressor column
  EXPECT_EQ(c.trades_unclassified, 2);  // the two 130060 trades before the first price change
  EXPECT_EQ(c.trades_by_tick_rule, 12397);
  EXPECT_EQ(c.late, 0);
  // Bar 15:41 (53 trades): buy 221, sell 137, 2 unsigned → 84 / 358 = 0.234637.
  EXPECT_EQ(format_utc(values[0].first), "2021-06-15T18:42:00Z");
  EXPECT_DOUBLE_EQ(values[0].second, 84.0 / 358.0);
  // Bar 15:42 (115 trades): buy 731, sell 368 → 0.330300; bar 15:43: 249 vs 508 → −0.342140.
  EXPECT_DOUBLE_EQ(values[1].second, 363.0 / 1099.0);
  EXPECT_DOUBLE_EQ(values[2].second, -259.0 / 757.0);
  // Bar 17:30 (the last, 101 trades): buy 786, sell 476 → 0.245642.
  EXPECT_EQ(format_utc(values.back().first), "2021-06-15T20:31:00Z");
  EXPECT_DOUBLE_EQ(values.back().second, 310.0 / 1262.0);
  int at_least = 0, at_most = 0;
  double lowest = 1, highest = -1;
  for (const auto& [close, v] : values) {
    at_least += v >= 0.1;
    at_most += v <= -0.1;
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
  }
  // With the default threshold 0.1: 46 bars would pass a long, 35 a short, 29 neither.
  EXPECT_EQ(at_least, 46);
  EXPECT_EQ(at_most, 35);
  EXPECT_NEAR(lowest, -0.662100, 1e-6);
  EXPECT_NEAR(highest, 0.718310, 1e-6);
  std::printf("[ order flow ] WIN 2021-06-15: %zu bars, imbalance %.4f .. %.4f, %d >= 0.1, %d <= -0.1\n", values.size(),
              lowest, highest, at_least, at_most);
  // The streaming sampler equals its batch twin on the real day.
  std::vector<Timestamp> closes;
  closes.reserve(values.size());
  for (const auto& [close, v] : values) closes.push_back(close);
  const auto batch = order_flow_batch(config, {}, trades, closes);
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_DOUBLE_EQ(*batch[i], values[i].second);
}

}  // namespace
}  // namespace quant::features
