#include "features/moving_average.h"

#include <limits>

namespace quant::features {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A moving-average value as an exact fraction num / den in ticks (den > 0).
struct Fraction {
  Int128 num;
  Int128 den;
};

int compare(const Fraction& a, const Fraction& b) {
  const Int128 lhs = a.num * b.den;
  const Int128 rhs = b.num * a.den;
  return (lhs > rhs) - (lhs < rhs);
}

std::vector<std::optional<Fraction>> fractions(std::span<const std::int64_t> ticks, MaKind kind, int period) {
  std::vector<std::optional<Fraction>> out(ticks.size());
  if (kind == MaKind::Sma) {
    const auto sums = sma_sum_batch(ticks, period);
    for (std::size_t i = 0; i < ticks.size(); ++i) {
      if (sums[i]) out[i] = Fraction{static_cast<Int128>(*sums[i]), Int128{period}};
    }
  } else {
    const auto raws = ema_raw_batch(ticks, period);
    for (std::size_t i = 0; i < ticks.size(); ++i) {
      if (raws[i]) out[i] = Fraction{static_cast<Int128>(*raws[i]), Int128{Ema::kScale}};
    }
  }
  return out;
}

}  // namespace

const char* to_string(MaKind kind) { return kind == MaKind::Sma ? "sma" : "ema"; }

std::vector<std::optional<std::int64_t>> sma_sum_batch(std::span<const std::int64_t> ticks, int period) {
  QUANT_CHECK(period >= 1);
  // Prefix sums: a different computation from the streaming ring buffer, so
  // the property test compares two independent routes to the same integers.
  std::vector<std::int64_t> prefix(ticks.size() + 1, 0);
  for (std::size_t i = 0; i < ticks.size(); ++i) prefix[i + 1] = prefix[i] + ticks[i];
  std::vector<std::optional<std::int64_t>> out(ticks.size());
  const auto n = static_cast<std::size_t>(period);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    if (i + 1 >= n) out[i] = prefix[i + 1] - prefix[i + 1 - n];
  }
  return out;
}

std::vector<double> sma_batch(std::span<const std::int64_t> ticks, int period) {
  const auto sums = sma_sum_batch(ticks, period);
  std::vector<double> out(ticks.size(), kNaN);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    if (sums[i]) out[i] = static_cast<double>(*sums[i]) / period;
  }
  return out;
}

std::vector<std::optional<std::int64_t>> ema_raw_batch(std::span<const std::int64_t> ticks, int period) {
  QUANT_CHECK(period >= 1);
  std::vector<std::optional<std::int64_t>> out(ticks.size());
  const auto n = static_cast<std::size_t>(period);
  if (ticks.size() < n) return out;
  Int128 seed = 0;
  for (std::size_t i = 0; i < n; ++i) seed += ticks[i];
  auto raw = static_cast<std::int64_t>(seed * Ema::kScale / period);
  out[n - 1] = raw;
  for (std::size_t i = n; i < ticks.size(); ++i) {
    raw += (2 * (ticks[i] * Ema::kScale - raw)) / (period + 1);
    out[i] = raw;
  }
  return out;
}

std::vector<double> ema_batch(std::span<const std::int64_t> ticks, int period) {
  const auto raws = ema_raw_batch(ticks, period);
  std::vector<double> out(ticks.size(), kNaN);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    if (raws[i]) out[i] = static_cast<double>(*raws[i]) / static_cast<double>(Ema::kScale);
  }
  return out;
}

std::vector<std::optional<int>> ma_spread_sign_batch(std::span<const std::int64_t> ticks, MaKind fast_kind,
                                                     int fast_period, MaKind slow_kind, int slow_period) {
  const auto fast = fractions(ticks, fast_kind, fast_period);
  const auto slow = fractions(ticks, slow_kind, slow_period);
  std::vector<std::optional<int>> out(ticks.size());
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    if (fast[i] && slow[i]) out[i] = compare(*fast[i], *slow[i]);
  }
  return out;
}

std::vector<double> ema_real_batch(std::span<const double> values, int period) {
  QUANT_CHECK(period >= 1);
  std::vector<double> out(values.size(), kNaN);
  const auto n = static_cast<std::size_t>(period);
  if (values.size() < n) return out;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += values[i];
  double e = sum / period;
  out[n - 1] = e;
  const double alpha = 2.0 / (period + 1);
  for (std::size_t i = n; i < values.size(); ++i) {
    e += alpha * (values[i] - e);
    out[i] = e;
  }
  return out;
}

}  // namespace quant::features
