#pragma once
/// Average true range with Wilder's smoothing, in price units (doubles).

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"

namespace quant::features {

/// Wilder ATR over `period` bars.
///
/// True range: high − low on the first bar (no previous close), then
/// max(high − low, |high − previous close|, |low − previous close|).
/// ATR: the mean of the first `period` true ranges (ready after `period`
/// bars), then atr = (atr × (period − 1) + tr) / period.
/// O(1) per update, no allocation. Not thread-safe.
class WilderAtr {
 public:
  /// `period` >= 1 (QUANT_CHECK).
  explicit WilderAtr(int period)
      : period_(period), n_(static_cast<double>(period)), n_minus_1_(static_cast<double>(period - 1)) {
    QUANT_CHECK(period >= 1);
  }

  /// Adds one bar (price units, low <= high).
  void update(double high, double low, double close) {
    const double range = high - low;
    const double tr =
        has_prev_ ? std::max({range, std::fabs(high - prev_close_), std::fabs(low - prev_close_)}) : range;
    prev_close_ = close;
    has_prev_ = true;
    true_range_ = tr;
    if (count_ < period_) [[unlikely]] {
      atr_ += tr;  // the seed sum until ready
      if (++count_ == period_) atr_ /= n_;
      return;
    }
    atr_ = (atr_ * n_minus_1_ + tr) / n_;
  }
  void update(const Bar& bar) { update(bar.high, bar.low, bar.close); }

  bool ready() const { return count_ >= period_; }
  /// The ATR (price units); meaningful only when ready().
  double value() const { return atr_; }
  /// The latest bar's true range (price units).
  double true_range() const { return true_range_; }
  int period() const { return period_; }
  void reset() {
    count_ = 0;
    atr_ = 0;
    prev_close_ = 0;
    true_range_ = 0;
    has_prev_ = false;
  }

 private:
  double atr_ = 0;
  double prev_close_ = 0;
  double true_range_ = 0;
  int count_ = 0;
  int period_;
  double n_;
  double n_minus_1_;
  bool has_prev_ = false;
};

/// Batch twin: ATR per bar (NaN during the warm-up). The three spans have the
/// same length (QUANT_CHECK).
std::vector<double> wilder_atr_batch(std::span<const double> high, std::span<const double> low,
                                     std::span<const double> close, int period);

}  // namespace quant::features
