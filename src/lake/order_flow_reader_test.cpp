// Trades and book snapshots streamed back from the lake, and the order-flow
// adapter that turns them into each bar's imbalance: window bounds, chunk and
// batch boundaries, the auto choice of source, no look-ahead, and the real
// WIN trades and Tardis snapshots of ../shared/data.
#include "lake/order_flow_reader.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/bar_aggregator.h"
#include "features/test_market_files.h"
#include "lake/lake.h"
#include "lake/test_lake.h"

namespace quant::lake {
namespace {

using quant::testing::open_lake;
using quant::testing::TempDir;
using quant::testing::utc;
using std::chrono::minutes;
using std::chrono::seconds;

bool same_trade(const Trade& a, const Trade& b) {
  return a.ts == b.ts && a.price == b.price && a.volume == b.volume && a.aggressor == b.aggressor;
}

bool same_book(const BookSnapshot& a, const BookSnapshot& b) {
  return a.ts == b.ts && a.bids == b.bids && a.asks == b.asks;
}

template <class Record>
void write(Lake& lake, Dataset dataset, const std::string& symbol, const std::vector<Record>& records) {
  auto writer = lake.writer(dataset, symbol);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  for (const Record& r : records) (*writer)->add(r);
  auto stats = (*writer)->flush();
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
}

std::vector<Trade> read_trades(Lake& lake, const std::string& symbol, Timestamp from, Timestamp to, std::size_t batch) {
  return quant::testing::drain<Trade>(lake.stream_trades(symbol, from, to, batch), batch);
}

std::vector<BookSnapshot> read_books(Lake& lake, const std::string& symbol, Timestamp from, Timestamp to,
                                     std::size_t batch) {
  return quant::testing::drain<BookSnapshot>(lake.stream_book(symbol, from, to, batch), batch);
}

// Trades every 20 s from Jan 31 22:00 to Feb 1 02:00 UTC (two partitions), two per timestamp.
std::vector<Trade> two_month_trades() {
  std::vector<Trade> out;
  const Timestamp start = utc(2021, 1, 31, 22);
  for (int i = 0; i < 4 * 180; ++i) {
    const Timestamp ts = start + seconds(20 * i);
    const auto side = static_cast<Aggressor>(i % 3 - 1);
    out.push_back({ts, 100000 + 5.0 * (i % 17), 1.0 + i % 5, side});
    out.push_back({ts, 100005 + 5.0 * (i % 17), 2.0, Aggressor::Unknown});
  }
  return out;
}

TEST(LakeStreamsTest, TradesComeBackInOrderWithinTheWindow) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto trades = two_month_trades();
  write(*lake, Dataset::Trades, "WIN", trades);
  for (std::size_t batch : {std::size_t{7}, std::size_t{65536}}) {
    const auto all = read_trades(*lake, "WIN", Timestamp::min(), Timestamp::max(), batch);
    ASSERT_EQ(all.size(), trades.size());
    for (std::size_t i = 0; i < all.size(); ++i) ASSERT_TRUE(same_trade(all[i], trades[i])) << i;
  }
  // [from, to) across the month boundary: from inclusive, to exclusive, both mid-timestamp pairs.
  const Timestamp from = trades[100].ts, to = trades[1000].ts;
  const auto window = read_trades(*lake, "WIN", from, to, 13);
  ASSERT_EQ(window.size(), 900u);
  EXPECT_TRUE(same_trade(window.front(), trades[100]));
  EXPECT_TRUE(same_trade(window.back(), trades[999]));
  EXPECT_TRUE(read_trades(*lake, "WIN", to, to, 5).empty());
  EXPECT_TRUE(read_trades(*lake, "WDO", from, to, 5).empty());
  EXPECT_FALSE(lake->stream_trades("bad/symbol", from, to));
}

// Snapshots with 0–5 levels a side (empty and one-sided ones included), two
// per timestamp now and then, enough rows to cross DuckDB's 2048-row chunks.
std::vector<BookSnapshot> varied_books(Timestamp start, int count) {
  std::vector<BookSnapshot> out;
  for (int i = 0; i < count; ++i) {
    BookSnapshot b;
    b.ts = start + std::chrono::milliseconds(500 * (i - i % 3 / 2));  // i % 3 == 2 repeats the previous timestamp
    for (int l = 0; l < i % 6; ++l) b.bids.push_back({1000.0 - l, 1.0 + (i + l) % 7});
    for (int l = 0; l < (i / 2) % 5; ++l) b.asks.push_back({1001.0 + l, 0.5 + (i * l) % 4});
    out.push_back(b);
  }
  return out;
}

TEST(LakeStreamsTest, BookSnapshotsComeBackWholeAcrossChunksAndBatches) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto books = varied_books(utc(2021, 3, 1, 12), 1500);
  write(*lake, Dataset::Book, "BTC", books);
  for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    const auto back = read_books(*lake, "BTC", Timestamp::min(), Timestamp::max(), batch);
    ASSERT_EQ(back.size(), books.size()) << "batch " << batch;
    for (std::size_t i = 0; i < back.size(); ++i) ASSERT_TRUE(same_book(back[i], books[i])) << i << " batch " << batch;
  }
  const auto window = read_books(*lake, "BTC", books[30].ts, books[600].ts, 64);
  ASSERT_FALSE(window.empty());
  EXPECT_EQ(window.front().ts, books[30].ts);
  EXPECT_LT(window.back().ts, books[600].ts);
  EXPECT_TRUE(read_books(*lake, "ETH", Timestamp::min(), Timestamp::max(), 4).empty());
}

