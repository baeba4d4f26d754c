// Ticks, trades and book partitioned by UTC day: where rows land, what a
// day's rewrite touches, writing under a tiny memory budget, and month files
// of lakes written before day partitions (read, then split by the first write).
#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "lake/lake.h"
#include "lake/test_lake.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

using quant::testing::open_lake;
using quant::testing::query;
using quant::testing::TempDir;
using quant::testing::utc;

template <class Record>
WriteStats write_all(Lake& lake, Dataset dataset, const std::vector<Record>& records,
                     const WriteOptions& options = {}) {
  auto writer = lake.writer(dataset, "WIN", options);
  EXPECT_TRUE(writer.has_value()) << (writer ? "" : writer.error().message);
  if (!writer) return {};
  for (const Record& r : records) (*writer)->add(r);
  auto stats = (*writer)->flush();
  EXPECT_TRUE(stats.has_value()) << (stats ? "" : stats.error().message);
  return stats ? *stats : WriteStats{};
}

/// Trades on `days` UTC days from June 1st 2021, 12:00 to 20:00, `per_day` each.
std::vector<Trade> trades_over_days(int days, int per_day) {
  std::vector<Trade> out;
  for (int d = 0; d < days; ++d) {
    const Timestamp open = utc(2021, 6, 1 + d, 12);
    for (int i = 0; i < per_day; ++i) {
      out.push_back(Trade{open + std::chrono::milliseconds(i * 8 * 3600 * 1000LL / per_day), 120000.0 + 5.0 * (i % 40),
                          1.0 + i % 7, i % 2 ? Aggressor::Buy : Aggressor::Sell});
    }
  }
  return out;
}

std::map<int, PartitionInfo> trade_days(Lake& lake) {
  auto parts = lake.partitions(Dataset::Trades, "WIN");
  EXPECT_TRUE(parts.has_value()) << (parts ? "" : parts.error().message);
  std::map<int, PartitionInfo> out;
  if (parts) {
    for (const PartitionInfo& p : *parts) out[p.day] = p;
  }
  return out;
}

ino_t inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST(LakeDaysTest, TradesLandInDayPartitionsAndADayRewriteTouchesOnlyThatDay) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto trades = trades_over_days(3, 1000);
  const WriteStats first = write_all(*lake, Dataset::Trades, trades);
  EXPECT_EQ(first.added, 3000);
  EXPECT_EQ(first.partitions_written, 3);
  auto days = trade_days(*lake);
  ASSERT_EQ(days.size(), 3U);
  for (int d = 1; d <= 3; ++d) {
    const PartitionInfo& p = days.at(d);
    EXPECT_EQ(p.year, 2021);
    EXPECT_EQ(p.month, 6);
    EXPECT_EQ(p.rows, 1000);
    EXPECT_EQ(p.first_ts, utc(2021, 6, d, 12));
    EXPECT_EQ(p.last_ts, trades[static_cast<std::size_t>(d * 1000 - 1)].ts);
    EXPECT_NE(p.path.find("/kind=trades/symbol=WIN/year=2021/month=06/day=0" + std::to_string(d) + "/data.parquet"),
              std::string::npos)
        << p.path;
  }
  EXPECT_EQ(query(*lake, "SELECT day, count(*) AS n FROM trades GROUP BY day ORDER BY day"),
            "day,n\n1,1000\n2,1000\n3,1000\n");

  // A day's re-ingest: one new trade on June 2nd and that day's old ones again.
  const ino_t day1 = inode(days.at(1).path), day2 = inode(days.at(2).path), day3 = inode(days.at(3).path);
  std::vector<Trade> again(trades.begin() + 1000, trades.begin() + 2000);
  again.push_back(Trade{utc(2021, 6, 2, 21), 120100, 3, Aggressor::Buy});
  const WriteStats second = write_all(*lake, Dataset::Trades, again);
  EXPECT_EQ(second.added, 1);
  EXPECT_EQ(second.duplicates, 1000);
  EXPECT_EQ(second.partitions_written, 1);
  days = trade_days(*lake);
  EXPECT_EQ(inode(days.at(1).path), day1);
  EXPECT_EQ(inode(days.at(3).path), day3);
  EXPECT_NE(inode(days.at(2).path), day2);
  EXPECT_EQ(days.at(2).rows, 1001);

  // A window inside one day reads that day only; across days, in order.
  auto window = lake->stream_trades("WIN", utc(2021, 6, 2, 20), utc(2021, 6, 3, 13));
  ASSERT_TRUE(window.has_value());
  std::vector<Trade> batch, read;
  while (*(*window)->next(batch)) read.insert(read.end(), batch.begin(), batch.end());
  ASSERT_FALSE(read.empty());
  EXPECT_EQ(read.front().ts, utc(2021, 6, 2, 21));
  EXPECT_TRUE(std::is_sorted(read.begin(), read.end(), [](const Trade& a, const Trade& b) { return a.ts < b.ts; }));
  EXPECT_EQ(read.size(), 1U + 125U);  // the new trade, then June 3rd 12:00 .. 13:00 (1000 trades in 8 hours)
}

