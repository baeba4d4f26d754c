#include "execution/bridge_service.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "execution/bridge_protocol.h"
#include "execution/bridge_socket.h"
#include "stream/test_redis.h"

namespace quant::execution::bridge {
namespace {

using namespace std::chrono_literals;

/// A running `quant bridge` on a free port against the test's redis-server.
class Bridge {
 public:
  explicit Bridge(const stream::Endpoint& redis) {
    BridgeServiceConfig config;
    config.listen_port = 0;
    config.redis = redis;
    config.heartbeat_interval = 100ms;
    config.peer_timeout = 2000ms;
    config.hello_timeout = 2000ms;
    config.metrics = &metrics_;
    auto service = BridgeService::create(config, [this](const std::string& line) {
      const std::lock_guard lock(mutex_);
      log_ += line + "\n";
    });
    EXPECT_TRUE(service.has_value()) << service.error().message;
    service_ = std::move(*service);
    thread_ = std::thread([this] {
      auto r = service_->run(stop_);
      EXPECT_TRUE(r.has_value()) << r.error().message;
    });
  }
  ~Bridge() {
    stop_ = true;
    thread_.join();
  }
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  int port() const { return service_->port(); }
  std::string metrics() const { return metrics_.render(); }
  std::string log() {
    const std::lock_guard lock(mutex_);
    return log_;
  }

 private:
  monitor::Registry metrics_{"bridge", "test"};  // outlives the service
  std::unique_ptr<BridgeService> service_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::string log_;
};

/// The test's terminal: writes its own lines (so it knows them byte for byte).
class Terminal {
 public:
  Terminal(int port, std::vector<std::string> symbols) {
    auto s = BridgeSocket::connect("127.0.0.1", port, 2000ms);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    socket_.emplace(std::move(*s));
    Hello hello;
    hello.role = "terminal";
    hello.terminal = "test";
    hello.account = "42";
    hello.server_utc_offset_s = -10800;
    hello.symbols = std::move(symbols);
    send(hello);
    const Message answer = expect(1);
    EXPECT_TRUE(std::holds_alternative<Hello>(answer.body));
    if (const auto* h = std::get_if<Hello>(&answer.body)) platform_hello = *h;
    const Message positions = expect(2);
    EXPECT_TRUE(std::holds_alternative<PositionsMsg>(positions.body) && std::get<PositionsMsg>(positions.body).request);
  }

  std::string send(Body body) {
    const std::string line = encode(Message{++seq_, 1'700'000'000'000 + seq_, std::move(body)});
    EXPECT_TRUE(socket_->send_raw(line + "\n").has_value());
    return line;
  }

  /// The next message that is not a heartbeat.
  Message expect(std::int64_t seq = 0) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = socket_->receive(100ms);
      EXPECT_TRUE(m.has_value()) << m.error().message;
      if (!m) return {};
      if (*m && !std::holds_alternative<Heartbeat>((*m)->body)) {
        if (seq > 0) {
          EXPECT_EQ((*m)->seq, seq);
        }
        return **m;
      }
    }
    ADD_FAILURE() << "nothing but heartbeats for 3 s";
    return {};
  }

  /// Nothing but heartbeats for `quiet`.
  bool silent_for(std::chrono::milliseconds quiet) {
    const auto deadline = std::chrono::steady_clock::now() + quiet;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = socket_->receive(20ms);
      if (!m) return false;
      if (*m && !std::holds_alternative<Heartbeat>((*m)->body)) return false;
    }
    return true;
  }

  Resume resume(const std::string& symbol) const {
    for (const auto& [s, r] : platform_hello.resume)
      if (s == symbol) return r;
    ADD_FAILURE() << "no resume for " << symbol;
    return {};
  }

  BridgeSocket& socket() { return *socket_; }
  Hello platform_hello;

 private:
  std::optional<BridgeSocket> socket_;
  std::int64_t seq_ = 0;
};

TickMsg tick(const std::string& symbol, std::int64_t msc, double last) {
  TickMsg t;
  t.symbol = symbol;
  t.tick.ts = from_epoch_ns(msc * 1'000'000);
  t.tick.bid = last - 5;
  t.tick.ask = last;
  t.tick.last = last;
  t.tick.volume = 1;
  t.tick.flags = kTickLast | kTickVolume;
  return t;
}

