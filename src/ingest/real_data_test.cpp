// Imports every file of the shared real-data folder and checks exact counts,
// first/last timestamps (UTC, worked out by hand in the comments) and a few
// values. Skipped when the folder is absent.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "core/test_data.h"
#include "ingest/importer.h"
#include "ingest/test_sink.h"

namespace quant::ingest {
namespace {

using testing::CollectSink;

std::string data_path(const std::string& relative) { return std::string(QUANT_SHARED_DATA_DIR) + "/" + relative; }

#define SKIP_WITHOUT_DATA() QUANT_REQUIRE_DATA(QUANT_SHARED_DATA_DIR)

TimeZone zone(const char* name) {
  auto z = TimeZone::find(name);
  EXPECT_TRUE(z.has_value()) << name;
  return *z;
}

ImportStats run(const std::string& relative, Format format, const ImportOptions& options, CollectSink& sink) {
  auto source = open_source(data_path(relative));
  EXPECT_TRUE(source.has_value()) << (source ? "" : source.error().message);
  if (!source) return {};
  auto stats = import_source(**source, format, options, sink);
  EXPECT_TRUE(stats.has_value()) << (stats ? "" : stats.error().message);
  if (!stats) return {};
  EXPECT_EQ(stats->rejected, 0) << relative;
  if (!sink.rejects.empty()) ADD_FAILURE() << sink.rejects.front().to_string();
  return *stats;
}

std::string utc(Timestamp t) { return format_utc(t); }

TEST(RealDataTest, WinBarsCommaVariantInSaoPauloTime) {
  SKIP_WITHOUT_DATA();
  ImportOptions options;
  options.time_zone = zone("America/Sao_Paulo");
  CollectSink sink;
  const auto stats = run("b3/WIN_N_M1_2020-11_2021-03.csv.gz", Format::Mt5Bars, options, sink);
  // 54,003 data rows; the last line has no newline.
  EXPECT_EQ(stats.records, 54003);
  EXPECT_EQ(stats.lines, 54004);
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.encoding, "utf-8");
  ASSERT_EQ(sink.bars.size(), 54003u);
  // 2020.11.06 10:28 BRT (UTC-3, Brazil has had no DST since 2019) = 13:28Z.
  EXPECT_EQ(utc(stats.first_ts), "2020-11-06T13:28:00Z");
  // 2021.03.31 17:54 BRT = 20:54Z.
  EXPECT_EQ(utc(stats.last_ts), "2021-03-31T20:54:00Z");
  const Bar& b = sink.bars.front();
  EXPECT_EQ(b.open, 100120);
  EXPECT_EQ(b.high, 100150);
  EXPECT_EQ(b.low, 100080);
  EXPECT_EQ(b.close, 100105);
  EXPECT_EQ(b.tick_volume, 4222);
  EXPECT_EQ(b.volume, 12909);
  EXPECT_EQ(b.spread, 5);
  EXPECT_EQ(sink.bars.back().close, 116630);
}

TEST(RealDataTest, WinBarsPassTheTickGridOfFivePoints) {
  SKIP_WITHOUT_DATA();
  ImportOptions options;
  options.time_zone = zone("America/Sao_Paulo");
  InstrumentSpec spec;
  spec.symbol = "WIN";
  spec.tick_size = 5;
  options.spec = spec;
  CollectSink sink;
  EXPECT_EQ(run("b3/WIN_N_M1_2020-11_2021-03.csv.gz", Format::Mt5Bars, options, sink).records, 54003);
}

TEST(RealDataTest, WinTradesWithLeadingIndexColumn) {
  SKIP_WITHOUT_DATA();
  ImportOptions options;
  options.time_zone = zone("America/Sao_Paulo");
  CollectSink sink;
  const auto stats = run("b3/WIN_trades_2021-06-15.csv.gz", Format::Trades, options, sink);
  EXPECT_EQ(stats.records, 12399);
  ASSERT_EQ(sink.trades.size(), 12399u);
  // 15:41:32 BRT = 18:41:32Z; 17:30:57 BRT = 20:30:57Z.
  EXPECT_EQ(utc(stats.first_ts), "2021-06-15T18:41:32Z");
  EXPECT_EQ(utc(stats.last_ts), "2021-06-15T20:30:57Z");
  EXPECT_EQ(sink.trades.front().price, 130060.0);
  EXPECT_EQ(sink.trades.front().volume, 1);
  EXPECT_EQ(sink.trades.back().price, 130110.0);
  EXPECT_EQ(sink.trades.back().volume, 5);
}

TEST(RealDataTest, HistDataSixMonthsInFixedEst) {
  SKIP_WITHOUT_DATA();
  ImportOptions options;
  options.time_zone = zone("Etc/GMT+5");  // EST without DST (POSIX sign: GMT+5 is UTC-5)
  std::int64_t total = 0;
  Timestamp first{}, last{};
  for (int month = 1; month <= 6; ++month) {
    CollectSink sink;
    const auto stats =
        run("fx/DAT_ASCII_EURUSD_M1_20170" + std::to_string(month) + ".csv.gz", Format::HistData, options, sink);
    EXPECT_EQ(stats.lines, stats.records);  // no header
    total += stats.records;
    if (month == 1) {
      first = stats.first_ts;
      ASSERT_FALSE(sink.bars.empty());
      EXPECT_EQ(sink.bars[0].open, 1.05155);
      EXPECT_EQ(sink.bars[0].high, 1.05197);
      EXPECT_EQ(sink.bars[0].low, 1.05155);
      EXPECT_EQ(sink.bars[0].close, 1.0519);
      EXPECT_EQ(sink.bars[0].volume, 0);
    }
    if (month == 6) last = stats.last_ts;
  }
  EXPECT_EQ(total, 186348);
  // 20170102 020000 EST = 07:00Z; 20170630 165800 EST = 21:58Z.
  EXPECT_EQ(utc(first), "2017-01-02T07:00:00Z");
  EXPECT_EQ(utc(last), "2017-06-30T21:58:00Z");
}

TEST(RealDataTest, FxcmBidAndAskWithOffsetTimestamps) {
  SKIP_WITHOUT_DATA();
  for (const char* side : {"bid", "ask"}) {
    ImportOptions options;
    options.time_zone = zone("America/New_York");  // ignored: every timestamp carries +00:00
    CollectSink sink;
    const auto stats = run(std::string("fx/fxcm_gbpusd-m1-") + side + "-2012.csv.gz", Format::Csv, options, sink);
    EXPECT_EQ(stats.records, 30117) << side;
    EXPECT_EQ(utc(stats.first_ts), "2012-02-01T00:00:00Z");
    EXPECT_EQ(utc(stats.last_ts), "2012-03-01T00:00:00Z");
    ASSERT_FALSE(sink.bars.empty());
    EXPECT_EQ(sink.bars[0].open, std::string(side) == "bid" ? 1.57597 : 1.57608);
    EXPECT_EQ(sink.bars[0].volume, 0);  // no volume column
  }
}

TEST(RealDataTest, Cme6eWithTimestampUtcColumn) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  const auto stats = run("cme/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", Format::Csv, {}, sink);
  EXPECT_EQ(stats.records, 29996);
  EXPECT_EQ(utc(stats.first_ts), "2024-01-01T23:01:00Z");
  EXPECT_EQ(utc(stats.last_ts), "2024-01-31T23:59:00Z");
  EXPECT_EQ(sink.bars[0].high, 1.10785);
  EXPECT_EQ(sink.bars[0].volume, 205);
}

