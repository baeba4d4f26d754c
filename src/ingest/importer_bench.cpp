// Parse throughput on the real files (skipped when the shared data is absent).
// Run a Release build: ./importer_bench --benchmark_min_time=1
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "ingest/importer.h"

namespace quant::ingest {
namespace {

struct NullSink : RecordSink {
  double checksum = 0;
  void on_bar(const Bar& bar) override { checksum += bar.close; }
  void on_tick(const Tick& tick) override { checksum += tick.bid; }
  void on_trade(const Trade& trade) override { checksum += trade.price; }
};

std::string data_dir() { return QUANT_SHARED_DATA_DIR; }

void import_files(benchmark::State& state, const std::vector<std::string>& files, Format format,
                  const char* zone_name) {
  if (!std::filesystem::exists(data_dir())) {
    state.SkipWithError("shared data folder absent");
    return;
  }
  ImportOptions options;
  options.time_zone = *TimeZone::find(zone_name);
  std::int64_t rows = 0;
  for ([[maybe_unused]] auto _ : state) {
    NullSink sink;
    for (const auto& file : files) {
      auto source = open_source(data_dir() + "/" + file);
      if (!source) {
        state.SkipWithError(source.error().message.c_str());
        return;
      }
      auto stats = import_source(**source, format, options, sink);
      if (!stats) {
        state.SkipWithError(stats.error().message.c_str());
        return;
      }
      rows += stats->records;
    }
    benchmark::DoNotOptimize(sink.checksum);
  }
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

void BM_HistDataSixMonthsGz(benchmark::State& state) {
  std::vector<std::string> files;
  for (int m = 1; m <= 6; ++m) files.push_back("fx/DAT_ASCII_EURUSD_M1_20170" + std::to_string(m) + ".csv.gz");
  import_files(state, files, Format::HistData, "Etc/GMT+5");
}
BENCHMARK(BM_HistDataSixMonthsGz)->Unit(benchmark::kMillisecond);

void BM_WinBarsGzSaoPaulo(benchmark::State& state) {
  import_files(state, {"b3/WIN_N_M1_2020-11_2021-03.csv.gz"}, Format::Mt5Bars, "America/Sao_Paulo");
}
BENCHMARK(BM_WinBarsGzSaoPaulo)->Unit(benchmark::kMillisecond);

void BM_LeanIbmQuotesZip(benchmark::State& state) {
  import_files(state, {"lean/equity_usa_tick_ibm_20131008_quote.zip"}, Format::Quotes, "UTC");
}
BENCHMARK(BM_LeanIbmQuotesZip)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace quant::ingest
