// Format details, validation messages, strict mode, encodings and sources,
// on small inputs built in the test.
#include "ingest/importer.h"

#include <cstring>

#include <gtest/gtest.h>
#include <unistd.h>

#include "ingest/test_sink.h"

namespace quant::ingest {
namespace {

using testing::CollectSink;

Expected<ImportStats> import_text(std::string_view text, Format format, const ImportOptions& options, CollectSink& sink,
                                  std::string name = "data.csv") {
  auto source = memory_source(text, std::move(name));
  return import_source(*source, format, options, sink);
}

TimeZone zone(const char* name) { return *TimeZone::find(name); }

// UTF-16LE with BOM, as MT5 writes its exports.
std::string utf16le(std::string_view utf8_ascii) {
  std::string out = "\xFF\xFE";
  for (char c : utf8_ascii) {
    out += c;
    out += '\0';
  }
  return out;
}

/// Hands out one byte per read: exercises every buffer boundary.
class TrickleSource final : public ByteSource {
 public:
  explicit TrickleSource(std::string bytes) : bytes_(std::move(bytes)) {}
  Expected<std::size_t> read(char* buffer, std::size_t size) override {
    if (pos_ >= bytes_.size() || size == 0) return std::size_t{0};
    buffer[0] = bytes_[pos_++];
    return std::size_t{1};
  }
  const std::string& name() const override { return name_; }

 private:
  std::string bytes_;
  std::size_t pos_ = 0;
  std::string name_ = "trickle";
};

constexpr const char* kMt5Header = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n";

TEST(FormatTest, NamesRoundTrip) {
  for (const char* name : {"mt5-bars", "mt5-ticks", "histdata", "csv", "trades", "quotes", "tardis-book",
                           "tardis-incremental", "binance-depth", "lean"}) {
    auto format = parse_format(name);
    ASSERT_TRUE(format.has_value()) << name;
    EXPECT_EQ(format_name(*format), name);
  }
  auto bad = parse_format("mt4");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("unknown format 'mt4' (known: mt5-bars, "), std::string::npos);
  EXPECT_EQ(format_dataset(Format::Mt5Ticks), "ticks");
  EXPECT_EQ(format_dataset(Format::TardisBook), "book");
  EXPECT_EQ(*parse_time_format("epoch_ms"), TimeFormat::EpochMillis);
  // The spellings --help shows parse too.
  EXPECT_EQ(*parse_time_format("epoch-ms"), TimeFormat::EpochMillis);
  EXPECT_EQ(*parse_time_format("epoch-s"), TimeFormat::EpochSeconds);
  EXPECT_EQ(*parse_time_format("epoch-us"), TimeFormat::EpochMicros);
  EXPECT_EQ(*parse_time_format("epoch-ns"), TimeFormat::EpochNanos);
  EXPECT_NE(parse_time_format("julian").error().message.find("epoch-ms"), std::string::npos);
  EXPECT_FALSE(parse_time_format("julian").has_value());
}

TEST(Mt5BarsTest, Utf16WithBomCrlfAndShortTimes) {
  const std::string text = std::string(kMt5Header) +
                           "2021.03.01\t09:00\t115000\t115100\t114900\t115050\t1200\t5400\t5\r\n"
                           "2021.03.01\t09:01\t115050\t115060\t115000\t115010\t800\t3000\t5";  // no final newline
  ImportOptions options;
  options.time_zone = zone("America/Sao_Paulo");
  CollectSink sink;
  auto stats = import_text(utf16le(text), Format::Mt5Bars, options, sink, "WIN.csv");
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->encoding, "utf-16le");
  EXPECT_EQ(stats->lines, 3);
  EXPECT_EQ(stats->records, 2);
  ASSERT_EQ(sink.bars.size(), 2u);
  EXPECT_EQ(format_utc(sink.bars[0].ts), "2021-03-01T12:00:00Z");
  EXPECT_EQ(sink.bars[0].open, 115000);
  EXPECT_EQ(sink.bars[0].tick_volume, 1200);
  EXPECT_EQ(sink.bars[0].volume, 5400);
  EXPECT_EQ(sink.bars[0].spread, 5);
  EXPECT_EQ(format_utc(sink.bars[1].ts), "2021-03-01T12:01:00Z");
  EXPECT_EQ(sink.bars[1].close, 115010);

