// One kernel, live: the live engine (src/live) driven message by message the
// way `quant replay` drives it through the bridge — per bar, the venue's
// day-end expiries, a tick at the open (a new minute), the venue's reports of
// that bar, the closed bar — sends exactly the orders `quant backtest` sends
// on the same bars: same ids, sides, quantities, types and prices (final stop
// prices included). The venue is `quant replay`'s terminal (the backtest's
// fill simulator behind bridge messages) without its socket; the end-to-end
// test (tests/live) runs the same through Redis and the processes.
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
#include "parity_support.h"
#include "fix/test_fix.h"
#include "replay/terminal.h"
#include "strategy/strategy_config.h"

namespace quant {
namespace {

namespace fs = std::filesystem;
namespace bridge = execution::bridge;

using parity::read;
using parity::shipped_config;

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

/// Every order the engine sent, by id, with its last stop price (the
/// backtest's orders.csv shows an order's final state).
struct SentOrders {
  std::map<std::uint64_t, bridge::OrderNew> orders;
  static std::uint64_t id_of(const std::string& cl_ord_id) {
    return std::stoull(cl_ord_id.substr(cl_ord_id.rfind('-') + 1));
  }
  void sent(const bridge::Body& body) {
    if (const auto* n = std::get_if<bridge::OrderNew>(&body)) orders[id_of(n->cl_ord_id)] = *n;
  }
  void reported(const bridge::Body& body) {
    const auto* a = std::get_if<bridge::OrderAck>(&body);
    if (a != nullptr && a->exec_type == bridge::ExecType::Replaced)
      orders[id_of(a->cl_ord_id)].stop_price = a->stop_price;
  }
  std::string text() const {
    std::string out;
    for (const auto& [id, o] : orders) out += order_line(id, o.side, o.type, o.qty, o.price, o.stop_price);
    return out;
  }
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

/// How the live engine's orders reach replay's Terminal and its reports come
/// back: directly (in process), or over real FIX sessions. Either way every
/// answer is back before the call returns, so the engine sees the same order
/// of events as lock-step replay gives it.
class ExchangePath {
 public:
  virtual ~ExchangePath() = default;
  /// The engine's orders to the exchange; its answers appended to `reports`.
  virtual void request(const std::vector<bridge::Body>& orders, std::vector<bridge::Body>& reports) = 0;
  /// A market event at the exchange; the reports it caused appended to `reports`.
  virtual void event(const replay::Event& event, std::vector<bridge::Body>& reports) = 0;
};

/// The terminal of `quant replay`, without its socket: the same events, the same order handling.
class DirectPath final : public ExchangePath {
 public:
  explicit DirectPath(const replay::InstrumentSetup& setup) {
    auto terminal = replay::Terminal::create({setup}, replay::ReplayMode::Bars);
    EXPECT_TRUE(terminal);
    terminal_ = std::move(*terminal);
  }
  void request(const std::vector<bridge::Body>& orders, std::vector<bridge::Body>& reports) override {
    for (const auto& body : orders) terminal_->on_request(body, reports);
  }
  void event(const replay::Event& event, std::vector<bridge::Body>& reports) override {
    terminal_->on_event(event, reports);
  }