TEST(RealDataTest, BtcPerpWithMicrosecondFraction) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  const auto stats = run("crypto/btc-perp-20211231-20220201_1m.csv.gz", Format::Csv, {}, sink);
  EXPECT_EQ(stats.records, 45031);
  EXPECT_EQ(utc(stats.first_ts), "2021-12-31T23:01:00Z");
  EXPECT_EQ(utc(stats.last_ts), "2022-02-01T05:31:00Z");
  EXPECT_EQ(sink.bars[0].close, 46377.0);
  EXPECT_EQ(sink.bars[0].volume, 2300413.7295);
}

TEST(RealDataTest, BacktraderDailyDateOnly) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  const auto stats = run("backtrader/2006-day-001.txt", Format::Csv, {}, sink);
  EXPECT_EQ(stats.records, 255);
  // Date-only rows: the bar is stamped at local midnight (UTC here).
  EXPECT_EQ(utc(stats.first_ts), "2006-01-02T00:00:00Z");
  EXPECT_EQ(utc(stats.last_ts), "2006-12-29T00:00:00Z");
  EXPECT_EQ(sink.bars[0].open, 3578.73);
  EXPECT_EQ(sink.bars[0].high, 3605.95);
}

TEST(RealDataTest, BacktraderMinuteHeaderMissesTheTimeColumn) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  // Header "Date,Open,High,Low,Close,Volume,OpenInterest" over rows
  // "2006-01-02,09:01:00,3602.00,...": read as date + time. CRLF line ends.
  const auto stats = run("backtrader/2006-01-02-volume-min-001.txt.gz", Format::Csv, {}, sink);
  EXPECT_EQ(stats.records, 30889);
  EXPECT_EQ(utc(stats.first_ts), "2006-01-02T09:01:00Z");
  EXPECT_EQ(utc(stats.last_ts), "2006-02-27T22:00:00Z");
  const Bar& b = sink.bars.front();
  EXPECT_EQ(b.open, 3602.0);
  EXPECT_EQ(b.high, 3603.0);
  EXPECT_EQ(b.low, 3597.0);
  EXPECT_EQ(b.close, 3599.0);
  EXPECT_EQ(b.volume, 5699);
}

