// One kernel, live: the live engine (src/live) driven message by message the
// way `quant replay` drives it through the bridge — per bar, the venue's
// day-end expiries, a tick at the open (a new minute), the venue's reports of
// that bar, the closed bar — sends exactly the orders `quant backtest` sends
// on the same bars: same ids, sides, quantities, types and prices. The venue
// is the backtest's own fill simulator behind a message adapter, so any
// difference is the live engine's.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <variant>

#include <gtest/gtest.h>

#include "backtest/backtest.h"
#include "config/config.h"
#include "core/costs.h"
#include "core/test_data.h"
#include "engine/session_clock.h"
#include "generator/market_generator.h"
#include "ingest/importer.h"
#include "live/live_engine.h"
#include "matching/simulated_venue.h"
#include "strategy/strategy_config.h"

namespace quant {
namespace {

namespace fs = std::filesystem;
namespace bridge = execution::bridge;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

config::AppConfig shipped_config() {
  const std::string path = std::string(QUANT_SOURCE_DIR) + "/config/quant.toml";
  auto cfg = config::parse_config(read(path), path);
  EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().message);
  return *cfg;
}

class VectorFeed final : public engine::MarketDataFeed {
 public:
  explicit VectorFeed(const std::vector<Bar>& bars) : bars_(bars) {}
  Expected<bool> next(Bar& bar) override {
    if (i_ >= bars_.size()) return false;
    bar = bars_[i_++];
    return true;
  }

 private:
  const std::vector<Bar>& bars_;
  std::size_t i_ = 0;
};

std::int64_t msc(Timestamp ts) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count();
}

/// "id,side,type,qty,limit,stop" per order: what must match.
std::string order_line(OrderId id, Side side, OrderType type, std::int64_t qty, double limit, double stop) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%llu,%s,%s,%lld,%.10g,%.10g\n", static_cast<unsigned long long>(id),
                std::string(to_string(side)).c_str(), std::string(to_string(type)).c_str(), static_cast<long long>(qty),
                limit, stop);
  return buf;
}

std::string backtest_orders(const std::string& csv) {
  std::istringstream in(read(csv));
  std::string line, out;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string field;
    std::istringstream ls(line);
    while (std::getline(ls, field, ',')) f.push_back(field);
    // id,created,updated,side,type,tif,purpose,qty,limit_price,stop_price,...
    const Side side = f[3] == "buy" ? Side::Buy : Side::Sell;
    const OrderType type = f[4] == "market"  ? OrderType::Market
                           : f[4] == "limit" ? OrderType::Limit
                           : f[4] == "stop"  ? OrderType::Stop
                                             : OrderType::StopLimit;
    out += order_line(std::stoull(f[0]), side, type, std::stoll(f[7]), f[8].empty() ? 0 : std::stod(f[8]),
                      f[9].empty() ? 0 : std::stod(f[9]));
  }
  return out;
}

/// The terminal: the backtest's fill simulator behind bridge messages.
class Terminal final : public engine::ExecutionListener {
 public:
  Terminal(const InstrumentSpec& spec, TradingCosts costs)
      : symbol_(spec.symbol), venue_(spec, costs, std::make_unique<matching::FullFillModel>()) {
    venue_.set_listener(this);
  }
  matching::SimulatedVenue& venue() { return venue_; }
  std::vector<bridge::Message>& out() { return out_; }
  /// Every order received, by the engine's id, with its last stop price
  /// (the backtest's orders.csv shows an order's final state).
  std::map<std::uint64_t, Order> received;
  std::string orders() const {
    std::string out;
    for (const auto& [id, o] : received) out += order_line(id, o.side, o.type, o.qty, o.limit_price, o.stop_price);
    return out;
  }

  /// An order message from the engine; `now` is the open of the next bar the venue will process.
  void take(const bridge::Body& body, Timestamp now) {
    if (const auto* n = std::get_if<bridge::OrderNew>(&body)) {
      Order o;
      o.id = ++next_;
      ids_[n->cl_ord_id] = o.id;
      cl_[o.id] = n->cl_ord_id;
      o.side = n->side;
      o.type = n->type;
      o.tif = n->tif;
      o.purpose = n->purpose;
      o.qty = n->qty;
      o.limit_price = n->price;
      o.stop_price = n->stop_price;
      o.created = now;
      const std::string& id = n->cl_ord_id;
      received[std::stoull(id.substr(id.rfind('-') + 1))] = o;
      // One-cancels-other is the venue's job: link both ways.
      if (auto partner = ids_.find(n->oco_with); !n->oco_with.empty() && partner != ids_.end()) {
        oco_[o.id] = partner->second;
        oco_[partner->second] = o.id;
      }
      venue_.submit(o);
    } else if (const auto* c = std::get_if<bridge::OrderCancel>(&body)) {
      if (auto it = ids_.find(c->orig_cl_ord_id); it != ids_.end()) venue_.cancel(it->second);
    } else if (const auto* r = std::get_if<bridge::OrderReplace>(&body)) {
      if (auto it = ids_.find(r->orig_cl_ord_id); it != ids_.end()) venue_.replace_stop(it->second, r->stop_price);
    }
  }

