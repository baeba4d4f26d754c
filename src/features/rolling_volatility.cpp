#include "features/rolling_volatility.h"

#include <limits>

namespace quant::features {

std::vector<double> rolling_volatility_batch(std::span<const double> close, int period) {
  QUANT_CHECK(period >= 2 && period <= RollingVolatility::kMaxPeriod);
  std::vector<double> out(close.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<std::int64_t> q(close.size(), 0);  // q[i] = return from close[i-1] to close[i]
  for (std::size_t i = 1; i < close.size(); ++i) {
    QUANT_CHECK(close[i - 1] > 0 && close[i] > 0);
    q[i] = RollingVolatility::quantise(close[i - 1], close[i]);
  }
  const auto n = static_cast<std::size_t>(period);
  for (std::size_t i = n; i < close.size(); ++i) {
    std::int64_t sum = 0;
    Int128 sum_squares = 0;
    for (std::size_t j = i + 1 - n; j <= i; ++j) {
      sum += q[j];
      sum_squares += static_cast<Int128>(q[j]) * q[j];
    }
    out[i] = RollingVolatility::from_sums(sum, sum_squares, period);
  }
  return out;
}

}  // namespace quant::features
