#include "execution/bridge_socket.h"

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace quant::execution::bridge {
namespace {

using std::chrono::milliseconds;

struct Pair {
  BridgeListener listener;
  BridgeSocket terminal;
  BridgeSocket platform;
};

Pair connected() {
  auto listener = BridgeListener::listen("127.0.0.1", 0);
  EXPECT_TRUE(listener.has_value()) << listener.error().message;
  EXPECT_GT(listener->port(), 0);
  auto terminal = BridgeSocket::connect("127.0.0.1", listener->port(), milliseconds(2000));
  EXPECT_TRUE(terminal.has_value()) << terminal.error().message;
  auto accepted = listener->accept(milliseconds(2000));
  EXPECT_TRUE(accepted.has_value() && accepted->has_value());
  return Pair{std::move(*listener), std::move(*terminal), std::move(**accepted)};
}

Message receive_one(BridgeSocket& s) {
  auto m = s.receive(milliseconds(2000));
  EXPECT_TRUE(m.has_value()) << m.error().message;
  EXPECT_TRUE(m.has_value() && m->has_value()) << "timed out";
  return m && *m ? **m : Message{};
}

TEST(BridgeSocket, MessagesFlowBothWaysNumberedFromOne) {
  auto p = connected();
  Hello hello;
  hello.role = "terminal";
  hello.symbols = {"WIN"};
  ASSERT_TRUE(p.terminal.send(hello).has_value());
  TickMsg tick;
  tick.symbol = "WIN";
  tick.tick.bid = 123450;
  ASSERT_TRUE(p.terminal.send(tick).has_value());

  const Message first = receive_one(p.platform);
  EXPECT_EQ(first.seq, 1);
  EXPECT_GT(first.t_ms, 1'600'000'000'000);
  EXPECT_EQ(std::get<Hello>(first.body).symbols, hello.symbols);
  const Message second = receive_one(p.platform);
  EXPECT_EQ(second.seq, 2);
  EXPECT_EQ(std::get<TickMsg>(second.body).tick.bid, 123450);
  EXPECT_EQ(p.platform.last_line(), encode(second));
  EXPECT_EQ(p.platform.received_seq(), 2);

  ASSERT_TRUE(p.platform.send(Heartbeat{"m"}).has_value());
  const Message hb = receive_one(p.terminal);
  EXPECT_EQ(hb.seq, 1);
  EXPECT_EQ(std::get<Heartbeat>(hb.body).mark, "m");
  EXPECT_EQ(p.terminal.sent_seq(), 2);
}

TEST(BridgeSocket, TimeoutIsNotAnError) {
  auto p = connected();
  const auto start = std::chrono::steady_clock::now();
  auto m = p.platform.receive(milliseconds(50));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_FALSE(m->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(45));
}

TEST(BridgeSocket, LinesSplitAndMergedAcrossTcpReads) {
  auto p = connected();
  const std::string a = encode(Message{1, 5, Heartbeat{"a"}});
  const std::string b = encode(Message{2, 5, Heartbeat{"b"}});
  const std::string c = encode(Message{3, 5, Heartbeat{"c"}});
  // Half a line, then the rest with two more lines (one CRLF) in one write.
  ASSERT_TRUE(p.terminal.send_raw(a.substr(0, 10)).has_value());
  auto none = p.platform.receive(milliseconds(50));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(p.terminal.send_raw(a.substr(10) + "\n" + b + "\r\n" + c + "\n").has_value());
  EXPECT_EQ(std::get<Heartbeat>(receive_one(p.platform).body).mark, "a");
  EXPECT_EQ(std::get<Heartbeat>(receive_one(p.platform).body).mark, "b");
  EXPECT_EQ(std::get<Heartbeat>(receive_one(p.platform).body).mark, "c");
}

TEST(BridgeSocket, SeqGapIsAnError) {
  auto p = connected();
  ASSERT_TRUE(p.terminal.send_raw(encode(Message{1, 5, Heartbeat{}}) + "\n" + encode(Message{3, 5, Heartbeat{}}) + "\n")
                  .has_value());
  receive_one(p.platform);
  auto gap = p.platform.receive(milliseconds(2000));
  ASSERT_FALSE(gap.has_value());
  EXPECT_NE(gap.error().message.find("seq gap: expected 2, got 3"), std::string::npos) << gap.error().message;
}

TEST(BridgeSocket, BadJsonIsNamed) {
  auto p = connected();
  ASSERT_TRUE(p.terminal
                  .send_raw(R"({"type":"order_new","seq":1,"t_ms":1,"qty":2})"
                            "\n")
                  .has_value());
  auto bad = p.platform.receive(milliseconds(2000));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("order_new: field cl_ord_id: missing in line '{\"type\":\"order_new\""),
            std::string::npos)
      << bad.error().message;
}

TEST(BridgeSocket, ALineOver64KiBIsDropped) {
  auto p = connected();
  // The writer runs beside the reader: the kernel's buffers do not hold 64 KiB on every system.
  std::thread writer([&] { (void)p.terminal.send_raw(std::string(kMaxLine + 100, 'x') + "\n", milliseconds(3000)); });
  auto m = p.platform.receive(milliseconds(3000));
  writer.join();
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("line longer than 65536 bytes"), std::string::npos) << m.error().message;
}

TEST(BridgeSocket, APeerVanishingIsAnError) {
  auto p = connected();
  ASSERT_TRUE(p.terminal.send(Heartbeat{}).has_value());
  p.terminal.close();
  EXPECT_FALSE(p.terminal.is_open());
  receive_one(p.platform);  // what was sent before it vanished still arrives
  auto m = p.platform.receive(milliseconds(2000));
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("the peer closed the connection"), std::string::npos) << m.error().message;
  EXPECT_FALSE(p.terminal.send(Heartbeat{}).has_value());
}

TEST(BridgeSocket, ConnectFailsNamingTheAddress) {
  int port = 0;
  {
    auto l = BridgeListener::listen("127.0.0.1", 0);
    ASSERT_TRUE(l.has_value());
    port = l->port();
  }  // closed: nobody listens there now
  auto s = BridgeSocket::connect("127.0.0.1", port, milliseconds(1000));
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("connect 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << s.error().message;
  EXPECT_FALSE(BridgeListener::listen("127.0.0.1", 70000).has_value());
}

TEST(BridgeListener, AcceptTimesOutAndMovesKeepOwnership) {
  auto l = BridgeListener::listen("127.0.0.1", 0);
  ASSERT_TRUE(l.has_value());
  auto none = l->accept(milliseconds(20));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  BridgeListener moved = std::move(*l);
  EXPECT_EQ(l->fd(), -1);
  auto s = BridgeSocket::connect("localhost", moved.port(), milliseconds(1000));
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto accepted = moved.accept(milliseconds(1000));
  ASSERT_TRUE(accepted.has_value() && accepted->has_value());
  BridgeSocket a = std::move(**accepted);
  EXPECT_GE(a.fd(), 0);
  EXPECT_FALSE(a.peer().empty());
}

}  // namespace
}  // namespace quant::execution::bridge
