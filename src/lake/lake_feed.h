#pragma once
/// The backtest's `engine::MarketDataFeed` over the lake: bars stream from
/// Parquet through DuckDB on a reader thread, a few batches ahead of the
/// engine, so the engine's core is never waiting on decoding.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "engine/ports.h"
#include "lake/bar_stream.h"

namespace quant::lake {

/// Hands out the bars of a `BarStream` in the stream's order (time order for
/// `Lake::stream_bars`). A reader thread, started by the constructor, decodes
/// up to kDepth batches ahead; memory is at most kDepth + 2 batches of the
/// stream's batch size. A stream error ends the feed: the batches the stream
/// returned before it are handed out first, then every call returns the error
/// (a BarStream drops the batch it was filling when it fails).
///
/// Thread safety: next() and next_batch() are called from one thread (the
/// engine's); the reader thread is internal. Destroying the feed at any point
/// stops the reader (after the batch it is decoding, if any), joins it and
/// releases the stream.
class LakeFeed final : public engine::MarketDataFeed {
 public:
  /// Batches decoded ahead of the consumer.
  static constexpr std::size_t kDepth = 3;

  /// Takes the stream and starts reading it at once.
  explicit LakeFeed(std::unique_ptr<BarStream> stream);
  ~LakeFeed() override;
  LakeFeed(const LakeFeed&) = delete;
  LakeFeed& operator=(const LakeFeed&) = delete;

  /// The next bar; false at the end; the stream's error when it failed.
  Expected<bool> next(Bar& bar) override;
  /// Copies up to out.size() bars of the current decoded batch (never waits
  /// for more once it has some); 0 at the end; the stream's error when it failed.
  Expected<std::size_t> next_batch(std::span<Bar> out) override;

 private:
  /// Takes the next decoded batch from the reader (blocking); false at the end.
  Expected<bool> refill();
  void read_loop();

  std::unique_ptr<BarStream> stream_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<Bar>> ready_;
  std::vector<Bar> spare_;  // a consumed batch's storage, reused by the reader
  std::vector<Bar> current_;
  std::size_t pos_ = 0;
  bool done_ = false, stop_ = false;
  std::optional<Error> error_;
};

}  // namespace quant::lake
