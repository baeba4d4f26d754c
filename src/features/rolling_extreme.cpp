#include "features/rolling_extreme.h"

#include <algorithm>
#include <limits>

namespace quant::features {
namespace {

template <bool kMax>
std::vector<double> scan(std::span<const double> values, int period) {
  QUANT_CHECK(period >= 1);
  std::vector<double> out(values.size(), std::numeric_limits<double>::quiet_NaN());
  const auto n = static_cast<std::size_t>(period);
  for (std::size_t i = n - 1; i < values.size(); ++i) {
    const auto window = values.subspan(i + 1 - n, n);
    out[i] = kMax ? *std::max_element(window.begin(), window.end()) : *std::min_element(window.begin(), window.end());
  }
  return out;
}

}  // namespace

std::vector<double> highest_batch(std::span<const double> values, int period) { return scan<true>(values, period); }
std::vector<double> lowest_batch(std::span<const double> values, int period) { return scan<false>(values, period); }

}  // namespace quant::features