/// Trades of one day with many equal timestamps, whose last part arrives
/// late (earlier timestamps after later ones): blocks of a small budget see
/// equal timestamps across their boundaries and out-of-order blocks.
std::vector<Trade> awkward_day(int n) {
  std::vector<Trade> out;
  const Timestamp open = utc(2021, 6, 1, 12);
  for (int i = 0; i < n; ++i) {
    const int slot = i < n * 3 / 4 ? i / 5 : (i - n * 3 / 4) / 2;  // the last quarter goes back in time
    out.push_back(Trade{open + std::chrono::milliseconds(slot), 120000.0 + 5.0 * (i % 13), 1.0 + i % 50,
                        i % 3 ? Aggressor::Buy : Aggressor::Sell});
  }
  return out;
}

std::vector<BookSnapshot> awkward_books(int n) {
  std::vector<BookSnapshot> out;
  const Timestamp open = utc(2021, 6, 1, 12);
  for (int i = 0; i < n; ++i) {
    const int slot = i < n * 3 / 4 ? i / 4 : (i - n * 3 / 4) / 3;
    BookSnapshot b;
    b.ts = open + std::chrono::milliseconds(slot);
    for (int lv = 0; lv < 1 + i % 5; ++lv) b.bids.push_back({120000.0 - 5.0 * lv, 1.0 + i % 9});
    for (int lv = 0; lv < i % 4; ++lv) b.asks.push_back({120005.0 + 5.0 * lv, 2.0 + i % 7});
    out.push_back(b);
  }
  return out;
}