  // The same bytes one at a time: the decoder carries odd bytes across reads.
  TrickleSource trickle(utf16le(text));
  CollectSink sink2;
  auto stats2 = import_source(trickle, Format::Mt5Bars, options, sink2);
  ASSERT_TRUE(stats2.has_value()) << stats2.error().message;
  ASSERT_EQ(sink2.bars.size(), 2u);
  EXPECT_EQ(sink2.bars[1], sink.bars[1]);
}

TEST(Mt5BarsTest, Utf8BomHeaderlessAndDailyWithoutTime) {
  CollectSink sink;
  auto stats = import_text(
      "\xEF\xBB\xBF"
      "2021.03.01,09:00:00,10,12,9,11,5,6,1\n",
      Format::Mt5Bars, {}, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->encoding, "utf-8");
  ASSERT_EQ(sink.bars.size(), 1u);
  EXPECT_EQ(format_utc(sink.bars[0].ts), "2021-03-01T09:00:00Z");

  CollectSink daily;
  auto d = import_text(
      "<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
      "2021.03.01\t10\t12\t9\t11\t5\t6\t1\n",
      Format::Mt5Bars, {}, daily);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  ASSERT_EQ(daily.bars.size(), 1u);
  EXPECT_EQ(format_utc(daily.bars[0].ts), "2021-03-01T00:00:00Z");
}

TEST(Mt5BarsTest, MalformedRowsGiveFileLineFieldReason) {
  const std::string text = std::string(kMt5Header) +
                           "2021.03.01\t09:00\t100\t101\t99\t100\t1\t1\t1\n"     // 2 ok
                           "2021.03.01\t09:01\t100\t101\t99\n"                   // 3 fields
                           "2021.03.01\t09:02\t100\tabc\t99\t100\t1\t1\t1\n"     // 4 number
                           "2021.02.30\t09:03\t100\t101\t99\t100\t1\t1\t1\n"     // 5 date
                           "2021.03.01\t24:00\t100\t101\t99\t100\t1\t1\t1\n"     // 6 time
                           "2021.03.01\t09:04\t100\t98\t99\t100\t1\t1\t1\n"      // 7 high < low
                           "2021.03.01\t09:05\t100\t101\t100.5\t100\t1\t1\t1\n"  // 8 low > open
                           "2021.03.01\t09:06\t-100\t101\t99\t100\t1\t1\t1\n"    // 9 price <= 0
                           "2021.03.01\t09:07\t100\t101\t99\t100\t1\t-1\t1\n"    // 10 volume
                           "2021.03.01\t09:08\tinf\t101\t99\t100\t1\t1\t1\n"     // 11 not finite
                           "\n"                                                  // 12 blank
                           "2021.03.01\t09:09\t100\t101\t99\t100\t1\t1\t1\n";    // 13 ok
  CollectSink sink;
  auto stats = import_text(text, Format::Mt5Bars, {}, sink, "bars.csv");
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->records, 2);
  EXPECT_EQ(stats->rejected, 9);
  EXPECT_EQ(stats->skipped, 2);
  EXPECT_EQ(stats->lines, 13);
  std::vector<std::string> messages;
  for (const auto& e : sink.rejects) messages.push_back(e.to_string());
  const std::vector<std::string> expected = {
      "bars.csv:3: row: expected 9 fields, found 5",  "bars.csv:4: HIGH: not a number: 'abc'",
      "bars.csv:5: DATE: bad date '2021.02.30'",      "bars.csv:6: TIME: bad time '24:00'",
      "bars.csv:7: HIGH: high 98 below low 99",       "bars.csv:8: LOW: low 100.5 above open 100",
      "bars.csv:9: OPEN: price -100 is not positive", "bars.csv:10: VOL: negative volume -1",
      "bars.csv:11: OPEN: price is not finite",
  };
  EXPECT_EQ(messages, expected);
  EXPECT_EQ(sink.rejects[0].line, 3);
  EXPECT_EQ(sink.rejects[0].field, "row");
  EXPECT_EQ(sink.rejects[0].text, "2021.03.01\t09:01\t100\t101\t99");
}

