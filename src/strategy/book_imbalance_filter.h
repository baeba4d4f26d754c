#pragma once
/// The order-book imbalance filter in the strategy's signal path: an entry
/// passes only when the order flow of its bar leans its way. The bar's value
/// (in [−1, 1]) is the order-book imbalance of the latest L2 snapshot at or
/// before the bar's close, or, without a book, the aggressor trade-flow
/// imbalance of the bar's trades (`features/order_flow.h`).
///
/// The filter stays pure: it reads each bar's value through the
/// `ImbalanceSource` port it is built with. The backtest plugs in a series
/// the lake adapter computed before the run (`SeriesImbalanceSource`); the
/// live engine will plug in an `OrderFlowSampler` fed from the stream. Either
/// way the value of a bar uses events at or before its close only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/time.h"
#include "features/order_flow.h"
#include "strategy/strategy.h"
#include "strategy/strategy_config.h"

namespace quant::strategy {

/// Where a `BookImbalanceFilter` gets each bar's value (a port owned here,
/// implemented by whoever holds the data).
class ImbalanceSource {
 public:
  virtual ~ImbalanceSource() = default;
  /// The imbalance in [−1, 1] of the bar that closes at `close` (UTC),
  /// computed from events stamped at or before `close` only; nullopt when
  /// there is no data for that bar. Called once per bar, closes increasing.
  virtual std::optional<double> imbalance_at(Timestamp close) = 0;
};

/// A precomputed series as a source: the value of the sample whose close
/// equals the bar's, nullopt when the series has none (a bar without data).
/// Reads forward with a cursor: O(1) amortised per bar. The series is shared
/// (read-only), so a twin run can read it too.
class SeriesImbalanceSource final : public ImbalanceSource {
 public:
  explicit SeriesImbalanceSource(std::shared_ptr<const features::ImbalanceSeries> series);
  std::optional<double> imbalance_at(Timestamp close) override;

 private:
  std::shared_ptr<const features::ImbalanceSeries> series_;
  std::size_t next_ = 0;
};

/// What the filter saw over a run.
struct BookImbalanceStats {
  std::int64_t bars = 0;             ///< bars observed
  std::int64_t bars_with_data = 0;   ///< of those, with a value
  std::int64_t entries = 0;          ///< entry signals judged
  std::int64_t passed = 0;           ///< passed on their bar's value
  std::int64_t blocked = 0;          ///< blocked on their bar's value
  std::int64_t missing_blocked = 0;  ///< no value, blocked (on_missing = block)
  std::int64_t missing_passed = 0;   ///< no value, passed (on_missing = allow)
};

/// "book_imbalance": a long entry passes when its bar's imbalance >=
/// `threshold`, a short when <= −`threshold`; a bar without a value blocks
/// (default) or passes per `on_missing`. Blocks show as
/// `blocked_by = "book_imbalance"` ("… signal blocked by the book_imbalance
/// filter" in the run's risk events). Each bar's value is read in
/// `observe(bar)` for the bar's close, `bar.ts` + 1 minute (decision bars
/// are 1-minute bars). Not thread-safe.
class BookImbalanceFilter final : public SignalFilter {
 public:
  /// `config` must be valid (`validate`; QUANT_CHECK otherwise), `source` non-null.
  BookImbalanceFilter(const BookImbalanceConfig& config, std::unique_ptr<ImbalanceSource> source);

  const char* name() const override { return "book_imbalance"; }
  void observe(const Bar& bar) override;
  bool allow(const Signal& signal, const Bar& bar) override;

  /// The value of the last observed bar (nullopt: no data).
  std::optional<double> value() const { return value_; }
  const BookImbalanceStats& stats() const { return stats_; }
  const BookImbalanceConfig& config() const { return config_; }

 private:
  BookImbalanceConfig config_;
  std::unique_ptr<ImbalanceSource> source_;
  std::optional<double> value_;
  Timestamp observed_close_{};
  bool observed_ = false;
  BookImbalanceStats stats_;
};

/// The sampler settings for `config` once `Auto` is resolved to `source`:
/// depth, max book age (seconds → Duration) and the instrument's tick size
/// (the tick rule compares whole ticks).
features::OrderFlowConfig order_flow_config(const BookImbalanceConfig& config, features::OrderFlowSource source,
                                            double tick_size);

}  // namespace quant::strategy
