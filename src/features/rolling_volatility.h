#pragma once
/// Rolling volatility: the sample standard deviation of log returns over the
/// last N bars, drift-free.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "features/int128.h"
#include "features/ring_buffer.h"

namespace quant::features {

/// Sample standard deviation (denominator N − 1) of the last N log returns
/// ln(close_t / close_{t−1}); ready after N + 1 closes.
///
/// Why fixed point: running float sums drift and cancel (var = E[x²] − E[x]²),
/// and Welford's add/remove update still drifts. Each return is instead
/// quantised to an integer of 2^-40 (≈ 9.1e-13, far below any price move on a
/// grid), and the window's sum and sum of squares are kept exactly in integers
/// (int64 / 128-bit). The result is exact for the quantised returns, never
/// drifts, needs no recompute, and is bit-identical to the batch twin.
/// Returns are clamped to ±16 (a price ratio beyond e^16 is corrupt data),
/// which with period <= 100000 rules out overflow.
/// O(1) per update, no allocation. Not thread-safe.
class RollingVolatility {
 public:
  static constexpr int kFractionBits = 40;
  static constexpr double kScale = static_cast<double>(std::int64_t{1} << kFractionBits);
  static constexpr double kMaxAbsReturn = 16.0;
  static constexpr int kMaxPeriod = 100000;

  /// 2 <= `period` <= kMaxPeriod (QUANT_CHECK).
  explicit RollingVolatility(int period)
      : window_(static_cast<std::size_t>(std::clamp(period, 2, kMaxPeriod))), period_(period) {
    QUANT_CHECK(period >= 2 && period <= kMaxPeriod);
  }

  /// Quantised log return of `close` over `previous` (both > 0).
  static std::int64_t quantise(double previous, double close) {
    const double r = std::clamp(std::log(close / previous), -kMaxAbsReturn, kMaxAbsReturn);
    return std::llround(r * kScale);
  }

  /// Adds one close (price units, > 0: QUANT_CHECK — bars reach features validated).
  void update(double close) {
    QUANT_CHECK(close > 0);
    if (has_prev_) [[likely]] {
      const std::int64_t q = quantise(prev_close_, close);
      const std::int64_t old = window_.push(q);  // 0 until the window is full
      sum_ += q - old;
      sum_squares_ += static_cast<Int128>(q) * q - static_cast<Int128>(old) * old;
    }
    prev_close_ = close;
    has_prev_ = true;
  }

  /// True once `period` returns (period + 1 closes) have been seen.
  bool ready() const { return window_.full(); }
  /// The standard deviation of log returns (per bar, not annualised);
  /// meaningful only when ready().
  double value() const { return from_sums(sum_, sum_squares_, period_); }
  int period() const { return period_; }
  void reset() {
    window_.clear();
    sum_ = 0;
    sum_squares_ = 0;
    prev_close_ = 0;
    has_prev_ = false;
  }

  /// sqrt((N Σq² − (Σq)²) / (N (N − 1))) / 2^40, the exact variance numerator
  /// rounded once to double.
  static double from_sums(std::int64_t sum, Int128 sum_squares, int period) {
    const Int128 numerator = sum_squares * period - static_cast<Int128>(sum) * sum;  // >= 0 exactly
    const double denominator = static_cast<double>(period) * static_cast<double>(period - 1);
    return std::sqrt(static_cast<double>(numerator) / denominator) / kScale;
  }

 private:
  RingBuffer<std::int64_t> window_;
  Int128 sum_squares_ = 0;
  std::int64_t sum_ = 0;
  double prev_close_ = 0;
  int period_;
  bool has_prev_ = false;
};

/// Batch twin: volatility per close (NaN during the warm-up), summing each
/// window afresh from the quantised returns.
std::vector<double> rolling_volatility_batch(std::span<const double> close, int period);

}  // namespace quant::features
