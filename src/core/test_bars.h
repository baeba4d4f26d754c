#pragma once
/// Hand-made bars and instruments for tests of the engines and venues (not
/// part of the library): a B3 session date in March 2021, OHLC bars and the
/// WIN/WDO specs, so hand-checked scenarios read as prices and times.

#include <chrono>

#include "core/instrument.h"
#include "core/market_data.h"
#include "core/time.h"

namespace quant::testing {

/// 2021-03-<day> (1 = a Monday) at local BRT hh:mm → the UTC bar start
/// (BRT = UTC−3, no DST in 2021).
inline Timestamp brt_march_2021(int day, int hh, int mm) {
  LocalTime l;
  make_local_time(2021, 3, day, hh, mm, 0, 0, l);
  return Timestamp(l.time_since_epoch()) + std::chrono::hours(3);
}

inline Bar ohlc_bar(Timestamp ts, double o, double h, double l, double c, double volume = 1000) {
  Bar b;
  b.ts = ts;
  b.open = o;
  b.high = h;
  b.low = l;
  b.close = c;
  b.volume = volume;
  return b;
}

/// A bar starting `minute` minutes after the epoch (venue tests that need no calendar).
inline Bar minute_bar(std::int64_t minute, double o, double h, double l, double c, double volume = 1000) {
  return ohlc_bar(Timestamp(std::chrono::minutes(minute)), o, h, l, c, volume);
}

/// WIN as the tests use it: tick 5 points, R$ 0.20 a point, BRL, Brasília
/// hours 09:00–18:25, no fees (a test that needs fees sets them).
inline InstrumentSpec win_spec() {
  InstrumentSpec s;
  s.symbol = "WIN";
  s.tick_size = 5;
  s.point_value = 0.2;
  s.currency = "BRL";
  s.time_zone = "America/Sao_Paulo";
  s.session = Session{std::chrono::minutes(9 * 60), std::chrono::minutes(18 * 60 + 25)};
  return s;
}

/// WDO: tick 0.5, R$ 10 a point, 09:00–18:30.
inline InstrumentSpec wdo_spec() {
  InstrumentSpec s = win_spec();
  s.symbol = "WDO";
  s.tick_size = 0.5;
  s.point_value = 10;
  s.session = Session{std::chrono::minutes(9 * 60), std::chrono::minutes(18 * 60 + 30)};
  return s;
}

}  // namespace quant::testing
