#include "replay/replay.h"

#include <atomic>
#include <cmath>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "core/test_bars.h"
#include "execution/bridge_socket.h"
#include "lake/test_lake.h"
#include "matching/simulated_venue.h"

namespace quant::replay {
namespace {

using namespace std::chrono_literals;
using bridge::Body;
using quant::testing::brt_march_2021;
using quant::testing::ohlc_bar;

/// The platform's side of the bridge, played by the test.
class Platform {
 public:
  Platform() {
    auto l = bridge::BridgeListener::listen("127.0.0.1", 0);
    EXPECT_TRUE(l.has_value()) << (l ? "" : l.error().message);
    listener_.emplace(std::move(*l));
  }
  int port() const { return listener_->port(); }

  /// Accepts the replay, reads its hello and answers with `resume`.
  bridge::Hello accept(std::vector<std::pair<std::string, bridge::Resume>> resume = {}) {
    socket_.reset();
    for (int i = 0; i < 100 && !socket_; ++i) {
      auto s = listener_->accept(100ms);
      EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
      if (s && *s) socket_.emplace(std::move(**s));
    }
    EXPECT_TRUE(socket_.has_value()) << "the replay did not connect";
    const Body first = next();
    EXPECT_TRUE(std::holds_alternative<bridge::Hello>(first)) << bridge::type_name(first);
    bridge::Hello answer;
    answer.role = "platform";
    answer.terminal = "test";
    answer.resume = std::move(resume);
    send(answer);
    return std::holds_alternative<bridge::Hello>(first) ? std::get<bridge::Hello>(first) : bridge::Hello{};
  }

  /// The next message that is not a heartbeat; nullopt when the replay closed.
  std::optional<Body> next_or_end(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = socket_->receive(50ms);
      if (!got) return std::nullopt;
      if (!*got) continue;
      if (std::holds_alternative<bridge::Heartbeat>((*got)->body)) continue;
      return std::move((*got)->body);
    }
    return std::nullopt;
  }
  Body next() {
    auto b = next_or_end();
    EXPECT_TRUE(b.has_value()) << "nothing came from the replay";
    return b ? std::move(*b) : Body{bridge::Heartbeat{}};
  }
  void send(Body body) {
    auto sent = socket_->send(std::move(body));
    EXPECT_TRUE(sent.has_value()) << (sent ? "" : sent.error().message);
  }
  /// Tells a lock-step replay that the platform processed this tick, fill or bar.
  void mark(const Body& data) {
    if (const auto* f = std::get_if<bridge::FillMsg>(&data)) send(bridge::Heartbeat{"fill:" + f->exec_id});
    if (const auto* t = std::get_if<bridge::TickMsg>(&data))
      send(bridge::Heartbeat{"tick:" + t->symbol + ":" + std::to_string(unix_ms(t->tick.ts))});
    if (const auto* b = std::get_if<bridge::BarMsg>(&data))
      send(bridge::Heartbeat{"bar:" + b->symbol + ":" + std::to_string(unix_ms(b->bar.ts) / 1000)});
  }
  /// Reads (marking ticks and bars) until the replay closes; returns everything.
  std::vector<Body> drain(bool lockstep) {
    std::vector<Body> out;
    while (auto b = next_or_end()) {
      if (lockstep) mark(*b);
      out.push_back(std::move(*b));
    }
    return out;
  }

