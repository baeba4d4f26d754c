// The FIX venue's costs: translating an order and a fill (both codecs), and a
// NewOrderSingle → ExecutionReport round trip through two real QuickFIX
// sessions on loopback (file stores in a temporary directory).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "fix/test_fix.h"

namespace quant::fix {
namespace {

bridge::OrderNew stop_order(std::int64_t n) {
  bridge::OrderNew o;
  o.cl_ord_id = "LWIN-" + std::to_string(n);
  o.symbol = "WIN";
  o.side = Side::Sell;
  o.qty = 3;
  o.type = OrderType::Stop;
  o.stop_price = 123455;
  o.purpose = OrderPurpose::StopLoss;
  return o;
}

void BM_OrderThroughBothCodecs(benchmark::State& state) {
  VenueCodec venue(B3Identity{"1001", "BVMF", "TRD1", "308", ""});
  ExchangeCodec exchange;
  std::int64_t n = 0;
  for (auto _ : state) {
    auto d = venue.encode(stop_order(++n), 1700000000000);
    auto back = exchange.decode(*d);
    benchmark::DoNotOptimize(back);
  }
}
BENCHMARK(BM_OrderThroughBothCodecs);

void BM_FillReportThroughBothCodecs(benchmark::State& state) {
  VenueCodec venue(B3Identity{});
  ExchangeCodec exchange;
  (void)exchange.decode(*venue.encode(stop_order(0), 0));
  std::int64_t n = 0;
  for (auto _ : state) {
    bridge::FillMsg f{"LWIN-0", "LWIN-0#" + std::to_string(++n), "WIN", Side::Sell, 1, 123450, 0.5,
                      1700000000000, 1, 2, bridge::OrdStatus::PartiallyFilled};
    auto reports = exchange.encode(nullptr, {f});
    auto back = venue.decode(reports[0]);
    benchmark::DoNotOptimize(back);
  }
}
BENCHMARK(BM_FillReportThroughBothCodecs);

/// One order out and its acknowledgement back over real sessions: the venue's latency floor here.
void BM_NewOrderRoundTripOverLoopback(benchmark::State& state) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("quant_fix_bench_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const int port = testing::free_port();
  replay::InstrumentSetup win;
  win.spec.symbol = "WIN";
  win.spec.tick_size = 5;
  win.spec.point_value = 0.2;
  win.spec.time_zone = "America/Sao_Paulo";
  {
    testing::SimulatedExchange exchange(testing::exchange_settings(dir, port), {win});
    auto venue = FixVenue::create(testing::venue_settings(dir, port), B3Identity{});
    (void)(*venue)->start();
    (*venue)->wait_logon(std::chrono::seconds(10));
    std::int64_t n = 0;
    for (auto _ : state) {
      (void)(*venue)->send(stop_order(++n));
      for (bool got = false; !got;) {
        exchange.serve(std::chrono::milliseconds(0));
        got = !(*venue)->poll(std::chrono::milliseconds(0)).empty();
      }
    }
    (*venue)->stop(true);
    exchange.fix().stop(true);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_NewOrderRoundTripOverLoopback)->Unit(benchmark::kMicrosecond)->Iterations(2000);

}  // namespace
}  // namespace quant::fix
