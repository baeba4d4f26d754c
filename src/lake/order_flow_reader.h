#pragma once
/// The order-flow adapter: a symbol's book snapshots (or trades) read from the
/// lake for a backtest window and turned into each bar's imbalance by the
/// pure `features::OrderFlowSampler`, ready for the strategy's
/// book-imbalance filter (`strategy::SeriesImbalanceSource`). Reading only:
/// the computation is the features module's.

#include <optional>
#include <string>

#include "core/error.h"
#include "core/time.h"
#include "features/order_flow.h"
#include "lake/lake.h"

namespace quant::lake {

/// Which data to read for which bars.
struct ImbalanceRequest {
  std::string symbol;
  Timestamp from = Timestamp::min();  ///< the bars' window [from, to), as `stream_bars` takes it
  Timestamp to = Timestamp::max();
  /// `Book` or `Trades`; nullopt = auto: the book when the lake holds at
  /// least one snapshot of the symbol for the window (from `from` −
  /// `max_book_age`, so the first bar can use a snapshot just before the
  /// window), else trades. Decided once for the whole window.
  std::optional<features::OrderFlowSource> source;
  /// Depth, max book age, tick size; its `source` is set by the choice above.
  features::OrderFlowConfig sampler;
};

/// Streams the symbol's 1-minute bars of the window (only their closes
/// matter) alongside the chosen dataset, both in time order, and samples the
/// imbalance at each bar close after feeding every snapshot stamped at or
/// before it (trades: before it) and nothing later: no look-ahead, the same
/// order the live stream will give. Memory: one batch of each stream plus
/// one `ImbalanceSample` per bar with a value (a month of B3 trades — millions
/// of rows — never sits in memory).
///
/// The result says which source was used and what was read
/// (`counts.snapshots` / `counts.trades`): zero means the lake has no such
/// data for the window, which the caller reports (with what to ingest).
/// Fails on an invalid request (symbol, sampler settings) or a read error.
Expected<features::ImbalanceSeries> read_imbalance_series(Lake& lake, const ImbalanceRequest& request);

}  // namespace quant::lake