 private:
  std::optional<bridge::BridgeListener> listener_;
  std::optional<bridge::BridgeSocket> socket_;
};

InstrumentSetup win_setup() {
  InstrumentSetup s;
  s.spec = quant::testing::win_spec();
  s.spec.fee_per_side = 0.5;
  s.costs = costs_of(s.spec, 1);
  return s;
}

/// A small lake and a replay running against the test's platform in a thread.
class ReplayTest : public ::testing::Test {
 protected:
  void write(const std::string& symbol, const std::vector<Bar>& bars) {
    if (!lake_) lake_ = quant::testing::open_lake(dir_);
    quant::testing::write_bars(*lake_, symbol, bars);
  }
  ReplayConfig config(std::vector<InstrumentSetup> instruments, bool lockstep) {
    ReplayConfig c;
    c.instruments = std::move(instruments);
    c.port = platform_.port();
    c.lockstep = lockstep;
    c.retry_min = 20ms;
    c.should_stop = [this] { return stop_.load(); };
    return c;
  }
  void start(const ReplayConfig& c) {
    std::vector<std::string> symbols;
    for (const auto& i : c.instruments) symbols.push_back(i.spec.symbol);
    factory_ = lake_events(*lake_, symbols, c.mode, Timestamp::min(), Timestamp::max());
    config_ = c;
    stop_ = false;
    thread_ = std::thread([this] { result_ = run_replay(config_, factory_); });
  }
  Expected<ReplayStats> join() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  quant::testing::TempDir dir_;
  std::unique_ptr<lake::Lake> lake_;
  Platform platform_;
  std::atomic<bool> stop_{false};
  ReplayConfig config_;
  EventSourceFactory factory_;
  std::thread thread_;
  Expected<ReplayStats> result_ = make_error("not run");
};

std::vector<Bar> day_bars(int day, int hh, int mm, int count, double start = 100000) {
  std::vector<Bar> bars;
  for (int i = 0; i < count; ++i) {
    const double o = start + 10.0 * i;
    bars.push_back(ohlc_bar(brt_march_2021(day, hh, mm + i), o, o + 20, o - 20, o + 5));
  }
  return bars;
}

template <class T>
std::vector<T> only(const std::vector<Body>& bodies) {
  std::vector<T> out;
  for (const auto& b : bodies) {
    if (const auto* x = std::get_if<T>(&b)) out.push_back(*x);
  }
  return out;
}

bridge::OrderNew market(const std::string& id, Side side, std::int64_t qty) {
  bridge::OrderNew o;
  o.cl_ord_id = id;
  o.symbol = "WIN";
  o.side = side;
  o.qty = qty;
  o.type = OrderType::Market;
  return o;
}

TEST_F(ReplayTest, BarsArriveInTimeOrderEachAfterItsOpeningTick) {
  const auto win = day_bars(1, 10, 0, 3);
  const auto wdo = day_bars(1, 10, 0, 3, 5000);
  write("WIN", win);
  write("WDO", wdo);
  InstrumentSetup w = win_setup();
  w.spec = quant::testing::wdo_spec();
  start(config({win_setup(), w}, false));
  const auto hello = platform_.accept();
  EXPECT_EQ(hello.role, "terminal");
  EXPECT_EQ(hello.symbols, (std::vector<std::string>{"WIN", "WDO"}));
  const auto all = platform_.drain(false);
  ASSERT_TRUE(join().has_value());
  std::vector<std::string> seen;
  for (const auto& b : all) {
    if (const auto* t = std::get_if<bridge::TickMsg>(&b)) {
      seen.push_back("tick " + t->symbol + " " + format_utc(t->tick.ts));
      EXPECT_EQ(t->tick.last, t->tick.bid);
      EXPECT_EQ(t->tick.volume, 0);
    }
    if (const auto* x = std::get_if<bridge::BarMsg>(&b))
      seen.push_back("bar " + x->symbol + " " + format_utc(x->bar.ts));
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i) {
    for (const char* s : {"WIN", "WDO"}) {
      expected.push_back(std::string("tick ") + s + " " + format_utc(win[i].ts));
      expected.push_back(std::string("bar ") + s + " " + format_utc(win[i].ts));
    }
  }
  EXPECT_EQ(seen, expected);
  ASSERT_FALSE(all.empty());
  EXPECT_TRUE(std::holds_alternative<bridge::PositionsMsg>(all.front()));  // the snapshot after hello
  EXPECT_TRUE(std::holds_alternative<bridge::PositionsMsg>(all.back()));   // the final one
  EXPECT_EQ(only<bridge::BarMsg>(all)[0].bar, win[0]);
}

TEST_F(ReplayTest, AnOrderSentAfterABarFillsAtTheNextOpenAsTheSimulatedVenueFillsIt) {
  std::vector<Bar> bars = day_bars(1, 10, 0, 4);
  bars[2].open = 100300;  // a gap: the fill must be at this open, not bar 1's close
  bars[2].high = 100350;
  write("WIN", bars);
  start(config({win_setup()}, true));
  platform_.accept();
  std::vector<Body> all;
  bool sent = false;
  while (auto b = platform_.next_or_end()) {
    if (const auto* x = std::get_if<bridge::BarMsg>(&*b); x != nullptr && x->bar.ts == bars[1].ts && !sent) {
      platform_.send(market("buy-1", Side::Buy, 2));  // decided at bar 1's close
      sent = true;
    }
    platform_.mark(*b);
    all.push_back(std::move(*b));
  }
  ASSERT_TRUE(join().has_value());
  const auto fills = only<bridge::FillMsg>(all);
  ASSERT_EQ(fills.size(), 1u);

  // The same order in the fill simulator directly.
  struct Capture final : engine::ExecutionListener {
    std::vector<Fill> fills;
    void on_accepted(OrderId, Timestamp) override {}
    void on_rejected(OrderId, Timestamp, std::string_view) override {}
    void on_fill(const Fill& f) override { fills.push_back(f); }
    void on_cancelled(OrderId, Timestamp) override {}
    void on_expired(OrderId, Timestamp) override {}
    void on_replaced(OrderId, Timestamp, double) override {}
  } capture;
  const InstrumentSetup setup = win_setup();
  matching::SimulatedVenue venue(setup.spec, setup.costs, std::make_unique<matching::FullFillModel>());
  venue.set_listener(&capture);
  venue.process(bars[0]);
  venue.process(bars[1]);
  Order o;
  o.id = 1;
  o.side = Side::Buy;
  o.qty = 2;
  o.created = bars[1].ts + kMinute;
  venue.submit(o);
  venue.process(bars[2]);
  venue.process(bars[3]);
  ASSERT_EQ(capture.fills.size(), 1u);
  EXPECT_EQ(fills[0].price, capture.fills[0].price);
  EXPECT_EQ(fills[0].price, 100300 + 5);  // bar 2's open + one tick of slippage
  EXPECT_EQ(fills[0].fee, capture.fills[0].fee);
  EXPECT_EQ(fills[0].qty, 2);
  EXPECT_EQ(fills[0].time_msc, unix_ms(bars[2].ts));
  EXPECT_EQ(fills[0].exec_id, "buy-1#1");
  EXPECT_EQ(fills[0].cum_qty, 2);
  EXPECT_EQ(fills[0].leaves_qty, 0);
  EXPECT_EQ(fills[0].ord_status, bridge::OrdStatus::Filled);
  const auto acks = only<bridge::OrderAck>(all);
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks[0].exec_type, bridge::ExecType::New);
  const auto final_positions = only<bridge::PositionsMsg>(all).back();
  ASSERT_EQ(final_positions.positions.size(), 1u);
  EXPECT_EQ(final_positions.positions[0].qty, 2);
  EXPECT_EQ(final_positions.positions[0].avg_price, 100305);
}

