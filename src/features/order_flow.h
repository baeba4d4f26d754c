#pragma once
/// Order-flow imbalance per 1-minute bar, for the strategy's book-imbalance
/// filter: the order-book imbalance of L2 snapshots, or, where no book exists,
/// the aggressor trade-flow imbalance of the bar's trades. Pure: no I/O, no
/// clocks; the backtest (through the lake) and the live engine (through the
/// stream) feed the same `OrderFlowSampler`.
///
/// Both values lie in [−1, 1]: +1 is all bids / all buying, −1 all asks / all
/// selling.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "core/time.h"

namespace quant::features {

/// (Σ bid size − Σ ask size) / (Σ bid size + Σ ask size) over the best
/// `depth` levels of each side (all levels of a side that has fewer), in
/// [−1, 1]. nullopt when a side is empty, a summed size is negative or not
/// finite, or the total is not > 0: a one-sided or empty book says nothing
/// about balance, and a corrupt one must not say anything.
/// O(depth); `depth` >= 1 (QUANT_CHECK).
std::optional<double> book_imbalance(const BookSnapshot& book, std::size_t depth);

/// Signs trades as buyer- or seller-initiated, in time order.
///
/// A trade whose `aggressor` is known keeps it. Otherwise the tick rule: a
/// price above the previous trade's is a buy (uptick), below a sell
/// (downtick); an equal price (zero tick) repeats the previous trade's
/// classification, however that one was obtained. The first trade without an
/// aggressor, and zero ticks before any classification, are `Unknown`.
/// Prices are compared in whole ticks when `tick_size` > 0 (prices on the
/// instrument's grid), else as doubles. O(1), no allocation. Not thread-safe.
class TradeClassifier {
 public:
  explicit TradeClassifier(double tick_size = 0) : tick_size_(tick_size) {}
  /// Classifies `trade` and makes it the previous trade.
  Aggressor classify(const Trade& trade);
  void reset();

 private:
  double tick_size_;
  double last_price_ = 0;
  bool has_last_ = false;
  Aggressor last_side_ = Aggressor::Unknown;
};

/// The trades of one 1-minute bar, by initiator.
struct TradeFlow {
  Timestamp minute{};  ///< the bar's open: the trades' UTC minute
  double buy_volume = 0;
  double sell_volume = 0;
  double unclassified_volume = 0;  ///< trades the tick rule could not sign (before the first price change)
  std::int64_t trades = 0;
  /// (buy − sell) / (buy + sell); nullopt when no volume was signed. The
  /// unclassified volume is left out of both.
  std::optional<double> imbalance() const;
};

/// Where a sampler's values come from.
enum class OrderFlowSource : std::uint8_t { Book, Trades };
/// "book" / "trades".
std::string_view order_flow_source_name(OrderFlowSource source);

struct OrderFlowConfig {
  OrderFlowSource source = OrderFlowSource::Book;
  std::size_t depth = 5;  ///< Book: levels per side summed, >= 1
  /// Book: a bar whose latest snapshot is older than this at its close has
  /// no value (a feed that stopped is not a balanced book). > 0.
  Duration max_book_age = std::chrono::seconds(60);
  double tick_size = 0;  ///< Trades: the instrument's tick, for the tick rule (0 = compare doubles)
};

/// Checks `config`: depth >= 1, max_book_age > 0, tick_size >= 0 and finite.
Expected<void> validate(const OrderFlowConfig& config);

/// What a sampler saw (for run summaries and tests).
struct OrderFlowCounts {
  std::int64_t snapshots = 0;            ///< book snapshots taken
  std::int64_t unusable_snapshots = 0;   ///< of those, one-sided or empty (no value)
  std::int64_t trades = 0;               ///< trades taken
  std::int64_t trades_by_aggressor = 0;  ///< signed by their own aggressor field
  std::int64_t trades_by_tick_rule = 0;  ///< signed by the tick rule
  std::int64_t trades_unclassified = 0;  ///< left unsigned (Unknown)
  std::int64_t late = 0;                 ///< events older than one already taken (ignored)
  std::int64_t ignored = 0;              ///< events of the other source (ignored)
};

/// The per-bar imbalance, streaming: feed the events in time order with
/// `add`, and at each bar close call `sample(close)`.
///
/// - Book: the value at a bar's close is `book_imbalance(depth)` of the latest
///   snapshot stamped at or before the close, if it is at most `max_book_age`
///   old; a one-sided latest snapshot gives no value (an older snapshot's
///   value is not reused).
/// - Trades: the value of the bar [close − 1 min, close) is
///   `TradeFlow::imbalance()` of the trades stamped inside it (a trade stamped
///   exactly at the close belongs to the next bar, as in `BarAggregator`);
///   no trade, or none signed, gives no value. Bars lie on the minute grid.
///
/// No look-ahead by construction: a value never uses an event stamped after
/// the close (a snapshot newer than `close`, fed too early, makes the answer
/// nullopt rather than the future's value). Complete when every event at or
/// before the close (trades: before it) has been added before `sample` —
/// what the lake adapter and, later, the live stream consumer do.
///
/// Cost: `add(Trade)` O(1); `add(BookSnapshot)` O(depth); `sample` O(1); no
/// allocation. An event older than the latest one taken is counted `late` and
/// ignored; events of the other source are counted `ignored`. Not thread-safe.
class OrderFlowSampler {
 public:
  /// `config` must be valid (`validate`; QUANT_CHECK otherwise).
  explicit OrderFlowSampler(const OrderFlowConfig& config);

