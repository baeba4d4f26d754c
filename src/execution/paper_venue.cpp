#include "execution/paper_venue.h"

#include <cmath>
#include <memory>

namespace quant::execution {
namespace {

backtest::CostModel costs_of(const InstrumentSpec& spec, const PaperVenueConfig& config) {
  QUANT_CHECK(config.slippage_ticks >= 0);
  backtest::CostModel costs;
  costs.fee_per_contract_side = spec.fee_per_side + spec.brokerage_per_side;
  costs.slippage_ticks = config.slippage_ticks;
  return costs;
}

std::unique_ptr<backtest::FillModel> fill_model_of(const PaperVenueConfig& config) {
  QUANT_CHECK(std::isfinite(config.participation) && config.participation >= 0 && config.participation <= 1);
  if (config.participation > 0) return std::make_unique<backtest::VolumeParticipationModel>(config.participation);
  return std::make_unique<backtest::FullFillModel>();
}

}  // namespace

PaperVenue::PaperVenue(const InstrumentSpec& spec, PaperVenueConfig config)
    : venue_(spec, costs_of(spec, config), fill_model_of(config)) {}

}  // namespace quant::execution
