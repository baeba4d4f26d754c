#include "lake/lake_feed.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lake/lake.h"
#include "lake/test_lake.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

using quant::testing::make_bars;
using quant::testing::open_lake;
using quant::testing::read_bars;
using quant::testing::TempDir;
using quant::testing::utc;
using quant::testing::write_bars;

/// Bars every 30 minutes from Jan 20 to Mar 20 2021: three partitions.
std::vector<Bar> three_months() { return make_bars(utc(2021, 1, 20), 59 * 48, std::chrono::minutes(30)); }

std::unique_ptr<BarStream> open_stream(Lake& lake, std::size_t batch_rows, Timestamp from = Timestamp::min(),
                                       Timestamp to = Timestamp::max()) {
  auto stream = lake.stream_bars("WIN", from, to, batch_rows);
  EXPECT_TRUE(stream.has_value()) << (stream ? "" : stream.error().message);
  return stream ? std::move(*stream) : nullptr;
}

/// Everything the feed hands out through next(), or the first error.
Expected<std::vector<Bar>> drain_next(LakeFeed& feed) {
  std::vector<Bar> out;
  Bar bar;
  for (;;) {
    auto more = feed.next(bar);
    if (!more) return tl::unexpected(more.error());
    if (!*more) return out;
    out.push_back(bar);
  }
}

/// Everything the feed hands out through next_batch() with a buffer of `size`, or the first error.
Expected<std::vector<Bar>> drain_batches(LakeFeed& feed, std::size_t size, std::size_t stream_batch) {
  std::vector<Bar> out, buffer(size);
  for (;;) {
    auto n = feed.next_batch(std::span<Bar>(buffer));
    if (!n) return tl::unexpected(n.error());
    if (*n == 0) return out;
    EXPECT_LE(*n, std::min(size, stream_batch));
    out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
  }
}

/// A real BarStream that records what the feed's reader does with it.
class ObservedStream final : public BarStream {
 public:
  struct Log {
    std::mutex mutex;
    std::condition_variable changed;
    int calls = 0;
    bool destroyed = false;
  };
  ObservedStream(std::unique_ptr<BarStream> inner, std::shared_ptr<Log> log)
      : inner_(std::move(inner)), log_(std::move(log)) {}
  ~ObservedStream() override {
    std::lock_guard lock(log_->mutex);
    log_->destroyed = true;
  }
  Expected<bool> next(std::vector<Bar>& batch) override {
    auto more = inner_->next(batch);
    {
      std::lock_guard lock(log_->mutex);
      ++log_->calls;
    }
    log_->changed.notify_all();
    return more;
  }

 private:
  std::unique_ptr<BarStream> inner_;
  std::shared_ptr<Log> log_;
};

TEST(LakeFeedTest, NextHandsOutTheStreamsBarsInTimeOrder) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  ASSERT_EQ(read_bars(*lake, "WIN", Timestamp::min(), Timestamp::max(), 50), bars);

  LakeFeed feed(open_stream(*lake, 50));
  auto got = drain_next(feed);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(*got, bars);
  for (std::size_t i = 1; i < got->size(); ++i) ASSERT_LT((*got)[i - 1].ts, (*got)[i].ts);
  Bar bar;
  EXPECT_FALSE(*feed.next(bar)) << "the end stays the end";

  // A range across two partition boundaries: the same bars as the stream's.
  const Timestamp from = bars[100].ts, to = bars[bars.size() - 200].ts;
  LakeFeed ranged(open_stream(*lake, 50, from, to));
  auto part = drain_next(ranged);
  ASSERT_TRUE(part.has_value()) << part.error().message;
  EXPECT_EQ(*part, read_bars(*lake, "WIN", from, to, 50));
  EXPECT_EQ(part->size(), bars.size() - 300);
}

TEST(LakeFeedTest, NextBatchHandsOutTheSameBarsWithAnyBufferSize) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  constexpr std::size_t kStreamBatch = 50;
  for (std::size_t size :
       {std::size_t{1}, std::size_t{3}, std::size_t{49}, std::size_t{50}, std::size_t{51}, std::size_t{1000}}) {
    SCOPED_TRACE("buffer of " + std::to_string(size));
    LakeFeed feed(open_stream(*lake, kStreamBatch));
    auto got = drain_batches(feed, size, kStreamBatch);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, bars);
  }

  // next() and next_batch() take from the same position.
  LakeFeed feed(open_stream(*lake, kStreamBatch));
  std::vector<Bar> got, buffer(7);
  for (bool use_batch = false;; use_batch = !use_batch) {
    if (use_batch) {
      auto n = feed.next_batch(std::span<Bar>(buffer));
      ASSERT_TRUE(n.has_value()) << n.error().message;
      if (*n == 0) break;
      got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
    } else {
      Bar bar;
      auto more = feed.next(bar);
      ASSERT_TRUE(more.has_value()) << more.error().message;
      if (!*more) break;
      got.push_back(bar);
    }
  }
  EXPECT_EQ(got, bars);
}