TEST(RealDataTest, TrueFxQuotes) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  const auto stats = run("book/truefx_usdjpy-ticks.csv", Format::Quotes, {}, sink);
  EXPECT_EQ(stats.records, 1000);
  EXPECT_EQ(utc(stats.first_ts), "2013-01-01T22:00:00.295Z");
  EXPECT_EQ(utc(stats.last_ts), "2013-01-01T22:35:13.494Z");
  EXPECT_EQ(sink.ticks[0].bid, 86.655);
  EXPECT_EQ(sink.ticks[0].ask, 86.728);
  EXPECT_FALSE(sink.ticks[0].has_last());
}

TEST(RealDataTest, LeanIbmTickQuotesWithMissingSides) {
  SKIP_WITHOUT_DATA();
  ImportOptions options;
  options.time_zone = zone("Asia/Tokyo");  // ignored: Lean is always New York
  CollectSink sink;
  const auto stats = run("lean/equity_usa_tick_ibm_20131008_quote.zip", Format::Quotes, options, sink);
  // 125,750 rows, each with exactly one side present (none has both sides 0);
  // the one row flagged suspicious (the last) is kept.
  EXPECT_EQ(stats.records, 125750);
  // 14400640 ms = 04:00:00.640 EDT (UTC-4) on 2013-10-08 = 08:00:00.640Z.
  EXPECT_EQ(utc(stats.first_ts), "2013-10-08T08:00:00.64Z");
  // 72000646 ms = 20:00:00.646 EDT = 00:00:00.646Z the next day.
  EXPECT_EQ(utc(stats.last_ts), "2013-10-09T00:00:00.646Z");
  const Tick& t0 = sink.ticks[0];
  EXPECT_EQ(t0.bid, 180.01);
  EXPECT_EQ(t0.bid_size, 200);
  EXPECT_FALSE(t0.has_ask());
  EXPECT_EQ(t0.ask_size, 0);
  const Tick& t1 = sink.ticks[1];
  EXPECT_FALSE(t1.has_bid());
  EXPECT_EQ(t1.ask, 182.62);
  EXPECT_EQ(t1.ask_size, 100);
}

