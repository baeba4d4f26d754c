#pragma once
/// Keltner channel: middle = EMA of the close, bands = middle ± k × ATR.

#include <span>
#include <vector>

#include "features/atr.h"
#include "features/moving_average.h"

namespace quant::features {

/// Keltner channel in price units: middle = `EmaReal(ema_period)` of the
/// close (seeded with the SMA of the first `ema_period` closes), upper/lower =
/// middle ± multiple × `WilderAtr(atr_period)`. Ready when both are ready.
/// O(1) per update, no allocation. Not thread-safe.
class Keltner {
 public:
  /// Periods >= 1 (QUANT_CHECK); `multiple` > 0.
  Keltner(int ema_period, double multiple, int atr_period)
      : middle_(ema_period), atr_(atr_period), multiple_(multiple) {
    QUANT_CHECK(multiple > 0);
  }

  /// Adds one bar (price units).
  void update(double high, double low, double close) {
    middle_.update(close);
    atr_.update(high, low, close);
  }
  void update(const Bar& bar) { update(bar.high, bar.low, bar.close); }

  bool ready() const { return middle_.ready() && atr_.ready(); }
  /// Meaningful only when ready().
  double middle() const { return middle_.value(); }
  double upper() const { return middle_.value() + multiple_ * atr_.value(); }
  double lower() const { return middle_.value() - multiple_ * atr_.value(); }
  /// The channel's ATR (price units).
  const WilderAtr& atr() const { return atr_; }
  double multiple() const { return multiple_; }
  void reset() {
    middle_.reset();
    atr_.reset();
  }

 private:
  EmaReal middle_;
  WilderAtr atr_;
  double multiple_;
};

/// Batch twin of `Keltner`: one entry per bar, NaN during the warm-up.
struct KeltnerSeries {
  std::vector<double> middle, upper, lower;
};
KeltnerSeries keltner_batch(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                            int ema_period, double multiple, int atr_period);

}  // namespace quant::features