TEST(Mt5BarsTest, StrictStopsAtFirstBadRow) {
  const std::string text = std::string(kMt5Header) +
                           "2021.03.01\t09:00\t100\t101\t99\t100\t1\t1\t1\n"
                           "2021.03.01\t09:01\t100\t101\t102\t100\t1\t1\t1\n"
                           "2021.03.01\t09:02\t100\t101\txx\t100\t1\t1\t1\n";
  ImportOptions options;
  options.strict = true;
  CollectSink sink;
  auto stats = import_text(text, Format::Mt5Bars, options, sink, "bars.csv");
  ASSERT_FALSE(stats.has_value());
  EXPECT_EQ(stats.error().message, "bars.csv:3: HIGH: high 101 below low 102");
  EXPECT_EQ(sink.bars.size(), 1u);  // rows before the bad one were delivered
  EXPECT_TRUE(sink.rejects.empty());
}

TEST(Mt5BarsTest, TickGridRejectsOffGridAndSnapsNoise) {
  InstrumentSpec spec;
  spec.symbol = "WIN";
  spec.tick_size = 5;
  ImportOptions options;
  options.spec = spec;
  CollectSink sink;
  auto stats = import_text(
      "Date,Time,Open,High,Low,Close,Tick,Volume,Spread\n"
      "2021.03.01,09:00:00,100120,100150,100080,100105.0000000001,1,1,5\n"
      "2021.03.01,09:01:00,100120,100122,100080,100105,1,1,5\n",
      Format::Mt5Bars, options, sink, "win.csv");
  ASSERT_TRUE(stats.has_value());
  ASSERT_EQ(sink.bars.size(), 1u);
  EXPECT_EQ(sink.bars[0].close, 100105);  // float noise snapped to the grid
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].to_string(), "win.csv:3: High: price 100122 is off the tick grid 5");
}

TEST(Mt5BarsTest, DstGapRejectedAndRepeatedHourTakesEarliest) {
  ImportOptions options;
  options.time_zone = zone("America/New_York");
  CollectSink sink;
  // 2021-03-14 02:30 does not exist in New York; 2021-11-07 01:30 happens twice.
  auto stats = import_text(
      "Date,Time,Open,High,Low,Close,Tick,Volume,Spread\n"
      "2021.03.14,01:59:00,1,1,1,1,1,1,1\n"
      "2021.03.14,02:30:00,1,1,1,1,1,1,1\n"
      "2021.03.14,03:00:00,1,1,1,1,1,1,1\n"
      "2021.11.07,01:30:00,1,1,1,1,1,1,1\n",
      Format::Mt5Bars, options, sink, "ny.csv");
  ASSERT_TRUE(stats.has_value());
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].to_string(),
            "ny.csv:3: Time: local time 2021-03-14 02:30:00 does not exist in America/New_York (DST gap)");
  ASSERT_EQ(sink.bars.size(), 3u);
  EXPECT_EQ(format_utc(sink.bars[0].ts), "2021-03-14T06:59:00Z");  // EST, UTC-5
  EXPECT_EQ(format_utc(sink.bars[1].ts), "2021-03-14T07:00:00Z");  // EDT, UTC-4
  EXPECT_EQ(format_utc(sink.bars[2].ts), "2021-11-07T05:30:00Z");  // first 01:30 (EDT)
}

