// ns per update of the indicator set that ma_breakout uses per bar:
// two SMAs (or EMAs) over ticks, the exact sign, a Keltner channel (EMA + Wilder ATR).
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "features/atr.h"
#include "features/keltner.h"
#include "features/moving_average.h"
#include "features/order_flow.h"
#include "features/rolling_extreme.h"
#include "features/rolling_volatility.h"

namespace quant::features {
namespace {

struct Bars {
  std::vector<std::int64_t> ticks;
  std::vector<double> high, low, close;
};

const Bars& bars() {
  static const Bars b = [] {
    Bars out;
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int> step(-8, 8), wick(0, 10);
    std::int64_t t = 20000;
    for (int i = 0; i < 1 << 16; ++i) {
      const std::int64_t open = t;
      t += step(rng);
      out.ticks.push_back(t);
      out.close.push_back(static_cast<double>(t) * 5);
      out.high.push_back(static_cast<double>(std::max(open, t) + wick(rng)) * 5);
      out.low.push_back(static_cast<double>(std::min(open, t) - wick(rng)) * 5);
    }
    return out;
  }();
  return b;
}

template <class F>
void run(benchmark::State& state, F&& per_bar) {
  const Bars& b = bars();
  std::size_t i = 0;
  for ([[maybe_unused]] auto _ : state) {
    per_bar(b, i);
    if (++i == b.ticks.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Sma(benchmark::State& state) {
  Sma sma(21);
  run(state, [&](const Bars& b, std::size_t i) {
    sma.update(b.ticks[i]);
    benchmark::DoNotOptimize(sma.sum());
  });
}
BENCHMARK(BM_Sma);

void BM_Ema(benchmark::State& state) {
  Ema ema(21);
  run(state, [&](const Bars& b, std::size_t i) {
    ema.update(b.ticks[i]);
    benchmark::DoNotOptimize(ema.raw());
  });
}
BENCHMARK(BM_Ema);

void BM_WilderAtr(benchmark::State& state) {
  WilderAtr atr(14);
  run(state, [&](const Bars& b, std::size_t i) {
    atr.update(b.high[i], b.low[i], b.close[i]);
    benchmark::DoNotOptimize(atr.value());
  });
}
BENCHMARK(BM_WilderAtr);

void BM_RollingVolatility(benchmark::State& state) {
  RollingVolatility vol(20);
  run(state, [&](const Bars& b, std::size_t i) {
    vol.update(b.close[i]);
    benchmark::DoNotOptimize(vol.value());
  });
}
BENCHMARK(BM_RollingVolatility);

void BM_HighestLowest(benchmark::State& state) {
  Highest highest(20);
  Lowest lowest(20);
  run(state, [&](const Bars& b, std::size_t i) {
    highest.update(b.high[i]);
    lowest.update(b.low[i]);
    benchmark::DoNotOptimize(highest.value() - lowest.value());
  });
}
BENCHMARK(BM_HighestLowest);

// The full per-bar set of ma_breakout: MA spread (kind from the argument) + Keltner.
void BM_MaBreakoutSet(benchmark::State& state) {
  const auto kind = state.range(0) == 0 ? MaKind::Sma : MaKind::Ema;
  MaSpread spread(kind, 9, kind, 21);
  Keltner keltner(20, 1.5, 14);
  run(state, [&](const Bars& b, std::size_t i) {
    spread.update(b.ticks[i]);
    keltner.update(b.high[i], b.low[i], b.close[i]);
    benchmark::DoNotOptimize(spread.sign());
    benchmark::DoNotOptimize(keltner.upper());
    benchmark::DoNotOptimize(keltner.lower());
  });
}
BENCHMARK(BM_MaBreakoutSet)->Arg(0)->Arg(1)->ArgName("ema");

// The book-imbalance filter's per-event cost: one trade through the tick rule
// into its minute, or one 10-level snapshot summed over 5 levels, then a sample.
void BM_OrderFlowTrade(benchmark::State& state) {
  OrderFlowConfig config;
  config.source = OrderFlowSource::Trades;
  config.tick_size = 5;
  OrderFlowSampler sampler(config);
  Timestamp ts = from_epoch_ns(0);
  run(state, [&](const Bars& b, std::size_t i) {
    ts += std::chrono::milliseconds(500);
    sampler.add(Trade{ts, b.close[i], 1 + static_cast<double>(i % 7), Aggressor::Unknown});
    benchmark::DoNotOptimize(sampler.sample(minute_of(ts) + kMinute));
  });
}
BENCHMARK(BM_OrderFlowTrade);

void BM_OrderFlowBook(benchmark::State& state) {
  OrderFlowSampler sampler(OrderFlowConfig{});
  BookSnapshot book;
  for (int l = 0; l < 10; ++l) {
    book.bids.push_back({1000.0 - l, 1.0 + l});
    book.asks.push_back({1001.0 + l, 2.0 + l});
  }
  run(state, [&](const Bars& b, std::size_t i) {
    book.ts += std::chrono::milliseconds(100);
    book.bids[0].size = static_cast<double>(b.ticks[i] % 13);
    sampler.add(book);
    benchmark::DoNotOptimize(sampler.sample(minute_of(book.ts) + kMinute));
  });
}
BENCHMARK(BM_OrderFlowBook);

}  // namespace
}  // namespace quant::features
