#pragma once
/// Moving averages over integer ticks (prices already rounded to the
/// instrument's TickGrid), computed exactly so that two averages that are
/// equal on the grid compare equal — a tie is a real tie, not float noise.
///
/// - `Sma`: integer window sum; the average is sum / period.
/// - `Ema`: fixed point (int64 scaled by 2^32), deterministic integer update.
/// - `compare_ma`: the exact sign of a − b for any pair of the two kinds.
/// - `MovingAverage` / `MaSpread`: a runtime-chosen kind without virtual calls.
///
/// Every streaming type has a batch twin (`*_batch`) over a span, returning
/// one entry per input with NaN / std::nullopt during the warm-up; streaming
/// and batch agree exactly on every prefix (property-tested).
///
/// Domain: |ticks| < 2^28 (≈ 2.7e8 ticks, far above any real price on its
/// grid) so that the fixed-point arithmetic cannot overflow int64.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "features/int128.h"
#include "features/ring_buffer.h"

namespace quant::features {

/// Simple moving average of the last `period` ticks, kept as an exact integer sum.
/// O(1) per update, no allocation after construction. Not thread-safe.
class Sma {
 public:
  /// `period` >= 1 (QUANT_CHECK).
  explicit Sma(int period) : window_(static_cast<std::size_t>(period > 0 ? period : 1)), period_(period) {
    QUANT_CHECK(period >= 1);
  }

  /// Adds one value (ticks).
  void update(std::int64_t ticks) {
    // push returns 0 until the window is full, so no branch is needed here.
    sum_ += ticks - window_.push(ticks);
  }
  /// True once `period` values have been seen.
  bool ready() const { return window_.full(); }
  /// Exact sum of the values in the window (ticks).
  std::int64_t sum() const { return sum_; }
  int period() const { return period_; }
  /// The average in ticks (sum / period); meaningful only when ready().
  double value() const { return static_cast<double>(sum_) / period_; }
  void reset() {
    window_.clear();
    sum_ = 0;
  }

 private:
  RingBuffer<std::int64_t> window_;
  std::int64_t sum_ = 0;
  int period_;
};

/// Exponential moving average of ticks in fixed point: raw = EMA × 2^32.
///
/// Seeding: the first value is the SMA of the first `period` inputs
/// (raw = trunc(sum × 2^32 / period)), so an Ema is ready after the same
/// number of bars as an Sma of the same period. Then, per input x:
///   raw += trunc(2 × (x × 2^32 − raw) / (period + 1))
/// (integer division truncating toward zero), i.e. alpha = 2 / (period + 1).
/// Pure integer arithmetic: bit-identical on every platform and run.
class Ema {
 public:
  static constexpr int kFractionBits = 32;
  static constexpr std::int64_t kScale = std::int64_t{1} << kFractionBits;

  /// `period` >= 1 (QUANT_CHECK).
  explicit Ema(int period) : period_(period) { QUANT_CHECK(period >= 1); }

  /// Adds one value (ticks, |ticks| < 2^28).
  void update(std::int64_t ticks) {
    if (count_ < period_) [[unlikely]] {
      seed_sum_ += ticks;
      if (++count_ == period_) {
        raw_ = static_cast<std::int64_t>(static_cast<Int128>(seed_sum_) * kScale / period_);
      }
      return;
    }
    raw_ += (2 * (ticks * kScale - raw_)) / (period_ + 1);
  }
  /// True once `period` values have been seen.
  bool ready() const { return count_ >= period_; }
  /// The fixed-point value (ticks × 2^32); meaningful only when ready().
  std::int64_t raw() const { return raw_; }
  /// The value in ticks; meaningful only when ready().
  double value() const { return static_cast<double>(raw_) / static_cast<double>(kScale); }
  int period() const { return period_; }
  void reset() {
    count_ = 0;
    seed_sum_ = 0;
    raw_ = 0;
  }

 private:
  std::int64_t raw_ = 0;
  std::int64_t seed_sum_ = 0;
  int count_ = 0;
  int period_;
};

/// Which moving average.
enum class MaKind : std::uint8_t { Sma, Ema };

/// "sma" / "ema".
const char* to_string(MaKind kind);

/// Exact sign (−1, 0, +1) of a − b. Meaningful only when both are ready.
inline int compare_ma(const Sma& a, const Sma& b) {
  // a.sum / a.n  vs  b.sum / b.n  ⇔  a.sum × b.n  vs  b.sum × a.n (n > 0).
  const Int128 lhs = static_cast<Int128>(a.sum()) * b.period();
  const Int128 rhs = static_cast<Int128>(b.sum()) * a.period();
  return (lhs > rhs) - (lhs < rhs);
}
inline int compare_ma(const Ema& a, const Ema& b) { return (a.raw() > b.raw()) - (a.raw() < b.raw()); }
inline int compare_ma(const Sma& a, const Ema& b) {
  // a.sum / a.n  vs  b.raw / 2^32  ⇔  a.sum × 2^32  vs  b.raw × a.n.
  const Int128 lhs = static_cast<Int128>(a.sum()) * Ema::kScale;
  const Int128 rhs = static_cast<Int128>(b.raw()) * a.period();
  return (lhs > rhs) - (lhs < rhs);
}
inline int compare_ma(const Ema& a, const Sma& b) { return -compare_ma(b, a); }

/// A moving average whose kind is chosen at run time (configuration), with
/// no virtual call: a predictable branch on the kind. Only the chosen kind is
/// updated.
class MovingAverage {
 public:
  MovingAverage(MaKind kind, int period)
      : sma_(kind == MaKind::Sma ? period : 1), ema_(kind == MaKind::Ema ? period : 1), kind_(kind) {}

