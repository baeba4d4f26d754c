#pragma once
/// The crossover rule shared by every MA strategy.

#include <cstdint>

namespace quant::strategy {

/// Detects crossovers from the exact sign of fast − slow, bar by bar.
///
/// A crossover up (down) at bar t: the sign at t is +1 (−1) and the last
/// NON-ZERO sign before t was −1 (+1). A bar where the averages are equal
/// (sign 0) neither signals nor resets the memory of the last non-zero sign,
/// so −,0,+ crosses up at the + while +,0,+ and −,0,0,− never cross. The first
/// non-zero sign ever seen (or after `reset`) does not cross: there is no
/// earlier sign to cross from. Callers feed only bars where both averages are
/// ready. O(1), branch-light. Not thread-safe.
class CrossoverDetector {
 public:
  /// Feeds the sign (−1, 0, +1) at this bar; returns +1 for a crossover up,
  /// −1 for a crossover down, 0 otherwise.
  int update(int sign) {
    if (sign == 0) return 0;
    const int cross = (last_ == -sign) ? sign : 0;
    last_ = static_cast<std::int8_t>(sign);
    return cross;
  }
  /// The last non-zero sign seen (0 when none yet).
  int last_sign() const { return last_; }
  void reset() { last_ = 0; }

 private:
  std::int8_t last_ = 0;
};

}  // namespace quant::strategy
