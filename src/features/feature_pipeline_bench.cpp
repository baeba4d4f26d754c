// ns per bar through the whole FeaturePipeline (default config: 4 returns, MA
// spread, Keltner, ATR %, volume z, session time), with and without the
// 3-state HMM filter, and with an L2 snapshot before every bar.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "features/feature_pipeline.h"

namespace quant::features {
namespace {

InstrumentSpec bench_spec() {
  InstrumentSpec s;
  s.symbol = "WIN";
  s.asset_class = AssetClass::Future;
  s.tick_size = 5;
  s.time_zone = "America/Sao_Paulo";
  s.session = Session{std::chrono::minutes(540), std::chrono::minutes(1105)};
  return s;
}

// WIN-like 1-minute bars from a deterministic walk (SplitMix64 steps).
const std::vector<Bar>& bench_bars() {
  static const std::vector<Bar> bars = [] {
    std::vector<Bar> out;
    std::uint64_t state = 42;
    const auto next = [&] {
      std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      return z ^ (z >> 31);
    };
    std::int64_t ticks = 20000;
    const Timestamp start = from_epoch_ns(1'600'000'000'000'000'000LL);
    for (int i = 0; i < 1 << 16; ++i) {
      const std::int64_t open = ticks;
      ticks += static_cast<std::int64_t>(next() % 17) - 8;
      Bar b;
      b.ts = start + std::chrono::minutes(i);
      b.open = static_cast<double>(open) * 5;
      b.close = static_cast<double>(ticks) * 5;
      b.high = static_cast<double>(std::max(open, ticks) + static_cast<std::int64_t>(next() % 10)) * 5;
      b.low = static_cast<double>(std::min(open, ticks) - static_cast<std::int64_t>(next() % 10)) * 5;
      b.tick_volume = static_cast<std::int64_t>(next() % 5000);
      b.volume = static_cast<double>(next() % 20000);
      out.push_back(b);
    }
    return out;
  }();
  return bars;
}

HmmParams bench_hmm() {
  HmmParams p;
  p.states = 3;
  p.initial = {0.4, 0.4, 0.2};
  p.transition = {0.98, 0.015, 0.005, 0.01, 0.98, 0.01, 0.005, 0.015, 0.98};
  p.mean = {0.0, 0.0003, 0.0, 0.0006, 0.0, 0.0012};
  p.variance = {1e-7, 1e-8, 4e-7, 4e-8, 1.6e-6, 1.6e-7};
  return p;
}

void BM_FeaturePipeline(benchmark::State& state) {
  const bool with_hmm = state.range(0) != 0;
  const bool with_book = state.range(1) != 0;
  const HmmParams hmm = bench_hmm();
  auto pipeline = FeaturePipeline::create(FeatureConfig{}, bench_spec(), with_book, with_hmm ? &hmm : nullptr).value();
  BookSnapshot book;
  book.bids = {{100000, 10}, {99995, 20}, {99990, 30}, {99985, 15}, {99980, 5}};
  book.asks = {{100005, 12}, {100010, 8}, {100015, 25}, {100020, 30}, {100025, 9}};
  const auto& bars = bench_bars();
  std::size_t i = 0;
  for ([[maybe_unused]] auto _ : state) {
    if (with_book) pipeline.update_book(book);
    pipeline.update(bars[i]);
    benchmark::DoNotOptimize(pipeline.values().data());
    if (++i == bars.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FeaturePipeline)->Args({0, 0})->Args({1, 0})->Args({1, 1})->ArgNames({"hmm", "book"});

}  // namespace
}  // namespace quant::features