TEST(RealDataTest, LeanSpyMinuteTradeBars) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  const auto stats = run("lean/equity_usa_minute_spy_20131007_trade.zip", Format::Lean, {}, sink);
  // 828 rows (827 newlines, the last row unterminated).
  EXPECT_EQ(stats.records, 828);
  // 14400000 ms = 04:00 EDT = 08:00Z; 71940000 ms = 19:59 EDT = 23:59Z.
  EXPECT_EQ(utc(stats.first_ts), "2013-10-07T08:00:00Z");
  EXPECT_EQ(utc(stats.last_ts), "2013-10-07T23:59:00Z");
  const Bar& b = sink.bars.front();
  EXPECT_EQ(b.open, 167.41);
  EXPECT_EQ(b.high, 167.41);
  EXPECT_EQ(b.low, 167.25);
  EXPECT_EQ(b.close, 167.27);
  EXPECT_EQ(b.volume, 3197);
}

TEST(RealDataTest, LeanSpyMinuteQuoteBarsAsMid) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  const auto stats = run("lean/equity_usa_minute_spy_20131007_quote.zip", Format::Lean, {}, sink);
  EXPECT_EQ(stats.records, 908);
  EXPECT_EQ(utc(stats.first_ts), "2013-10-07T08:00:00Z");
  EXPECT_EQ(utc(stats.last_ts), "2013-10-08T00:00:00Z");
  // bid 1672700/1672700/1671500/1672500, ask 1680000/1680000/1672600/1672700.
  const Bar& b = sink.bars.front();
  EXPECT_DOUBLE_EQ(b.open, (167.27 + 168.0) / 2);
  EXPECT_DOUBLE_EQ(b.high, (167.27 + 168.0) / 2);
  EXPECT_DOUBLE_EQ(b.low, (167.15 + 167.26) / 2);
  EXPECT_DOUBLE_EQ(b.close, (167.25 + 167.27) / 2);
  EXPECT_EQ(b.volume, 0);
}

TEST(RealDataTest, TardisWideSnapshots) {
  SKIP_WITHOUT_DATA();
  for (int levels : {5, 25}) {
    ImportOptions options;
    options.book_depth = 25;
    CollectSink sink;
    const auto stats = run("book/tardis_binance-futures_book_snapshot_" + std::to_string(levels) + "_BTCUSDT.csv",
                           Format::TardisBook, options, sink);
    EXPECT_EQ(stats.records, 10);
    ASSERT_EQ(sink.books.size(), 10u);
    // 1598918403696000 us = 2020-09-01T00:00:03.696Z.
    EXPECT_EQ(utc(stats.first_ts), "2020-09-01T00:00:03.696Z");
    EXPECT_EQ(utc(stats.last_ts), levels == 5 ? "2020-09-01T00:00:04.284Z" : "2020-09-01T00:00:04.005Z");
    const BookSnapshot& s = sink.books.front();
    EXPECT_EQ(s.asks.size(), static_cast<std::size_t>(levels));
    EXPECT_EQ(s.bids.size(), static_cast<std::size_t>(levels));
    EXPECT_EQ(s.asks[0], (BookLevel{11657.08, 1.714}));
    EXPECT_EQ(s.bids[0], (BookLevel{11657.07, 10.896}));
    EXPECT_EQ(s.asks[1], (BookLevel{11657.54, 5.4}));
  }
}

TEST(RealDataTest, TardisWideSnapshotsTruncatedToBookDepth) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  run("book/tardis_binance-futures_book_snapshot_25_BTCUSDT.csv", Format::TardisBook, {}, sink);
  ASSERT_EQ(sink.books.size(), 10u);
  EXPECT_EQ(sink.books[0].asks.size(), 10u);  // default book_depth
}

