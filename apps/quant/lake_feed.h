#pragma once
// The backtest's MarketDataFeed over the lake: bars stream from Parquet
// through DuckDB on a reader thread, a few batches ahead of the engine, so the
// engine's core is never waiting on decoding. Memory: at most kDepth batches.

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/ports.h"
#include "lake/lake.h"

namespace quant::app {

class LakeFeed final : public engine::MarketDataFeed {
 public:
  explicit LakeFeed(std::unique_ptr<lake::BarStream> stream) : stream_(std::move(stream)) {
    reader_ = std::thread([this] { read_loop(); });
  }
  ~LakeFeed() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    reader_.join();
  }
  LakeFeed(const LakeFeed&) = delete;
  LakeFeed& operator=(const LakeFeed&) = delete;

  Expected<bool> next(Bar& bar) override {
    if (pos_ == current_.size()) {
      auto more = refill();
      if (!more || !*more) return more;
    }
    bar = current_[pos_++];
    return true;
  }

  Expected<std::size_t> next_batch(std::span<Bar> out) override {
    if (pos_ == current_.size()) {
      auto more = refill();
      if (!more) return tl::unexpected(more.error());
      if (!*more) return std::size_t{0};
    }
    const std::size_t n = std::min(out.size(), current_.size() - pos_);
    std::copy_n(current_.begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
    pos_ += n;
    return n;
  }

 private:
  static constexpr std::size_t kDepth = 3;

  /// Takes the next decoded batch from the reader (blocking); false at the end.
  Expected<bool> refill() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !ready_.empty() || done_; });
    if (ready_.empty()) {
      if (error_) return tl::unexpected(*error_);
      return false;
    }
    spare_ = std::move(current_);
    current_ = std::move(ready_.front());
    ready_.pop_front();
    lock.unlock();
    changed_.notify_all();
    pos_ = 0;
    return !current_.empty();
  }

  void read_loop() {
    while (true) {
      std::vector<Bar> batch;
      {
        std::lock_guard lock(mutex_);
        if (stop_) break;
        batch = std::move(spare_);
      }
      auto more = stream_->next(batch);
      std::unique_lock lock(mutex_);
      if (!more) {
        error_ = more.error();
        done_ = true;
        break;
      }
      if (!*more || batch.empty()) {
        done_ = true;
        break;
      }
      changed_.wait(lock, [&] { return ready_.size() < kDepth || stop_; });
      if (stop_) break;
      ready_.push_back(std::move(batch));
      changed_.notify_all();
    }
    changed_.notify_all();
  }

  std::unique_ptr<lake::BarStream> stream_;
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

}  // namespace quant::app