TEST_F(ReplayTest, LockstepWaitsForThePlatformsMarks) {
  write("WIN", day_bars(1, 10, 0, 2));
  start(config({win_setup()}, true));
  platform_.accept();
  EXPECT_TRUE(std::holds_alternative<bridge::PositionsMsg>(platform_.next()));
  const Body tick = platform_.next();
  ASSERT_TRUE(std::holds_alternative<bridge::TickMsg>(tick));
  // Without the mark nothing more comes (heartbeats aside).
  EXPECT_FALSE(platform_.next_or_end(400ms).has_value());
  platform_.send(bridge::Heartbeat{"tick:WIN:0"});  // not the awaited mark
  EXPECT_FALSE(platform_.next_or_end(300ms).has_value());
  platform_.mark(tick);
  const Body bar = platform_.next();
  ASSERT_TRUE(std::holds_alternative<bridge::BarMsg>(bar));
  EXPECT_FALSE(platform_.next_or_end(300ms).has_value());
  platform_.mark(bar);
  platform_.drain(true);
  ASSERT_TRUE(join().has_value());
}

TEST_F(ReplayTest, ResumeSkipsWhatThePlatformHasAlready) {
  const auto bars = day_bars(1, 10, 0, 4);
  write("WIN", bars);
  start(config({win_setup()}, false));
  bridge::Resume r;
  r.tick_msc = unix_ms(bars[2].ts);  // the tick of bar 2 arrived, bar 2 did not
  r.ticks_at_msc = 1;
  r.bar_time = unix_ms(bars[1].ts) / 1000;
  platform_.accept({{"WIN", r}});
  const auto all = platform_.drain(false);
  ASSERT_TRUE(join().has_value());
  std::vector<std::string> seen;
  for (const auto& b : all) {
    if (const auto* t = std::get_if<bridge::TickMsg>(&b)) seen.push_back("tick " + format_utc(t->tick.ts));
    if (const auto* x = std::get_if<bridge::BarMsg>(&b)) seen.push_back("bar " + format_utc(x->bar.ts));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"bar " + format_utc(bars[2].ts), "tick " + format_utc(bars[3].ts),
                                            "bar " + format_utc(bars[3].ts)}));
}

