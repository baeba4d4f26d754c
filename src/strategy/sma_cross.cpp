#include "strategy/sma_cross.h"

namespace quant::strategy {

SmaCross::SmaCross(const SmaCrossConfig& config, TickGrid grid)
    : spread_(MaKind::Sma, config.fast, MaKind::Sma, config.slow), grid_(grid) {
  QUANT_CHECK(validate(config).has_value());
}

Signal SmaCross::on_bar(const Bar& bar, std::int64_t position) {
  if (!filters_.empty()) observe_filters(bar);
  spread_.update(grid_.to_ticks(bar.close));
  Signal signal;
  if (!spread_.ready()) return signal;
  const int cross = detector_.update(spread_.sign());
  if (cross > 0 && position <= 0) {
    signal.action = Action::EnterLong;
    signal.reason = "ma_cross_up";
  } else if (cross < 0 && position >= 0) {
    signal.action = Action::EnterShort;
    signal.reason = "ma_cross_down";
  }
  apply_filters(signal, bar);
  return signal;
}

}  // namespace quant::strategy
