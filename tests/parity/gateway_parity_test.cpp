// One kernel: orders sent to the order gateway (the desk behind POST /order)
// at the bar closes where the backtest's strategy decided give a byte-identical
// trades.csv to the backtest on the same bars. The gateway sizes with its own
// risk check and ATR, places its own stops and targets, trails them, applies
// the session rules and the breaker, and flattens at the close and at day
// changes: all of that must come out exactly as the backtest's, because both
// run engine::TradingBook. The shipped configuration (config/quant.toml) is
// used as it is, on real WIN bars and on a generated market.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "backtest/backtest.h"
#include "backtest/trade_log.h"
#include "config/config.h"
#include "core/test_data.h"
#include "execution/order_gateway.h"
#include "generator/market_generator.h"
#include "ingest/importer.h"
#include "parity_support.h"
#include "strategy/strategy_config.h"

namespace quant {
namespace {

namespace fs = std::filesystem;

using parity::read;
using parity::shipped_config;

struct TempDir {
  std::string path;
  TempDir() {
    path =
        (fs::temp_directory_path() / ("quant-parity-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
            .string();
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static inline int counter = 0;
};

/// A strategy order of the backtest, from its orders.csv.
struct StrategyOrder {
  OrderId id = 0;
  std::string created;  ///< format_utc of the decision close
  Side side = Side::Buy;
  std::int64_t qty = 0;
  bool exit = false;
  std::string reason;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

/// The entries and exits the strategy sent (not the book's own stops,
/// targets and flattens), in the order they were sent.
std::vector<StrategyOrder> strategy_orders(const std::string& orders_csv) {
  std::istringstream in(read(orders_csv));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line,
            "id,created,updated,side,type,tif,purpose,qty,limit_price,stop_price,status,filled_qty,avg_fill_price,"
            "reason");
  std::vector<StrategyOrder> out;
  while (std::getline(in, line)) {
    const auto f = split(line);
    if (f.size() != 14) {
      ADD_FAILURE() << "orders.csv line: " << line;
      continue;
    }
    if (f[6] != "entry" && f[6] != "exit") continue;
    StrategyOrder o;
    o.id = std::stoull(f[0]);
    o.created = f[1];
    o.side = f[3] == "buy" ? Side::Buy : Side::Sell;
    o.qty = std::stoll(f[7]);
    o.exit = f[6] == "exit";
    o.reason = f[13];
    out.push_back(o);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

/// Writes the gateway's trades through the backtest's own trades.csv writer.
struct TradeFile final : execution::GatewayObserver {
  explicit TradeFile(double tick) : log(tick) {}
  backtest::TradeLog log;
  int trades = 0;
  void on_trade(const std::string&, const engine::TradeRecord& t) override {
    log.write(t);
    ++trades;
  }
};

struct Outcome {
  std::string backtest_trades, gateway_trades;
  std::size_t strategy_orders = 0;
  int gateway_rejections = 0;
};

Outcome run_both(const config::AppConfig& cfg, const std::string& symbol, const std::vector<Bar>& bars) {
  Outcome out;
  TempDir dir;
  const InstrumentSpec& spec = *cfg.instruments.find(symbol);
  backtest::BacktestConfig bt = cfg.backtest.backtest;
  bt.risk.target_points = cfg.backtest.target_points(symbol);

  // 1. The backtest.
  auto strategy = strategy::make_strategy(cfg.backtest.strategy, spec);
  EXPECT_TRUE(strategy);
  engine::SpanFeed feed(bars);
  backtest::RunMeta meta;
  meta.symbol = symbol;
  auto result = backtest::run_backtest(bt, spec, **strategy, feed, dir.path + "/bt", meta);
  EXPECT_TRUE(result) << (result ? "" : result.error().message);
  out.backtest_trades = read(dir.path + "/bt/trades.csv");
  const auto orders = strategy_orders(dir.path + "/bt/orders.csv");
  out.strategy_orders = orders.size();

  // 2. The same decisions as client orders to the gateway, at the same closes.
  execution::GatewayConfig gc;
  gc.initial_equity = bt.engine.initial_equity;
  execution::SymbolConfig sc;
  sc.spec = spec;
  sc.zone = TimeZone::find(spec.time_zone).value();
  sc.risk = bt.risk;
  sc.session = bt.engine.session;
  sc.atr_period = cfg.backtest.strategy.ma_breakout.atr_period;  // the strategy's ATR sized the backtest
  sc.paper.slippage_ticks = bt.slippage_ticks;
  gc.symbols.push_back(sc);
  TradeFile trades(spec.tick_size);
  EXPECT_TRUE(trades.log.open(dir.path + "/gateway_trades.csv"));
  engine::ManualClock clock;
  {
    execution::OrderGateway gateway(gc, clock, &trades);
    std::multimap<std::string, const StrategyOrder*> by_close;
    for (const auto& o : orders) by_close.emplace(o.created, &o);
    for (const Bar& bar : bars) {
      clock.set(bar.ts + kMinute);
      gateway.on_bar(symbol, bar);
      const auto [first, last] = by_close.equal_range(format_utc(bar.ts + kMinute));
      for (auto it = first; it != last; ++it) {
        const StrategyOrder& o = *it->second;
        execution::OrderRequest r;
        r.client_order_id = "s-" + std::to_string(o.id);
        r.symbol = symbol;
        r.side = o.side;
        r.qty = o.qty;
        r.type = OrderType::Market;
        r.tif = TimeInForce::Gtc;
        if (o.exit) r.reason = o.reason;
        auto reply = gateway.submit(r);
        EXPECT_TRUE(reply) << (reply ? "" : reply.error().message);
        if (reply && (reply->decision != risk::Decision::Accepted || reply->qty != o.qty)) {
          ++out.gateway_rejections;
          ADD_FAILURE() << "order " << o.id << " at " << o.created << ": the gateway decided "
                        << risk::to_string(reply->decision) << " " << reply->qty << " of " << o.qty << ": "
                        << reply->risk_reason;
        }
      }
    }
    gateway.finish();
  }
  EXPECT_TRUE(trades.log.close());
  out.gateway_trades = read(dir.path + "/gateway_trades.csv");
  return out;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(GatewayParityTest, RealWinBarsGiveTheBacktestsTradesCsv) {
  const std::string file = testing::shared_data("b3/WIN_N_M1_2020-11_2021-03.csv.gz");
  QUANT_REQUIRE_DATA(file);
  const config::AppConfig cfg = shipped_config();
  const std::vector<Bar> bars = parity::real_win_bars(cfg, file);
  ASSERT_GT(bars.size(), 50000u);

  const Outcome o = run_both(cfg, "WIN", bars);
  ASSERT_GT(lines(o.backtest_trades), 50u) << "too few trades to compare anything";
  EXPECT_EQ(o.gateway_rejections, 0);
  EXPECT_EQ(parity::non_finite_field(o.backtest_trades), "") << "a NaN is not parity";
  EXPECT_EQ(o.gateway_trades, o.backtest_trades);
  std::printf("[parity] real WIN: %zu bars, %zu strategy orders, %zu trades: identical\n", bars.size(),
              o.strategy_orders, lines(o.backtest_trades) - 1);
}

TEST(GatewayParityTest, AGeneratedMarketGivesTheBacktestsTradesCsv) {
  const config::AppConfig cfg = shipped_config();
  for (const char* symbol : {"WIN", "WDO"}) {
    generator::GeneratorConfig g;
    g.days = 60;
    g.seed = 11;
    if (std::string(symbol) == "WDO") g.start_price = 5000;
    auto generated = generator::generate_bars(*cfg.instruments.find(symbol), g);
    ASSERT_TRUE(generated);
    const std::vector<Bar>& bars = *generated;
    ASSERT_GT(bars.size(), 10000u);
    const Outcome o = run_both(cfg, symbol, bars);
    ASSERT_GT(lines(o.backtest_trades), 20u) << symbol;
    EXPECT_EQ(o.gateway_rejections, 0) << symbol;
    EXPECT_EQ(parity::non_finite_field(o.backtest_trades), "") << symbol << ": a NaN is not parity";
    EXPECT_EQ(o.gateway_trades, o.backtest_trades) << symbol;
  }
}

}  // namespace
}  // namespace quant