  void add(const BookSnapshot& book);
  void add(const Trade& trade);
  /// The value for the bar that closes at `close` (see the class comment).
  std::optional<double> sample(Timestamp close) const;

  const OrderFlowConfig& config() const { return config_; }
  const OrderFlowCounts& counts() const { return counts_; }
  /// The trades source's current minute (meaningful after the first trade).
  const TradeFlow& current_flow() const { return flow_; }

 private:
  OrderFlowConfig config_;
  OrderFlowCounts counts_;
  // Book: the latest snapshot's time and value.
  Timestamp book_ts_{};
  std::optional<double> book_value_;
  bool has_book_ = false;
  // Trades: the classifier and the current minute.
  TradeClassifier classifier_;
  TradeFlow flow_;
  bool has_flow_ = false;
};

/// The UTC minute that contains `ts` (floor, also before 1970).
Timestamp minute_of(Timestamp ts);

/// Batch twin of `OrderFlowSampler` for time-ordered events: for each close,
/// the Book value is found by scanning all snapshots for the latest one at or
/// before it, and the Trades value by summing the trades inside the bar, each
/// signed by a backward scan (its aggressor, else the nearest earlier price
/// change; an aggressor met on the way back is the zero tick's inheritance).
/// O(events × closes): tests only.
std::vector<std::optional<double>> order_flow_batch(const OrderFlowConfig& config, std::span<const BookSnapshot> books,
                                                    std::span<const Trade> trades, std::span<const Timestamp> closes);

/// One bar's value in a precomputed series.
struct ImbalanceSample {
  Timestamp close{};  ///< the bar's close (UTC)
  double value = 0;   ///< in [−1, 1]
};

/// Per-bar values of one symbol over a window, as the lake adapter computes
/// them with an `OrderFlowSampler` before a backtest: only bars with a value
/// are stored (closes increasing), so memory is one sample per bar with data,
/// never per event.
struct ImbalanceSeries {
  OrderFlowSource source = OrderFlowSource::Book;
  std::vector<ImbalanceSample> samples;
  std::int64_t bars = 0;   ///< bars sampled, with or without a value
  OrderFlowCounts counts;  ///< what the sampler saw
};

}  // namespace quant::features
