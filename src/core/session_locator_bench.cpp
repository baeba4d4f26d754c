// ns per bar of SessionLocator::locate (the engine's session clock, the
// feature pipeline and lake verify all run it on every bar): the fixed
// session, and B3's calendar (holidays, Ash Wednesday, dated hours), over
// 64 Ki consecutive 1-minute bars.
#include <vector>

#include <benchmark/benchmark.h>

#include "core/session_locator.h"
#include "core/test_calendar.h"

namespace quant {
namespace {

std::vector<Timestamp> bench_bars() {
  std::vector<Timestamp> out;
  out.reserve(1 << 16);
  const Timestamp start = testing::brt(2021, 1, 4, 9, 0);
  for (int i = 0; i < 1 << 16; ++i) out.push_back(start + std::chrono::minutes(i));
  return out;
}

void run(benchmark::State& state, const InstrumentSpec& spec) {
  const auto bars = bench_bars();
  SessionLocator locator(spec, TimeZone::find(spec.time_zone).value());
  std::int64_t sum = 0;
  for ([[maybe_unused]] auto _ : state) {
    for (Timestamp t : bars) {
      const SessionPlace p = locator.locate(t);
      sum += p.minutes_to_close + (p.in_session ? 1 : 0);
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(bars.size()));
}

void BM_SessionLocatorFixed(benchmark::State& state) {
  InstrumentSpec spec = testing::win_with_b3_calendar();
  spec.calendar = nullptr;
  run(state, spec);
}
BENCHMARK(BM_SessionLocatorFixed);

void BM_SessionLocatorCalendar(benchmark::State& state) { run(state, testing::win_with_b3_calendar()); }
BENCHMARK(BM_SessionLocatorCalendar);

}  // namespace
}  // namespace quant
