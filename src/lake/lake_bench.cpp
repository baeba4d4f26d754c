// Lake throughput: writing bars, reading one month into memory, streaming a
// year in bounded memory, DuckDB's own CSV → Parquet path for comparison, and
// the book-imbalance filter's month of trades turned into per-bar values.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lake/lake.h"
#include "lake/order_flow_reader.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

Timestamp year_start(int year) { return from_epoch_ns(days_from_civil(year, 1, 1) * 86'400'000'000'000); }

/// One year of 1-minute bars on weekdays, 24 h a day: about 375k bars (a B3
/// session has ~520 bars a day: a year of those is ~130k; this is the harder case).
std::vector<Bar> make_year(int year) {
  std::vector<Bar> bars;
  const Timestamp start = year_start(year), end = year_start(year + 1);
  double price = 100000;
  std::uint64_t state = 42;
  for (Timestamp t = start; t < end; t += kMinute) {
    const auto weekday = to_civil_utc(t).weekday;
    if (weekday == 0 || weekday == 6) continue;
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double step = 5.0 * static_cast<double>(static_cast<int>((state >> 33) % 7) - 3);
    Bar b;
    b.ts = t;
    b.open = price;
    price += step;
    b.close = price;
    b.high = std::max(b.open, b.close) + 5;
    b.low = std::min(b.open, b.close) - 5;
    b.tick_volume = static_cast<std::int64_t>((state >> 40) % 500);
    b.volume = static_cast<double>(b.tick_volume) * 3;
    b.spread = 1;
    bars.push_back(b);
  }
  return bars;
}

std::string temp_root(const char* name) {
  return (fs::temp_directory_path() / ("lake_bench_" + std::to_string(::getpid()) + "_" + name)).string();
}

/// A lake with one year of bars for symbol "WIN", made once per process.
struct YearLake {
  std::string root = temp_root("year");
  std::unique_ptr<Lake> lake;
  std::size_t bars = 0;
  YearLake() {
    fs::remove_all(root);
    lake = std::move(*Lake::open(root, true));
    const auto data = make_year(2021);
    bars = data.size();
    auto writer = std::move(*lake->writer(Dataset::Bars1m, "WIN"));
    for (const Bar& b : data) writer->add(b);
    if (!writer->flush()) std::abort();
  }
  ~YearLake() { fs::remove_all(root); }
};

YearLake& year_lake() {
  static YearLake lake;
  return lake;
}

long peak_rss_kb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/// Current resident set (VmRSS), kB.
long current_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

/// Resets the peak RSS to the current RSS (Linux clear_refs "5"), so that
/// ru_maxrss afterwards measures only what follows.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

void BM_WriteBars(benchmark::State& state) {
  const auto year = make_year(2022);
  const std::vector<Bar> bars(year.begin(), year.begin() + state.range(0));
  const std::string root = temp_root("write");
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    fs::remove_all(root);
    auto lake = std::move(*Lake::open(root, true));
    state.ResumeTiming();
    auto writer = std::move(*lake->writer(Dataset::Bars1m, "WIN"));
    for (const Bar& b : bars) writer->add(b);
    auto stats = writer->flush();
    if (!stats) state.SkipWithError(stats.error().message.c_str());
  }
  fs::remove_all(root);
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WriteBars)->Arg(44'000)->Arg(375'000)->Unit(benchmark::kMillisecond);

/// DuckDB's own path for the same rows: read_csv → COPY to Parquet (the CSV
/// is written beforehand, outside the timing).
void BM_DuckDbCsvToParquet(benchmark::State& state) {
  const auto year = make_year(2022);
  const std::string root = temp_root("csv");
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string csv = root + "/bars.csv";
  {
    std::ofstream out(csv);
    out << "ts,open,high,low,close,tick_volume,volume,spread\n";
    char line[256];
    for (std::int64_t i = 0; i < state.range(0); ++i) {
      const Bar& b = year[static_cast<std::size_t>(i)];
      const CivilTime c = to_civil_utc(b.ts);
      std::snprintf(line, sizeof line, "%04d-%02u-%02u %02u:%02u:%02u,%.17g,%.17g,%.17g,%.17g,%lld,%.17g,%d\n", c.year,
                    c.month, c.day, c.hour, c.minute, c.second, b.open, b.high, b.low, b.close,
                    static_cast<long long>(b.tick_volume), b.volume, b.spread);
      out << line;
    }
  }
  auto lake = std::move(*Lake::open(root, true));
  std::ostringstream sink;
  for ([[maybe_unused]] auto _ : state) {
    auto rows = lake->query_csv("COPY (SELECT * FROM read_csv('" + csv +
                                    "', header=true, columns={'ts': 'TIMESTAMP_NS', "
                                    "'open': 'DOUBLE', 'high': 'DOUBLE', 'low': 'DOUBLE', 'close': 'DOUBLE', "
                                    "'tick_volume': 'BIGINT', 'volume': 'DOUBLE', 'spread': 'INTEGER'})) TO '" +
                                    root + "/out.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 16384)",
                                sink);
    if (!rows) state.SkipWithError(rows.error().message.c_str());
  }
  fs::remove_all(root);
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DuckDbCsvToParquet)->Arg(44'000)->Arg(375'000)->Unit(benchmark::kMillisecond);