TEST(Mt5BarsTest, EmptyInputsAndWrongHeaders) {
  CollectSink sink;
  auto empty = import_text("", Format::Mt5Bars, {}, sink, "e.csv");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message, "e.csv: no data rows");
  auto header_only = import_text(kMt5Header, Format::Mt5Bars, {}, sink, "h.csv");
  ASSERT_FALSE(header_only.has_value());
  EXPECT_EQ(header_only.error().message, "h.csv: no data rows");
  auto blank = import_text("\r\n\r\n", Format::HistData, {}, sink, "b.csv");
  ASSERT_FALSE(blank.has_value());
  EXPECT_EQ(blank.error().message, "b.csv: no data rows");
  auto wrong = import_text("timestamp,bid,ask\n2013-01-01 22:00:00,1,2\n", Format::HistData, {}, sink, "q.csv");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().message,
            "q.csv: not a HistData M1 file: expected rows like "
            "'20170102 020000;1.051550;1.051970;1.051550;1.051900;0', saw 'timestamp,bid,ask'");
}

TEST(Mt5TicksTest, EmptyFieldsCarryForward) {
  const std::string text =
      "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n"
      "2021.03.01\t09:00:00.125\t115000\t115005\t\t\t6\r\n"
      "2021.03.01\t09:00:00.250\t\t115010\t\t\t4\r\n"
      "2021.03.01\t09:00:01.000\t\t\t115005\t3\t88\r\n"
      "2021.03.01\t09:00:01.500\t114995\t\t\t\t2\r\n";
  CollectSink sink;
  auto stats = import_text(utf16le(text), Format::Mt5Ticks, {}, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.ticks.size(), 4u);
  const auto& t = sink.ticks;
  EXPECT_EQ(format_utc(t[0].ts), "2021-03-01T09:00:00.125Z");
  EXPECT_EQ(t[0].bid, 115000);
  EXPECT_EQ(t[0].ask, 115005);
  EXPECT_FALSE(t[0].has_last());
  EXPECT_EQ(t[0].flags, kTickBid | kTickAsk);
  EXPECT_EQ(t[1].bid, 115000);  // carried
  EXPECT_EQ(t[1].ask, 115010);
  EXPECT_EQ(t[2].bid, 115000);
  EXPECT_EQ(t[2].ask, 115010);
  EXPECT_EQ(t[2].last, 115005);
  EXPECT_EQ(t[2].volume, 3);
  EXPECT_EQ(t[2].flags, kTickLast | kTickVolume | kTickSell);
  EXPECT_EQ(t[3].bid, 114995);
  EXPECT_EQ(t[3].ask, 115010);
  EXPECT_EQ(t[3].last, 115005);
  EXPECT_EQ(t[3].volume, 3);  // carried like every other empty field
}

TEST(HistDataTest, ReadsEstWithoutDst) {
  ImportOptions options;
  options.time_zone = zone("Etc/GMT+5");
  CollectSink sink;
  // July: New York would be on EDT (UTC-4); HistData stays on EST (UTC-5).
  auto stats = import_text("20170703 120000;1.1;1.2;1.0;1.15;0\n", Format::HistData, options, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.bars.size(), 1u);
  EXPECT_EQ(format_utc(sink.bars[0].ts), "2017-07-03T17:00:00Z");
}

TEST(CsvTest, TimestampFormats) {
  struct Case {
    const char* row;
    const char* utc;
  };
  const Case cases[] = {
      {"2012-02-01 00:00:00+00:00", "2012-02-01T00:00:00Z"},
      {"2012-02-01T00:00:00-03:00", "2012-02-01T03:00:00Z"},
      {"2021-12-31 23:01:00.000000", "2021-12-31T23:01:00Z"},
      {"2024-01-01 23:01:00", "2024-01-01T23:01:00Z"},
      {"2024-01-01T23:01:00.5Z", "2024-01-01T23:01:00.5Z"},
      {"1704150060", "2024-01-01T23:01:00Z"},
      {"1704150060000", "2024-01-01T23:01:00Z"},
      {"1704150060000123", "2024-01-01T23:01:00.000123Z"},
      {"1704150060000000007", "2024-01-01T23:01:00.000000007Z"},
  };
  for (const auto& c : cases) {
    CollectSink sink;
    auto stats =
        import_text(std::string("time,open,high,low,close\n") + c.row + ",1,2,0.5,1.5\n", Format::Csv, {}, sink);
    ASSERT_TRUE(stats.has_value()) << c.row << ": " << stats.error().message;
    ASSERT_EQ(sink.bars.size(), 1u) << c.row << (sink.rejects.empty() ? "" : sink.rejects[0].to_string());
    EXPECT_EQ(format_utc(sink.bars[0].ts), c.utc) << c.row;
  }
}

