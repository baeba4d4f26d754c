#pragma once
// Test-only helpers for the strategy tests: bars from closes, a brute-force
// crossover reference, and a tiny reader of the real WIN file (no src/ingest).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zlib.h>

#include "core/market_data.h"

namespace quant::strategy::testing {

inline Bar flat_bar(double close) {
  Bar bar;
  bar.open = bar.high = bar.low = bar.close = close;
  return bar;
}

inline Bar make_bar(double high, double low, double close) {
  Bar bar;
  bar.open = close;
  bar.high = high;
  bar.low = low;
  bar.close = close;
  return bar;
}

// Brute force: for every bar, the SMA sums are recomputed from scratch and the
// exact sign of fast − slow comes from cross-multiplying; the crossover rule is
// applied literally (search back for the last non-zero sign). Returns +1/−1 at
// crossover bars, 0 elsewhere.
inline std::vector<int> brute_force_crossovers(const std::vector<std::int64_t>& ticks, int fast, int slow) {
  const std::size_t n = ticks.size();
  std::vector<std::optional<int>> sign(n);
  for (std::size_t t = 0; t < n; ++t) {
    if (t + 1 < static_cast<std::size_t>(slow)) continue;
    long long fs = 0, ss = 0;
    for (int k = 0; k < fast; ++k) fs += ticks[t - static_cast<std::size_t>(k)];
    for (int k = 0; k < slow; ++k) ss += ticks[t - static_cast<std::size_t>(k)];
    const long long lhs = fs * slow, rhs = ss * fast;
    sign[t] = (lhs > rhs) - (lhs < rhs);
  }
  std::vector<int> out(n, 0);
  for (std::size_t t = 0; t < n; ++t) {
    if (!sign[t] || *sign[t] == 0) continue;
    for (std::size_t u = t; u-- > 0;) {
      if (!sign[u]) break;  // before both averages were ready
      if (*sign[u] == 0) continue;
      if (*sign[u] == -*sign[t]) out[t] = *sign[t];
      break;
    }
  }
  return out;
}

// Closes (column 6) of an MT5 bar export "Date,Time,Open,High,Low,Close,...", gzip'd.
inline std::optional<std::vector<double>> read_closes_gz(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return std::nullopt;
  std::vector<double> closes;
  char line[512];
  bool header = true;
  while (gzgets(file, line, sizeof line) != nullptr) {
    if (header) {
      header = false;
      continue;
    }
    const char* p = line;
    for (int commas = 0; commas < 5 && *p != '\0'; ++p) commas += *p == ',';
    closes.push_back(std::stod(p));
  }
  gzclose(file);
  return closes;
}

}  // namespace quant::strategy::testing
