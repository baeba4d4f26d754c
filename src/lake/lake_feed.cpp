#include "lake/lake_feed.h"

#include <algorithm>
#include <utility>

namespace quant::lake {

LakeFeed::LakeFeed(std::unique_ptr<BarStream> stream) : stream_(std::move(stream)) {
  reader_ = std::thread([this] { read_loop(); });
}

LakeFeed::~LakeFeed() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  reader_.join();
}

Expected<bool> LakeFeed::next(Bar& bar) {
  if (pos_ == current_.size()) {
    auto more = refill();
    if (!more || !*more) return more;
  }
  bar = current_[pos_++];
  return true;
}

Expected<std::size_t> LakeFeed::next_batch(std::span<Bar> out) {
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

Expected<bool> LakeFeed::refill() {
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

void LakeFeed::read_loop() {
  while (true) {
    std::vector<Bar> batch;
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
      batch = std::exchange(spare_, {});  // leaves spare_ empty, not moved-from
    }
    // Decoding runs without the lock: the consumer keeps taking ready batches meanwhile.
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

}  // namespace quant::lake
