#include "generator/market_generator.h"

#include <algorithm>
#include <cmath>

namespace quant::generator {

Expected<std::vector<GeneratedBar>> generate_market(const InstrumentSpec& spec, const GeneratorConfig& config) {
  if (!(spec.tick_size > 0)) return make_error("generate: instrument " + spec.symbol + " has no tick size");
  if (spec.session.crosses_midnight()) {
    return make_error("generate: sessions crossing midnight are not supported (" + spec.symbol + ")");
  }
  if (config.days <= 0) return make_error("generate: days must be > 0");
  auto zone = TimeZone::find(spec.time_zone);
  if (!zone) return tl::unexpected(zone.error());
  const TickGrid grid = spec.grid();
  SplitMix64 rng(config.seed);

  std::vector<GeneratedBar> out;
  const int minutes_per_day = static_cast<int>((spec.session.close - spec.session.open).count());
  out.reserve(static_cast<std::size_t>(config.days) * static_cast<std::size_t>(minutes_per_day));

  std::int64_t price = grid.to_ticks(config.start_price);  // in ticks
  Regime regime = Regime::Calm;
  int regime_left = 0;
  LocalTime day;
  if (!make_local_time(config.start_year, config.start_month, config.start_day, 0, 0, 0, 0, day)) {
    return make_error("generate: bad start date");
  }
  int produced_days = 0;
  for (; produced_days < config.days; day += std::chrono::hours(24)) {
    const CivilTime civil = to_civil(day);
    if (std::find(spec.weekdays.begin(), spec.weekdays.end(), static_cast<int>(civil.weekday)) == spec.weekdays.end()) {
      continue;
    }
    ++produced_days;
    // Overnight gap: a few ticks' worth of news.
    price += static_cast<std::int64_t>(std::llround(rng.normal() * config.base_volatility_ticks * 8));
    for (int m = 0; m < minutes_per_day; ++m) {
      if (regime_left-- <= 0) {
        regime = static_cast<Regime>(rng.next() % 4);
        regime_left = 60 + static_cast<int>(rng.next() % 540);
      }
      double drift = 0, vol = config.base_volatility_ticks;
      switch (regime) {
        case Regime::Calm: break;
        // A trend moves about 0.1 standard deviations a minute: ~1 % of price over a session.
        case Regime::TrendUp: drift = 0.1 * vol; break;
        case Regime::TrendDown: drift = -0.1 * vol; break;
        case Regime::Volatile: vol *= 2.5; break;
      }
      // Intraday U-shape: busier at the open and the close.
      const double x = static_cast<double>(m) / minutes_per_day;
      vol *= 0.7 + 1.2 * (x - 0.5) * (x - 0.5) * 4;
      const std::int64_t open = price;
      std::int64_t close = open + static_cast<std::int64_t>(std::llround(drift + rng.normal() * vol));
      if (close < 1) close = 1;
      const std::int64_t high = std::max(open, close) + static_cast<std::int64_t>(std::floor(rng.uniform() * vol));
      std::int64_t low = std::min(open, close) - static_cast<std::int64_t>(std::floor(rng.uniform() * vol));
      if (low < 1) low = 1;
      price = close;
      Bar bar;
      const LocalTime local = day + spec.session.open + std::chrono::minutes(m);
      auto utc = zone->to_utc(local);
      if (!utc) continue;  // a minute skipped by DST does not exist
      bar.ts = *utc;
      bar.open = grid.to_price(open);
      bar.high = grid.to_price(high);
      bar.low = grid.to_price(low);
      bar.close = grid.to_price(close);
      bar.tick_volume = 200 + static_cast<std::int64_t>(rng.uniform() * vol * 150);
      bar.volume = static_cast<double>(bar.tick_volume * (2 + static_cast<std::int64_t>(rng.next() % 4)));
      bar.spread = 1;
      out.push_back({bar, regime});
    }
  }
  return out;
}

Expected<std::vector<Bar>> generate_bars(const InstrumentSpec& spec, const GeneratorConfig& config) {
  auto market = generate_market(spec, config);
  if (!market) return tl::unexpected(market.error());
  std::vector<Bar> bars;
  bars.reserve(market->size());
  for (const auto& g : *market) bars.push_back(g.bar);
  return bars;
}

}  // namespace quant::generator
