#pragma once
// Test-only helpers: random series for the streaming == batch properties.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <rapidcheck.h>

namespace quant::features::testing {

// A random walk of ticks with small steps, so that equal averages (ties) occur.
inline rc::Gen<std::vector<std::int64_t>> gen_tick_walk(int max_step = 3) {
  return rc::gen::apply(
      [](std::int64_t start, const std::vector<std::int64_t>& steps) {
        std::vector<std::int64_t> out;
        out.reserve(steps.size());
        std::int64_t x = start;
        for (auto s : steps) {
          x += s;
          out.push_back(x);
        }
        return out;
      },
      rc::gen::inRange<std::int64_t>(-50000, 50000),
      rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(-max_step, max_step + 1)));
}

struct Series {
  std::vector<double> high, low, close;
};

// Positive prices on a 0.5 grid: a walk of closes with highs/lows around them, gaps included.
inline rc::Gen<Series> gen_bars() {
  return rc::gen::apply(
      [](const std::vector<std::tuple<int, int, int>>& steps) {
        Series s;
        std::int64_t close = 20000;
        for (auto [move, up, down] : steps) {
          const std::int64_t open = close;
          close = std::max<std::int64_t>(1, close + move);
          s.high.push_back(static_cast<double>(std::max(open, close) + up) * 0.5);
          s.low.push_back(static_cast<double>(std::max<std::int64_t>(1, std::min(open, close) - down)) * 0.5);
          s.close.push_back(static_cast<double>(close) * 0.5);
        }
        return s;
      },
      rc::gen::container<std::vector<std::tuple<int, int, int>>>(
          rc::gen::tuple(rc::gen::inRange(-40, 41), rc::gen::inRange(0, 10), rc::gen::inRange(0, 10))));
}

// |a − b| <= 1e-9 × max(|a|, |b|) (NaN only matches NaN: both in warm-up).
inline bool close_enough(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

}  // namespace quant::features::testing
