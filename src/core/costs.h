#pragma once
/// What trading costs beyond the price: fees per contract per side and the
/// slippage assumed on market and stop fills. One value serves the fill
/// simulator (what a fill costs) and the risk engine (what a stop-out is
/// expected to cost when it sizes a trade), so the two always agree.

#include "core/instrument.h"

namespace quant {

struct TradingCosts {
  double fee_per_contract_side = 0;  ///< exchange fee + brokerage, account currency, >= 0
  int slippage_ticks = 0;            ///< against us on market and stop fills, >= 0
};

/// The instrument's fees (exchange fee + brokerage per side) with `slippage_ticks`.
inline TradingCosts costs_of(const InstrumentSpec& spec, int slippage_ticks) {
  return TradingCosts{spec.fee_per_side + spec.brokerage_per_side, slippage_ticks};
}

}  // namespace quant
