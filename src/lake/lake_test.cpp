#include "lake/lake.h"
#include "lake/parquet_stream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/test_bars.h"
#include "core/test_calendar.h"
#include "lake/test_lake.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

using quant::testing::make_bars;
using quant::testing::open_lake;
using quant::testing::query;
using quant::testing::read_bars;
using quant::testing::TempDir;
using quant::testing::utc;
using quant::testing::write_bars;


TEST(LakeTest, BarsAcrossThreeMonthsLandInThreePartitionsAndStreamBack) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2020, 10, 15), 61 * 48, std::chrono::minutes(30));  // Oct 15 .. Dec 14
  const WriteStats stats = write_bars(*lake, "WIN", bars);
  EXPECT_EQ(stats.received, static_cast<std::int64_t>(bars.size()));
  EXPECT_EQ(stats.added, static_cast<std::int64_t>(bars.size()));
  EXPECT_EQ(stats.partitions_written, 3);

  auto parts = lake->partitions();
  ASSERT_TRUE(parts.has_value()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3U);
  std::int64_t rows = 0;
  for (int i = 0; i < 3; ++i) {
    const PartitionInfo& p = (*parts)[i];
    EXPECT_EQ(p.symbol, "WIN");
    EXPECT_EQ(p.year, 2020);
    EXPECT_EQ(p.month, 10 + i);
    char expected[128];
    std::snprintf(expected, sizeof expected, "/kind=bars_1m/symbol=WIN/year=2020/month=%02d/data.parquet", 10 + i);
    EXPECT_EQ(p.path, fs::canonical(dir.str()).string() + expected);
    EXPECT_TRUE(fs::exists(p.path));
    EXPECT_GT(p.bytes, 0);
    rows += p.rows;
  }
  EXPECT_EQ(rows, static_cast<std::int64_t>(bars.size()));
  EXPECT_EQ((*parts)[0].first_ts, bars.front().ts);
  EXPECT_EQ((*parts)[2].last_ts, bars.back().ts);
  EXPECT_EQ((*parts)[1].first_ts, utc(2020, 11, 1));

  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
  // [from, to) crossing two partition boundaries; `to` is exclusive.
  const std::size_t from = 100, to = bars.size() - 200;
  const std::vector<Bar> expected(bars.begin() + from, bars.begin() + to);
  EXPECT_EQ(read_bars(*lake, "WIN", bars[from].ts, bars[to].ts, 1000), expected);
  EXPECT_TRUE(read_bars(*lake, "WIN", bars[5].ts, bars[5].ts).empty());
  EXPECT_TRUE(read_bars(*lake, "OTHER").empty());
  EXPECT_EQ(lake->partitions(Dataset::Ticks)->size(), 0U);
  EXPECT_EQ(lake->partitions(Dataset::Bars1m, "OTHER")->size(), 0U);
}

TEST(LakeTest, RewritingTheSameBarsAddsNothingAndLeavesFilesAlone) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 1, 20), 20 * 24 * 60);  // into February
  write_bars(*lake, "WDO", bars);
  auto before = lake->partitions();
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(before->size(), 2U);
  std::vector<fs::file_time_type> mtimes;
  for (const auto& p : *before) mtimes.push_back(fs::last_write_time(p.path));

  const WriteStats again = write_bars(*lake, "WDO", bars);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.duplicates, static_cast<std::int64_t>(bars.size()));
  EXPECT_EQ(again.conflicts, 0);
  EXPECT_EQ(again.partitions_written, 0);
  for (std::size_t i = 0; i < before->size(); ++i) EXPECT_EQ(fs::last_write_time((*before)[i].path), mtimes[i]);
  EXPECT_EQ(read_bars(*lake, "WDO"), bars);
}

TEST(LakeTest, OverlappingWriteAddsOnlyNewKeys) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 3, 1, 12), 300);
  write_bars(*lake, "WIN", std::vector<Bar>(bars.begin(), bars.begin() + 200));
  const WriteStats stats = write_bars(*lake, "WIN", std::vector<Bar>(bars.begin() + 100, bars.end()));
  EXPECT_EQ(stats.added, 100);
  EXPECT_EQ(stats.duplicates, 100);
  EXPECT_EQ(stats.conflicts, 0);
  EXPECT_EQ(stats.partitions_written, 1);
  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
}

TEST(LakeTest, ConflictingValuesKeepTheLakesRow) {
  TempDir dir;
  auto lake = open_lake(dir);
  auto bars = make_bars(utc(2021, 3, 1, 12), 10);
  write_bars(*lake, "WIN", std::vector<Bar>(bars.begin(), bars.begin() + 9));
  std::vector<Bar> update = {bars[3], bars[9]};
  update[0].close += 5;
  const WriteStats stats = write_bars(*lake, "WIN", update);
  EXPECT_EQ(stats.added, 1);
  EXPECT_EQ(stats.conflicts, 1);
  EXPECT_EQ(stats.duplicates, 0);
  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
}

/// Writes `bars` through a writer made with `options` and flushes it.
WriteStats write_with(Lake& lake, const std::vector<Bar>& bars, const WriteOptions& options,
                      const std::string& symbol = "WIN") {
  auto writer = lake.writer(Dataset::Bars1m, symbol, options);
  EXPECT_TRUE(writer.has_value()) << (writer ? "" : writer.error().message);
  if (!writer) return {};
  for (const Bar& b : bars) (*writer)->add(b);
  auto stats = (*writer)->flush();
  EXPECT_TRUE(stats.has_value()) << (stats ? "" : stats.error().message);
  return stats.value_or(WriteStats{});
}

WriteOptions replacing() {
  WriteOptions o;
  o.replace = true;
  return o;
}

WriteOptions forming_tail() {
  WriteOptions o;
  o.provisional_tail = true;
  return o;
}

TEST(LakeTest, ConflictsAreListedWithTheirSpan) {
  TempDir dir;
  auto lake = open_lake(dir);
  // 20 bars an hour apart across the end of January: two partitions.
  const auto bars = make_bars(utc(2021, 1, 31, 10), 20, std::chrono::hours(1));
  write_bars(*lake, "WIN", bars);
  std::vector<Bar> update = {bars[2], bars[5], bars[16], bars[17]};
  for (Bar& b : update) b.close += 5;
  const WriteStats stats = write_bars(*lake, "WIN", update);
  EXPECT_EQ(stats.conflicts, 4);
  EXPECT_EQ(stats.replaced, 0);
  EXPECT_EQ(stats.conflict_examples, (std::vector<Timestamp>{bars[2].ts, bars[5].ts, bars[16].ts, bars[17].ts}));
  EXPECT_EQ(stats.first_conflict, bars[2].ts);
  EXPECT_EQ(stats.last_conflict, bars[17].ts);
  EXPECT_EQ(stats.partitions_written, 0);
  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
}

