#include "features/labels.h"

#include <cmath>

#include "core/error.h"

namespace quant::features {

std::vector<Sample> label_events(std::span<const Bar> bars, std::span<const Event> events, const LabelConfig& config,
                                 LabelStats* stats) {
  QUANT_CHECK(config.target_points > 0 && config.stop_atr_multiple > 0 && config.horizon >= 1);
  LabelStats local;
  local.events = events.size();
  std::vector<Sample> out;
  out.reserve(events.size());
  const auto horizon = static_cast<std::size_t>(config.horizon);
  std::size_t last_index = 0;
  bool first = true;
  for (const Event& e : events) {
    if (e.index >= bars.size() || !(std::isfinite(e.atr) && e.atr > 0) || (!first && e.index < last_index)) {
      ++local.dropped_invalid;
      continue;
    }
    first = false;
    last_index = e.index;
    if (e.index + horizon >= bars.size()) {
      ++local.dropped_horizon;
      continue;
    }
    const double s = sign(e.side);
    const bool buy = e.side == Side::Buy;
    const double entry = bars[e.index + 1].open;
    const double target = entry + s * config.target_points;
    const double stop = entry - s * config.stop_atr_multiple * e.atr;
    const std::size_t end = e.index + horizon;
    Sample sample;
    sample.index = e.index;
    sample.t0 = bars[e.index].ts;
    sample.t1 = bars[end].ts;
    sample.side = e.side;
    sample.atr = e.atr;
    sample.forward_points = s * (bars[end].close - entry);
    for (std::size_t j = e.index + 1; j <= end; ++j) {
      const Bar& b = bars[j];
      // The open comes first, as the backtest fills: a bar that opens at or
      // beyond the target reached it before anything later in that bar.
      const bool opens_at_target = buy ? b.open >= target : b.open <= target;
      if (opens_at_target) {
        sample.label = 1;
        sample.t1 = b.ts;
        break;
      }
      const bool stop_hit = buy ? b.low <= stop : b.high >= stop;
      if (stop_hit) {
        sample.t1 = b.ts;
        break;
      }
      const bool target_hit = buy ? b.high >= target : b.low <= target;
      if (target_hit) {
        sample.label = 1;
        sample.t1 = b.ts;
        break;
      }
    }
    local.positives += static_cast<std::size_t>(sample.label);
    out.push_back(sample);
  }
  local.labelled = out.size();
  if (stats != nullptr) *stats = local;
  return out;
}

}  // namespace quant::features
