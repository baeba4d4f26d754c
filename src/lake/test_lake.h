#pragma once
/// Helpers for the lake's tests (not part of the library): a temporary lake
/// directory, generated bars, and writing/reading them through the lake's own
/// writer and BarStream with every error reported as a test failure.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/market_data.h"
#include "core/time.h"
#include "lake/lake.h"

namespace quant::testing {

/// A fresh directory per test (named after it), removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("lake_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + info->name());
    std::filesystem::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// The UTC instant of a civil date and time.
inline Timestamp utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  LocalTime local;
  EXPECT_TRUE(make_local_time(year, month, day, hour, minute, second, 0, local));
  return Timestamp(local.time_since_epoch());
}

/// `count` bars `step` apart from `start`, prices on a 5-point grid.
inline std::vector<Bar> make_bars(Timestamp start, int count, Duration step = kMinute) {
  std::vector<Bar> bars;
  for (int i = 0; i < count; ++i) {
    Bar b;
    b.ts = start + step * i;
    b.open = 100000 + 5.0 * (i % 40);
    b.close = b.open + 10;
    b.high = b.close + 5;
    b.low = b.open - 15;
    b.tick_volume = 100 + i;
    b.volume = 10.5 * i;
    b.spread = i % 3;
    bars.push_back(b);
  }
  return bars;
}

/// Opens (creating) the lake in `dir`.
inline std::unique_ptr<lake::Lake> open_lake(const TempDir& dir) {
  auto lake = lake::Lake::open(dir.str(), true);
  EXPECT_TRUE(lake.has_value()) << (lake ? "" : lake.error().message);
  return lake ? std::move(*lake) : nullptr;
}

/// Writes `bars` through a fresh writer and flushes it.
inline lake::WriteStats write_bars(lake::Lake& lake, const std::string& symbol, const std::vector<Bar>& bars) {
  auto writer = lake.writer(lake::Dataset::Bars1m, symbol);
  EXPECT_TRUE(writer.has_value()) << (writer ? "" : writer.error().message);
  if (!writer) return {};
  for (const Bar& b : bars) (*writer)->add(b);
  auto stats = (*writer)->flush();
  EXPECT_TRUE(stats.has_value()) << (stats ? "" : stats.error().message);
  return stats.value_or(lake::WriteStats{});
}

/// Every row of an opened lake stream (bars, trades or book snapshots), read
/// in batches of at most `batch`.
template <class Row, class Stream>
std::vector<Row> drain(Expected<Stream> stream, std::size_t batch) {
  std::vector<Row> out;
  EXPECT_TRUE(stream.has_value()) << (stream ? "" : stream.error().message);
  if (!stream) return out;
  std::vector<Row> chunk;
  for (;;) {
    auto more = (*stream)->next(chunk);
    EXPECT_TRUE(more.has_value()) << (more ? "" : more.error().message);
    if (!more || !*more) break;
    EXPECT_LE(chunk.size(), batch);
    out.insert(out.end(), chunk.begin(), chunk.end());
  }
  return out;
}

/// The CSV text of `sql` run by Lake::query_csv (an error fails the test).
inline std::string query(lake::Lake& lake, const std::string& sql) {
  std::ostringstream out;
  auto rows = lake.query_csv(sql, out);
  EXPECT_TRUE(rows.has_value()) << (rows ? "" : rows.error().message);
  return out.str();
}

/// Every bar of `symbol` in [from, to), read straight from a BarStream in batches of `batch`.
inline std::vector<Bar> read_bars(lake::Lake& lake, const std::string& symbol, Timestamp from = Timestamp::min(),
                                  Timestamp to = Timestamp::max(), std::size_t batch = 7) {
  return drain<Bar>(lake.stream_bars(symbol, from, to, batch), batch);
}

}  // namespace quant::testing