TEST(LakeTest, ReplaceWritesTheNewRowsOverTheLakes) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 1, 31, 10), 20, std::chrono::hours(1));  // into February
  write_bars(*lake, "WIN", std::vector<Bar>(bars.begin(), bars.begin() + 18));
  std::vector<Bar> update(bars.begin() + 1, bars.end());  // 17 present, 2 new
  for (std::size_t i : {1U, 3U, 7U, 8U, 9U, 10U, 15U}) update[i].high += 50;
  const WriteStats stats = write_with(*lake, update, replacing());
  EXPECT_EQ(stats.added, 2);
  EXPECT_EQ(stats.duplicates, 10);
  EXPECT_EQ(stats.conflicts, 7);
  EXPECT_EQ(stats.replaced, 7);
  EXPECT_EQ(stats.conflict_examples.size(), kConflictExamples);
  EXPECT_EQ(stats.conflict_examples.front(), update[1].ts);
  EXPECT_EQ(stats.conflict_examples.back(), update[9].ts);
  EXPECT_EQ(stats.first_conflict, update[1].ts);
  EXPECT_EQ(stats.last_conflict, update[15].ts);
  std::vector<Bar> expected = {bars[0]};
  expected.insert(expected.end(), update.begin(), update.end());
  EXPECT_EQ(read_bars(*lake, "WIN"), expected);

  // Replacing rows with equal ones changes nothing: the files stay as they are.
  auto parts = lake->partitions();
  ASSERT_TRUE(parts.has_value());
  std::vector<fs::file_time_type> mtimes;
  for (const auto& p : *parts) mtimes.push_back(fs::last_write_time(p.path));
  const WriteStats again = write_with(*lake, update, replacing());
  EXPECT_EQ(again.replaced, 0);
  EXPECT_EQ(again.partitions_written, 0);
  for (std::size_t i = 0; i < parts->size(); ++i) EXPECT_EQ(fs::last_write_time((*parts)[i].path), mtimes[i]);
}

TEST(LakeTest, ReplaceTakesWholeBookSnapshots) {
  TempDir dir;
  auto lake = open_lake(dir);
  const Timestamp t0 = utc(2021, 6, 1, 13);
  BookSnapshot deep{t0, {{100, 1}, {99, 2}, {98, 3}}, {{101, 1}, {102, 2}}};
  BookSnapshot shallow{t0, {{100, 5}}, {{101, 6}}};
  for (const auto& [snapshot, options] : {std::pair{deep, WriteOptions{}}, std::pair{shallow, replacing()}}) {
    auto writer = lake->writer(Dataset::Book, "WIN", options);
    ASSERT_TRUE(writer.has_value());
    (*writer)->add(snapshot);
    auto stats = (*writer)->flush();
    ASSERT_TRUE(stats.has_value()) << stats.error().message;
    if (options.replace) {
      EXPECT_EQ(stats->replaced, 1);
    }
  }
  auto stream = lake->stream_book("WIN", Timestamp::min(), Timestamp::max());
  const auto books = quant::testing::drain<BookSnapshot>(std::move(stream), 4096);
  ASSERT_EQ(books.size(), 1U);
  EXPECT_EQ(books[0].bids.size(), 1U);  // none of the deep snapshot's levels is left
  EXPECT_EQ(books[0].bids[0].size, 5);
}

TEST(LakeTest, TheStillFormingLastBarIsCompletedByTheNextExport) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 3, 1, 12), 30);
  // The first export ends at minute 9, still forming: lower high, fewer ticks.
  std::vector<Bar> first(bars.begin(), bars.begin() + 10);
  first.back().high = first.back().close;
  first.back().tick_volume = 3;
  const WriteStats one = write_with(*lake, first, forming_tail());
  ASSERT_TRUE(one.provisional.has_value());
  EXPECT_EQ(*one.provisional, bars[9].ts);
  EXPECT_EQ(lake->partitions()->at(0).provisional, std::vector<Timestamp>{bars[9].ts});

  // The next export has minute 9 complete and runs on to minute 19 (forming again).
  const WriteStats two = write_with(*lake, std::vector<Bar>(bars.begin() + 5, bars.begin() + 20), forming_tail());
  EXPECT_EQ(two.completed, 1);
  EXPECT_EQ(two.conflicts, 0);
  EXPECT_EQ(two.completed_bars, std::vector<Timestamp>{bars[9].ts});
  EXPECT_EQ(two.added, 10);
  EXPECT_EQ(two.duplicates, 4);
  ASSERT_TRUE(two.provisional.has_value());
  EXPECT_EQ(*two.provisional, bars[19].ts);
  EXPECT_EQ(lake->partitions()->at(0).provisional, std::vector<Timestamp>{bars[19].ts});
  EXPECT_EQ(read_bars(*lake, "WIN"), std::vector<Bar>(bars.begin(), bars.begin() + 20));

  // A bar that is not marked still conflicts; the lake keeps it.
  std::vector<Bar> changed = {bars[12]};
  changed[0].low -= 5;
  const WriteStats three = write_with(*lake, changed, forming_tail());
  EXPECT_EQ(three.conflicts, 1);
  EXPECT_EQ(three.completed, 0);
  EXPECT_FALSE(three.provisional.has_value());  // it does not end the series
  EXPECT_EQ(read_bars(*lake, "WIN")[12], bars[12]);

  // Without the mark (a writer not told about forming bars) the lake's row wins.
  std::vector<Bar> plain(bars.begin() + 19, bars.begin() + 21);
  plain[0].close -= 5;
  const WriteStats four = write_bars(*lake, "WIN", plain);
  EXPECT_EQ(four.completed, 1) << "minute 19 is still marked";
  const WriteStats five = write_bars(*lake, "WIN", {bars[20]});
  EXPECT_EQ(five.duplicates, 1);
  std::vector<Bar> late = {bars[20]};
  late[0].close -= 5;
  EXPECT_EQ(write_bars(*lake, "WIN", late).conflicts, 1) << "minute 20 was written by a plain writer: not marked";
  EXPECT_TRUE(lake->partitions()->at(0).provisional.empty());
}