BarMsg bar(const std::string& symbol, std::int64_t time_s) {
  BarMsg b;
  b.symbol = symbol;
  b.bar.ts = from_epoch_ns(time_s * 1'000'000'000);
  b.bar.open = b.bar.high = b.bar.low = b.bar.close = 123450;
  b.bar.tick_volume = 10;
  return b;
}

FillMsg fill(const std::string& exec_id) {
  FillMsg f;
  f.cl_ord_id = "L1-1";
  f.exec_id = exec_id;
  f.symbol = "WIN";
  f.qty = 1;
  f.price = 123455;
  f.time_msc = 1'700'000'000'000;
  f.cum_qty = 1;
  return f;
}

OrderAck ack(const std::string& cl_ord_id, ExecType et = ExecType::New, OrdStatus os = OrdStatus::New) {
  return OrderAck{cl_ord_id, "WIN", "5512345", et, os, "", 0, 1'700'000'000'000};
}

OrderNew order(const std::string& cl_ord_id, OrderPurpose purpose) {
  OrderNew o;
  o.cl_ord_id = cl_ord_id;
  o.symbol = "WIN";
  o.qty = 1;
  o.purpose = purpose;
  return o;
}

class BridgeServiceTest : public quant::testing::RedisTest {
 protected:
  std::vector<stream::Entry> range(std::string_view key) {
    auto r = stream::read_range(redis.endpoint(), key);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? *r : std::vector<stream::Entry>{};
  }
  /// Waits until `key` holds `n` entries (fails after 3 s).
  std::vector<stream::Entry> wait_for(std::string_view key, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    auto entries = range(key);
    while (entries.size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      entries = range(key);
    }
    EXPECT_EQ(entries.size(), n) << key;
    return entries;
  }
  void add_order(const Body& body) {
    auto p = stream::Producer::connect(redis.endpoint());
    ASSERT_TRUE(p.has_value()) << p.error().message;
    p->add(stream::kOrders, {{"msg", encode(Message{1, 1'700'000'000'000, body})}});
    auto r = p->flush();
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  std::int64_t pending_orders() {
    auto c = stream::Consumer::connect(redis.endpoint(), "bridge", "observer", {std::string(stream::kOrders)}, "$");
    EXPECT_TRUE(c.has_value()) << c.error().message;
    auto n = c->pending();
    EXPECT_TRUE(n.has_value()) << n.error().message;
    return n ? *n : -1;
  }
  /// Waits until the group's pending count is `n`.
  void wait_pending(std::int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (pending_orders() != n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(pending_orders(), n);
  }
};

TEST_F(BridgeServiceTest, InboundLandsInItsStreamsUnderOneIncreasingCounter) {
  Bridge bridge(redis.endpoint());
  Terminal t(bridge.port(), {"WIN", "WDO"});
  EXPECT_EQ(t.resume("WIN").tick_msc, 0);
  EXPECT_EQ(t.resume("WDO").bar_time, 0);

  BookMsg book;
  book.symbol = "WIN";
  book.book.bids = {{123450, 3}};
  book.book.asks = {{123455, 2}};
  PositionsMsg positions;
  positions.positions = {{"WIN", 1, 123455}};
  const std::vector<std::string> lines = {t.send(tick("WIN", 1000, 123455)),
                                          t.send(tick("WDO", 1001, 5000)),
                                          t.send(book),
                                          t.send(bar("WIN", 60)),
                                          t.send(fill("D1")),
                                          t.send(ack("L1-1")),
                                          t.send(tick("WIN", 1002, 123460)),
                                          t.send(positions)};
  const auto fills = wait_for(stream::kFills, 3);
  const auto win = wait_for(stream::tick_key("WIN"), 2);
  const auto wdo = wait_for(stream::tick_key("WDO"), 1);
  const auto books = wait_for(stream::book_key("WIN"), 1);
  const auto bars = wait_for(stream::bar_key("WIN"), 1);
  ASSERT_EQ(fills.size(), 3u);
  ASSERT_EQ(win.size(), 2u);
  ASSERT_TRUE(wdo.size() == 1 && books.size() == 1 && bars.size() == 1);

  // In the order sent: one counter over every stream, `<n>-1`.
  const std::vector<const stream::Entry*> in_order = {&win[0],   &wdo[0],   &books[0], &bars[0],
                                                      &fills[0], &fills[1], &win[1],   &fills[2]};
  for (std::size_t i = 0; i < in_order.size(); ++i) {
    EXPECT_EQ(in_order[i]->field("msg"), lines[i]) << i;  // the line exactly as received
    EXPECT_EQ(in_order[i]->id.seq, 1u);
    EXPECT_FALSE(in_order[i]->field("recv_ns").empty());
    if (i > 0) {
      EXPECT_EQ(in_order[i]->id.ms, in_order[i - 1]->id.ms + 1) << i;
    }
  }
  EXPECT_EQ(win[0].field("type"), "tick");
  EXPECT_EQ(books[0].field("type"), "book");
  EXPECT_EQ(bars[0].field("type"), "bar");
  EXPECT_EQ(fills[0].field("type"), "fill");
  EXPECT_EQ(fills[1].field("type"), "order_ack");
  EXPECT_EQ(fills[2].field("type"), "positions");
}

TEST_F(BridgeServiceTest, WhatAReconnectingTerminalSendsAgainIsDropped) {
  {
    Bridge bridge(redis.endpoint());
    {
      Terminal t(bridge.port(), {"WIN"});
      t.send(tick("WIN", 1000, 1));
      t.send(tick("WIN", 2000, 2));
      t.send(tick("WIN", 2000, 3));
      t.send(bar("WIN", 60));
      t.send(fill("D1"));
      t.send(ack("L1-1"));
      wait_for(stream::kFills, 2);
      wait_for(stream::tick_key("WIN"), 3);
    }
    // The same bridge: a terminal that sends everything again from before the resume point.
    Terminal t(bridge.port(), {"WIN"});
    EXPECT_EQ(t.resume("WIN").tick_msc, 2000);
    EXPECT_EQ(t.resume("WIN").ticks_at_msc, 2);
    EXPECT_EQ(t.resume("WIN").bar_time, 60);
    t.send(tick("WIN", 1000, 1));
    t.send(tick("WIN", 2000, 2));
    t.send(tick("WIN", 2000, 3));
    t.send(tick("WIN", 2000, 4));  // new: a third at the resume time
    t.send(tick("WIN", 3000, 5));
    t.send(bar("WIN", 60));
    t.send(bar("WIN", 120));
    t.send(fill("D1"));
    t.send(fill("D2"));
    t.send(ack("L1-1"));
    t.send(ack("L1-1", ExecType::Canceled, OrdStatus::Canceled));
    const auto ticks = wait_for(stream::tick_key("WIN"), 5);
    EXPECT_EQ(std::get<TickMsg>(decode(ticks[3].field("msg"))->body).tick.last, 4);
    EXPECT_EQ(std::get<TickMsg>(decode(ticks[4].field("msg"))->body).tick.last, 5);
    wait_for(stream::bar_key("WIN"), 2);
    const auto fills = wait_for(stream::kFills, 4);
    EXPECT_EQ(fills[2].field("type"), "fill");
    EXPECT_NE(fills[2].field("msg").find("\"D2\""), std::string::npos);
    EXPECT_NE(fills[3].field("msg").find("canceled"), std::string::npos);
  }
  // A restarted bridge reads the resume point and the seen fills from Redis;
  // this terminal honours the resume and starts after it.
  Bridge bridge(redis.endpoint());
  Terminal t(bridge.port(), {"WIN"});
  EXPECT_EQ(t.resume("WIN").tick_msc, 3000);
  EXPECT_EQ(t.resume("WIN").ticks_at_msc, 1);
  EXPECT_EQ(t.resume("WIN").bar_time, 120);
  t.send(fill("D2"));
  t.send(tick("WIN", 3000, 6));  // at the resume time, after the published one: new
  t.send(fill("D3"));
  const auto ticks = wait_for(stream::tick_key("WIN"), 6);
  const auto fills = wait_for(stream::kFills, 5);
  EXPECT_NE(fills[4].field("msg").find("\"D3\""), std::string::npos);
  EXPECT_GT(fills[4].id.ms, ticks[5].id.ms);  // the counter continued from Redis
  EXPECT_GT(ticks[5].id.ms, fills[3].id.ms);
}

TEST_F(BridgeServiceTest, AnOrderIsAcknowledgedOnlyOnceTheTerminalAckedItAndResentUntilThen) {
  Bridge bridge(redis.endpoint());
  {
    Terminal t(bridge.port(), {"WIN"});
    add_order(order("L1-5", OrderPurpose::Exit));
    const Message m = t.expect();
    ASSERT_TRUE(std::holds_alternative<OrderNew>(m.body));
    EXPECT_EQ(std::get<OrderNew>(m.body).cl_ord_id, "L1-5");
    EXPECT_EQ(pending_orders(), 1);
  }  // the terminal vanishes before acking
  Terminal t(bridge.port(), {"WIN"});
  const Message again = t.expect(3);  // after hello and the positions request
  ASSERT_TRUE(std::holds_alternative<OrderNew>(again.body));
  EXPECT_EQ(std::get<OrderNew>(again.body).cl_ord_id, "L1-5");
  EXPECT_EQ(pending_orders(), 1);
  t.send(ack("L1-5"));
  wait_pending(0);
  const auto fills = wait_for(stream::kFills, 1);
  EXPECT_EQ(fills[0].field("type"), "order_ack");

  // A cancel too waits for the terminal's answer (an ack of the order it
  // names): written to a terminal that dies before reading it, it goes again.
  add_order(OrderCancel{"L1-6", "L1-5", "WIN"});
  const Message cancel = t.expect();
  ASSERT_TRUE(std::holds_alternative<OrderCancel>(cancel.body));
  EXPECT_EQ(pending_orders(), 1);
  t.send(ack("L1-5", ExecType::Canceled, OrdStatus::Canceled));
  wait_pending(0);
  EXPECT_NE(bridge.log().find("connection #2"), std::string::npos) << bridge.log();
}

// Engines that split the symbols each write their own order stream, with ids
// that collide across streams (`1-1` in both): the bridge reads every stream
// registered in exec:order-streams — one before it started, one found later —
// and settles each entry in its own stream.
TEST_F(BridgeServiceTest, EveryRegisteredOrderStreamIsReadEachEntryByItsStreamAndId) {
  const auto e = redis.endpoint();
  auto add = [&](const std::string& key, const OrderNew& o) {
    auto p = stream::Producer::connect(e);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    p->add(key, stream::StreamId{1, 1}, {{"msg", encode(Message{1, 1'700'000'000'000, o})}});
    auto r = p->flush();
    ASSERT_TRUE(r.has_value()) << r.error().message;
  };
  auto pending = [&](const std::string& key) {
    auto c = stream::Consumer::connect(e, "bridge", "observer", {key}, "$");
    EXPECT_TRUE(c.has_value()) << c.error().message;
    auto n = c->pending();
    return n ? *n : -1;
  };
  ASSERT_TRUE(stream::register_order_stream(e, "exec:orders:W", "bridge"));
  add("exec:orders:W", order("W-WIN-1", OrderPurpose::Entry));  // before the bridge runs
  Bridge bridge(e);
  Terminal t(bridge.port(), {"WIN", "WDO"});
  Message first = t.expect(3);
  ASSERT_TRUE(std::holds_alternative<OrderNew>(first.body));
  EXPECT_EQ(std::get<OrderNew>(first.body).cl_ord_id, "W-WIN-1");

  ASSERT_TRUE(stream::register_order_stream(e, "exec:orders:D", "bridge"));  // a second engine starts
  OrderNew wdo = order("D-WDO-1", OrderPurpose::Entry);
  wdo.symbol = "WDO";
  add("exec:orders:D", wdo);
  Message second = t.expect();  // within the discovery interval (1 s)
  ASSERT_TRUE(std::holds_alternative<OrderNew>(second.body));
  EXPECT_EQ(std::get<OrderNew>(second.body).cl_ord_id, "D-WDO-1");
  EXPECT_EQ(pending("exec:orders:W"), 1);
  EXPECT_EQ(pending("exec:orders:D"), 1);
  t.send(ack("D-WDO-1"));
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (pending("exec:orders:D") != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(pending("exec:orders:D"), 0);
  EXPECT_EQ(pending("exec:orders:W"), 1);  // W's order, same id, still waits for its own ack
  t.send(ack("W-WIN-1"));
  while (pending("exec:orders:W") != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(pending("exec:orders:W"), 0);
  EXPECT_NE(bridge.log().find("reading the order streams exec:orders, exec:orders:D, exec:orders:W"), std::string::npos)
      << bridge.log();
}

TEST_F(BridgeServiceTest, HaltBlocksEntriesAndPassesExits) {
  Bridge bridge(redis.endpoint());
  Terminal t(bridge.port(), {"WIN"});
  ASSERT_TRUE(stream::set_halt(redis.endpoint(), {"daily loss -3.1%", "2024-01-02T15:00:00Z", 97000, "live"}));
  add_order(order("L1-7", OrderPurpose::Entry));
  add_order(order("L1-8", OrderPurpose::StopLoss));
  const Message m = t.expect();
  ASSERT_TRUE(std::holds_alternative<OrderNew>(m.body));
  EXPECT_EQ(std::get<OrderNew>(m.body).cl_ord_id, "L1-8");
  const auto fills = wait_for(stream::kFills, 1);
  auto reject = decode(fills[0].field("msg"));
  ASSERT_TRUE(reject.has_value()) << reject.error().message;
  const auto& a = std::get<OrderAck>(reject->body);
  EXPECT_EQ(a.cl_ord_id, "L1-7");
  EXPECT_EQ(a.exec_type, ExecType::Rejected);
  EXPECT_EQ(a.reason, "risk:halt is set: daily loss -3.1%");
  wait_pending(1);  // the exit waits for its ack; the refused entry is done

  ASSERT_TRUE(stream::clear_halt(redis.endpoint()));
  std::this_thread::sleep_for(250ms);  // the flag is read at most every 200 ms
  add_order(order("L1-9", OrderPurpose::Entry));
  const Message next = t.expect();
  ASSERT_TRUE(std::holds_alternative<OrderNew>(next.body));
  EXPECT_EQ(std::get<OrderNew>(next.body).cl_ord_id, "L1-9");
}

TEST_F(BridgeServiceTest, AnOversizedLineDropsTheTerminalNotTheService) {
  Bridge bridge(redis.endpoint());
  {
    Terminal t(bridge.port(), {"WIN"});
    // A second terminal is closed before any hello while the first is served.
    auto second = BridgeSocket::connect("127.0.0.1", bridge.port(), 2000ms);
    ASSERT_TRUE(second.has_value());
    auto closed = second->receive(2000ms);
    ASSERT_FALSE(closed.has_value());
    EXPECT_NE(closed.error().message.find("closed the connection"), std::string::npos);

    std::thread writer([&] { (void)t.socket().send_raw(std::string(kMaxLine + 10, 'x') + "\n", 2000ms); });
    // The bridge closes the connection: the terminal sees EOF after its heartbeats.
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    bool dropped = false;
    while (!dropped && std::chrono::steady_clock::now() < deadline) dropped = !t.socket().receive(100ms).has_value();
    writer.join();
    EXPECT_TRUE(dropped);
  }
  EXPECT_NE(bridge.log().find("line longer than 65536 bytes"), std::string::npos) << bridge.log();
  EXPECT_NE(bridge.log().find("a second terminal connected"), std::string::npos) << bridge.log();
  Terminal t(bridge.port(), {"WIN"});
  t.send(tick("WIN", 1000, 1));
  wait_for(stream::tick_key("WIN"), 1);
}

// A terminal that closes its connection and opens the next at once (an EA
// restarting) is served, not taken for a second terminal: the new connection
// can reach the listener before the old one's end was read. Many rounds, as
// each is one chance of that order.
TEST_F(BridgeServiceTest, ATerminalReconnectingAtOnceIsServedEveryTime) {
  Bridge bridge(redis.endpoint());
  for (int round = 1; round <= 40; ++round) {
    Terminal t(bridge.port(), {"WIN"});
    t.send(tick("WIN", 1000 * round, round));
    if (::testing::Test::HasFailure()) FAIL() << "round " << round << "\n" << bridge.log();
  }
  wait_for(stream::tick_key("WIN"), 40);
  EXPECT_EQ(bridge.log().find("a second terminal connected"), std::string::npos) << bridge.log();
}

TEST_F(BridgeServiceTest, ASeqGapDropsTheConnection) {
  Bridge bridge(redis.endpoint());
  Terminal t(bridge.port(), {"WIN"});
  ASSERT_TRUE(t.socket().send_raw(encode(Message{7, 1, tick("WIN", 1000, 1)}) + "\n").has_value());
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  bool dropped = false;
  while (!dropped && std::chrono::steady_clock::now() < deadline) dropped = !t.socket().receive(100ms).has_value();
  EXPECT_TRUE(dropped);
  EXPECT_NE(bridge.log().find("seq gap: expected 2, got 7"), std::string::npos) << bridge.log();
  EXPECT_TRUE(range(stream::tick_key("WIN")).empty());
  const std::string metrics = bridge.metrics();
  for (const char* line : {"quant_bridge_sequence_faults_total{kind=\"gap\"} 1", "quant_bridge_sequence_faults_total{kind=\"repeat\"} 0",
                           "quant_bridge_terminal_connected 0", "quant_bridge_connections_total 1",
                           "quant_bridge_terminal_drops_total 1",
                           "quant_bridge_messages_total{direction=\"in\",type=\"hello\"} 1",
                           "quant_bridge_messages_total{direction=\"out\",type=\"hello\"} 1"}) {
    EXPECT_NE(metrics.find(std::string("\n") + line + "\n"), std::string::npos) << line << " not in\n" << metrics;
  }
}

}  // namespace
}  // namespace quant::execution::bridge
