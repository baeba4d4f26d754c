#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "risk/risk_engine.h"

namespace quant::risk {
namespace {

/// A WIN-like random walk on the 5-point grid (seeded: every run sees the same bars).
std::vector<Bar> make_bars(std::size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> step(-12, 12);
  std::uniform_int_distribution<int> wick(0, 6);
  std::vector<Bar> bars(n);
  double price = 120000;
  for (std::size_t i = 0; i < n; ++i) {
    Bar& b = bars[i];
    b.ts = Timestamp(kMinute * static_cast<std::int64_t>(i));
    b.open = price;
    b.close = price + 5.0 * step(rng);
    b.high = std::max(b.open, b.close) + 5.0 * wick(rng);
    b.low = std::min(b.open, b.close) - 5.0 * wick(rng);
    price = b.close;
  }
  return bars;
}

/// The per-bar hot path: update_stop then check_breaker on an open position,
/// as the engine calls them at every bar close. Events are drained as the
/// engine would, so the log does not grow without bound.
void BM_UpdateStopAndBreakerPerBar(benchmark::State& state) {
  InstrumentSpec spec;
  spec.symbol = "WIN";
  spec.tick_size = 5;
  spec.point_value = 0.2;
  const std::vector<Bar> bars = make_bars(1 << 16);
  RiskEngine engine(RiskConfig{}, spec);
  engine.on_session_start(Timestamp{}, 1e9);  // far from the breaker: measure the common case
  std::size_t i = 0;
  std::int64_t moves = 0;
  // Re-entry skips check_entry (a signal-time cost, not a per-bar one): the
  // stop is placed as check_entry would, 2 × ATR below the close.
  auto open = [&] {
    EntryDecision d;
    d.decision = Decision::Accepted;
    d.qty = 10;
    d.stop_price = bars[i].close - 300;
    engine.on_position_closed();
    engine.on_entry_filled(Side::Buy, d.qty, bars[i].close, d);
  };
  open();
  for ([[maybe_unused]] auto _ : state) {
    const Bar& b = bars[i];
    moves += engine.update_stop(b, 150);
    benchmark::DoNotOptimize(engine.check_breaker(b.ts, 1e9 + b.close));
    if (b.low <= engine.position().stop_price) open();  // stopped out: re-enter
    if (engine.events().size() > 4096) benchmark::DoNotOptimize(engine.take_events());
    if (++i == bars.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["stop_moves_per_bar"] =
      benchmark::Counter(static_cast<double>(moves) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_UpdateStopAndBreakerPerBar);

/// Same without a position (flat most of the day): the cheapest path.
void BM_FlatBarPerBar(benchmark::State& state) {
  InstrumentSpec spec;
  spec.symbol = "WIN";
  spec.tick_size = 5;
  spec.point_value = 0.2;
  const std::vector<Bar> bars = make_bars(1 << 16);
  RiskEngine engine(RiskConfig{}, spec);
  engine.on_session_start(Timestamp{}, 1e9);
  std::size_t i = 0;
  for ([[maybe_unused]] auto _ : state) {
    const Bar& b = bars[i];
    benchmark::DoNotOptimize(engine.update_stop(b, 150));
    benchmark::DoNotOptimize(engine.check_breaker(b.ts, 1e9 + b.close));
    if (++i == bars.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FlatBarPerBar);

}  // namespace
}  // namespace quant::risk
