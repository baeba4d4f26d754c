#pragma once
/// Where a bar sits in the instrument's trading session: its trading day and
/// the minutes left until that day's session closes. With a calendar
/// (`InstrumentSpec::calendar`) a holiday is not a trading day, a special
/// session uses its own open and close, and dated hours apply from their date;
/// without one, the spec's fixed session on its weekdays. The rules live in
/// `quant::SessionLocator` (core), which the feature pipeline and the lake's
/// verifier share. One time-zone lookup per offset period and one calendar
/// lookup per local date, no allocation: cheap enough for every bar of a
/// backtest.

#include <cstdint>
#include <string>

#include "core/instrument.h"
#include "core/session_locator.h"
#include "core/time.h"

namespace quant::engine {

struct SessionPosition {
  std::int64_t day = 0;      ///< trading-day number (changes at the day's open, local time)
  bool in_session = false;   ///< the bar lies inside the day's session on a trading day
  int minutes_to_close = 0;  ///< from the bar's close to the session close (in_session only)
};

class SessionClock {
 public:
  SessionClock(const InstrumentSpec& spec, TimeZone zone);
  /// For a 1-minute bar starting at `bar_start` (UTC).
  SessionPosition locate(Timestamp bar_start);
  /// The exchange-local date (YYYY-MM-DD) of a trading day number.
  std::string day_text(std::int64_t day) const;

 private:
  SessionLocator locator_;
};

}  // namespace quant::engine
