#pragma once
// Test-only helpers for the pipeline tests: instrument specs and a reader of
// the real WIN file with timestamps and volumes (MT5 export, local time).

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <zlib.h>

#include "core/instrument.h"
#include "core/market_data.h"
#include "core/test_bars.h"
#include "core/time.h"

namespace quant::features::testing {

inline InstrumentSpec win_spec() {
  InstrumentSpec s = quant::testing::win_spec();
  s.asset_class = AssetClass::Future;
  s.exchange = "B3";
  return s;
}

// "Date,Time,Open,High,Low,Close,Tick,Volume,Spread" rows, "2020.11.06,10:28:00", gzip'd, local time.
inline std::optional<std::vector<Bar>> read_mt5_bars_gz(const std::string& path, const TimeZone& zone) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return std::nullopt;
  std::vector<Bar> bars;
  char line[512];
  bool header = true;
  while (gzgets(file, line, sizeof line) != nullptr) {
    if (header) {
      header = false;
      continue;
    }
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    long long ticks = 0;
    double volume = 0;
    int spread = 0;
    Bar b;
    // NOLINTNEXTLINE(cert-err34-c): a fixture reader; the field count is checked, the data is the known export
    if (std::sscanf(line, "%d.%d.%d,%d:%d:%d,%lf,%lf,%lf,%lf,%lld,%lf,%d", &y, &mo, &d, &h, &mi, &se, &b.open, &b.high,
                    &b.low, &b.close, &ticks, &volume, &spread) != 13) {
      continue;
    }
    LocalTime local;
    if (!make_local_time(y, mo, d, h, mi, se, 0, local)) continue;
    auto utc = zone.to_utc(local);
    if (!utc) continue;
    b.ts = *utc;
    b.tick_volume = ticks;
    b.volume = volume;
    b.spread = spread;
    bars.push_back(b);
  }
  gzclose(file);
  return bars;
}

}  // namespace quant::features::testing
