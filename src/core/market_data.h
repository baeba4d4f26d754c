#pragma once
/// Market data records shared by every layer: bars, L1 ticks/quotes, trades
/// and L2 book snapshots. Plain values; timestamps are UTC (`core/time.h`).
/// Prices are doubles that lie on the instrument's tick grid (`TickGrid`)
/// whenever the instrument is configured.

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/time.h"

namespace quant {

/// One OHLCV bar. `ts` is the bar's open time (start of the interval).
struct Bar {
  Timestamp ts{};
  double open = 0, high = 0, low = 0, close = 0;
  std::int64_t tick_volume = 0;  ///< number of ticks/trades in the bar
  double volume = 0;             ///< real (exchange) volume; 0 where unknown (FX)
  std::int32_t spread = 0;       ///< spread in points as the source reports it (MT5), else 0

  friend bool operator==(const Bar&, const Bar&) = default;
};

/// MT5 tick flags (MqlTick::flags).
enum TickFlag : std::uint32_t {
  kTickBid = 2,
  kTickAsk = 4,
  kTickLast = 8,
  kTickVolume = 16,
  kTickBuy = 32,
  kTickSell = 64,
};

/// An L1 tick: best bid/ask and optionally the last trade. A field that the
/// source does not carry is NaN (prices) or 0 (sizes).
struct Tick {
  Timestamp ts{};
  double bid = std::numeric_limits<double>::quiet_NaN();
  double ask = std::numeric_limits<double>::quiet_NaN();
  double last = std::numeric_limits<double>::quiet_NaN();
  double volume = 0;    ///< volume of the last trade
  double bid_size = 0;  ///< size at the best bid, where known
  double ask_size = 0;
  std::uint32_t flags = 0;  ///< TickFlag bits (MT5), 0 where unknown

  bool has_bid() const { return !std::isnan(bid); }
  bool has_ask() const { return !std::isnan(ask); }
  bool has_last() const { return !std::isnan(last); }
};

enum class Aggressor : std::int8_t { Unknown = 0, Buy = 1, Sell = -1 };

/// One trade from time and sales.
struct Trade {
  Timestamp ts{};
  double price = 0;
  double volume = 0;
  Aggressor aggressor = Aggressor::Unknown;
};

struct BookLevel {
  double price = 0;
  double size = 0;
  friend bool operator==(const BookLevel&, const BookLevel&) = default;
};

/// An L2 snapshot: `bids` best (highest) first, `asks` best (lowest) first.
struct BookSnapshot {
  Timestamp ts{};
  std::vector<BookLevel> bids;
  std::vector<BookLevel> asks;
};

}  // namespace quant