  void on_accepted(OrderId id, Timestamp ts) override { ack(id, ts, bridge::ExecType::New, bridge::OrdStatus::New); }
  void on_rejected(OrderId id, Timestamp ts, std::string_view reason) override {
    ack(id, ts, bridge::ExecType::Rejected, bridge::OrdStatus::Rejected, std::string(reason));
  }
  void on_cancelled(OrderId id, Timestamp ts) override {
    ack(id, ts, bridge::ExecType::Canceled, bridge::OrdStatus::Canceled);
  }
  void on_expired(OrderId id, Timestamp ts) override {
    ack(id, ts, bridge::ExecType::Expired, bridge::OrdStatus::Expired);
  }
  void on_replaced(OrderId id, Timestamp ts, double stop) override {
    const std::string& cl = cl_[id];
    received[std::stoull(cl.substr(cl.rfind('-') + 1))].stop_price = stop;
    ack(id, ts, bridge::ExecType::Replaced, bridge::OrdStatus::Replaced, "", stop);
  }
  void on_fill(const Fill& fill) override {
    report_fill(fill);
    // The partner goes at once, inside the bar, before it can fill too.
    if (auto it = oco_.find(fill.order_id); it != oco_.end()) {
      const OrderId partner = it->second;
      oco_.erase(it);
      oco_.erase(partner);
      venue_.cancel(partner);
    }
  }
  void report_fill(const Fill& fill) {
    bridge::FillMsg f;
    f.cl_ord_id = cl_[fill.order_id];
    f.exec_id = f.cl_ord_id + "#" + std::to_string(++fills_);
    f.symbol = symbol_;
    f.side = fill.side;
    f.qty = fill.qty;
    f.price = fill.price;
    f.fee = fill.fee;
    f.time_msc = msc(fill.ts);
    out_.push_back({0, 0, f});
  }

 private:
  void ack(OrderId id, Timestamp ts, bridge::ExecType type, bridge::OrdStatus status, std::string reason = "",
           double stop = 0) {
    bridge::OrderAck a;
    a.cl_ord_id = cl_[id];
    a.symbol = symbol_;
    a.exec_type = type;
    a.ord_status = status;
    a.reason = std::move(reason);
    a.stop_price = stop;
    a.time_msc = msc(ts);
    out_.push_back({0, 0, a});
  }
  std::string symbol_;
  matching::SimulatedVenue venue_;
  std::vector<bridge::Message> out_;
  std::map<std::string, OrderId> ids_;
  std::map<OrderId, std::string> cl_;
  std::map<OrderId, OrderId> oco_;
  OrderId next_ = 0;
  std::int64_t fills_ = 0;
};

/// The lines sorted by order id (the venue receives them in sending order).
std::string by_id(const std::string& text) {
  std::map<std::uint64_t, std::string> sorted;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) sorted[std::stoull(line.substr(0, line.find(',')))] = line;
  std::string out;
  for (const auto& [id, l] : sorted) out += l + "\n";
  return out;
}

/// The first line where two order lists differ, for a readable failure.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string la, lb;
  for (int n = 1;; ++n) {
    const bool ha = static_cast<bool>(std::getline(x, la)), hb = static_cast<bool>(std::getline(y, lb));
    if (!ha && !hb) return "none";
    if (!ha || !hb || la != lb) return "line " + std::to_string(n) + ": live '" + la + "' vs backtest '" + lb + "'";
  }
}

struct Outcome {
  std::string backtest, live;
  std::int64_t live_orders = 0;
};