  void update(std::int64_t ticks) {
    if (kind_ == MaKind::Sma) {
      sma_.update(ticks);
    } else {
      ema_.update(ticks);
    }
  }
  bool ready() const { return kind_ == MaKind::Sma ? sma_.ready() : ema_.ready(); }
  /// The value in ticks; meaningful only when ready().
  double value() const { return kind_ == MaKind::Sma ? sma_.value() : ema_.value(); }
  MaKind kind() const { return kind_; }
  int period() const { return kind_ == MaKind::Sma ? sma_.period() : ema_.period(); }
  const Sma& sma() const { return sma_; }
  const Ema& ema() const { return ema_; }
  void reset() {
    sma_.reset();
    ema_.reset();
  }

 private:
  Sma sma_;
  Ema ema_;
  MaKind kind_;
};

/// Exact sign of a − b for any combination of kinds (mixed mode included).
inline int compare_ma(const MovingAverage& a, const MovingAverage& b) {
  if (a.kind() == MaKind::Sma) {
    return b.kind() == MaKind::Sma ? compare_ma(a.sma(), b.sma()) : compare_ma(a.sma(), b.ema());
  }
  return b.kind() == MaKind::Sma ? compare_ma(a.ema(), b.sma()) : compare_ma(a.ema(), b.ema());
}

/// A fast and a slow moving average fed the same ticks; `sign()` is the exact
/// sign of fast − slow.
class MaSpread {
 public:
  MaSpread(MaKind fast_kind, int fast_period, MaKind slow_kind, int slow_period)
      : fast_(fast_kind, fast_period), slow_(slow_kind, slow_period) {}

  void update(std::int64_t ticks) {
    fast_.update(ticks);
    slow_.update(ticks);
  }
  /// Both averages have seen their period.
  bool ready() const { return fast_.ready() && slow_.ready(); }
  /// −1, 0 or +1: the exact sign of fast − slow; meaningful only when ready().
  int sign() const { return compare_ma(fast_, slow_); }
  const MovingAverage& fast() const { return fast_; }
  const MovingAverage& slow() const { return slow_; }
  void reset() {
    fast_.reset();
    slow_.reset();
  }

 private:
  MovingAverage fast_;
  MovingAverage slow_;
};

/// Double-precision EMA (price units), alpha = 2 / (period + 1), seeded with
/// the SMA of the first `period` inputs (same convention as `Ema`). Used where
/// exact ties do not matter (the Keltner middle line).
class EmaReal {
 public:
  /// `period` >= 1 (QUANT_CHECK).
  explicit EmaReal(int period) : alpha_(2.0 / (period + 1)), period_(period) { QUANT_CHECK(period >= 1); }

  void update(double x) {
    if (count_ < period_) [[unlikely]] {
      value_ += x;  // the seed sum until ready
      if (++count_ == period_) value_ /= period_;
      return;
    }
    value_ += alpha_ * (x - value_);
  }
  bool ready() const { return count_ >= period_; }
  /// Meaningful only when ready().
  double value() const { return value_; }
  int period() const { return period_; }
  void reset() {
    count_ = 0;
    value_ = 0;
  }

 private:
  double value_ = 0;
  double alpha_;
  int count_ = 0;
  int period_;
};

/// Batch twins. Entry i describes the prefix ticks[0..i].
/// Window sums of the SMA (nullopt during the warm-up), from prefix sums.
std::vector<std::optional<std::int64_t>> sma_sum_batch(std::span<const std::int64_t> ticks, int period);
/// SMA values in ticks (NaN during the warm-up).
std::vector<double> sma_batch(std::span<const std::int64_t> ticks, int period);
/// Fixed-point EMA values (ticks × 2^32; nullopt during the warm-up).
std::vector<std::optional<std::int64_t>> ema_raw_batch(std::span<const std::int64_t> ticks, int period);
/// EMA values in ticks (NaN during the warm-up).
std::vector<double> ema_batch(std::span<const std::int64_t> ticks, int period);
/// Exact sign of fast − slow (nullopt until both are ready).
std::vector<std::optional<int>> ma_spread_sign_batch(std::span<const std::int64_t> ticks, MaKind fast_kind,
                                                     int fast_period, MaKind slow_kind, int slow_period);
/// Double EMA (NaN during the warm-up).
std::vector<double> ema_real_batch(std::span<const double> values, int period);

}  // namespace quant::features
