#pragma once
/// The checks behind `Lake::verify`, as plain C++ over records in file order.
/// No I/O: the lake streams its partitions into a `SeriesVerifier`, tests feed
/// it vectors directly.

#include <cstdint>
#include <optional>
#include <string>

#include "core/instrument.h"
#include "core/market_data.h"
#include "core/time.h"
#include "lake/lake.h"

namespace quant::lake {

/// At most this many findings are kept per check; the counts stay exact.
inline constexpr std::size_t kMaxFindingsPerCheck = 100;

/// Accumulates a VerifyReport from bars (and ticks/trades) handed over in
/// storage order. Checks on bars: "duplicate" (ts equal to the previous bar),
/// "non_monotonic" (ts before the previous bar), "ohlc", "non_positive" and,
/// with a spec, "off_grid" and "gap" (warning). Ticks and trades get
/// "ticks:non_monotonic", "ticks:non_positive", "trades:non_monotonic",
/// "trades:non_positive" once `begin_ticks()`/`begin_trades()` was called.
/// Not thread-safe.
class SeriesVerifier {
 public:
  /// `spec` may be null (no grid or gap checks); it must outlive the verifier.
  /// Fails when the spec's time zone is unknown.
  static Expected<SeriesVerifier> make(std::string symbol, const InstrumentSpec* spec);

  void add_bar(const Bar& bar);
  void begin_ticks();
  void add_tick(Timestamp ts, double bid, double ask, double last);
  void begin_trades();
  void add_trade(Timestamp ts, double price);

  /// The report; the verifier may not be used afterwards.
  VerifyReport finish();

 private:
  SeriesVerifier(std::string symbol, const InstrumentSpec* spec, std::optional<TimeZone> zone);
  enum Check : int {
    kDuplicate,
    kNonMonotonic,
    kOhlc,
    kNonPositive,
    kOffGrid,
    kGap,
    kTicksNonMonotonic,
    kTicksNonPositive,
    kTradesNonMonotonic,
    kTradesNonPositive,
    kCheckCount
  };
  void record(Check check, Severity severity, Timestamp ts, std::string message);
  std::int64_t trading_day(Timestamp ts, std::chrono::minutes& time_of_day) const;

  VerifyReport report_;
  const InstrumentSpec* spec_;
  std::optional<TimeZone> zone_;
  std::int64_t counts_[kCheckCount] = {};
  bool enabled_[kCheckCount] = {};
  bool have_bar_ = false;
  Bar prev_bar_{};
  bool have_tick_ = false;
  Timestamp prev_tick_{};
  bool have_trade_ = false;
  Timestamp prev_trade_{};
};

}  // namespace quant::lake