TEST(LakeTest, ABackfillDoesNotMarkItsLastBarAndARepeatLeavesTheFileAlone) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 3, 1, 12), 100);
  write_with(*lake, std::vector<Bar>(bars.begin() + 50, bars.end()), forming_tail());
  const WriteStats backfill = write_with(*lake, std::vector<Bar>(bars.begin(), bars.begin() + 50), forming_tail());
  EXPECT_FALSE(backfill.provisional.has_value());
  EXPECT_EQ(lake->partitions()->at(0).provisional, std::vector<Timestamp>{bars[99].ts});
  // The same export again: its last bar is the lake's last bar, still marked; nothing to rewrite.
  const auto mtime = fs::last_write_time(lake->partitions()->at(0).path);
  const WriteStats repeat = write_with(*lake, std::vector<Bar>(bars.begin() + 50, bars.end()), forming_tail());
  EXPECT_EQ(repeat.partitions_written, 0);
  EXPECT_EQ(repeat.provisional, bars[99].ts);
  EXPECT_EQ(fs::last_write_time(lake->partitions()->at(0).path), mtime);
}

TEST(LakeTest, TheProvisionalMarkMovesAcrossAMonthEnd) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 1, 31, 23, 50), 20);  // 23:50 Jan 31 .. 00:09 Feb 1
  std::vector<Bar> january(bars.begin(), bars.begin() + 10);
  january.back().volume = 1;  // 23:59, still forming
  write_with(*lake, january, forming_tail());
  const WriteStats next = write_with(*lake, std::vector<Bar>(bars.begin() + 9, bars.end()), forming_tail());
  EXPECT_EQ(next.completed, 1);
  auto parts = lake->partitions();
  ASSERT_EQ(parts->size(), 2U);
  EXPECT_TRUE(parts->at(0).provisional.empty()) << "January's mark is settled";
  EXPECT_EQ(parts->at(1).provisional, std::vector<Timestamp>{bars[19].ts});
  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
}

TEST(LakeTest, GeneratedRowsAreMarkedAndMergesKeepTheMark) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 3, 1, 12), 200);
  WriteOptions generated;
  generated.generated = "quant generate seed=7\nsecond line";
  write_with(*lake, std::vector<Bar>(bars.begin(), bars.begin() + 100), generated);
  const GeneratedSpan span{bars[0].ts, bars[99].ts, "quant generate seed=7 second line"};
  EXPECT_EQ(lake->partitions()->at(0).generated, std::vector<GeneratedSpan>{span});
  EXPECT_EQ(*lake->generated_bars("WIN", Timestamp::min(), Timestamp::max()), std::vector<GeneratedSpan>{span});
  EXPECT_EQ(lake->generated_bars("WIN", bars[99].ts, bars[150].ts)->size(), 1U);
  EXPECT_TRUE(lake->generated_bars("WIN", bars[100].ts, Timestamp::max())->empty());
  EXPECT_TRUE(lake->generated_bars("WDO", Timestamp::min(), Timestamp::max())->empty());

  // Real bars merged into the partition: the generated span stays marked.
  const WriteStats real = write_bars(*lake, "WIN", std::vector<Bar>(bars.begin() + 100, bars.end()));
  EXPECT_EQ(real.added, 100);
  EXPECT_EQ(lake->partitions()->at(0).generated, std::vector<GeneratedSpan>{span});
  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
  // Real bars in another month carry no mark.
  write_bars(*lake, "WIN", make_bars(utc(2021, 4, 1, 12), 10));
  EXPECT_TRUE(lake->partitions()->at(1).generated.empty());
  EXPECT_TRUE(lake->generated_bars("WIN", utc(2021, 4, 1), utc(2021, 5, 1))->empty());
  EXPECT_EQ(query(*lake, "SELECT count(*) AS n FROM bars_1m"), "n\n210\n");

  // Real bars imported first, the same bars imported again as generated: nothing
  // new, but the partition is marked (it is rewritten for its mark alone).
  TempDir other_dir;
  auto other = open_lake(other_dir);
  write_bars(*other, "WIN", bars);
  WriteOptions later;
  later.generated = "found out later";
  const WriteStats marked = write_with(*other, bars, later);
  EXPECT_EQ(marked.added, 0);
  EXPECT_EQ(marked.partitions_written, 1);
  EXPECT_EQ(other->generated_bars("WIN", Timestamp::min(), Timestamp::max())->size(), 1U);
}

TEST(LakeTest, RepeatedKeysInsideOneInputKeepTheFirst) {
  TempDir dir;
  auto lake = open_lake(dir);
  auto bars = make_bars(utc(2021, 3, 1, 12), 5);
  Bar changed = bars[2];
  changed.high += 50;
  std::vector<Bar> input = {bars[0], bars[2], bars[1], bars[2], changed, bars[4], bars[3]};
  const WriteStats stats = write_bars(*lake, "WIN", input);
  EXPECT_EQ(stats.received, 7);
  EXPECT_EQ(stats.added, 5);
  EXPECT_EQ(stats.duplicates, 1);
  EXPECT_EQ(stats.conflicts, 1);
  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
}

TEST(LakeTest, OutOfOrderMonthsMergeIntoTheirPartitions) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto dec = make_bars(utc(2020, 12, 30), 10, std::chrono::hours(1));
  const auto oct = make_bars(utc(2020, 10, 31, 20), 10, std::chrono::hours(1));  // into Nov 1
  auto writer = lake->writer(Dataset::Bars1m, "WIN");
  ASSERT_TRUE(writer.has_value());
  for (const Bar& b : dec) (*writer)->add(b);
  for (const Bar& b : oct) (*writer)->add(b);  // Dec is written once the input moves to Oct
  for (const Bar& b : dec) (*writer)->add(b);  // back to a partition already written: merges
  auto stats = (*writer)->flush();
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->added, 20);
  EXPECT_EQ(stats->duplicates, 10);
  std::vector<Bar> all = oct;
  all.insert(all.end(), dec.begin(), dec.end());
  writer->reset();
  EXPECT_EQ(read_bars(*lake, "WIN"), all);
  EXPECT_EQ(lake->partitions()->size(), 3U);  // Oct, Nov, Dec
}