TEST(LakeStreamsTest, RealTardisSnapshotsRoundTrip) {
  const std::string path = quant::testing::shared_data("book/tardis_binance-futures_book_snapshot_25_BTCUSDT.csv");
  QUANT_REQUIRE_SHARED_FILE(path);
  const auto books = quant::testing::read_tardis_snapshots(path);
  ASSERT_EQ(books.size(), 10u);
  TempDir dir;
  auto lake = open_lake(dir);
  write(*lake, Dataset::Book, "BTCUSDT", books);
  const auto back = read_books(*lake, "BTCUSDT", Timestamp::min(), Timestamp::max(), 3);
  ASSERT_EQ(back.size(), 10u);
  for (std::size_t i = 0; i < back.size(); ++i) EXPECT_TRUE(same_book(back[i], books[i])) << i;
  EXPECT_EQ(back[0].bids.size(), 25u);
  EXPECT_NEAR(*features::book_imbalance(back[0], 25), 0.153815, 1e-6);  // as the features test finds it in the file
}

std::vector<Bar> minute_bars(Timestamp start, int count) { return quant::testing::make_bars(start, count, kMinute); }

features::OrderFlowConfig sampler_config() {
  features::OrderFlowConfig c;
  c.depth = 1;
  c.tick_size = 5;
  return c;
}

ImbalanceRequest request_for(const std::string& symbol, std::optional<features::OrderFlowSource> source) {
  ImbalanceRequest r;
  r.symbol = symbol;
  r.source = source;
  r.sampler = sampler_config();
  return r;
}

BookSnapshot one_level(Timestamp ts, double bid, double ask) {
  BookSnapshot b;
  b.ts = ts;
  b.bids = {{995, bid}};
  b.asks = {{1000, ask}};
  return b;
}

