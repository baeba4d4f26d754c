// Backtests on real data from ../shared/data: hand-checked trades of the
// reference strategy on short windows of WIN and EURUSD, and the determinism
// check (same data + config → byte-identical trades.csv).
#include "backtest/backtest.h"

#include <cstdio>
#include <random>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "backtest/csv_output.h"
#include "core/test_bars.h"
#include "core/test_data.h"
#include "ingest/importer.h"
#include "strategy/strategy_config.h"

namespace quant::backtest {
namespace {

namespace fs = std::filesystem;

// Line::fixed's integer fast path prints exactly what printf("%.*f") prints:
// random magnitudes and decimals, ties (0.125, 2.5), negatives rounding to
// "-0.00", huge values and NaN (the fallback paths).
TEST(CsvLine, FixedMatchesPrintf) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-8, 16), decimals(0, 9);
  std::vector<std::pair<double, int>> cases = {{0.125, 2},  {2.5, 0},   {-0.001, 2}, {-0.0, 2}, {1e300, 2},
                                               {1e15, 2},   {0.005, 2}, {1.005, 2},  {99.995, 2}, {-2.5, 0},
                                               {123456.785, 2}, {std::nan(""), 2}};
  for (int i = 0; i < 200000; ++i) cases.emplace_back(mantissa(rng) * std::pow(10.0, exponent(rng)), decimals(rng));
  FILE* sink = std::tmpfile();
  ASSERT_NE(sink, nullptr);
  for (const auto& [value, d] : cases) {
    Line line;
    line.fixed(value, d).write_to(sink);
    char expected[512];
    std::snprintf(expected, sizeof expected, "%.*f\n", d, value);
    const long size = std::ftell(sink);
    std::rewind(sink);
    std::string got(static_cast<std::size_t>(size), '\0');
    ASSERT_EQ(std::fread(got.data(), 1, got.size(), sink), got.size());
    std::rewind(sink);
    ASSERT_EQ(got, expected) << "value " << value << " decimals " << d;
  }
  std::fclose(sink);
}

const std::string kData = QUANT_SHARED_DATA_DIR;

struct Collect final : ingest::RecordSink {
  std::vector<Bar> bars;
  void on_bar(const Bar& b) override { bars.push_back(b); }
};

std::vector<Bar> load(const std::string& file, ingest::Format format, const char* zone) {
  auto src = ingest::open_source(file);
  EXPECT_TRUE(src) << file;
  if (!src) return {};
  ingest::ImportOptions o;
  o.time_zone = TimeZone::find(zone).value();
  Collect c;
  auto stats = ingest::import_source(**src, format, o, c);
  EXPECT_TRUE(stats) << (stats ? "" : stats.error().message);
  return c.bars;
}


InstrumentSpec win() {
  InstrumentSpec s = testing::win_spec();
  s.fee_per_side = 0.26;
  return s;
}

