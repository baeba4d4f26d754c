#pragma once
/// Hand-made bars for tests of the engines and venues (not part of the
/// library): a B3 session date in March 2021 and an OHLC bar, so hand-checked
/// scenarios read as prices and times.

#include <chrono>

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

}  // namespace quant::testing