TEST(RealDataTest, DeribitIncrementalSnapshotRows) {
  SKIP_WITHOUT_DATA();
  CollectSink sink;
  const auto stats =
      run("book/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv", Format::TardisIncremental, {}, sink);
  // 15 rows, all snapshot asks sharing one timestamp: one snapshot.
  EXPECT_EQ(stats.lines, 16);
  EXPECT_EQ(stats.records, 1);
  ASSERT_EQ(sink.books.size(), 1u);
  EXPECT_EQ(utc(stats.first_ts), "2020-04-01T00:00:00.245Z");
  EXPECT_TRUE(sink.books[0].bids.empty());
  ASSERT_EQ(sink.books[0].asks.size(), 10u);
  EXPECT_EQ(sink.books[0].asks[0], (BookLevel{6421.5, 18640}));
}

TEST(RealDataTest, BinanceDepthSnapshotAndUpdates) {
  SKIP_WITHOUT_DATA();
  {
    CollectSink sink;
    const auto stats = run("book/binance_btcusdt-depth-snap.csv", Format::BinanceDepth, {}, sink);
    // 100 snapshot rows (all bids) sharing one timestamp: one snapshot.
    EXPECT_EQ(stats.lines, 101);
    EXPECT_EQ(stats.records, 1);
    ASSERT_EQ(sink.books.size(), 1u);
    EXPECT_EQ(utc(stats.first_ts), "2022-11-01T23:49:39.146Z");  // 1667346579146 ms
    EXPECT_TRUE(sink.books[0].asks.empty());
    ASSERT_EQ(sink.books[0].bids.size(), 10u);
    EXPECT_EQ(sink.books[0].bids[0], (BookLevel{20377.0, 1.77}));
  }
  {
    CollectSink sink;
    // 100 update rows sharing one timestamp; alone they start from an empty
    // book, so deletions of unknown levels are no-ops.
    const auto stats = run("book/binance_btcusdt-depth-update.csv", Format::BinanceDepth, {}, sink);
    EXPECT_EQ(stats.lines, 101);
    EXPECT_EQ(stats.records, 1);
    ASSERT_EQ(sink.books.size(), 1u);
    EXPECT_EQ(utc(stats.first_ts), "2022-11-01T23:59:59.939Z");  // 1667347199939 ms
    EXPECT_EQ(sink.books[0].asks[0], (BookLevel{20472.2, 4.211}));
    EXPECT_EQ(sink.books[0].bids[0], (BookLevel{20472.1, 22.276}));
  }
}

TEST(RealDataTest, OpenSourceErrorsAreOneLine) {
  SKIP_WITHOUT_DATA();
  auto missing = open_source(data_path("nope.csv"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, data_path("nope.csv") + ": no such file");
  auto dir = open_source(data_path("book"));
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error().message.find("is a directory"), std::string::npos);
  auto member = open_source(data_path("lean/equity_usa_tick_ibm_20131008_quote.zip:other.csv"));
  ASSERT_FALSE(member.has_value());
  EXPECT_NE(member.error().message.find("no member 'other.csv'"), std::string::npos);
  auto named = open_source(data_path("lean/equity_usa_tick_ibm_20131008_quote.zip:20131008_ibm_Quote_Tick.csv"));
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ((*named)->inner_name(), "20131008_ibm_Quote_Tick.csv");
}

TEST(RealDataTest, HistDataPassedAsMt5BarsNamesExpectedAndSeen) {
  SKIP_WITHOUT_DATA();
  auto source = open_source(data_path("fx/DAT_ASCII_EURUSD_M1_201701.csv.gz"));
  ASSERT_TRUE(source.has_value());
  CollectSink sink;
  auto stats = import_source(**source, Format::Mt5Bars, {}, sink);
  ASSERT_FALSE(stats.has_value());
  const std::string& m = stats.error().message;
  EXPECT_EQ(m.rfind(data_path("fx/DAT_ASCII_EURUSD_M1_201701.csv.gz") + ": not an MT5 bar export", 0), 0u) << m;
  EXPECT_NE(m.find("saw '20170102 020000;1.051550;1.051970;1.051550;1.051900;0'"), std::string::npos) << m;
}

}  // namespace
}  // namespace quant::ingest