TEST(LakeTest, ManyRowGroupsAndThreadsKeepFileOrder) {
  TempDir dir;
  auto opened = Lake::open(dir.str(), true, LakeOptions{2, "", 1000});
  ASSERT_TRUE(opened.has_value());
  Lake& lake = **opened;
  const auto bars = make_bars(utc(2021, 5, 1), 40'000);  // all in May
  std::vector<Bar> even, odd;
  for (std::size_t i = 0; i < bars.size(); ++i) (i % 2 ? odd : even).push_back(bars[i]);
  std::reverse(odd.begin(), odd.end());
  write_bars(lake, "WIN", even);
  const WriteStats stats = write_bars(lake, "WIN", odd);  // merge interleaves every row
  EXPECT_EQ(stats.added, 20'000);
  EXPECT_EQ(read_bars(lake, "WIN", Timestamp::min(), Timestamp::max(), 4096), bars);
  // DuckDB rounds row groups up to whole vectors (2048 rows): 40k rows → 20 groups.
  EXPECT_EQ(query(lake, "SELECT count(DISTINCT row_group_id) >= 10 AS many FROM parquet_metadata('" +
                            lake.partitions()->at(0).path + "')"),
            "many\ntrue\n");
}

TEST(LakeTest, TicksWithEqualTimestampsGetSequenceNumbersAndDedup) {
  TempDir dir;
  auto lake = open_lake(dir);
  const Timestamp t0 = utc(2021, 6, 1, 13, 0, 0);
  std::vector<Tick> ticks(4);
  for (int i = 0; i < 4; ++i) {
    ticks[i].ts = i < 3 ? t0 : t0 + std::chrono::milliseconds(1);
    ticks[i].bid = 5000 + i;
    ticks[i].ask = 5000.5 + i;
    ticks[i].flags = kTickBid | kTickAsk;
  }
  ticks[1].last = 5001;
  ticks[1].volume = 3;
  for (int round = 0; round < 2; ++round) {
    auto writer = lake->writer(Dataset::Ticks, "WDO");
    ASSERT_TRUE(writer.has_value());
    for (const Tick& t : ticks) (*writer)->add(t);
    auto stats = (*writer)->flush();
    ASSERT_TRUE(stats.has_value()) << stats.error().message;
    EXPECT_EQ(stats->added, round == 0 ? 4 : 0);
    EXPECT_EQ(stats->duplicates, round == 0 ? 0 : 4);
    EXPECT_EQ(stats->partitions_written, round == 0 ? 1 : 0);
  }
  EXPECT_EQ(query(*lake, "SELECT symbol, ts, seq, bid, last, volume, flags FROM ticks ORDER BY ts, seq"),
            "symbol,ts,seq,bid,last,volume,flags\n"
            "WDO,2021-06-01 13:00:00,0,5000.0,,0.0,6\n"
            "WDO,2021-06-01 13:00:00,1,5001.0,5001.0,3.0,6\n"
            "WDO,2021-06-01 13:00:00,2,5002.0,,0.0,6\n"
            "WDO,2021-06-01 13:00:00.001,0,5003.0,,0.0,6\n");
}

TEST(LakeTest, TradesRoundTrip) {
  TempDir dir;
  auto lake = open_lake(dir);
  auto writer = lake->writer(Dataset::Trades, "WIN");
  ASSERT_TRUE(writer.has_value());
  const Timestamp t0 = utc(2021, 6, 1, 13);
  (*writer)->add(Trade{t0, 120000, 2, Aggressor::Buy});
  (*writer)->add(Trade{t0, 120005, 1, Aggressor::Sell});
  (*writer)->add(Bar{});  // wrong record kind for this writer
  EXPECT_TRUE((*writer)->error().has_value());
  EXPECT_FALSE((*writer)->flush().has_value());
  writer->reset();

  writer = lake->writer(Dataset::Trades, "WIN");
  ASSERT_TRUE(writer.has_value());
  (*writer)->add(Trade{t0, 120000, 2, Aggressor::Buy});
  (*writer)->add(Trade{t0, 120005, 1, Aggressor::Sell});
  ASSERT_TRUE((*writer)->flush().has_value());
  EXPECT_EQ(query(*lake, "SELECT seq, price, volume, aggressor, year, month FROM trades ORDER BY seq"),
            "seq,price,volume,aggressor,year,month\n0,120000.0,2.0,1,2021,6\n1,120005.0,1.0,-1,2021,6\n");
}

TEST(LakeTest, BookSnapshotsRoundTripWithNullSides) {
  TempDir dir;
  auto lake = open_lake(dir);
  const Timestamp t0 = utc(2021, 6, 1, 13);
  BookSnapshot a{t0, {{100, 5}, {99, 7}}, {{101, 3}}};
  BookSnapshot b{t0, {{100, 6}}, {{101, 2}, {102, 9}}};
  for (int round = 0; round < 2; ++round) {
    auto writer = lake->writer(Dataset::Book, "WIN");
    ASSERT_TRUE(writer.has_value());
    (*writer)->add(a);
    (*writer)->add(b);
    auto stats = (*writer)->flush();
    ASSERT_TRUE(stats.has_value()) << stats.error().message;
    EXPECT_EQ(stats->received, 2);
    EXPECT_EQ(stats->added, round == 0 ? 2 : 0);
    EXPECT_EQ(stats->duplicates, round == 0 ? 0 : 2);
  }
  {
    // Same key (ts, seq 1), different levels: a conflict, the lake's snapshot stays.
    auto writer = lake->writer(Dataset::Book, "WIN");
    ASSERT_TRUE(writer.has_value());
    (*writer)->add(a);
    (*writer)->add(a);
    auto stats = (*writer)->flush();
    ASSERT_TRUE(stats.has_value()) << stats.error().message;
    EXPECT_EQ(stats->duplicates, 1);
    EXPECT_EQ(stats->conflicts, 1);
    EXPECT_EQ(stats->added, 0);
  }
  EXPECT_EQ(
      query(*lake, "SELECT seq, level, bid_price, bid_size, ask_price, ask_size FROM book ORDER BY ts, seq, level"),
      "seq,level,bid_price,bid_size,ask_price,ask_size\n"
      "0,0,100.0,5.0,101.0,3.0\n"
      "0,1,99.0,7.0,,\n"
      "1,0,100.0,6.0,101.0,2.0\n"
      "1,1,,,102.0,9.0\n");
}

TEST(LakeTest, QueryCsvExposesSymbolAndQuotesFields) {
  TempDir dir;
  auto lake = open_lake(dir);
  write_bars(*lake, "WIN", make_bars(utc(2020, 11, 6, 13, 28), 3));
  write_bars(*lake, "WDO", make_bars(utc(2020, 11, 6, 13, 28), 2));
  EXPECT_EQ(
      query(*lake, "SELECT symbol, ts, close, tick_volume FROM bars_1m ORDER BY symbol DESC, ts LIMIT 2;"),
      "symbol,ts,close,tick_volume\nWIN,2020-11-06 13:28:00,100010.0,100\nWIN,2020-11-06 13:29:00,100015.0,101\n");
  EXPECT_EQ(query(*lake, "SELECT symbol, count(*) AS n, year, month FROM bars_1m GROUP BY ALL ORDER BY symbol"),
            "symbol,n,year,month\nWDO,2,2020,11\nWIN,3,2020,11\n");
  EXPECT_EQ(query(*lake, "SELECT 'a,b' AS \"x,y\", 'say \"hi\"' AS q, '' AS e, NULL AS n"),
            "\"x,y\",q,e,n\n\"a,b\",\"say \"\"hi\"\"\",\"\",\n");
  std::ostringstream out;
  auto rows = lake->query_csv("SELECT * FROM bars_1m", out);
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(*rows, 5);
}

TEST(LakeTest, EmptyLakeHasEmptyViews) {
  TempDir dir;
  auto lake = open_lake(dir);
  for (const char* view : {"bars_1m", "ticks", "trades", "book"}) {
    EXPECT_EQ(query(*lake, std::string("SELECT count(*) AS n FROM ") + view), "n\n0\n") << view;
  }
  EXPECT_EQ(query(*lake, "SELECT symbol, ts, open, year, month FROM bars_1m"), "symbol,ts,open,year,month\n");
}

TEST(LakeTest, SqlErrorsCarryDuckDbsMessage) {
  TempDir dir;
  auto lake = open_lake(dir);
  std::ostringstream out;
  auto rows = lake->query_csv("SELECT no_such_column FROM bars_1m", out);
  ASSERT_FALSE(rows.has_value());
  EXPECT_NE(rows.error().message.find("no_such_column"), std::string::npos) << rows.error().message;
  rows = lake->query_csv("SELEC 1", out);
  ASSERT_FALSE(rows.has_value());
  EXPECT_NE(rows.error().message.find("syntax error"), std::string::npos) << rows.error().message;
}

TEST(LakeTest, StalePartialIsIgnoredByReadersAndRemovedByTheNextWriter) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2021, 3, 1, 12), 10);
  write_bars(*lake, "WIN", bars);
  const fs::path partial =
      fs::path(dir.str()) / "kind=bars_1m/symbol=WIN/year=2021/month=03/.data.parquet.12345.partial";
  std::ofstream(partial) << "half a parquet file";
  ASSERT_TRUE(fs::exists(partial));
  EXPECT_EQ(query(*lake, "SELECT count(*) AS n FROM bars_1m"), "n\n10\n");
  EXPECT_EQ(lake->partitions()->size(), 1U);
  EXPECT_EQ(read_bars(*lake, "WIN"), bars);
  auto writer = lake->writer(Dataset::Bars1m, "WIN");
  ASSERT_TRUE(writer.has_value());
  EXPECT_FALSE(fs::exists(partial));
}

