#pragma once
/// Highest / lowest value over the last N bars: a monotonic deque kept in a
/// fixed ring buffer (amortised O(1) per update, no allocation after construction).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"

namespace quant::features {

/// Rolling maximum (`kMax` = true) or minimum over the last `period` values.
/// The deque holds (index, value) pairs with values strictly decreasing
/// (max) / increasing (min) from front to back; the front is the answer.
/// Values must not be NaN. Not thread-safe.
template <class T, bool kMax>
class RollingExtreme {
 public:
  /// `period` >= 1 (QUANT_CHECK).
  explicit RollingExtreme(int period) : entries_(static_cast<std::size_t>(period > 0 ? period : 1)), period_(period) {
    QUANT_CHECK(period >= 1);
  }

  void update(T value) {
    // Expire the front once it falls out of the window [count − period + 1, count];
    // done first so that the deque never holds more than `period` entries.
    if (size_ > 0 && entries_[front_].index + period_ <= count_) {
      if (++front_ == entries_.size()) front_ = 0;
      --size_;
    }
    // Drop entries the new value dominates (ties too: the newer one lives longer).
    while (size_ > 0 && !better(back().value, value)) --size_;
    std::size_t slot = front_ + size_;
    if (slot >= entries_.size()) slot -= entries_.size();
    entries_[slot] = Entry{count_, value};
    ++size_;
    ++count_;
  }
  /// True once `period` values have been seen.
  bool ready() const { return count_ >= period_; }
  /// The extreme of the window (of all values so far while warming up);
  /// meaningful after at least one update.
  T value() const { return entries_[front_].value; }
  int period() const { return period_; }
  void reset() {
    front_ = 0;
    size_ = 0;
    count_ = 0;
  }

 private:
  struct Entry {
    std::int64_t index = 0;
    T value{};
  };
  static bool better(T a, T b) { return kMax ? a > b : a < b; }
  const Entry& back() const {
    std::size_t slot = front_ + size_ - 1;
    if (slot >= entries_.size()) slot -= entries_.size();
    return entries_[slot];
  }

  std::vector<Entry> entries_;
  std::size_t front_ = 0;
  std::size_t size_ = 0;
  std::int64_t count_ = 0;
  std::int64_t period_;
};

/// Highest high (or any value) over the last N bars.
using Highest = RollingExtreme<double, true>;
/// Lowest low (or any value) over the last N bars.
using Lowest = RollingExtreme<double, false>;

/// Batch twins (NaN during the warm-up of `period` values): a plain scan of
/// each window, O(n × period) — the reference, not for hot paths.
std::vector<double> highest_batch(std::span<const double> values, int period);
std::vector<double> lowest_batch(std::span<const double> values, int period);

}  // namespace quant::features
