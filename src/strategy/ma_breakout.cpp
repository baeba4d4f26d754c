#include "strategy/ma_breakout.h"

namespace quant::strategy {

MaBreakout::MaBreakout(const MaBreakoutConfig& config, TickGrid grid)
    : spread_(config.kind, config.fast, config.kind, config.slow),
      keltner_(config.keltner_period, config.keltner_multiple, config.atr_period),
      grid_(grid),
      confirm_bars_(config.confirm_bars),
      keltner_filter_(config.keltner_filter),
      exit_on_opposite_cross_(config.exit_on_opposite_cross),
      session_reset_(config.session_reset) {
  QUANT_CHECK(validate(config).has_value());
}

bool MaBreakout::passes_keltner(int direction, double close) const {
  if (!keltner_filter_) return true;
  if (!keltner_.ready()) return false;
  return direction > 0 ? close > keltner_.upper() : close < keltner_.lower();
}

Signal MaBreakout::on_bar(const Bar& bar, std::int64_t position) {
  if (!filters_.empty()) observe_filters(bar);
  spread_.update(grid_.to_ticks(bar.close));
  keltner_.update(bar.high, bar.low, bar.close);
  Signal signal;
  if (keltner_.atr().ready()) signal.atr = keltner_.atr().value();
  if (!spread_.ready()) return signal;

  const int sign = spread_.sign();
  const int cross = detector_.update(sign);
  const int held = (position > 0) - (position < 0);
  bool exit_due = false;
  if (cross != 0) {
    armed_ = cross;
    armed_left_ = confirm_bars_;
    exit_due = exit_on_opposite_cross_ && held == -cross;
  }

  if (armed_ != 0) {
    const int direction = armed_;
    if (sign == direction && passes_keltner(direction, bar.close)) {
      armed_ = 0;
      armed_left_ = 0;
      if (held != direction) {
        signal.action = direction > 0 ? Action::EnterLong : Action::EnterShort;
        if (cross != 0) {
          signal.reason = direction > 0 ? "ma_cross_up" : "ma_cross_down";
        } else {
          signal.reason = direction > 0 ? "ma_cross_up_confirmed" : "ma_cross_down_confirmed";
        }
        apply_filters(signal, bar);
      }
    } else if (--armed_left_ == 0) {
      armed_ = 0;
      signal.reason = direction > 0 ? "ma_cross_up" : "ma_cross_down";
      signal.blocked_by = "keltner";
    }
  }

  if (exit_due && signal.action == Action::None) {
    signal.action = Action::Exit;
    signal.reason = cross > 0 ? "ma_cross_up" : "ma_cross_down";
    signal.blocked_by = "";
  }
  return signal;
}

void MaBreakout::on_session_start() {
  if (!session_reset_) return;
  spread_.reset();
  keltner_.reset();
  detector_.reset();
  armed_ = 0;
  armed_left_ = 0;
}

}  // namespace quant::strategy