TEST(LakeTest, SecondWriterFailsWithTheLockMessage) {
  TempDir dir;
  auto lake = open_lake(dir);
  auto other = Lake::open(dir.str(), false);
  ASSERT_TRUE(other.has_value());
  auto first = lake->writer(Dataset::Bars1m, "WIN");
  ASSERT_TRUE(first.has_value());
  auto second = (*other)->writer(Dataset::Ticks, "WDO");
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find(fs::canonical(dir.str()).string() + "/.lock"), std::string::npos)
      << second.error().message;
  first->reset();
  EXPECT_TRUE((*other)->writer(Dataset::Ticks, "WDO").has_value());
}

TEST(LakeTest, WritersOfOneLakeShareTheLock) {
  // Ingesting ticks also writes the 1-minute bars aggregated from them: two
  // writers of the same Lake object at once.
  TempDir dir;
  auto lake = open_lake(dir);
  auto ticks = lake->writer(Dataset::Ticks, "WIN");
  ASSERT_TRUE(ticks.has_value()) << ticks.error().message;
  auto bars = lake->writer(Dataset::Bars1m, "WIN");
  ASSERT_TRUE(bars.has_value()) << bars.error().message;
  auto other = Lake::open(dir.str(), false);
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE((*other)->writer(Dataset::Trades, "WIN").has_value());
  ticks->reset();
  EXPECT_FALSE((*other)->writer(Dataset::Trades, "WIN").has_value()) << "the bars writer still holds it";
  bars->reset();
  EXPECT_TRUE((*other)->writer(Dataset::Trades, "WIN").has_value());
}

TEST(LakeTest, SecondWriterInAnotherProcessFails) {
  TempDir dir;
  auto lake = open_lake(dir);
  auto first = lake->writer(Dataset::Bars1m, "WIN");
  ASSERT_TRUE(first.has_value());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A fresh lake in the child process; exit code says whether the lock held.
    auto child_lake = Lake::open(dir.str(), false);
    if (!child_lake) ::_exit(2);
    auto w = (*child_lake)->writer(Dataset::Bars1m, "WIN");
    ::_exit(!w && w.error().message.find(".lock") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(LakeTest, OpenAndSymbolErrors) {
  TempDir dir;
  auto missing = Lake::open(dir.str() + "/nope", false);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
  auto lake = open_lake(dir);
  auto writer = lake->writer(Dataset::Bars1m, "../etc");
  ASSERT_FALSE(writer.has_value());
  EXPECT_NE(writer.error().message.find("'/'"), std::string::npos) << writer.error().message;
  EXPECT_FALSE(lake->stream_bars("A B", Timestamp::min(), Timestamp::max()).has_value());
  EXPECT_FALSE(validate_symbol("").has_value());
  EXPECT_TRUE(validate_symbol("EURUSD.a$-_1").has_value());
  EXPECT_EQ(*parse_dataset("bars_1m"), Dataset::Bars1m);
  EXPECT_EQ(*parse_dataset("book"), Dataset::Book);
  EXPECT_FALSE(parse_dataset("candles").has_value());
}

using quant::testing::win_spec;

std::int64_t count_of(const VerifyReport& report, const std::string& check) {
  for (const auto& [name, count] : report.counts) {
    if (name == check) return count;
  }
  return -1;
}

TEST(LakeVerifyTest, CleanSeriesHasNoFindings) {
  TempDir dir;
  auto lake = open_lake(dir);
  // Two B3 sessions (10:00-18:25 local = 13:00-21:25 UTC), nothing missing.
  std::vector<Bar> bars = make_bars(utc(2020, 11, 5, 13), 505);
  const auto day2 = make_bars(utc(2020, 11, 6, 13), 505);
  bars.insert(bars.end(), day2.begin(), day2.end());
  write_bars(*lake, "WIN", bars);
  const InstrumentSpec spec = win_spec();
  auto report = lake->verify("WIN", &spec);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->bars, 1010);
  EXPECT_EQ(report->first_ts, bars.front().ts);
  EXPECT_EQ(report->last_ts, bars.back().ts);
  EXPECT_FALSE(report->has_errors()) << report->to_text();
  EXPECT_TRUE(report->findings.empty()) << report->to_text();
  EXPECT_EQ(count_of(*report, "gap"), 0);
  EXPECT_EQ(count_of(*report, "off_grid"), 0);
  EXPECT_NE(report->to_text().find("symbol WIN: 1010 bars"), std::string::npos);
}

TEST(LakeVerifyTest, FindsEachProblemInACraftedPartition) {
  TempDir dir;
  auto lake = open_lake(dir);
  const std::string part = dir.str() + "/kind=bars_1m/symbol=BAD/year=2020/month=11";
  fs::create_directories(part);
  // Minutes after 13:00 UTC (10:00 local), in file order.
  const std::string sql =
      "COPY (SELECT ('2020-11-06 13:00:00'::TIMESTAMP_NS + to_minutes(m))::TIMESTAMP_NS AS ts, o::DOUBLE AS open, "
      "h::DOUBLE AS high, l::DOUBLE AS low, c::DOUBLE AS close, 1::BIGINT AS tick_volume, 0::DOUBLE AS volume, "
      "0::INTEGER AS spread FROM (VALUES "
      "(0, 100000, 100010, 99990, 100005), "
      "(1, 100000, 100010, 99990, 100005), "
      "(1, 100000, 100010, 99990, 100005), "  // duplicate
      "(2, 100000, 100010, 99990, 100005), "
      "(1, 100000, 100010, 99990, 100005), "  // non-monotonic, then a 1-minute gap to m3
      "(3, 100000, 100010, 99990, 100005), "
      "(4, 100000, 99995, 99990, 100005), "   // high below open
      "(5, 100002, 100010, 99990, 100005), "  // off grid
      "(6, 0, 100010, 0, 100005), "           // zero prices
      "(7, 100000, 100010, 99990, 100005)) AS t(m, o, h, l, c)) TO '" +
      part + "/data.parquet' (FORMAT parquet)";
  query(*lake, sql);

  auto plain = lake->verify("BAD", nullptr);
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->bars, 10);
  EXPECT_TRUE(plain->has_errors());
  EXPECT_EQ(count_of(*plain, "duplicate"), 1);
  EXPECT_EQ(count_of(*plain, "non_monotonic"), 1);
  EXPECT_EQ(count_of(*plain, "ohlc"), 1);
  EXPECT_EQ(count_of(*plain, "non_positive"), 1);
  EXPECT_EQ(count_of(*plain, "off_grid"), -1);  // needs a spec
  EXPECT_EQ(count_of(*plain, "gap"), -1);

  const InstrumentSpec spec = win_spec();
  auto report = lake->verify("BAD", &spec);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(count_of(*report, "off_grid"), 1);
  EXPECT_EQ(count_of(*report, "gap"), 1);
  EXPECT_EQ(report->largest_gap, kMinute);
  EXPECT_EQ(report->findings.size(), 6U);
  const std::string text = report->to_text();
  EXPECT_NE(text.find("duplicate"), std::string::npos) << text;
  EXPECT_NE(text.find("2020-11-06T13:05:00Z"), std::string::npos) << text;  // the off-grid example
  EXPECT_NE(text.find("FAILED"), std::string::npos) << text;
}

