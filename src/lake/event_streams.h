#pragma once
/// Reading trades and book snapshots back: `Lake::stream_trades()` and
/// `Lake::stream_book()` hand out these streams (the order-flow filter's
/// input; the bars have `BarStream`).

#include <vector>

#include "core/error.h"
#include "core/market_data.h"

namespace quant::lake {

/// Trades of one symbol in time order (`ts`, then `seq`: arrival order within
/// a timestamp), a batch at a time, in bounded memory (one DuckDB chunk plus
/// one batch, never a month of trades). Not thread-safe: one thread at a time.
class TradeStream {
 public:
  virtual ~TradeStream() = default;
  /// Replaces `batch` with the next trades (up to the batch size); false at
  /// the end. An error when a file cannot be read; the trades gathered by
  /// that call are not returned.
  virtual Expected<bool> next(std::vector<Trade>& batch) = 0;
};

/// Book snapshots of one symbol in time order (`ts`, then `seq`), each
/// rebuilt from its level rows (bids and asks best first; a side with fewer
/// levels stops at its last stored level; an empty snapshot has no level).
/// A snapshot is never split between batches. Bounded memory like
/// `TradeStream`. The snapshots in `batch` are reused from call to call, so
/// a caller that keeps one vector does not allocate once it has grown.
class BookStream {
 public:
  virtual ~BookStream() = default;
  /// Replaces `batch` with the next snapshots (up to the batch size); false
  /// at the end. An error when a file cannot be read.
  virtual Expected<bool> next(std::vector<BookSnapshot>& batch) = 0;
};

}  // namespace quant::lake