TEST(CsvTest, ColumnMappingByNameAndIndexWithoutHeader) {
  ImportOptions options;
  options.header = false;
  options.delimiter = ';';
  options.columns.ts = "1";
  options.columns.open = "2";
  options.columns.high = "3";
  options.columns.low = "4";
  options.columns.close = "5";
  options.columns.volume = "0";
  CollectSink sink;
  auto stats = import_text("7;2024-01-01 10:00;1;2;0.5;1.5\n", Format::Csv, options, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.bars.size(), 1u);
  EXPECT_EQ(sink.bars[0].volume, 7);
  EXPECT_EQ(sink.bars[0].high, 2);

  ImportOptions named;
  named.columns.ts = "When";
  named.columns.close = "Last";
  CollectSink sink2;
  auto s2 = import_text("When,Open,High,Low,Last\n2024-01-01,1,2,0.5,1.5\n", Format::Csv, named, sink2);
  ASSERT_TRUE(s2.has_value()) << s2.error().message;
  EXPECT_EQ(sink2.bars.at(0).close, 1.5);

  ImportOptions missing;
  missing.columns.close = "Nope";
  CollectSink sink3;
  auto s3 = import_text("time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n", Format::Csv, missing, sink3, "m.csv");
  ASSERT_FALSE(s3.has_value());
  EXPECT_EQ(s3.error().message, "m.csv: no column 'Nope' (for close) in the header");
}

TEST(CsvTest, HeaderWithOneColumnLessThanRowsReadsDateAndTime) {
  CollectSink sink;
  auto stats = import_text(
      "Date,Open,High,Low,Close,Volume,OpenInterest\r\n"
      "2006-01-02,09:01:00,3602.00,3603.00,3597.00,3599.00,5699,0\r\n"
      "2006-01-02,09:02:00,3600.00,3601.00,3598.00,3599.00,894\r\n",
      Format::Csv, {}, sink, "bt.txt");
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.bars.size(), 1u);
  EXPECT_EQ(format_utc(sink.bars[0].ts), "2006-01-02T09:01:00Z");
  EXPECT_EQ(sink.bars[0].volume, 5699);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].to_string(), "bt.txt:3: row: expected 8 fields, found 7");
}

TEST(TradesTest, SidesAndLocalTime) {
  ImportOptions options;
  options.time_zone = zone("America/Sao_Paulo");
  CollectSink sink;
  auto stats = import_text(
      "time,price,volume,side\n"
      "2021-06-15 15:41:32,130060.0,1,buy\n"
      "2021-06-15 15:41:33,130065.0,2,S\n"
      "2021-06-15 15:41:34,130065.0,2,sideways\n",
      Format::Trades, options, sink, "t.csv");
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.trades.size(), 2u);
  EXPECT_EQ(format_utc(sink.trades[0].ts), "2021-06-15T18:41:32Z");
  EXPECT_EQ(sink.trades[0].aggressor, Aggressor::Buy);
  EXPECT_EQ(sink.trades[1].aggressor, Aggressor::Sell);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].to_string(), "t.csv:4: side: unknown side 'sideways'");
}

TEST(QuotesTest, CrossedQuotesAreKeptAndEmptySideIsAbsent) {
  CollectSink sink;
  auto stats = import_text(
      "timestamp,bid,ask\n"
      "2013-01-01 22:00:00.295000+00:00,86.74,86.728\n"
      "2013-01-01 22:00:01+00:00,,86.73\n",
      Format::Quotes, {}, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.ticks.size(), 2u);
  EXPECT_GT(sink.ticks[0].bid, sink.ticks[0].ask);
  EXPECT_FALSE(sink.ticks[1].has_bid());
  EXPECT_EQ(sink.ticks[1].ask, 86.73);
}

