#include "features/keltner.h"

#include <cmath>
#include <limits>

namespace quant::features {

KeltnerSeries keltner_batch(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                            int ema_period, double multiple, int atr_period) {
  const auto middle = ema_real_batch(close, ema_period);
  const auto atr = wilder_atr_batch(high, low, close, atr_period);
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  KeltnerSeries out{std::vector<double>(close.size(), kNaN), std::vector<double>(close.size(), kNaN),
                    std::vector<double>(close.size(), kNaN)};
  for (std::size_t i = 0; i < close.size(); ++i) {
    if (std::isnan(middle[i]) || std::isnan(atr[i])) continue;
    out.middle[i] = middle[i];
    out.upper[i] = middle[i] + multiple * atr[i];
    out.lower[i] = middle[i] - multiple * atr[i];
  }
  return out;
}

}  // namespace quant::features
