#include "strategy/strategy_config.h"

#include <cmath>
#include <string>

#include "strategy/ma_breakout.h"
#include "strategy/sma_cross.h"

namespace quant::strategy {
namespace {

std::string field(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

Expected<void> check_period(std::string_view prefix, std::string_view name, int value) {
  if (value < 1 || value > kMaxPeriod) {
    return make_error(field(prefix, name) + ": must be between 1 and " + std::to_string(kMaxPeriod) + " bars, got " +
                      std::to_string(value));
  }
  return {};
}

Expected<void> check_fast_slow(std::string_view prefix, int fast, int slow) {
  if (auto ok = check_period(prefix, "fast", fast); !ok) return ok;
  if (auto ok = check_period(prefix, "slow", slow); !ok) return ok;
  if (slow <= fast) {
    return make_error(field(prefix, "slow") + ": must be greater than " + field(prefix, "fast") + " (" +
                      std::to_string(fast) + "), got " + std::to_string(slow));
  }
  return {};
}

}  // namespace

std::optional<MaKind> ma_kind_from_string(std::string_view text) {
  if (text == "sma") return MaKind::Sma;
  if (text == "ema") return MaKind::Ema;
  return std::nullopt;
}

Expected<void> validate(const SmaCrossConfig& config, std::string_view prefix) {
  return check_fast_slow(prefix, config.fast, config.slow);
}

Expected<void> validate(const MaBreakoutConfig& config, std::string_view prefix) {
  if (config.kind != MaKind::Sma && config.kind != MaKind::Ema) {
    return make_error(field(prefix, "kind") + ": must be \"sma\" or \"ema\"");
  }
  if (auto ok = check_fast_slow(prefix, config.fast, config.slow); !ok) return ok;
  if (auto ok = check_period(prefix, "keltner_period", config.keltner_period); !ok) return ok;
  if (auto ok = check_period(prefix, "atr_period", config.atr_period); !ok) return ok;
  if (!(std::isfinite(config.keltner_multiple) && config.keltner_multiple > 0)) {
    return make_error(field(prefix, "keltner_multiple") + ": must be a finite number > 0, got " +
                      std::to_string(config.keltner_multiple));
  }
  if (auto ok = check_period(prefix, "confirm_bars", config.confirm_bars); !ok) return ok;
  return {};
}

Expected<void> validate(const StrategyConfig& config) {
  if (config.name == "ma_breakout") return validate(config.ma_breakout, "strategy");
  if (config.name == "sma_cross") return validate(config.sma_cross, "strategy");
  return make_error("strategy.name: unknown strategy '" + config.name + "' (known: ma_breakout, sma_cross)");
}

Expected<std::unique_ptr<Strategy>> make_strategy(const StrategyConfig& config, const InstrumentSpec& instrument) {
  if (auto ok = validate(config); !ok) return tl::unexpected(ok.error());
  if (!(std::isfinite(instrument.tick_size) && instrument.tick_size > 0)) {
    return make_error("instruments." + instrument.symbol + ".tick_size: must be > 0 to convert prices to ticks, got " +
                      std::to_string(instrument.tick_size));
  }
  if (config.name == "sma_cross") {
    return std::unique_ptr<Strategy>(std::make_unique<SmaCross>(config.sma_cross, instrument.grid()));
  }
  const MaBreakoutConfig& mb = config.ma_breakout;
  if (mb.book_imbalance_filter) {
    return make_error(
        "strategy.book_imbalance_filter: the order-book imbalance filter arrives with the Gatekeeper (roadmap step 3)");
  }
  // hmm_filter: the engine adds the regime filter (it needs the HMM fitted by quant train, see [gate]).
  // model_gate: the engine adds the Gatekeeper filter (it needs trained models, see [gate]).
  return std::unique_ptr<Strategy>(std::make_unique<MaBreakout>(mb, instrument.grid()));
}

}  // namespace quant::strategy
