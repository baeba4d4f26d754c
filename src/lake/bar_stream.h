#pragma once
/// Reading bars back: `Lake::stream_bars()` hands out a `BarStream`.

#include <vector>

#include "core/error.h"
#include "core/market_data.h"

namespace quant::lake {

/// Streams 1-minute bars of one symbol in time order, a batch at a time, in
/// bounded memory (one row group's worth at a time, never the whole history).
/// Not thread-safe: one thread at a time (it may move between threads).
class BarStream {
 public:
  virtual ~BarStream() = default;
  /// Replaces `batch` with the next bars (up to the batch size); false at the
  /// end. An error when a file cannot be read (e.g. corrupt or removed since
  /// the stream was opened); the bars gathered by that call are not returned.
  virtual Expected<bool> next(std::vector<Bar>& batch) = 0;
};

}  // namespace quant::lake