Outcome run_both(const config::AppConfig& cfg, const std::string& symbol, const std::vector<Bar>& bars) {
  Outcome out;
  const std::string dir =
      (fs::temp_directory_path() / ("quant-live-parity-" + std::to_string(::getpid()) + "-" + symbol)).string();
  fs::remove_all(dir);
  const InstrumentSpec& spec = *cfg.instruments.find(symbol);
  backtest::BacktestConfig bt = cfg.backtest.backtest;
  bt.risk.target_points = cfg.backtest.target_points(symbol);
  const TradingCosts costs = costs_of(spec, bt.slippage_ticks);

  auto strategy = strategy::make_strategy(cfg.backtest.strategy, spec);
  EXPECT_TRUE(strategy);
  VectorFeed feed(bars);
  backtest::RunMeta meta;
  meta.symbol = symbol;
  auto result = backtest::run_backtest(bt, spec, **strategy, feed, dir, meta);
  EXPECT_TRUE(result) << (result ? "" : result.error().message);
  out.backtest = by_id(backtest_orders(dir + "/orders.csv"));
  fs::remove_all(dir);

  live::LiveConfig lc;
  lc.engine = bt.engine;
  lc.risk = bt.risk;
  std::vector<live::LiveSymbol> symbols(1);
  symbols[0].spec = spec;
  symbols[0].costs = costs;
  symbols[0].strategy = std::move(*strategy::make_strategy(cfg.backtest.strategy, spec));
  live::LiveEngine engine(lc, std::move(symbols));
  Terminal terminal(spec, costs);
  engine::SessionClock days(spec, TimeZone::find(spec.time_zone).value());

  auto deliver = [&] {
    auto msgs = std::move(terminal.out());
    terminal.out().clear();
    for (const auto& m : msgs) engine.on_message(m);
  };
  auto orders_to = [&](Timestamp now) {
    auto bodies = std::move(engine.outbox());
    engine.outbox().clear();
    for (const auto& b : bodies) terminal.take(b, now);
  };
  std::int64_t day = -1;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& bar = bars[i];
    const std::int64_t d = days.locate(bar.ts).day;
    if (day != -1 && d != day) terminal.venue().end_of_session(bar.ts);
    day = d;
    deliver();
    bridge::TickMsg tick;
    tick.symbol = symbol;
    tick.tick.ts = bar.ts;
    tick.tick.last = tick.tick.bid = tick.tick.ask = bar.open;
    engine.on_message({0, 0, tick});
    orders_to(bar.ts);
    // The fills at the open first: the engine places the entry's protection,
    // which works for the rest of this bar, as in the backtest.
    terminal.venue().process_open(bar);
    deliver();
    orders_to(bar.ts);
    terminal.venue().process_range(bar);
    deliver();
    orders_to(bar.ts + kMinute);
    engine.on_message({0, 0, bridge::BarMsg{symbol, bar}});
    orders_to(bar.ts + kMinute);
    deliver();  // acks of the orders just taken
  }
  out.live = terminal.orders();
  out.live_orders = engine.orders_sent();
  return out;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(LiveParityTest, AGeneratedMarketGivesTheBacktestsOrders) {
  const config::AppConfig cfg = shipped_config();
  for (const char* symbol : {"WIN", "WDO"}) {
    generator::GeneratorConfig g;
    g.days = 40;
    g.seed = 5;
    if (std::string(symbol) == "WDO") g.start_price = 5000;
    auto generated = generator::generate_market(*cfg.instruments.find(symbol), g);
    ASSERT_TRUE(generated);
    std::vector<Bar> bars;
    for (const auto& b : *generated) bars.push_back(b.bar);
    const Outcome o = run_both(cfg, symbol, bars);
    ASSERT_GT(lines(o.backtest), 50u) << symbol;
    EXPECT_TRUE(o.live == o.backtest) << symbol << ": " << first_difference(o.live, o.backtest);
  }
}

TEST(LiveParityTest, RealWinBarsGiveTheBacktestsOrders) {
  const std::string file = testing::shared_data("b3/WIN_N_M1_2020-11_2021-03.csv.gz");
  QUANT_REQUIRE_DATA(file);
  const config::AppConfig cfg = shipped_config();
  struct Collect final : ingest::RecordSink {
    std::vector<Bar> bars;
    void on_bar(const Bar& b) override { bars.push_back(b); }
  } collect;
  auto source = ingest::open_source(file);
  ASSERT_TRUE(source);
  ingest::ImportOptions options;
  options.time_zone = TimeZone::find("America/Sao_Paulo").value();
  options.spec = *cfg.instruments.find("WIN");
  ASSERT_TRUE(ingest::import_source(**source, ingest::Format::Mt5Bars, options, collect));
  const Outcome o = run_both(cfg, "WIN", collect.bars);
  ASSERT_GT(lines(o.backtest), 500u);
  ASSERT_TRUE(o.live == o.backtest) << first_difference(o.live, o.backtest);
  std::printf("[parity] live engine on real WIN: %zu bars, %zu orders: identical\n", collect.bars.size(),
              lines(o.backtest));
}

}  // namespace
}  // namespace quant