TEST(LakeVerifyTest, GapsInsideTheSessionAreWarnings) {
  TempDir dir;
  auto lake = open_lake(dir);
  auto bars = make_bars(utc(2020, 11, 6, 13), 505);          // 10:00 .. 18:24 local
  bars.erase(bars.begin() + 200, bars.begin() + 210);        // 10 minutes missing
  bars.erase(bars.begin() + 100, bars.begin() + 105);        // 5 minutes missing
  const auto next_day = make_bars(utc(2020, 11, 9, 13), 5);  // the weekend is not a gap
  bars.insert(bars.end(), next_day.begin(), next_day.end());
  write_bars(*lake, "WIN", bars);
  const InstrumentSpec spec = win_spec();
  auto report = lake->verify("WIN", &spec);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_FALSE(report->has_errors()) << report->to_text();
  EXPECT_EQ(count_of(*report, "gap"), 2);
  EXPECT_EQ(report->largest_gap, std::chrono::minutes(10));
  EXPECT_EQ(report->largest_gap_start, utc(2020, 11, 6, 13) + std::chrono::minutes(200));
  EXPECT_NE(report->to_text().find("largest 10 min"), std::string::npos) << report->to_text();
}

// Through the lake, with B3's calendar (core/test_calendar.h): the weekend,
// Carnival Monday and Tuesday are not gaps, Ash Wednesday's session starts at
// 13:00, and Friday Feb 19 (a trading day without bars) is reported.
TEST(LakeVerifyTest, TheCalendarDecidesWhatIsMissing) {
  TempDir dir;
  auto lake = open_lake(dir);
  std::vector<Bar> bars = make_bars(utc(2021, 2, 12, 12), 565);                // Friday 09:00-18:24 BRT
  for (const auto& [start, count] : {std::pair{utc(2021, 2, 17, 16), 325},     // Ash Wednesday 13:00-18:24
                                     std::pair{utc(2021, 2, 18, 12), 565},     // Thursday
                                     std::pair{utc(2021, 2, 22, 12), 565}}) {  // Monday
    const auto day = make_bars(start, count);
    bars.insert(bars.end(), day.begin(), day.end());
  }
  write_bars(*lake, "WIN", bars);
  const InstrumentSpec spec = quant::testing::win_with_b3_calendar();
  auto report = lake->verify("WIN", &spec);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->bars, 565 * 3 + 325);
  EXPECT_FALSE(report->has_errors()) << report->to_text();
  EXPECT_EQ(count_of(*report, "gap"), 0) << report->to_text();
  EXPECT_EQ(count_of(*report, "missing_day"), 1) << report->to_text();
  EXPECT_NE(report->to_text().find("no bars on trading day 2021-02-19"), std::string::npos) << report->to_text();
  EXPECT_NE(report->to_text().find("PASSED"), std::string::npos);

  // Without a calendar: the fixed session, no missing-day check (as before).
  const InstrumentSpec fixed = win_spec();
  auto before = lake->verify("WIN", &fixed);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(count_of(*before, "missing_day"), -1);
  EXPECT_EQ(count_of(*before, "gap"), 0);
  EXPECT_EQ(before->calendar, "");
}