TEST(QuotesTest, LeanTickQuotesFromBaseDate) {
  ImportOptions options;
  options.base_date = "2013-10-08";
  CollectSink sink;
  auto stats = import_text("14400640,1800100,200,0,0,P,1,0\n14400641,0,0,1826200,100,P,1,0\n", Format::Quotes, options,
                           sink, "ibm.csv");
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.ticks.size(), 2u);
  EXPECT_EQ(format_utc(sink.ticks[0].ts), "2013-10-08T08:00:00.64Z");
  EXPECT_EQ(sink.ticks[0].bid, 180.01);
  EXPECT_FALSE(sink.ticks[0].has_ask());
  EXPECT_EQ(sink.ticks[1].ask, 182.62);
}

TEST(LeanTest, NeedsADate) {
  CollectSink sink;
  auto stats = import_text("14400000,1674100,1674100,1672500,1672700,3197\n", Format::Lean, {}, sink, "spy.csv");
  ASSERT_FALSE(stats.has_value());
  EXPECT_NE(stats.error().message.find("no date was found"), std::string::npos);
}

TEST(BookTest, IncrementalGroupsByTimestampAndSnapshotResets) {
  ImportOptions options;
  options.book_depth = 2;
  CollectSink sink;
  auto stats = import_text(
      "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
      "x,S,1585699200000000,1,true,bid,100,1\n"
      "x,S,1585699200000000,1,true,bid,99,2\n"
      "x,S,1585699200000000,1,true,ask,101,3\n"
      "x,S,1585699200500000,1,false,bid,100,0\n"
      "x,S,1585699200500000,1,false,bid,98,5\n"
      "x,S,1585699201000000,1,true,ask,105,1\n",
      Format::TardisIncremental, options, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_EQ(sink.books.size(), 3u);
  EXPECT_EQ(sink.books[0].bids, (std::vector<BookLevel>{{100, 1}, {99, 2}}));
  EXPECT_EQ(sink.books[1].bids, (std::vector<BookLevel>{{99, 2}, {98, 5}}));
  EXPECT_EQ(sink.books[1].asks, (std::vector<BookLevel>{{101, 3}}));
  EXPECT_TRUE(sink.books[2].bids.empty());  // a new snapshot replaced the book
  EXPECT_EQ(sink.books[2].asks, (std::vector<BookLevel>{{105, 1}}));
  EXPECT_EQ(format_utc(sink.books[1].ts), "2020-04-01T00:00:00.5Z");  // epoch microseconds by magnitude
}

TEST(SourceTest, ProgressIsReportedAndEmptyPlainFileFails) {
  std::string text = "time,open,high,low,close\n";
  for (int i = 0; i < 60000; ++i) text += "2024-01-01 10:00:00,1,2,0.5,1.5\n";
  std::vector<std::uint64_t> calls;
  auto source = memory_source(text);
  CollectSink sink;
  auto stats = import_source(
      *source, Format::Csv, {}, sink,
      [](void* context, std::uint64_t bytes) { static_cast<std::vector<std::uint64_t>*>(context)->push_back(bytes); },
      &calls);
  ASSERT_TRUE(stats.has_value());
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls.back(), text.size());

  const std::string path = ::testing::TempDir() + "/ingest_empty." + std::to_string(::getpid()) + ".csv";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fclose(f), 0);
  auto empty = open_source(path);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message, path + ": empty file");
}

}  // namespace
}  // namespace quant::ingest

namespace quant::ingest {
namespace {

// Found by fuzz_mt5_bars: a header-less row with a time but too few price columns.
TEST(Mt5BarsTest, HeaderlessRowTooShortIsAHeaderError) {
  testing::CollectSink sink;
  auto source = memory_source("2021.03.01\t09:00:00\t10\t1211\t9\n", "short.csv");
  auto stats = import_source(*source, Format::Mt5Bars, {}, sink);
  ASSERT_FALSE(stats.has_value());
  EXPECT_EQ(stats.error().message.rfind("short.csv: not an MT5 bar export", 0), 0u);
}

}  // namespace
}  // namespace quant::ingest