TEST(OrderFlowReaderTest, AutoReadsTheBookWhenThereIsOneElseTrades) {
  TempDir dir;
  auto lake = open_lake(dir);
  const Timestamp t0 = utc(2021, 6, 15, 13);
  quant::testing::write_bars(*lake, "WIN", minute_bars(t0, 5));
  // Trades: bar 0 buy 3 / sell 1 (explicit aggressors) → 0.5; bar 2 one buy → 1.
  write(*lake, Dataset::Trades, "WIN",
        std::vector<Trade>{{t0 + seconds(5), 100000, 3, Aggressor::Buy},
                           {t0 + seconds(50), 100000, 1, Aggressor::Sell},
                           {t0 + minutes(2) + seconds(1), 100005, 2, Aggressor::Buy}});
  auto series = read_imbalance_series(*lake, request_for("WIN", std::nullopt));
  ASSERT_TRUE(series.has_value()) << series.error().message;
  EXPECT_EQ(series->source, features::OrderFlowSource::Trades);
  EXPECT_EQ(series->bars, 5);
  ASSERT_EQ(series->samples.size(), 2u);
  EXPECT_EQ(series->samples[0].close, t0 + minutes(1));
  EXPECT_DOUBLE_EQ(series->samples[0].value, 0.5);
  EXPECT_EQ(series->samples[1].close, t0 + minutes(3));
  EXPECT_DOUBLE_EQ(series->samples[1].value, 1.0);
  EXPECT_EQ(series->counts.trades, 3);
  EXPECT_EQ(series->counts.trades_by_aggressor, 3);

  // Asked for the book explicitly, without one: nothing read, the caller says what to ingest.
  auto book_only = read_imbalance_series(*lake, request_for("WIN", features::OrderFlowSource::Book));
  ASSERT_TRUE(book_only.has_value()) << book_only.error().message;
  EXPECT_EQ(book_only->source, features::OrderFlowSource::Book);
  EXPECT_EQ(book_only->counts.snapshots, 0);
  EXPECT_TRUE(book_only->samples.empty());

  // A snapshot 30 s before the window (within max_book_age) is book data for it: auto takes the book.
  write(*lake, Dataset::Book, "WIN",
        std::vector<BookSnapshot>{one_level(t0 - seconds(30), 3, 1), one_level(t0 + minutes(3), 1, 4)});
  ImbalanceRequest window = request_for("WIN", std::nullopt);
  window.from = t0;
  auto book = read_imbalance_series(*lake, window);
  ASSERT_TRUE(book.has_value()) << book.error().message;
  EXPECT_EQ(book->source, features::OrderFlowSource::Book);
  // Bar 0 (close t0+1): the snapshot from t0−30 s, 90 s old > 60 s: no value. Bars 1, 2: none
  // newer and older than 60 s. Bar 2 closes at t0+3: the snapshot stamped exactly then counts
  // (1 vs 4 → −0.6), and holds for bar 3 (60 s old).
  ASSERT_EQ(book->samples.size(), 2u);
  EXPECT_EQ(book->samples[0].close, t0 + minutes(3));
  EXPECT_DOUBLE_EQ(book->samples[0].value, -0.6);
  EXPECT_EQ(book->samples[1].close, t0 + minutes(4));
  EXPECT_EQ(book->counts.snapshots, 2);
  // Explicit trades still reads the trades.
  auto trades = read_imbalance_series(*lake, request_for("WIN", features::OrderFlowSource::Trades));
  ASSERT_TRUE(trades.has_value());
  EXPECT_EQ(trades->source, features::OrderFlowSource::Trades);
  EXPECT_EQ(trades->samples.size(), 2u);

  ImbalanceRequest bad = request_for("WIN", std::nullopt);
  bad.sampler.depth = 0;
  EXPECT_FALSE(read_imbalance_series(*lake, bad));
}