TEST(LakeVerifyTest, BarsOfAnotherTimeframeFail) {
  TempDir dir;
  auto lake = open_lake(dir);
  // Five-minute bars, as another tool would have written them: 10 sessions of 10:00-18:20 local.
  for (int day = 2; day <= 13; ++day) {
    if (day == 7 || day == 8) continue;  // the weekend
    write_bars(*lake, "M5", make_bars(utc(2020, 11, day, 13), 101, std::chrono::minutes(5)));
  }
  const InstrumentSpec spec = win_spec();
  auto report = lake->verify("M5", &spec);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(report->has_errors()) << report->to_text();
  EXPECT_EQ(count_of(*report, "timeframe"), 1);
  EXPECT_EQ(report->timeframe.mt5_name(), "M5");
  const std::string text = report->to_text();
  EXPECT_NE(text.find("the series holds 5-minute (M5) bars, not 1-minute bars: 1,000 of 1,000 consecutive bars of "
                      "the same day are 5 minutes apart and 1,010 of 1,010 bars lie on the 5-minute grid"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("FAILED"), std::string::npos) << text;

  // One-minute bars with many minutes missing still pass.
  auto sparse = make_bars(utc(2020, 11, 6, 13), 505);
  for (std::size_t i = sparse.size(); i-- > 0;) {
    if (i % 3 == 1 || i % 7 == 2) sparse.erase(sparse.begin() + static_cast<std::ptrdiff_t>(i));
  }
  write_bars(*lake, "M1", sparse);
  auto ok = lake->verify("M1", &spec);
  ASSERT_TRUE(ok.has_value());
  EXPECT_FALSE(ok->has_errors()) << ok->to_text();
  EXPECT_EQ(count_of(*ok, "timeframe"), 0);
  EXPECT_EQ(ok->timeframe.kind, Timeframe::Kind::OneMinute);
}

TEST(LakeVerifyTest, TheReportNamesGeneratedDataAndReportsProgress) {
  TempDir dir;
  auto lake = open_lake(dir);
  WriteOptions generated;
  generated.generated = "quant generate seed=1";
  const auto bars = make_bars(utc(2020, 11, 6, 13), 505);
  write_with(*lake, bars, generated);
  std::int64_t last_done = 0, last_total = 0;
  auto report = lake->verify("WIN", nullptr, [&](std::int64_t done, std::int64_t total) {
    last_done = done;
    last_total = total;
  });
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(last_done, 505);
  EXPECT_EQ(last_total, 505);
  ASSERT_EQ(report->generated.size(), 1U);
  EXPECT_NE(
      report->to_text().find("generated data 2020-11-06T13:00:00Z .. 2020-11-06T21:24:00Z: quant generate seed=1"),
      std::string::npos)
      << report->to_text();
}

TEST(LakeVerifyTest, TicksAndTradesAreChecked) {
  TempDir dir;
  auto lake = open_lake(dir);
  write_bars(*lake, "WIN", make_bars(utc(2020, 11, 6, 13), 3));
  {
    auto writer = lake->writer(Dataset::Ticks, "WIN");
    ASSERT_TRUE(writer.has_value());
    Tick good;
    good.ts = utc(2020, 11, 6, 13);
    good.bid = 100000;
    good.ask = 100005;
    Tick bad = good;
    bad.ts += std::chrono::seconds(1);
    bad.bid = 0;
    (*writer)->add(good);
    (*writer)->add(bad);
    ASSERT_TRUE((*writer)->flush().has_value());
  }
  {
    auto writer = lake->writer(Dataset::Trades, "WIN");
    ASSERT_TRUE(writer.has_value());
    (*writer)->add(Trade{utc(2020, 11, 6, 13), -5, 1, Aggressor::Buy});
    ASSERT_TRUE((*writer)->flush().has_value());
  }
  auto report = lake->verify("WIN", nullptr);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(count_of(*report, "ticks:non_positive"), 1);
  EXPECT_EQ(count_of(*report, "ticks:non_monotonic"), 0);
  EXPECT_EQ(count_of(*report, "trades:non_positive"), 1);
  EXPECT_TRUE(report->has_errors());
}


// ---------------------------------------------------------------- bar cache

std::string bars_partition(const TempDir& dir, const std::string& symbol, int year, int month) {
  char ym[32];
  std::snprintf(ym, sizeof ym, "/year=%04d/month=%02d", year, month);
  return dir.str() + "/kind=bars_1m/symbol=" + symbol + ym;
}

TEST(BarCacheTest, FirstReadBuildsTheCacheAndLaterReadsMatchParquet) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2024, 1, 30, 12), 3 * 24 * 60 + 7);  // Jan and Feb: two partitions
  write_bars(*lake, "X", bars);
  const std::string jan = bars_partition(dir, "X", 2024, 1) + "/.bars.cache";
  EXPECT_FALSE(fs::exists(jan));
  EXPECT_EQ(read_bars(*lake, "X"), bars);  // from Parquet, building the caches
  ASSERT_TRUE(fs::exists(jan));
  ASSERT_TRUE(fs::exists(bars_partition(dir, "X", 2024, 2) + "/.bars.cache"));
  const auto cache_time = fs::last_write_time(jan);
  EXPECT_EQ(read_bars(*lake, "X"), bars);  // from the caches
  EXPECT_EQ(fs::last_write_time(jan), cache_time) << "a valid cache is read, not rebuilt";
  // A window inside the data, across the month boundary.
  const Timestamp from = utc(2024, 1, 31, 23, 50), to = utc(2024, 2, 1, 0, 10);
  std::vector<Bar> expected;
  for (const Bar& b : bars) {
    if (b.ts >= from && b.ts < to) expected.push_back(b);
  }
  EXPECT_EQ(read_bars(*lake, "X", from, to), expected);
}

TEST(BarCacheTest, AWriteToThePartitionInvalidatesItsCache) {
  TempDir dir;
  auto lake = open_lake(dir);
  auto bars = make_bars(utc(2024, 3, 4, 10), 100);
  write_bars(*lake, "X", bars);
  EXPECT_EQ(read_bars(*lake, "X"), bars);  // cache built
  const std::string cache = bars_partition(dir, "X", 2024, 3) + "/.bars.cache";
  ASSERT_TRUE(fs::exists(cache));
  const auto more = make_bars(utc(2024, 3, 5, 10), 50);
  write_bars(*lake, "X", more);
  EXPECT_FALSE(fs::exists(cache)) << "the writer removes the cache of the file it replaced";
  bars.insert(bars.end(), more.begin(), more.end());
  EXPECT_EQ(read_bars(*lake, "X"), bars) << "the new rows are read, not the stale cache";
}