 private:
  std::unique_ptr<replay::Terminal> terminal_;
};

/// The same Terminal behind a real QuickFIX acceptor; the orders leave through
/// the platform's FixVenue (initiator) and the reports come back over FIX.
class FixPath final : public ExchangePath {
 public:
  explicit FixPath(const replay::InstrumentSetup& setup)
      : dir_(fs::temp_directory_path() / ("quant-fix-parity-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    const int port = fix::testing::free_port();
    exchange_ = std::make_unique<fix::testing::SimulatedExchange>(fix::testing::exchange_settings(dir_, port),
                                                                  std::vector{setup});
    auto v = fix::FixVenue::create(fix::testing::venue_settings(dir_, port), fix::B3Identity{});
    EXPECT_TRUE(v) << (v ? "" : v.error().message);
    venue_ = std::move(*v);
    EXPECT_TRUE(venue_->start());
    EXPECT_TRUE(venue_->wait_logon(std::chrono::seconds(10)));
  }
  ~FixPath() override {
    venue_->stop(true);
    exchange_->fix().stop(true);
    venue_.reset();
    exchange_.reset();
    fs::remove_all(dir_);
  }
  void request(const std::vector<bridge::Body>& orders, std::vector<bridge::Body>& reports) override {
    for (const auto& body : orders) {
      // The engine's outbox also holds marks for a lock-step terminal: not orders.
      if (std::holds_alternative<bridge::Heartbeat>(body) || std::holds_alternative<bridge::PositionsMsg>(body)) continue;
      auto sent = venue_->send(body);
      EXPECT_TRUE(sent) << (sent ? "" : sent.error().message);
      ++requested_;
    }
    if (requested_ > served_) drain(reports);
  }
  void event(const replay::Event& event, std::vector<bridge::Body>& reports) override {
    std::vector<bridge::Body> out;
    exchange_->terminal().on_event(event, out);
    if (out.empty()) return;
    auto sent = exchange_->fix().report(out);
    EXPECT_TRUE(sent) << (sent ? "" : sent.error().message);
    drain(reports);
  }
  std::int64_t messages() const { return venue_->stats().session.received; }

 private:
  /// Until the exchange has taken every request and the venue has handed
  /// over every report the exchange sent (counted where they are taken, so
  /// none is still in flight when this returns).
  void drain(std::vector<bridge::Body>& reports) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (bool first = true;; first = false) {
      const std::chrono::milliseconds wait(first ? 0 : 1);
      const bool requests_pending = served_ + exchange_->fix().stats().bad_messages < requested_;
      served_ += static_cast<std::int64_t>(exchange_->serve(requests_pending ? wait : std::chrono::milliseconds(0)));
      for (auto& r : venue_->poll(requests_pending ? std::chrono::milliseconds(0) : wait))
        reports.push_back(std::move(r.message.body));
      if (served_ + exchange_->fix().stats().bad_messages >= requested_ &&
          venue_->stats().taken >= exchange_->fix().stats().session.sent)
        return;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the FIX exchange did not answer: " << served_ << "/" << requested_ << " requests served";
        return;
      }
    }
  }
  fs::path dir_;
  std::unique_ptr<fix::testing::SimulatedExchange> exchange_;
  std::unique_ptr<fix::FixVenue> venue_;
  std::int64_t requested_ = 0, served_ = 0;
};

enum class Path { Direct, Fix };

Outcome run_both(const config::AppConfig& cfg, const std::string& symbol, const std::vector<Bar>& bars,
                 Path path = Path::Direct) {
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
  engine::SpanFeed feed(bars);
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
  const replay::InstrumentSetup setup{spec, costs, 0};
  std::unique_ptr<ExchangePath> exchange;
  if (path == Path::Fix) {
    exchange = std::make_unique<FixPath>(setup);
  } else {
    exchange = std::make_unique<DirectPath>(setup);
  }
  SentOrders sent;
  std::vector<bridge::Body> reports;
  // Messages go back and forth until both sides are quiet, as lock-step does.
  auto settle = [&] {
    while (!reports.empty() || !engine.outbox().empty()) {
      auto in = std::exchange(reports, {});
      for (auto& body : in) {
        sent.reported(body);
        engine.on_message({0, 0, std::move(body)});
      }
      auto orders = std::exchange(engine.outbox(), {});
      for (const auto& body : orders) sent.sent(body);
      exchange->request(orders, reports);
    }
  };
  for (const Bar& bar : bars) {
    replay::Event event;
    event.bar = bar;
    event.kind = replay::EventKind::Open;
    exchange->event(event, reports);  // the day's end first: Day orders expire
    settle();
    bridge::TickMsg tick;
    tick.symbol = symbol;
    tick.tick.ts = bar.ts;
    tick.tick.last = tick.tick.bid = tick.tick.ask = bar.open;
    engine.on_message({0, 0, tick});
    settle();
    // The fills at the open first: the engine places the entry's protection,
    // which works for the rest of this bar, as in the backtest.
    event.kind = replay::EventKind::OpenFills;
    exchange->event(event, reports);
    settle();
    event.kind = replay::EventKind::Close;
    exchange->event(event, reports);
    settle();
    engine.on_message({0, 0, bridge::BarMsg{symbol, bar}});
    settle();
  }
  if (auto* f = dynamic_cast<FixPath*>(exchange.get())) {
    std::printf("[parity] %s over FIX: %lld execution reports received\n", symbol.c_str(),
                static_cast<long long>(f->messages()));
  }
  out.live = sent.text();
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
    auto generated = generator::generate_bars(*cfg.instruments.find(symbol), g);
    ASSERT_TRUE(generated);
    const std::vector<Bar>& bars = *generated;
    const Outcome o = run_both(cfg, symbol, bars);
    ASSERT_GT(lines(o.backtest), 50u) << symbol;
    EXPECT_EQ(parity::non_finite_field(o.backtest), "") << symbol << ": a NaN is not parity";
    EXPECT_TRUE(o.live == o.backtest) << symbol << ": " << first_difference(o.live, o.backtest);
  }
}

TEST(LiveParityTest, RealWinBarsGiveTheBacktestsOrders) {
  const std::string file = testing::shared_data("b3/WIN_N_M1_2020-11_2021-03.csv.gz");
  QUANT_REQUIRE_DATA(file);
  const config::AppConfig cfg = shipped_config();
  const std::vector<Bar> bars = parity::real_win_bars(cfg, file);
  const Outcome o = run_both(cfg, "WIN", bars);
  ASSERT_GT(lines(o.backtest), 500u);
  EXPECT_EQ(parity::non_finite_field(o.backtest), "") << "a NaN is not parity";
  ASSERT_TRUE(o.live == o.backtest) << first_difference(o.live, o.backtest);
  std::printf("[parity] live engine on real WIN: %zu bars, %zu orders: identical\n", bars.size(), lines(o.backtest));
}

}  // namespace
}  // namespace quant

