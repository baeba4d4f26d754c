#pragma once
/// A price-level (L2) order book: applies level updates ("price p now has size
/// s on this side", size 0 = remove the level) and produces top-N snapshots.
///
/// Levels are keyed by the price exactly as parsed: feeds that send deltas
/// repeat the same decimal text for the same level, so equal text gives equal
/// doubles. Callers with an instrument spec snap prices to the tick grid before
/// applying them. Not thread-safe; no I/O.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "core/market_data.h"
#include "core/time.h"

namespace quant {

enum class BookSide : std::int8_t { Bid, Ask };

class OrderBook {
 public:
  /// Sets the size at `price` on `side`; `size` == 0 removes the level (a
  /// removal of an unknown level is ignored). Returns false, changing nothing,
  /// when price is not finite and > 0 or size is negative or not finite.
  bool apply(BookSide side, double price, double size);
  /// Removes every level (a new full snapshot follows).
  void clear();

  /// Best (highest) bid / best (lowest) ask, if any.
  std::optional<BookLevel> best_bid() const;
  std::optional<BookLevel> best_ask() const;
  std::size_t bid_levels() const { return bids_.size(); }
  std::size_t ask_levels() const { return asks_.size(); }
  bool empty() const { return bids_.empty() && asks_.empty(); }

  /// Writes the top `depth` levels per side into `out` (best first) stamped
  /// `ts`. Reuses `out`'s vectors, so a caller that keeps one snapshot object
  /// does not allocate once the vectors have grown.
  void snapshot(Timestamp ts, std::size_t depth, BookSnapshot& out) const;

 private:
  std::map<double, double, std::greater<>> bids_;
  std::map<double, double, std::less<>> asks_;
};

}  // namespace quant
