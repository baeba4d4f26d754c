#pragma once
/// The base strategy (docs/design.md): MA fast/slow breakout filtered by a Keltner
/// channel, with an arming window, then the switchable filter chain.

#include <string_view>

#include "core/tick_grid.h"
#include "features/keltner.h"
#include "features/moving_average.h"
#include "strategy/crossover.h"
#include "strategy/strategy.h"
#include "strategy/strategy_config.h"

namespace quant::strategy {

/// "ma_breakout". Per bar close:
///
/// 1. close → ticks (TickGrid); fast and slow MA (`kind`) update; the Keltner
///    channel (EMA `keltner_period` of the close ± `keltner_multiple` × Wilder
///    ATR `atr_period`, price units) updates.
/// 2. Once both MAs are ready, the exact sign of fast − slow feeds the
///    `CrossoverDetector` (equal averages neither signal nor reset).
/// 3. Arming: a crossover in direction d at bar t arms d for the bars
///    t, t+1, …, t + confirm_bars − 1 (re-arming replaces any armed window,
///    so an opposite crossover cancels it). On each armed bar, the entry in d
///    is emitted — and the window disarmed — when BOTH hold:
///      - the sign of fast − slow at that bar is d (strictly; a bar with equal
///        averages does not confirm but keeps the window running), and
///      - the Keltner condition: d = up needs close > upper band, d = down
///        close < lower band (strict, price units; not yet passed while the
///        channel warms up; always passed when `keltner_filter` is false, so
///        the entry comes on the crossover bar itself).
///    Reason "ma_cross_up"/"ma_cross_down" on the crossover bar,
///    "ma_cross_up_confirmed"/"ma_cross_down_confirmed" on a later bar.
///    When the last bar of the window passes unconfirmed, that bar's signal is
///    None with blocked_by = "keltner" and the crossover's reason (one log line
///    per crossover that never entered). A window cut short by an opposite
///    crossover ends silently.
/// 4. Position: an entry in the side already held is not emitted (no
///    pyramiding; the window is consumed). On a crossover against the held
///    side: the opposite entry if it passes at once (the engine reverses),
///    else Exit (when `exit_on_opposite_cross`, reason = the crossover's) and
///    the window stays armed for a later entry; an Exit takes precedence over a
///    "keltner" block reported on the same bar (the Signal carries one action).
/// 5. Entries go through the filter chain (`apply_filters`); a blocked entry
///    consumes the window (blocked_by = the filter's name), and a due Exit is
///    still emitted.
///
/// signal.atr = the Wilder ATR at this bar (price units), 0 until it has
/// `atr_period` bars. Indicators carry across sessions unless `session_reset`,
/// which resets all of them (and the crossover memory and the window) in
/// `on_session_start`. Not thread-safe.
class MaBreakout final : public Strategy {
 public:
  /// `config` must be valid (`validate`; QUANT_CHECK otherwise). The filter
  /// switches (book imbalance, HMM, model gate) are ignored here: the caller
  /// adds those filters with `add_filter`, with the data they need.
  MaBreakout(const MaBreakoutConfig& config, TickGrid grid);

  std::string_view name() const override { return "ma_breakout"; }
  Signal on_bar(const Bar& bar, std::int64_t position) override;
  void on_session_start() override;

  const features::MaSpread& spread() const { return spread_; }
  const features::Keltner& keltner() const { return keltner_; }
  /// The armed direction (+1 up, −1 down, 0 none) and the bars left in its window.
  int armed_direction() const { return armed_; }
  int armed_bars_left() const { return armed_left_; }

 private:
  bool passes_keltner(int direction, double close) const;

  features::MaSpread spread_;
  features::Keltner keltner_;
  CrossoverDetector detector_;
  TickGrid grid_;
  int confirm_bars_;
  int armed_ = 0;
  int armed_left_ = 0;
  bool keltner_filter_;
  bool exit_on_opposite_cross_;
  bool session_reset_;
};

}  // namespace quant::strategy