TEST(LakeDaysTest, ATinyBudgetWritesExactlyWhatAnUnboundedWriterWrites) {
  TempDir bounded_dir, free_dir;
  LakeOptions tiny;
  tiny.memory_budget_bytes = 1 << 20;  // records in blocks of 256 KiB (~7,000 trades)
  tiny.memory_limit = "64MB";          // DuckDB's share, spilling to <lake>/.tmp beyond it
  auto bounded = Lake::open(bounded_dir.str(), true, tiny);
  ASSERT_TRUE(bounded.has_value()) << bounded.error().message;
  auto unbounded = open_lake(free_dir);
  const auto trades = awkward_day(60'000);
  const auto books = awkward_books(20'000);
  for (Lake* lake : {bounded->get(), unbounded.get()}) {
    const WriteStats t = write_all(*lake, Dataset::Trades, trades);
    EXPECT_EQ(t.added, 60'000);
    const WriteStats b = write_all(*lake, Dataset::Book, books);
    EXPECT_EQ(b.added, 20'000);
  }
  const std::string trades_sql = "SELECT ts, seq, price, volume, aggressor FROM trades ORDER BY ts, seq";
  const std::string book_sql = "SELECT ts, seq, level, bid_price, bid_size, ask_price, ask_size FROM book ORDER BY ALL";
  for (const std::string& sql : {trades_sql, book_sql}) {
    const std::string got = query(**bounded, sql), want = query(*unbounded, sql);
    EXPECT_GT(want.size(), 100'000U);
    EXPECT_TRUE(got == want) << sql << ": " << got.size() << " bytes under the budget, " << want.size() << " without";
  }
  // Files are sorted by their key: read back in order without sorting.
  const auto path = (*bounded)->partitions(Dataset::Trades)->at(0).path;
  EXPECT_EQ(query(**bounded,
                  "SELECT count(*) AS bad FROM (SELECT ts, seq, lag(ts) OVER w AS pts, lag(seq) OVER w AS "
                  "pseq FROM read_parquet('" +
                      path +
                      "', file_row_number=true) WINDOW w AS (ORDER BY "
                      "file_row_number)) WHERE pts IS NOT NULL AND (ts, seq) < (pts, pseq)"),
            "bad\n0\n");
  // The same input again under the budget: all duplicates, the file untouched.
  const auto mtime = fs::last_write_time(path);
  const WriteStats again = write_all(**bounded, Dataset::Trades, trades);
  EXPECT_EQ(again.duplicates, 60'000);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(fs::last_write_time(path), mtime);
}

TEST(LakeDaysTest, AMonthFileOfAnOlderLakeIsReadThenSplitIntoDaysByTheFirstWrite) {
  TempDir source_dir, dir;
  const auto trades = trades_over_days(3, 500);
  {
    // An older lake's month: one file for June, sorted by (ts, seq), marked generated.
    auto source = open_lake(source_dir);
    write_all(*source, Dataset::Trades, trades);
    const std::string month_dir = dir.str() + "/kind=trades/symbol=WIN/year=2021/month=06";
    fs::create_directories(month_dir);
    const std::string span = std::to_string(to_epoch_ns(trades.front().ts)) + " " +
                             std::to_string(to_epoch_ns(trades.back().ts)) + " old generator";
    query(*source, "COPY (SELECT ts, seq, price, volume, aggressor FROM trades ORDER BY ts, seq) TO '" + month_dir +
                       "/data.parquet' (FORMAT parquet, KV_METADATA {'quant.generated': '" + span + "'})");
    // A migration that died half-way left a day directory: invisible while the month file exists.
    fs::create_directories(month_dir + "/day=02");
    query(*source, "COPY (SELECT ts, seq, price, volume, aggressor FROM trades LIMIT 3) TO '" + month_dir +
                       "/day=02/data.parquet' (FORMAT parquet)");
  }
  auto lake = open_lake(dir);
  // July is written by this version: days. June is still the old month file.
  write_all(*lake, Dataset::Trades, std::vector<Trade>{Trade{utc(2021, 7, 1, 12), 121000, 1, Aggressor::Buy}});
  auto days = lake->partitions(Dataset::Trades, "WIN");
  ASSERT_TRUE(days.has_value());
  ASSERT_EQ(days->size(), 2U);
  EXPECT_EQ(days->at(0).day, 0);
  EXPECT_EQ(days->at(0).rows, 1500);
  EXPECT_EQ(days->at(0).generated.size(), 1U);
  EXPECT_EQ(days->at(1).day, 1);
  EXPECT_EQ(query(*lake, "SELECT month, day, count(*) AS n FROM trades GROUP BY ALL ORDER BY ALL"),
            "month,day,n\n6,1,500\n6,2,500\n6,3,500\n7,1,1\n");
  auto june = lake->stream_trades("WIN", utc(2021, 6, 1), utc(2021, 7, 1));
  ASSERT_TRUE(june.has_value());
  std::vector<Trade> batch;
  std::size_t read = 0;
  while (*(*june)->next(batch)) read += batch.size();
  EXPECT_EQ(read, 1500U);

  // The first write into June splits it into days, then merges the day.
  std::vector<Trade> day2(trades.begin() + 500, trades.begin() + 510);
  day2.push_back(Trade{utc(2021, 6, 2, 22), 120200, 4, Aggressor::Sell});
  const WriteStats stats = write_all(*lake, Dataset::Trades, day2);
  EXPECT_EQ(stats.added, 1);
  EXPECT_EQ(stats.duplicates, 10);
  EXPECT_FALSE(fs::exists(dir.str() + "/kind=trades/symbol=WIN/year=2021/month=06/data.parquet"));
  auto after = lake->partitions(Dataset::Trades, "WIN");
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), 4U);
  for (int d = 0; d < 3; ++d) {
    const PartitionInfo& p = after->at(static_cast<std::size_t>(d));
    EXPECT_EQ(p.day, d + 1);
    EXPECT_EQ(p.rows, d == 1 ? 501 : 500);
    // The generated mark follows the rows, clipped to each day.
    ASSERT_EQ(p.generated.size(), 1U);
    EXPECT_EQ(p.generated[0].label, "old generator");
    EXPECT_EQ(p.generated[0].first, trades[static_cast<std::size_t>(d * 500)].ts);
    EXPECT_EQ(p.generated[0].last, trades[static_cast<std::size_t>(d * 500 + 499)].ts);  // the new trade is real
  }
  EXPECT_EQ(query(*lake, "SELECT count(*) AS n, count(DISTINCT (ts, seq)) AS k FROM trades WHERE month = 6"),
            "n,k\n1501,1501\n");
  // Nothing was lost or changed by the split: June's rows as they were, plus the new one.
  auto source = open_lake(source_dir);
  const std::string rows_sql =
      "SELECT ts, seq, price, volume, aggressor FROM trades WHERE month = 6 AND ts <> "
      "TIMESTAMP_NS '2021-06-02 22:00:00' ORDER BY ts, seq";
  EXPECT_EQ(query(*lake, rows_sql), query(*source, rows_sql));
}

}  // namespace
}  // namespace quant::lake