InstrumentSpec eurusd() {
  InstrumentSpec s;
  s.symbol = "EURUSD";
  s.tick_size = 0.00001;
  s.point_value = 100000;
  s.brokerage_per_side = 3.5;
  s.currency = "USD";
  s.time_zone = "America/New_York";
  s.session = Session{std::chrono::minutes(17 * 60), std::chrono::minutes(17 * 60)};
  s.weekdays = {0, 1, 2, 3, 4};
  return s;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TempDir {
  std::string path;
  TempDir() {
    path =
        (fs::temp_directory_path() / ("quant-backtest-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
            .string();
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static inline int counter = 0;
};

/// The plain reference run (sma_cross) with its settings: size 1, no risk
/// engine, no costs, no session rules.
BacktestConfig reference() {
  BacktestConfig c;
  c.engine.use_risk_engine = false;
  c.engine.session.day_trade = false;
  c.engine.session.respect_sessions = false;
  c.zero_costs = true;
  return c;
}

std::string run(const BacktestConfig& config, const InstrumentSpec& spec, const strategy::StrategyConfig& sc,
                const std::vector<Bar>& bars, std::size_t limit, const std::string& dir) {
  auto strategy = strategy::make_strategy(sc, spec);
  EXPECT_TRUE(strategy);
  engine::SpanFeed feed(std::span<const Bar>(bars).first(std::min(limit, bars.size())));
  RunMeta meta;
  meta.symbol = spec.symbol;
  meta.strategy = sc.name;
  auto result = run_backtest(config, spec, **strategy, feed, dir, meta);
  EXPECT_TRUE(result) << (result ? "" : result.error().message);
  return read(dir + "/trades.csv");
}

// WIN, 2020-11-06 from 10:28 BRT (13:28Z), the first 20 bars, sma_cross 2/4.
// Closes (bar: close): 0:100105 1:100090 2:100200 3:100270 4:100355 5:100375
// 6:100435 7:100390 8:100320 9:100270 10:100285 11:100190 12:100225 13:100315
// 14:100310 15:100345 16:100290 17:100245 18:100360 19:100420.
// SMA2 − SMA4 by bar (×1): 3:+68.75 (first sign, no signal) 4..7:+ 8:100355−100380=−25
// → cross down: short at bar 9's open 100320 (13:37Z). 13:100270−100253.75=+16.25
// → cross up: reverse at bar 14's open 100315 (13:42Z): +5 points × 0.20 = +1.00.
// 16:+2.50, 17:100267.5−100297.5=−30 → reverse at bar 18's open 100240 (13:46Z):
// −75 × 0.20 = −15.00. 19:+61.25 → cross up, but bar 20 is outside the window:
// the short ends with the data at bar 19's close 100420 (13:48Z): −180 × 0.2 = −36.00.
TEST(BacktestRealDataTest, HandCheckedSmaCrossOnWin) {
  const std::string file = kData + "/b3/WIN_N_M1_2020-11_2021-03.csv.gz";
  QUANT_REQUIRE_DATA(file);
  const auto bars = load(file, ingest::Format::Mt5Bars, "America/Sao_Paulo");
  strategy::StrategyConfig sc;
  sc.name = "sma_cross";
  sc.sma_cross = {2, 4};
  TempDir dir;
  EXPECT_EQ(
      run(reference(), win(), sc, bars, 20, dir.path),
      "entry_time,exit_time,side,qty,entry_price,exit_price,gross_pnl,fees,net_pnl,exit_reason,initial_stop,"
      "bars_held\n"
      "2020-11-06T13:37:00Z,2020-11-06T13:42:00Z,short,1,100320.00,100315.00,1.00,0.00,1.00,reverse,0,5\n"
      "2020-11-06T13:42:00Z,2020-11-06T13:46:00Z,long,1,100315.00,100240.00,-15.00,0.00,-15.00,reverse,0,4\n"
      "2020-11-06T13:46:00Z,2020-11-06T13:48:00Z,short,1,100240.00,100420.00,-36.00,0.00,-36.00,end_of_data,0,2\n");
}

// EURUSD, 2017-01-02 from 02:00 EST (07:00Z), the first 20 bars (02:05 and 02:16
// are missing in the data), sma_cross 2/4, in ticks of 0.00001.
// Closes: 0:105190 1:105179 2:105178 3:105200 4:105203 5:105204 6..9:105209
// 10:105214 11:105214 12:105211 13:105206 14:105213 15:105212 16:105211
// 17:105177 18:105176 19:105180. Comparing 2×(c[t]+c[t−1]) with the 4-bar sum:
// 3:+9 (first sign) ... 9: 420836 = 420836, a tie: no signal, no reset;
// 13: 420834 < 420845 → short at bar 14's open 1.05213 (02:15 EST = 07:15Z);
// 15: 420850 > 420842 → reverse at bar 16's open 1.05211 (07:18Z): +2 ticks = +2.00 USD;
// 17: 420776 < 420813 → reverse at bar 18's open 1.05176 (07:20Z): −35 ticks = −35.00;
// the short ends with the data at bar 19's close 1.05180 (07:22Z): −4.00.
TEST(BacktestRealDataTest, HandCheckedSmaCrossOnEurusd) {
  const std::string file = kData + "/fx/DAT_ASCII_EURUSD_M1_201701.csv.gz";
  QUANT_REQUIRE_DATA(file);
  const auto bars = load(file, ingest::Format::HistData, "Etc/GMT+5");
  strategy::StrategyConfig sc;
  sc.name = "sma_cross";
  sc.sma_cross = {2, 4};
  TempDir dir;
  EXPECT_EQ(
      run(reference(), eurusd(), sc, bars, 20, dir.path),
      "entry_time,exit_time,side,qty,entry_price,exit_price,gross_pnl,fees,net_pnl,exit_reason,initial_stop,"
      "bars_held\n"
      "2017-01-02T07:15:00Z,2017-01-02T07:18:00Z,short,1,1.0521300,1.0521100,2.00,0.00,2.00,reverse,0.00000,2\n"
      "2017-01-02T07:18:00Z,2017-01-02T07:20:00Z,long,1,1.0521100,1.0517600,-35.00,0.00,-35.00,reverse,0.00000,2\n"
      "2017-01-02T07:20:00Z,2017-01-02T07:22:00Z,short,1,1.0517600,1.0518000,-4.00,0.00,-4.00,end_of_data,"
      "0.00000,2\n");
}

// Same data + config → byte-identical trade log, for the full strategy with
// the risk engine, costs and session rules, on both real series.
TEST(BacktestRealDataTest, DeterministicTradeLog) {
  const std::string win_file = kData + "/b3/WIN_N_M1_2020-11_2021-03.csv.gz";
  QUANT_REQUIRE_DATA(win_file);
  BacktestConfig config;
  config.risk.target_points = 100;
  strategy::StrategyConfig sc;  // ma_breakout with its defaults
  const auto bars = load(win_file, ingest::Format::Mt5Bars, "America/Sao_Paulo");
  ASSERT_EQ(bars.size(), 54003u);
  TempDir a, b;
  const std::string first = run(config, win(), sc, bars, SIZE_MAX, a.path);
  const std::string second = run(config, win(), sc, bars, SIZE_MAX, b.path);
  EXPECT_GT(std::count(first.begin(), first.end(), '\n'), 100);
  EXPECT_EQ(first, second);
  EXPECT_EQ(read(a.path + "/orders.csv"), read(b.path + "/orders.csv"));

  std::vector<Bar> fx;
  for (int m = 1; m <= 6; ++m) {
    const auto part = load(kData + "/fx/DAT_ASCII_EURUSD_M1_20170" + std::to_string(m) + ".csv.gz",
                           ingest::Format::HistData, "Etc/GMT+5");
    fx.insert(fx.end(), part.begin(), part.end());
  }
  ASSERT_EQ(fx.size(), 186348u);
  BacktestConfig fx_config;
  fx_config.engine.session.day_trade = false;  // spot FX: no forced flat
  TempDir c, d;
  const std::string fx1 = run(fx_config, eurusd(), sc, fx, SIZE_MAX, c.path);
  EXPECT_EQ(fx1, run(fx_config, eurusd(), sc, fx, SIZE_MAX, d.path));
  EXPECT_GT(std::count(fx1.begin(), fx1.end(), '\n'), 100);
}

TEST(BacktestTest, EmptyFeedIsAClearError) {
  std::vector<Bar> none;
  engine::SpanFeed feed(none);
  strategy::StrategyConfig sc;
  auto strategy = strategy::make_strategy(sc, win());
  ASSERT_TRUE(strategy);
  TempDir dir;
  auto result = run_backtest(BacktestConfig{}, win(), **strategy, feed, dir.path, RunMeta{});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "backtest: no bars in the requested range");
}

}  // namespace
}  // namespace quant::backtest