namespace quant {
TEST(ParitySupportTest, NonFiniteFieldsAreFoundSoTwoNansDoNotCompareEqual) {
  EXPECT_EQ(parity::non_finite_field("ts,price\n1,100.5\n2,101\n"), "");
  EXPECT_EQ(parity::non_finite_field("ts,price\n1,nan\n"), "nan");
  EXPECT_EQ(parity::non_finite_field("a,-NaN,b"), "-NaN");
  EXPECT_EQ(parity::non_finite_field("1,2\n3,-inf"), "-inf");
  EXPECT_EQ(parity::non_finite_field("reason,infinite,nanoseconds"), "");
}
}  // namespace quant

namespace quant {
namespace {

// The same, with the orders and reports travelling over real FIX 4.4 sessions
// (QuickFIX initiator and acceptor on loopback, our dictionary, file stores):
// the FIX translation loses nothing the kernel needs.
TEST(FixLiveParityTest, AGeneratedMarketGivesTheBacktestsOrdersOverFix) {
  const config::AppConfig cfg = parity::shipped_config();
  generator::GeneratorConfig g;
  g.days = 40;
  g.seed = 5;
  auto generated = generator::generate_bars(*cfg.instruments.find("WIN"), g);
  ASSERT_TRUE(generated);
  const Outcome o = run_both(cfg, "WIN", *generated, Path::Fix);
  ASSERT_GT(lines(o.backtest), 50u);
  EXPECT_TRUE(o.live == o.backtest) << first_difference(o.live, o.backtest);
}

TEST(FixLiveParityTest, RealWinBarsGiveTheBacktestsOrdersOverFix) {
  const std::string file = testing::shared_data("b3/WIN_N_M1_2020-11_2021-03.csv.gz");
  QUANT_REQUIRE_DATA(file);
  const config::AppConfig cfg = parity::shipped_config();
  const std::vector<Bar> bars = parity::real_win_bars(cfg, file);
  const Outcome o = run_both(cfg, "WIN", bars, Path::Fix);
  ASSERT_GT(lines(o.backtest), 500u);
  ASSERT_TRUE(o.live == o.backtest) << first_difference(o.live, o.backtest);
  std::printf("[parity] live engine over FIX on real WIN: %zu bars, %zu orders: identical\n", bars.size(),
              lines(o.backtest));
}

}  // namespace
}  // namespace quant
