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

std::optional<ImbalanceData> imbalance_data_from_string(std::string_view text) {
  if (text == "auto") return ImbalanceData::Auto;
  if (text == "book") return ImbalanceData::Book;
  if (text == "trades") return ImbalanceData::Trades;
  return std::nullopt;
}

std::string_view imbalance_data_name(ImbalanceData data) {
  switch (data) {
    case ImbalanceData::Auto: return "auto";
    case ImbalanceData::Book: return "book";
    case ImbalanceData::Trades: return "trades";
  }
  return "auto";
}

std::optional<MissingImbalance> missing_imbalance_from_string(std::string_view text) {
  if (text == "block") return MissingImbalance::Block;
  if (text == "allow") return MissingImbalance::Allow;
  return std::nullopt;
}

std::string_view missing_imbalance_name(MissingImbalance policy) {
  return policy == MissingImbalance::Allow ? "allow" : "block";
}

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
  return validate(config.book_imbalance, field(prefix, "book_imbalance"));
}

Expected<void> validate(const BookImbalanceConfig& config, std::string_view prefix) {
  if (!(std::isfinite(config.threshold) && config.threshold >= 0 && config.threshold <= 1)) {
    return make_error(field(prefix, "threshold") + ": must be a number within [0, 1], got " +
                      std::to_string(config.threshold));
  }
  if (config.depth < 1 || config.depth > 1000) {
    return make_error(field(prefix, "depth") + ": must be between 1 and 1000 levels, got " +
                      std::to_string(config.depth));
  }
  if (config.max_book_age_seconds < 1 || config.max_book_age_seconds > 86400) {
    return make_error(field(prefix, "max_book_age_seconds") + ": must be between 1 and 86400, got " +
                      std::to_string(config.max_book_age_seconds));
  }
  if (config.source != ImbalanceData::Auto && config.source != ImbalanceData::Book &&
      config.source != ImbalanceData::Trades) {
    return make_error(field(prefix, "source") + ": must be \"auto\", \"book\" or \"trades\"");
  }
  if (config.on_missing != MissingImbalance::Block && config.on_missing != MissingImbalance::Allow) {
    return make_error(field(prefix, "on_missing") + ": must be \"block\" or \"allow\"");
  }
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
  // The switchable filters need data the bars do not carry, so the caller adds them:
  // book_imbalance_filter: BookImbalanceFilter with per-bar order flow (the backtest reads the lake);
  // hmm_filter: the regime filter with the HMM fitted by quant train (see [gate]);
  // model_gate: the engine appends the Gatekeeper (trained models, see [gate]).
  return std::unique_ptr<Strategy>(std::make_unique<MaBreakout>(config.ma_breakout, instrument.grid()));
}

}  // namespace quant::strategy