TEST_F(ReplayTest, ASecondOrderWithAKnownClOrdIdIsNotEnteredAgain) {
  write("WIN", day_bars(1, 10, 0, 4));
  start(config({win_setup()}, true));
  platform_.accept();
  std::vector<Body> all;
  int bars_seen = 0;
  while (auto b = platform_.next_or_end()) {
    if (std::holds_alternative<bridge::BarMsg>(*b) && ++bars_seen == 1) {
      platform_.send(market("dup-1", Side::Buy, 1));
    }
    if (std::holds_alternative<bridge::BarMsg>(*b) && bars_seen == 3) {
      platform_.send(market("dup-1", Side::Buy, 1));  // a re-send after the fill
    }
    platform_.mark(*b);
    all.push_back(std::move(*b));
  }
  ASSERT_TRUE(join().has_value());
  const auto fills = only<bridge::FillMsg>(all);
  ASSERT_EQ(fills.size(), 2u);  // the fill, then the same fill re-sent with the order's state
  EXPECT_EQ(fills[0].exec_id, fills[1].exec_id);
  const auto acks = only<bridge::OrderAck>(all);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1].ord_status, bridge::OrdStatus::Filled);
  EXPECT_EQ(only<bridge::PositionsMsg>(all).back().positions[0].qty, 1);
}

TEST_F(ReplayTest, ANewTradingDayExpiresDayOrders) {
  auto bars = day_bars(1, 17, 58, 2);
  for (const Bar& b : day_bars(2, 9, 0, 2)) bars.push_back(b);
  write("WIN", bars);
  start(config({win_setup()}, true));
  platform_.accept();
  std::vector<Body> all;
  bool sent = false;
  while (auto b = platform_.next_or_end()) {
    if (std::holds_alternative<bridge::BarMsg>(*b) && !sent) {
      sent = true;
      bridge::OrderNew day = market("day-1", Side::Buy, 1);
      day.type = OrderType::Limit;
      day.price = 90000;  // far below: it rests
      platform_.send(day);
      bridge::OrderNew gtc = day;
      gtc.cl_ord_id = "gtc-1";
      gtc.tif = TimeInForce::Gtc;
      platform_.send(gtc);
    }
    platform_.mark(*b);
    all.push_back(std::move(*b));
  }
  ASSERT_TRUE(join().has_value());
  // The expiry comes before the new day's first tick.
  std::size_t expired_at = all.size(), day2_tick = all.size();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (const auto* a = std::get_if<bridge::OrderAck>(&all[i]);
        a != nullptr && a->exec_type == bridge::ExecType::Expired) {
      EXPECT_EQ(a->cl_ord_id, "day-1");
      EXPECT_EQ(a->ord_status, bridge::OrdStatus::Expired);
      expired_at = i;
    }
    if (const auto* t = std::get_if<bridge::TickMsg>(&all[i]); t != nullptr && t->tick.ts == bars[2].ts) day2_tick = i;
  }
  ASSERT_LT(expired_at, all.size());
  EXPECT_LT(expired_at, day2_tick);
  const auto last = only<bridge::PositionsMsg>(all).back();
  ASSERT_EQ(last.orders.size(), 1u);
  EXPECT_EQ(last.orders[0].cl_ord_id, "gtc-1");
}

TEST_F(ReplayTest, APositionsRequestIsAnswered) {
  write("WIN", day_bars(1, 10, 0, 3));
  start(config({win_setup()}, true));
  platform_.accept();
  EXPECT_TRUE(std::holds_alternative<bridge::PositionsMsg>(platform_.next()));
  const Body tick = platform_.next();
  bridge::PositionsMsg request;
  request.request = true;
  platform_.send(request);
  const Body answer = platform_.next();
  ASSERT_TRUE(std::holds_alternative<bridge::PositionsMsg>(answer)) << bridge::type_name(answer);
  EXPECT_FALSE(std::get<bridge::PositionsMsg>(answer).request);
  ASSERT_EQ(std::get<bridge::PositionsMsg>(answer).positions.size(), 1u);
  EXPECT_EQ(std::get<bridge::PositionsMsg>(answer).positions[0].symbol, "WIN");
  platform_.mark(tick);
  platform_.drain(true);
  ASSERT_TRUE(join().has_value());
}