void BM_ReadOneMonth(benchmark::State& state) {
  YearLake& data = year_lake();
  const Timestamp from = from_epoch_ns(days_from_civil(2021, 3, 1) * 86'400'000'000'000);
  const Timestamp to = from_epoch_ns(days_from_civil(2021, 4, 1) * 86'400'000'000'000);
  std::size_t rows = 0;
  for ([[maybe_unused]] auto _ : state) {
    std::vector<Bar> month;
    auto stream = std::move(*data.lake->stream_bars("WIN", from, to, 8192));
    std::vector<Bar> batch;
    while (*stream->next(batch)) month.insert(month.end(), batch.begin(), batch.end());
    rows = month.size();
    benchmark::DoNotOptimize(month.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows));
  state.counters["bars"] = static_cast<double>(rows);
}
BENCHMARK(BM_ReadOneMonth)->Unit(benchmark::kMillisecond);

void BM_StreamOneYear(benchmark::State& state) {
  YearLake& data = year_lake();
  std::size_t rows = 0;
  double checksum = 0;
  const long before_kb = current_rss_kb();
  reset_peak_rss();
  for ([[maybe_unused]] auto _ : state) {
    auto stream = std::move(*data.lake->stream_bars("WIN", Timestamp::min(), Timestamp::max(), 8192));
    std::vector<Bar> batch;
    rows = 0;
    while (*stream->next(batch)) {
      rows += batch.size();
      for (const Bar& b : batch) checksum += b.close;
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows));
  state.counters["bars"] = static_cast<double>(rows);
  state.counters["rss_before_mb"] = static_cast<double>(before_kb) / 1024.0;
  state.counters["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
}
BENCHMARK(BM_StreamOneYear)->Unit(benchmark::kMillisecond);

/// A month of B3-like time and sales (weekdays 12:00–21:30 UTC, 4 trades a
/// second: about 3 million rows) and its 1-minute bars, made once per process.
struct TradeMonthLake {
  std::string root = temp_root("trades");
  std::unique_ptr<Lake> lake;
  std::int64_t trades = 0;
  TradeMonthLake() {
    fs::remove_all(root);
    lake = std::move(*Lake::open(root, true));
    auto trade_writer = std::move(*lake->writer(Dataset::Trades, "WIN"));
    auto bar_writer = std::move(*lake->writer(Dataset::Bars1m, "WIN"));
    const Timestamp start = from_epoch_ns(days_from_civil(2021, 3, 1) * 86'400'000'000'000);
    double price = 100000;
    std::uint64_t state = 7;
    for (int day = 0; day < 31; ++day) {
      const Timestamp open = start + std::chrono::hours(24 * day + 12);
      const auto weekday = to_civil_utc(open).weekday;
      if (weekday == 0 || weekday == 6) continue;
      for (int minute = 0; minute < 570; ++minute) {
        Bar bar;
        bar.ts = open + kMinute * minute;
        bar.open = bar.high = bar.low = price;
        for (int i = 0; i < 240; ++i) {
          state = state * 6364136223846793005ULL + 1442695040888963407ULL;
          price += 5.0 * static_cast<double>(static_cast<int>((state >> 33) % 3) - 1);
          trade_writer->add(Trade{bar.ts + std::chrono::milliseconds(250 * i), price,
                                  static_cast<double>(1 + (state >> 40) % 10), Aggressor::Unknown});
          bar.high = std::max(bar.high, price);
          bar.low = std::min(bar.low, price);
          ++trades;
        }
        bar.close = price;
        bar_writer->add(bar);
      }
    }
    (void)trade_writer->flush();
    (void)bar_writer->flush();
  }
  ~TradeMonthLake() { fs::remove_all(root); }
};

TradeMonthLake& trade_month_lake() {
  static TradeMonthLake data;
  return data;
}

void BM_ImbalanceSeriesMonthOfTrades(benchmark::State& state) {
  TradeMonthLake& data = trade_month_lake();
  ImbalanceRequest request;
  request.symbol = "WIN";
  request.sampler.tick_size = 5;
  std::int64_t samples = 0;
  const long before_kb = current_rss_kb();
  reset_peak_rss();
  for ([[maybe_unused]] auto _ : state) {
    auto series = read_imbalance_series(*data.lake, request);
    if (!series) {
      state.SkipWithError(series.error().message.c_str());
      return;
    }
    samples = static_cast<std::int64_t>(series->samples.size());
  }
  state.SetItemsProcessed(state.iterations() * data.trades);
  state.counters["trades"] = static_cast<double>(data.trades);
  state.counters["bars_with_value"] = static_cast<double>(samples);
  state.counters["rss_before_mb"] = static_cast<double>(before_kb) / 1024.0;
  state.counters["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
}
BENCHMARK(BM_ImbalanceSeriesMonthOfTrades)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace quant::lake
