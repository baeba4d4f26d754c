#pragma once
/// The checks behind `Lake::verify`, as plain C++ over records in file order.
/// No I/O: the lake streams its partitions into a `SeriesVerifier`, tests feed
/// it vectors directly.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/instrument.h"
#include "core/market_data.h"
#include "core/session_locator.h"
#include "core/time.h"
#include "core/timeframe_detector.h"
#include "lake/lake.h"

namespace quant::lake {

/// At most this many findings are kept per check; the counts stay exact.
inline constexpr std::size_t kMaxFindingsPerCheck = 100;

/// Accumulates a VerifyReport from bars (and ticks/trades) handed over in
/// storage order. Checks on bars: "duplicate" (ts equal to the previous bar),
/// "non_monotonic" (ts before the previous bar), "ohlc", "non_positive" and,
/// with a spec, "off_grid" and "gap" (warning: consecutive bars of one trading
/// day, both inside its hours, more than a minute apart). With a spec that has
/// a calendar, "gap" needs both bars in the session of a trading day (a
/// holiday or weekend has no session, so nothing there is a gap) and
/// "missing_day" (warning) reports each trading day of the calendar between
/// two consecutive bars that has no bar at all; trading days and hours come
/// from `quant::SessionLocator`, as in the engine. "timeframe" (error): the
/// whole series is not 1-minute bars by `quant::TimeframeDetector` (on the
/// spec's zone, else UTC; one finding), or else a UTC month of it is not (one
/// finding per month): a lake written by another tool, or an M5 export
/// imported before ingest checked it. Ticks and trades get
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
  void check_time_gap(const Bar& bar, const SessionPlace& place);
  /// Judges the month that ended (its detector), then starts the next one.
  void finish_month();
  enum Check : int {
    kDuplicate,
    kNonMonotonic,
    kOhlc,
    kNonPositive,
    kOffGrid,
    kTimeframe,
    kGap,
    kMissingDay,
    kTicksNonMonotonic,
    kTicksNonPositive,
    kTradesNonMonotonic,
    kTradesNonPositive,
    kCheckCount
  };
  void record(Check check, Severity severity, Timestamp ts, std::string message);

  VerifyReport report_;
  const InstrumentSpec* spec_;
  std::optional<TimeZone> zone_;
  std::optional<SessionLocator> sessions_;  // with a spec
  SessionPlace prev_place_{};
  std::int64_t counts_[kCheckCount] = {};
  bool enabled_[kCheckCount] = {};
  bool have_bar_ = false;
  Bar prev_bar_{};
  TimeframeDetector series_timeframe_;                             ///< all bars
  TimeframeDetector month_timeframe_;                              ///< the bars of the current UTC month
  int month_ = -1;                                                 ///< year * 12 + month - 1 of the current month
  Timestamp month_first_{};                                        ///< its first bar
  std::vector<std::pair<Timestamp, std::string>> month_findings_;  ///< months of another timeframe
  bool have_tick_ = false;
  Timestamp prev_tick_{};
  bool have_trade_ = false;
  Timestamp prev_trade_{};
};

}  // namespace quant::lake