TEST(BarCacheTest, ACopiedLakeKeepsItsCachesByContentAndADamagedCacheIsNeverBelieved) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = make_bars(utc(2024, 3, 4, 10), 40000);  // three checksum blocks
  write_bars(*lake, "X", bars);
  EXPECT_EQ(read_bars(*lake, "X"), bars);
  const std::string part = bars_partition(dir, "X", 2024, 3);
  // Touching data.parquet (new mtime, same bytes): still the same content, the cache stays valid.
  fs::last_write_time(part + "/data.parquet", fs::file_time_type::clock::now() + std::chrono::hours(1));
  EXPECT_EQ(read_bars(*lake, "X"), bars);
  ASSERT_TRUE(fs::exists(part + "/.bars.cache"));
  {
    // The cache now records the new mtime: the next read matches on stat alone.
    std::ifstream header(part + "/.bars.cache", std::ios::binary);
    char bytes[128];
    header.read(bytes, sizeof bytes);
    std::int64_t recorded = 0;
    std::memcpy(&recorded, bytes + 40, sizeof recorded);  // source_mtime_ns
    struct stat st {};
    ASSERT_EQ(::stat((part + "/data.parquet").c_str(), &st), 0);
    EXPECT_EQ(recorded, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec);
  }
  // Flip one byte inside the second block's bars: the read fails naming the
  // cache and removes it; the next read rebuilds it from Parquet.
  {
    std::fstream f(part + "/.bars.cache", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(128 + 20000 * 64 + 8);
    f.put('\x7f');
  }
  auto stream = lake->stream_bars("X", Timestamp::min(), Timestamp::max(), 4096);
  ASSERT_TRUE(stream.has_value());
  std::vector<Bar> batch;
  std::string error;
  std::size_t read = 0;
  for (;;) {
    auto more = (*stream)->next(batch);
    if (!more) {
      error = more.error().message;
      break;
    }
    if (!*more) break;
    read += batch.size();
    for (const Bar& b : batch) ASSERT_EQ(b, bars[static_cast<std::size_t>((b.ts - bars[0].ts) / kMinute)]);
  }
  EXPECT_NE(error.find("is damaged"), std::string::npos) << error;
  EXPECT_LT(read, bars.size());
  EXPECT_FALSE(fs::exists(part + "/.bars.cache"));
  EXPECT_EQ(read_bars(*lake, "X"), bars);
}

TEST(BarCacheTest, NullOrZeroPricesFromAnotherToolNameFileAndRow) {
  TempDir dir;
  auto lake = open_lake(dir);
  const std::string part = bars_partition(dir, "ODD", 2020, 11);
  fs::create_directories(part);
  query(*lake,
        "COPY (SELECT ('2020-11-06 13:00:00'::TIMESTAMP_NS + to_minutes(m))::TIMESTAMP_NS AS ts, o::DOUBLE AS open, "
        "100010::DOUBLE AS high, 99990::DOUBLE AS low, c::DOUBLE AS close, 1::BIGINT AS tick_volume, "
        "0::DOUBLE AS volume, 0::INTEGER AS spread FROM (VALUES (0, 100000, 100005), (1, 100000, 100005), "
        "(2, 100000, NULL)) AS t(m, o, c)) TO '" + part + "/data.parquet' (FORMAT parquet)");
  auto stream = lake->stream_bars("ODD", Timestamp::min(), Timestamp::max(), 8192);
  ASSERT_TRUE(stream.has_value());
  std::vector<Bar> batch;
  auto more = (*stream)->next(batch);
  ASSERT_FALSE(more.has_value());
  const std::string& message = more.error().message;
  EXPECT_NE(message.find(part + "/data.parquet: row 3 (2020-11-06T13:02:00Z): close is NULL"), std::string::npos)
      << message;
  EXPECT_FALSE(fs::exists(part + "/.bars.cache")) << "no cache of a file with invalid rows";

  query(*lake, "COPY (SELECT ts, CASE WHEN ts = '2020-11-06 13:01:00' THEN 0 ELSE open END AS open, high, low, "
               "coalesce(close, 100005) AS close, tick_volume, volume, spread FROM '" +
                   part + "/data.parquet') TO '" + part + "/data2.parquet' (FORMAT parquet)");
  fs::rename(part + "/data2.parquet", part + "/data.parquet");
  auto zero = lake->stream_bars("ODD", Timestamp::min(), Timestamp::max(), 8192);
  ASSERT_TRUE(zero.has_value());
  more = (*zero)->next(batch);
  ASSERT_FALSE(more.has_value());
  EXPECT_NE(more.error().message.find("row 2 (2020-11-06T13:01:00Z): open is not a positive price (0"),
            std::string::npos)
      << more.error().message;
  // verify still reads such a file and reports it.
  auto report = lake->verify("ODD", nullptr);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(count_of(*report, "non_positive"), 1);
}

// ------------------------------------------------------ Parquet stream writer

TEST(ParquetStreamTest, RowsStreamIntoOneFileInOrderWithTheirTypes) {
  TempDir dir;
  fs::create_directories(dir.str());
  const std::string path = dir.str() + "/out.parquet";
  using Type = lake::ParquetColumn::Type;
  auto writer = lake::ParquetStreamWriter::open(
      path, {{"ts", Type::TimestampNs, 0}, {"n", Type::BigInt, 0}, {"money", Type::Decimal, 2}});
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  const std::int64_t rows = 300000;  // many blocks, several row groups
  const std::int64_t t0 = to_epoch_ns(utc(2024, 1, 2));
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t row[] = {t0 + i * 60'000'000'000, i, -12345 + i};
    (*writer)->add_row(row);
    if (i == 0) {
      EXPECT_FALSE(fs::exists(path)) << "the file appears only when complete";
    }
  }
  auto closed = (*writer)->close();
  ASSERT_TRUE(closed.has_value()) << closed.error().message;
  EXPECT_EQ(*closed, rows);
  EXPECT_FALSE(fs::exists(path + ".partial"));
  auto lake = open_lake(dir);
  std::ostringstream out;
  ASSERT_TRUE(lake->query_csv("SELECT count(*) AS n, count(*) FILTER (WHERE n = rn - 1) AS in_order, min(ts) AS t, "
                              "max(money) AS m, typeof(any_value(money)) AS type FROM (SELECT *, row_number() OVER () "
                              "AS rn FROM '" + path + "')",
                              out)
                  .has_value());
  EXPECT_EQ(out.str(), "n,in_order,t,m,type\n300000,300000,2024-01-02 00:00:00,2876.54,\"DECIMAL(18,2)\"\n");
}

TEST(ParquetStreamTest, AnUnclosedWriterLeavesNoFile) {
  TempDir dir;
  fs::create_directories(dir.str());
  const std::string path = dir.str() + "/out.parquet";
  {
    auto writer = lake::ParquetStreamWriter::open(path, {{"n", lake::ParquetColumn::Type::BigInt, 0}});
    ASSERT_TRUE(writer.has_value());
    for (std::int64_t i = 0; i < 10000; ++i) (*writer)->add_row(&i);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
  auto missing = lake::ParquetStreamWriter::open(dir.str() + "/no/such/dir/out.parquet",
                                                 {{"n", lake::ParquetColumn::Type::BigInt, 0}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("no such directory"), std::string::npos);
}

}  // namespace
}  // namespace quant::lake