TEST(OrderFlowReaderTest, EventsAfterACloseNeverChangeThatBar) {
  // Two lakes: one with the whole day's events, one where nothing after
  // `cut` was ever recorded. Every bar closing at or before `cut` gets the
  // same value from both; trades stamped exactly at `cut` belong to the next bar.
  const Timestamp t0 = utc(2021, 6, 15, 13);
  const auto bars = minute_bars(t0, 30);
  std::vector<Trade> trades;
  std::vector<BookSnapshot> books;
  for (int i = 0; i < 30 * 12; ++i) {
    const Timestamp ts = t0 + seconds(5 * i);
    trades.push_back({ts, 100000 + 5.0 * ((i * 7) % 11), 1.0 + i % 4, Aggressor::Unknown});
    books.push_back(one_level(ts, 1.0 + (i * 3) % 5, 1.0 + (i * 5) % 7));
  }
  const Timestamp cut = t0 + minutes(17);
  for (auto source : {features::OrderFlowSource::Trades, features::OrderFlowSource::Book}) {
    TempDir full_dir;
    auto full = open_lake(full_dir);
    quant::testing::write_bars(*full, "WIN", bars);
    write(*full, Dataset::Trades, "WIN", trades);
    write(*full, Dataset::Book, "WIN", books);
    TempDir cut_dir;
    auto truncated = open_lake(cut_dir);
    quant::testing::write_bars(*truncated, "WIN", bars);
    std::vector<Trade> early_trades;
    for (const Trade& t : trades) {
      if (t.ts < cut) early_trades.push_back(t);
    }
    std::vector<BookSnapshot> early_books;
    for (const BookSnapshot& b : books) {
      if (b.ts <= cut) early_books.push_back(b);
    }
    write(*truncated, Dataset::Trades, "WIN", early_trades);
    write(*truncated, Dataset::Book, "WIN", early_books);
    auto a = read_imbalance_series(*full, request_for("WIN", source));
    auto b = read_imbalance_series(*truncated, request_for("WIN", source));
    ASSERT_TRUE(a && b);
    std::size_t compared = 0;
    for (std::size_t i = 0; i < a->samples.size() && a->samples[i].close <= cut; ++i) {
      ASSERT_LT(i, b->samples.size());
      EXPECT_EQ(a->samples[i].close, b->samples[i].close);
      EXPECT_EQ(a->samples[i].value, b->samples[i].value) << format_utc(a->samples[i].close);
      ++compared;
    }
    EXPECT_EQ(compared, 17u) << features::order_flow_source_name(source);
    // And the events after the cut do matter later (the check above is not vacuous).
    EXPECT_GT(a->samples.size(), b->samples.size());
  }
}

TEST(OrderFlowReaderTest, RealWinTradesDayThroughTheLake) {
  const std::string path = quant::testing::shared_data("b3/WIN_trades_2021-06-15.csv.gz");
  QUANT_REQUIRE_SHARED_FILE(path);
  const auto trades = quant::testing::read_win_trades_gz(path);
  ASSERT_EQ(trades.size(), 12399u);
  std::vector<Bar> bars;
  BarAggregator aggregator;
  for (const Trade& t : trades) {
    if (auto b = aggregator.add_trade(t.ts, t.price, t.volume)) bars.push_back(*b);
  }
  if (auto b = aggregator.finish()) bars.push_back(*b);
  TempDir dir;
  auto lake = open_lake(dir);
  write(*lake, Dataset::Trades, "WIN", trades);
  quant::testing::write_bars(*lake, "WIN", bars);
  ImbalanceRequest request = request_for("WIN", std::nullopt);
  request.from = utc(2021, 6, 15, 3);  // the trading day in Brasília time
  request.to = utc(2021, 6, 16, 3);
  auto series = read_imbalance_series(*lake, request);
  ASSERT_TRUE(series.has_value()) << series.error().message;
  EXPECT_EQ(series->source, features::OrderFlowSource::Trades);  // no book in the lake
  EXPECT_EQ(series->bars, 110);
  ASSERT_EQ(series->samples.size(), 110u);
  EXPECT_EQ(series->counts.trades, 12399);
  EXPECT_EQ(series->counts.trades_unclassified, 2);
  EXPECT_EQ(series->counts.late, 0);
  // The values the features test checks by hand from the file, now through Parquet and DuckDB
  // (same-second trades keep their file order through `seq`).
  EXPECT_EQ(format_utc(series->samples[0].close), "2021-06-15T18:42:00Z");
  EXPECT_DOUBLE_EQ(series->samples[0].value, 84.0 / 358.0);
  EXPECT_DOUBLE_EQ(series->samples[1].value, 363.0 / 1099.0);
  EXPECT_DOUBLE_EQ(series->samples.back().value, 310.0 / 1262.0);
  // A window of one hour reads one hour of trades.
  request.from = utc(2021, 6, 15, 19);
  request.to = utc(2021, 6, 15, 20);
  auto hour = read_imbalance_series(*lake, request);
  ASSERT_TRUE(hour.has_value());
  EXPECT_EQ(hour->bars, 60);
  EXPECT_EQ(hour->samples.size(), 60u);
  std::int64_t in_hour = 0;
  for (const Trade& t : trades) in_hour += t.ts >= request.from && t.ts < request.to;
  EXPECT_EQ(hour->counts.trades, in_hour);  // only the window's trades were read
  EXPECT_LT(in_hour, 12399);
}

}  // namespace
}  // namespace quant::lake
