#pragma once
/// A fixed-capacity ring buffer for streaming indicators: storage is allocated
/// once at construction, `push` never allocates and costs O(1) with no modulo.

#include <cstddef>
#include <vector>

#include "core/error.h"

namespace quant::features {

/// The last `capacity` values pushed. Not thread-safe.
template <class T>
class RingBuffer {
 public:
  /// `capacity` >= 1 (QUANT_CHECK: a bug in the caller otherwise).
  explicit RingBuffer(std::size_t capacity) : data_(capacity) { QUANT_CHECK(capacity >= 1); }

  std::size_t capacity() const { return data_.size(); }
  std::size_t size() const { return size_; }
  bool full() const { return size_ == data_.size(); }

  /// Appends `value`; when full, overwrites the oldest value and returns it,
  /// otherwise returns `T{}`.
  T push(T value) {
    T evicted = data_[head_];
    data_[head_] = value;
    if (++head_ == data_.size()) head_ = 0;
    if (size_ < data_.size()) {
      ++size_;
      return T{};
    }
    return evicted;
  }

  /// The i-th oldest value held, 0 <= i < size().
  const T& operator[](std::size_t i) const {
    std::size_t pos = head_ + (data_.size() - size_) + i;
    if (pos >= data_.size()) pos -= data_.size();
    if (pos >= data_.size()) pos -= data_.size();
    return data_[pos];
  }

  /// Empties the buffer (keeps the storage).
  void clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::vector<T> data_;
  std::size_t head_ = 0;  // next slot to write
  std::size_t size_ = 0;
};

}  // namespace quant::features
