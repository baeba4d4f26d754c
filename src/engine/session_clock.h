#pragma once
/// Where a bar sits in the instrument's trading session: its trading day and
/// the minutes left until the session closes. One time-zone lookup per offset
/// period (not per bar), so it is cheap enough for every bar of a backtest.

#include <cstdint>

#include "core/instrument.h"
#include "core/time.h"

namespace quant::engine {

struct SessionPosition {
  std::int64_t day = 0;         ///< trading-day number (changes at session open, local time)
  bool in_session = false;      ///< the bar lies inside the session on a trading weekday
  int minutes_to_close = 0;     ///< from the bar's close to the session close (in_session only)
};

class SessionClock {
 public:
  SessionClock(const InstrumentSpec& spec, TimeZone zone);
  /// For a 1-minute bar starting at `bar_start` (UTC).
  SessionPosition locate(Timestamp bar_start);
  /// The exchange-local date (YYYY-MM-DD) of a trading day number.
  std::string day_text(std::int64_t day) const;

 private:
  TimeZone zone_;
  TimeZone::OffsetSpan span_{};
  int open_minute_ = 0;
  int length_minutes_ = 1440;
  std::uint8_t weekday_mask_ = 0;
};

}  // namespace quant::engine
