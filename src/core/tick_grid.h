#pragma once
/// The instrument's price grid. Prices are compared and stored as whole ticks
/// where a grid exists, never as raw doubles (docs/conventions.md, "Names and units").

#include <cmath>
#include <cstdint>

namespace quant {

class TickGrid {
 public:
  /// `tick_size` > 0 in price units (WIN: 5, WDO: 0.5, EURUSD: 0.00001).
  explicit TickGrid(double tick_size) : tick_(tick_size) {}

  double tick_size() const { return tick_; }
  /// Nearest whole number of ticks.
  std::int64_t to_ticks(double price) const { return std::llround(price / tick_); }
  double to_price(std::int64_t ticks) const { return static_cast<double>(ticks) * tick_; }
  /// Rounds to the nearest grid price.
  double snap(double price) const { return to_price(to_ticks(price)); }
  /// True when `price` is within 1e-6 ticks of the grid (float noise, not a real offset).
  bool on_grid(double price) const {
    const double t = price / tick_;
    return std::fabs(t - std::nearbyint(t)) <= 1e-6 * std::fmax(1.0, std::fabs(t) * 1e-6);
  }

 private:
  double tick_;
};

}  // namespace quant
