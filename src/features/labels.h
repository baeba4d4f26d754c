#pragma once
/// Training labels for the gatekeeper: triple-barrier outcome and forward move
/// of each strategy entry signal, judged the way the backtest fills
/// (docs/backtest_semantics.md): entry at the next bar's open, barriers
/// checked on each later bar's open, then its high/low; a bar that opens at or
/// beyond the target counts as the target, stop first when a bar reaches both
/// after opening between them.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/market_data.h"
#include "core/order.h"
#include "core/time.h"

namespace quant::features {

/// Barrier settings, price units ("points").
struct LabelConfig {
  double target_points = 100;    ///< profit target distance from the entry, > 0 (WIN: 100)
  double stop_atr_multiple = 2;  ///< stop distance = multiple × the signal's ATR, > 0
  int horizon = 60;              ///< bars after the signal bar, >= 1
};

/// A strategy entry decided at the close of bar `index` (e.g. an MA-breakout
/// entry), with the ATR (price units) the strategy reported there.
struct Event {
  std::size_t index = 0;
  Side side = Side::Buy;
  double atr = 0;
};

/// One labelled event.
struct Sample {
  std::size_t index = 0;  ///< the signal bar
  Timestamp t0{};         ///< the signal bar's timestamp (its open time)
  /// Timestamp of the bar on which a barrier was touched, else of bar
  /// index + horizon: the label depends on bars (index, t1] only, so research
  /// purges training samples whose [t0, t1] overlaps a test fold.
  Timestamp t1{};
  Side side = Side::Buy;
  int label = 0;  ///< 1: target before stop within the horizon; 0 otherwise
  /// close[index + horizon] − entry, signed in the trade's direction (price
  /// units): the regression target of the quantile models.
  double forward_points = 0;
  double atr = 0;  ///< the event's ATR (price units)
};

struct LabelStats {
  std::size_t events = 0;           ///< events given
  std::size_t labelled = 0;         ///< samples returned
  std::size_t positives = 0;        ///< samples with label 1
  std::size_t dropped_horizon = 0;  ///< index + horizon beyond the data: no full horizon
  std::size_t dropped_invalid = 0;  ///< index out of range, ATR not finite and > 0, or an unordered index
};

/// Labels each event (in the order given; indices must be non-decreasing to
/// be accepted, so an event list is a time series). For an event at bar i on
/// side s (sign +1 buy, −1 sell):
///   entry  = open[i+1]
///   target = entry + s × target_points,  stop = entry − s × stop_atr_multiple × atr
///   for j = i+1 … i+H: stop touched (buy: low_j <= stop; sell: high_j >= stop)
///     → label 0, t1 = ts_j; else target touched (buy: high_j >= target;
///     sell: low_j <= target) → label 1, t1 = ts_j. A bar touching both counts
///     as the stop (conservative); a gap through either barrier at an open is
///     caught by the same high/low test.
///   neither within H bars → label 0, t1 = ts[i+H].
///   forward_points = s × (close[i+H] − entry), whatever the barriers did.
/// Events with i + H >= bars.size() are dropped (counted in `stats`). `config`
/// must be valid (QUANT_CHECK: it was validated with the rest of the config).
/// O(events × H), no I/O.
std::vector<Sample> label_events(std::span<const Bar> bars, std::span<const Event> events, const LabelConfig& config,
                                 LabelStats* stats = nullptr);

}  // namespace quant::features
