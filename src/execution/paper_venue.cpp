#include "execution/paper_venue.h"

#include <cmath>
#include <memory>

namespace quant::execution {
namespace {

TradingCosts checked_costs(const InstrumentSpec& spec, const PaperVenueConfig& config) {
  QUANT_CHECK(config.slippage_ticks >= 0);
  return costs_of(spec, config.slippage_ticks);
}

std::unique_ptr<matching::FillModel> fill_model_of(const PaperVenueConfig& config) {
  QUANT_CHECK(std::isfinite(config.participation) && config.participation >= 0 && config.participation <= 1);
  if (config.participation > 0) return std::make_unique<matching::VolumeParticipationModel>(config.participation);
  return std::make_unique<matching::FullFillModel>();
}

}  // namespace

PaperVenue::PaperVenue(const InstrumentSpec& spec, PaperVenueConfig config)
    : venue_(spec, checked_costs(spec, config), fill_model_of(config)) {}

}  // namespace quant::execution
