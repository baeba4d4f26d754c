#include "features/atr.h"

#include <limits>

namespace quant::features {

std::vector<double> wilder_atr_batch(std::span<const double> high, std::span<const double> low,
                                     std::span<const double> close, int period) {
  QUANT_CHECK(period >= 1);
  QUANT_CHECK(high.size() == low.size() && low.size() == close.size());
  const std::size_t size = close.size();
  std::vector<double> tr(size);
  for (std::size_t i = 0; i < size; ++i) {
    const double range = high[i] - low[i];
    tr[i] = i == 0 ? range : std::max({range, std::fabs(high[i] - close[i - 1]), std::fabs(low[i] - close[i - 1])});
  }
  std::vector<double> out(size, std::numeric_limits<double>::quiet_NaN());
  const auto n = static_cast<std::size_t>(period);
  if (size < n) return out;
  double atr = 0;
  for (std::size_t i = 0; i < n; ++i) atr += tr[i];
  atr /= static_cast<double>(period);
  out[n - 1] = atr;
  for (std::size_t i = n; i < size; ++i) {
    atr = (atr * static_cast<double>(period - 1) + tr[i]) / static_cast<double>(period);
    out[i] = atr;
  }
  return out;
}

}  // namespace quant::features
