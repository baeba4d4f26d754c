// ns per bar of each strategy's on_bar (indicators included), through the
// Strategy interface as the engine calls it.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "strategy/strategy_config.h"

namespace quant::strategy {
namespace {

const std::vector<Bar>& bars() {
  static const std::vector<Bar> b = [] {
    std::vector<Bar> out;
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> step(-8, 8), wick(0, 10);
    std::int64_t t = 20000;
    for (int i = 0; i < 1 << 16; ++i) {
      const std::int64_t open = t;
      t += step(rng);
      Bar bar;
      bar.open = static_cast<double>(open) * 5;
      bar.close = static_cast<double>(t) * 5;
      bar.high = static_cast<double>(std::max(open, t) + wick(rng)) * 5;
      bar.low = static_cast<double>(std::min(open, t) - wick(rng)) * 5;
      out.push_back(bar);
    }
    return out;
  }();
  return b;
}

void run(benchmark::State& state, const StrategyConfig& config) {
  InstrumentSpec win;
  win.symbol = "WIN";
  win.tick_size = 5;
  auto strategy = make_strategy(config, win);
  if (!strategy) {
    state.SkipWithError(strategy.error().message.c_str());
    return;
  }
  const auto& b = bars();
  std::size_t i = 0;
  std::int64_t position = 0;
  for ([[maybe_unused]] auto _ : state) {
    const Signal s = (*strategy)->on_bar(b[i], position);
    if (s.action == Action::EnterLong) position = 1;
    if (s.action == Action::EnterShort) position = -1;
    if (s.action == Action::Exit) position = 0;
    benchmark::DoNotOptimize(s);
    if (++i == b.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SmaCross(benchmark::State& state) {
  StrategyConfig config;
  config.name = "sma_cross";
  run(state, config);
}
BENCHMARK(BM_SmaCross);

void BM_MaBreakout(benchmark::State& state) {
  StrategyConfig config;
  config.ma_breakout.kind = state.range(0) == 0 ? MaKind::Sma : MaKind::Ema;
  run(state, config);
}
BENCHMARK(BM_MaBreakout)->Arg(0)->Arg(1)->ArgName("ema");

}  // namespace
}  // namespace quant::strategy