TEST_F(ReplayTest, AReplayKilledMidRunRebuildsItsPositionAndWorkingOrdersFromItsState) {
  const auto bars = day_bars(1, 10, 0, 8);
  write("WIN", bars);
  quant::testing::TempDir state;
  ReplayConfig c = config({win_setup()}, true);
  c.state_dir = state.str() + "/state";
  start(c);
  platform_.accept();
  bridge::Resume had;
  bridge::PositionsMsg before;
  int bars_seen = 0;
  while (auto b = platform_.next_or_end()) {
    if (const auto* t = std::get_if<bridge::TickMsg>(&*b)) {
      had.tick_msc = unix_ms(t->tick.ts);
      had.ticks_at_msc = 1;
    }
    if (const auto* x = std::get_if<bridge::BarMsg>(&*b)) {
      had.bar_time = unix_ms(x->bar.ts) / 1000;
      ++bars_seen;
      if (bars_seen == 1) platform_.send(market("entry", Side::Buy, 3));
      if (bars_seen == 2) {
        bridge::OrderNew stop = market("stop", Side::Sell, 3);
        stop.type = OrderType::Stop;
        stop.stop_price = 95000;
        stop.tif = TimeInForce::Gtc;
        platform_.send(stop);
      }
      if (bars_seen == 3) {
        bridge::PositionsMsg request;
        request.request = true;
        platform_.send(request);
        continue;  // no mark: the replay waits, and is killed while it waits
      }
    }
    if (const auto* p = std::get_if<bridge::PositionsMsg>(&*b); p != nullptr && bars_seen == 3) {
      before = *p;
      break;
    }
    platform_.mark(*b);
  }
  ASSERT_EQ(before.positions.size(), 1u);
  EXPECT_EQ(before.positions[0].qty, 3);
  ASSERT_EQ(before.orders.size(), 1u);
  stop_ = true;
  auto first = join();
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_TRUE(first->stopped);

  // The same --state: the first thing the platform hears is the same book.
  start(c);
  platform_.accept({{"WIN", had}});
  const Body snapshot = platform_.next();
  ASSERT_TRUE(std::holds_alternative<bridge::PositionsMsg>(snapshot)) << bridge::type_name(snapshot);
  const auto& after = std::get<bridge::PositionsMsg>(snapshot);
  ASSERT_EQ(after.positions.size(), 1u);
  EXPECT_EQ(after.positions[0].qty, before.positions[0].qty);
  EXPECT_EQ(after.positions[0].avg_price, before.positions[0].avg_price);
  ASSERT_EQ(after.orders.size(), 1u);
  EXPECT_EQ(after.orders[0].cl_ord_id, "stop");
  EXPECT_EQ(after.orders[0].stop_price, 95000);
  // Nothing the platform had comes again: the next data is bar 3's tick.
  Body next = platform_.next();
  ASSERT_TRUE(std::holds_alternative<bridge::TickMsg>(next)) << bridge::type_name(next);
  EXPECT_EQ(std::get<bridge::TickMsg>(next).tick.ts, bars[3].ts);
  platform_.mark(next);
  const auto rest = platform_.drain(true);
  auto second = join();
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(only<bridge::FillMsg>(rest).size(), 0u);
  EXPECT_EQ(only<bridge::PositionsMsg>(rest).back().positions[0].qty, 3);
}