TEST(LakeFeedTest, EmptyRangeEndsAtOnce) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  std::vector<Bar> buffer(10);

  LakeFeed empty_range(open_stream(*lake, 50, bars[10].ts, bars[10].ts));
  auto n = empty_range.next_batch(std::span<Bar>(buffer));
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 0U);
  Bar bar;
  auto more = empty_range.next(bar);
  ASSERT_TRUE(more.has_value()) << more.error().message;
  EXPECT_FALSE(*more);

  LakeFeed before_the_data(open_stream(*lake, 50, utc(2019, 1, 1), utc(2020, 1, 1)));
  n = before_the_data.next_batch(std::span<Bar>(buffer));
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 0U);

  auto other = lake->stream_bars("WDO", Timestamp::min(), Timestamp::max());
  ASSERT_TRUE(other.has_value()) << other.error().message;
  LakeFeed no_symbol(std::move(*other));
  more = no_symbol.next(bar);
  ASSERT_TRUE(more.has_value()) << more.error().message;
  EXPECT_FALSE(*more);
}

TEST(LakeFeedTest, DestroyingTheFeedMidStreamStopsTheReader) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  constexpr std::size_t kStreamBatch = 10;

  auto log = std::make_shared<ObservedStream::Log>();
  auto feed = std::make_unique<LakeFeed>(std::make_unique<ObservedStream>(open_stream(*lake, kStreamBatch), log));
  Bar bar;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(*feed->next(bar));
  // The consumer holds batch 1; the reader fills kDepth more and decodes one
  // that has no room: it now waits for space that never comes.
  constexpr int kReads = static_cast<int>(LakeFeed::kDepth) + 2;
  {
    std::unique_lock lock(log->mutex);
    log->changed.wait(lock, [&] { return log->calls >= kReads; });
  }
  feed.reset();  // must not hang
  std::lock_guard lock(log->mutex);
  EXPECT_TRUE(log->destroyed) << "the feed released its stream (and its DuckDB connection)";
  EXPECT_EQ(log->calls, kReads) << "the reader stopped instead of reading on";
  EXPECT_LT(static_cast<std::size_t>(log->calls) * kStreamBatch, bars.size());

  // Destroyed at once, while the reader may be anywhere in its first batch.
  for (int i = 0; i < 20; ++i) {
    auto quick_log = std::make_shared<ObservedStream::Log>();
    { LakeFeed quick(std::make_unique<ObservedStream>(open_stream(*lake, kStreamBatch), quick_log)); }
    std::lock_guard quick_lock(quick_log->mutex);
    EXPECT_TRUE(quick_log->destroyed);
    EXPECT_LE(quick_log->calls, kReads);
  }
}

TEST(LakeFeedTest, ACorruptPartitionIsAnErrorAfterTheBarsBeforeIt) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  auto parts = lake->partitions(Dataset::Bars1m, "WIN");
  ASSERT_TRUE(parts.has_value()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3U);
  const std::string february = (*parts)[1].path;
  std::ofstream(february, std::ios::trunc) << "not a parquet file";

  // What the stream itself gives before it fails: its batches up to the one
  // that reached the corrupt file.
  std::vector<Bar> direct;
  std::string direct_error;
  {
    auto stream = open_stream(*lake, 50);
    std::vector<Bar> batch;
    for (;;) {
      auto more = stream->next(batch);
      if (!more) {
        direct_error = more.error().message;
        break;
      }
      ASSERT_TRUE(*more) << "the stream ended without reaching the corrupt file";
      direct.insert(direct.end(), batch.begin(), batch.end());
    }
  }
  EXPECT_NE(direct_error.find(february), std::string::npos) << direct_error;

  LakeFeed feed(open_stream(*lake, 50));
  std::vector<Bar> got;
  Bar bar;
  Expected<bool> more = true;
  while (more && *more) {
    more = feed.next(bar);
    if (more && *more) got.push_back(bar);
  }
  ASSERT_FALSE(more.has_value()) << "a corrupt partition must not end the feed quietly";
  EXPECT_EQ(more.error().message, direct_error);
  EXPECT_EQ(got, direct);
  // Those are January's bars, in order, up to the last whole batch.
  const auto january_rows = static_cast<std::size_t>((*parts)[0].rows);
  EXPECT_EQ(got.size(), january_rows / 50 * 50);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), bars.begin()));
  EXPECT_FALSE(feed.next(bar).has_value()) << "the error stays";
}

TEST(LakeFeedTest, APartitionRemovedAfterListingIsAnErrorThroughNextBatch) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  auto parts = lake->partitions(Dataset::Bars1m, "WIN");
  ASSERT_TRUE(parts.has_value()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3U);
  // The stream lists the files when it is opened and reads them when it gets there.
  auto stream = open_stream(*lake, 50);
  const std::string march = (*parts)[2].path;
  ASSERT_TRUE(fs::remove(march));

  LakeFeed feed(std::move(stream));
  auto got = drain_batches(feed, 64, 50);
  ASSERT_FALSE(got.has_value()) << "a vanished partition must not end the feed quietly";
  EXPECT_NE(got.error().message.find(march), std::string::npos) << got.error().message;
  std::vector<Bar> buffer(8);
  EXPECT_FALSE(feed.next_batch(std::span<Bar>(buffer)).has_value()) << "the error stays";
}

}  // namespace
}  // namespace quant::lake