TEST_F(ReplayTest, TicksModeSendsTradesAsTicksAndTheBarsBuiltFromThemAtEachMinutesEnd) {
  if (!lake_) lake_ = quant::testing::open_lake(dir_);
  const Timestamp t0 = brt_march_2021(1, 10, 0);
  std::vector<Trade> trades;
  for (int i = 0; i < 6; ++i) {
    Trade t;
    t.ts = t0 + std::chrono::seconds(25 * i);  // 0, 25, 50 s | 75, 100 s | 125 s
    t.price = 100000 + 5.0 * i;
    t.volume = 1 + i;
    trades.push_back(t);
  }
  {
    auto writer = lake_->writer(lake::Dataset::Trades, "WIN");
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    for (const auto& t : trades) (*writer)->add(t);
    ASSERT_TRUE((*writer)->flush().has_value());
  }
  ReplayConfig c = config({win_setup()}, true);
  c.mode = ReplayMode::Ticks;
  start(c);
  platform_.accept();
  std::vector<Body> all;
  bool sent = false;
  while (auto b = platform_.next_or_end()) {
    if (std::holds_alternative<bridge::TickMsg>(*b) && !sent) {
      sent = true;  // during the first minute: fills at the next minute's open
      platform_.send(market("t-1", Side::Buy, 1));
    }
    platform_.mark(*b);
    all.push_back(std::move(*b));
  }
  ASSERT_TRUE(join().has_value());
  std::vector<std::string> seen;
  for (const auto& b : all) {
    if (const auto* t = std::get_if<bridge::TickMsg>(&b)) {
      EXPECT_TRUE(std::isnan(t->tick.bid));
      seen.push_back("tick " + std::to_string(t->tick.last));
    }
    if (const auto* x = std::get_if<bridge::BarMsg>(&b)) seen.push_back("bar " + format_utc(x->bar.ts));
  }
  const std::vector<std::string> expected = {"tick 100000.000000",
                                             "tick 100005.000000",
                                             "tick 100010.000000",
                                             "bar " + format_utc(t0),
                                             "tick 100015.000000",
                                             "tick 100020.000000",
                                             "bar " + format_utc(t0 + kMinute),
                                             "tick 100025.000000",
                                             "bar " + format_utc(t0 + 2 * kMinute)};
  EXPECT_EQ(seen, expected);
  const auto bars = only<bridge::BarMsg>(all);
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].bar.open, 100000);
  EXPECT_EQ(bars[0].bar.close, 100010);
  EXPECT_EQ(bars[0].bar.tick_volume, 3);
  const auto fills = only<bridge::FillMsg>(all);
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].price, 100015 + 5);  // the second minute's open + slippage
  EXPECT_EQ(fills[0].time_msc, unix_ms(t0 + kMinute));
}

TEST_F(ReplayTest, WhenOneOcoOrderFillsItsPartnerIsCancelledInTheSameBar) {
  write("WIN", day_bars(1, 10, 0, 4));  // bar 2: open 100020, high 100040, low 100000
  start(config({win_setup()}, true));
  platform_.accept();
  std::vector<Body> all;
  int bars_seen = 0;
  while (auto b = platform_.next_or_end()) {
    if (std::holds_alternative<bridge::BarMsg>(*b) && ++bars_seen == 1) platform_.send(market("in", Side::Buy, 1));
    if (std::holds_alternative<bridge::BarMsg>(*b) && bars_seen == 2) {
      bridge::OrderNew stop = market("sl", Side::Sell, 1);
      stop.type = OrderType::Stop;
      stop.stop_price = 100000;
      stop.tif = TimeInForce::Gtc;
      stop.purpose = OrderPurpose::StopLoss;
      bridge::OrderNew target = stop;
      target.cl_ord_id = "tp";
      target.type = OrderType::Limit;
      target.price = 100040;
      target.stop_price = 0;
      target.purpose = OrderPurpose::Target;
      target.oco_with = "sl";
      platform_.send(stop);
      platform_.send(target);
    }
    platform_.mark(*b);
    all.push_back(std::move(*b));
  }
  ASSERT_TRUE(join().has_value());
  // Both are reached in bar 2 after it opened between them: the stop first
  // (the backtest's conservative order), and the target goes with it.
  const auto fills = only<bridge::FillMsg>(all);
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[1].cl_ord_id, "sl");
  bool target_cancelled = false;
  for (const auto& a : only<bridge::OrderAck>(all)) {
    if (a.cl_ord_id == "tp" && a.exec_type == bridge::ExecType::Canceled) target_cancelled = true;
  }
  EXPECT_TRUE(target_cancelled);
  const auto last = only<bridge::PositionsMsg>(all).back();
  EXPECT_EQ(last.positions[0].qty, 0);
  EXPECT_TRUE(last.orders.empty());
}

}  // namespace
}  // namespace quant::replay
