// A real QuickFIX acceptor (our simulated exchange: replay's Terminal) and a
// real initiator (the platform's FixVenue) on loopback, each with its file
// store in a temporary directory: orders, fills, partial fills, rejects,
// cancels, replaces, OrderCancelReject, and a dropped platform that gets the
// reports it missed resent from the exchange's store.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "core/test_bars.h"
#include "fix/test_fix.h"

namespace quant::fix {
namespace {

using namespace std::chrono_literals;
using quant::testing::brt_march_2021;
using quant::testing::ohlc_bar;
namespace fs = std::filesystem;

replay::InstrumentSetup win(double participation = 0) {
  replay::InstrumentSetup s;
  s.spec = quant::testing::win_spec();
  s.spec.fee_per_side = 0.5;
  s.costs = costs_of(s.spec, 1);
  s.participation = participation;
  return s;
}

bridge::OrderNew order(const std::string& id, Side side, std::int64_t qty, OrderType type = OrderType::Market,
                       double price = 0, double stop = 0) {
  bridge::OrderNew o;
  o.cl_ord_id = id;
  o.symbol = "WIN";
  o.side = side;
  o.qty = qty;
  o.type = type;
  o.price = price;
  o.stop_price = stop;
  o.purpose = type == OrderType::Stop ? OrderPurpose::StopLoss : OrderPurpose::Entry;
  return o;
}

class FixSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("quant_fix_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = testing::free_port();
  }
  void TearDown() override {
    // Dropped without a Logout: the tests are about the stores, and a graceful logout waits for the peer.
    if (venue_) venue_->stop(true);
    if (exchange_) exchange_->fix().stop(true);
    venue_.reset();
    exchange_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open(double participation = 0) {
    exchange_ = std::make_unique<testing::SimulatedExchange>(testing::exchange_settings(dir_, port_),
                                                             std::vector{win(participation)});
    connect();
  }

  void connect() {
    B3Identity id;
    id.account = "1001";
    id.entering_trader = "TRD1";
    auto v = FixVenue::create(testing::venue_settings(dir_, port_), id);
    ASSERT_TRUE(v) << v.error().message;
    venue_ = std::move(*v);
    ASSERT_TRUE(venue_->start());
    ASSERT_TRUE(venue_->wait_logon(10s)) << "the venue did not log on";
    ASSERT_TRUE(exchange_->fix().wait_logon(10s));
  }

  void send(const bridge::Body& body) {
    auto sent = venue_->send(body);
    ASSERT_TRUE(sent) << sent.error().message;
  }

  /// Serves the exchange and collects the venue's reports until `n` more arrived (or 10 s).
  std::vector<Report> reports(std::size_t n) {
    std::vector<Report> got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
      exchange_->serve(5ms);
      for (auto& r : venue_->poll(5ms)) {
        if (const auto* f = std::get_if<bridge::FillMsg>(&r.message.body))
          position_ += (f->side == Side::Buy ? 1 : -1) * f->qty;
        got.push_back(std::move(r));
      }
    }
    EXPECT_EQ(got.size(), n) << "reports that arrived";
    return got;
  }

  /// Nothing more arrives for a while.
  void expect_quiet() {
    exchange_->serve(100ms);
    EXPECT_TRUE(venue_->poll(200ms).empty());
  }

  static const bridge::OrderAck& ack(const Report& r) {
    EXPECT_TRUE(std::holds_alternative<bridge::OrderAck>(r.message.body)) << bridge::type_name(r.message.body);
    static const bridge::OrderAck none;
    const auto* a = std::get_if<bridge::OrderAck>(&r.message.body);
    return a != nullptr ? *a : none;
  }
  static const bridge::FillMsg& fill(const Report& r) {
    EXPECT_TRUE(std::holds_alternative<bridge::FillMsg>(r.message.body)) << bridge::type_name(r.message.body);
    static const bridge::FillMsg none;
    const auto* f = std::get_if<bridge::FillMsg>(&r.message.body);
    return f != nullptr ? *f : none;
  }

  Bar bar(int minute, double o, double h, double l, double c, double volume = 1000) {
    return ohlc_bar(brt_march_2021(2, 10, minute), o, h, l, c, volume);
  }

  fs::path dir_;
  int port_ = 0;
  std::unique_ptr<testing::SimulatedExchange> exchange_;
  std::unique_ptr<FixVenue> venue_;
  std::int64_t position_ = 0;  ///< the platform's position, from the fills it received
};

TEST_F(FixSessionTest, AMarketOrderIsAcceptedThenFilledAtTheNextOpen) {
  open();
  send(order("L1WIN-1", Side::Buy, 2));
  auto r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).cl_ord_id, "L1WIN-1");
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::New);
  EXPECT_EQ(ack(r[0]).ord_status, bridge::OrdStatus::New);
  EXPECT_FALSE(r[0].poss_dup);
  EXPECT_GT(r[0].message.seq, 1);  // the FIX MsgSeqNum (1 was the exchange's Logon)

  exchange_->bar(bar(0, 120000, 120050, 119950, 120010));
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  const bridge::FillMsg& f = fill(r[0]);
  EXPECT_EQ(f.cl_ord_id, "L1WIN-1");
  EXPECT_EQ(f.qty, 2);
  EXPECT_EQ(f.price, 120005);  // the open + 1 tick of slippage, as in the backtest
  EXPECT_DOUBLE_EQ(f.fee, 1.0);
  EXPECT_EQ(f.cum_qty, 2);
  EXPECT_EQ(f.leaves_qty, 0);
  EXPECT_EQ(f.ord_status, bridge::OrdStatus::Filled);
  EXPECT_EQ(position_, 2);
  EXPECT_EQ(exchange_->position("WIN"), 2);
  EXPECT_EQ(venue_->stats().session.rejects_received, 0);
  expect_quiet();
}

TEST_F(FixSessionTest, PartialFillsFollowTheParticipationModel) {
  open(0.001);  // 1 contract of a 1,000-contract bar
  send(order("L1WIN-1", Side::Sell, 3));
  ASSERT_EQ(reports(1).size(), 1u);
  std::vector<bridge::FillMsg> fills;
  for (int m = 0; m < 3; ++m) {
    exchange_->bar(bar(m, 120000 + 10 * m, 120050 + 10 * m, 119950, 120010));
    for (const Report& r : reports(1)) fills.push_back(fill(r));
  }
  ASSERT_EQ(fills.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(fills[i].qty, 1);
    EXPECT_EQ(fills[i].cum_qty, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(fills[i].leaves_qty, static_cast<std::int64_t>(2 - i));
    EXPECT_EQ(fills[i].ord_status, i < 2 ? bridge::OrdStatus::PartiallyFilled : bridge::OrdStatus::Filled);
    EXPECT_EQ(fills[i].exec_id, "L1WIN-1#" + std::to_string(i + 1));
  }
  EXPECT_EQ(position_, -3);
  EXPECT_EQ(exchange_->position("WIN"), -3);
}

TEST_F(FixSessionTest, AnOrderForAnUnknownSymbolIsRejected) {
  open();
  bridge::OrderNew o = order("L1WIN-1", Side::Buy, 1);
  o.symbol = "PETR4";
  send(o);
  auto r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::Rejected);
  EXPECT_EQ(ack(r[0]).ord_status, bridge::OrdStatus::Rejected);
  EXPECT_EQ(ack(r[0]).reason, "unknown symbol 'PETR4'");
  exchange_->bar(bar(0, 120000, 120050, 119950, 120010));
  expect_quiet();
  EXPECT_EQ(exchange_->position("WIN"), 0);
}

TEST_F(FixSessionTest, CancelAndCancelReplaceAreAcceptedAndTheChainHolds) {
  open();
  send(order("L1WIN-1", Side::Buy, 1, OrderType::Limit, 110000));
  send(order("L1WIN-2", Side::Sell, 1, OrderType::Stop, 0, 110000));
  ASSERT_EQ(reports(2).size(), 2u);
  exchange_->bar(bar(0, 120000, 120050, 119950, 120010));  // neither trades
  expect_quiet();

  send(bridge::OrderCancel{"L1WIN-1/c1", "L1WIN-1", "WIN"});
  auto r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).cl_ord_id, "L1WIN-1");
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::Canceled);

  send(bridge::OrderReplace{"L1WIN-2/r2", "L1WIN-2", "WIN", 119000});
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).cl_ord_id, "L1WIN-2");
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::Replaced);
  EXPECT_EQ(ack(r[0]).stop_price, 119000);
  // A second replace names the order by its latest ClOrdID (L1WIN-2/r2) on the wire.
  send(bridge::OrderReplace{"L1WIN-2/r3", "L1WIN-2", "WIN", 119500});
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::Replaced);
  EXPECT_EQ(ack(r[0]).stop_price, 119500);
  // The stop at 119500 trades when a bar reaches it; at 119000 it would not.
  exchange_->bar(bar(1, 119800, 119850, 119300, 119400));
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(fill(r[0]).cl_ord_id, "L1WIN-2");
  EXPECT_EQ(fill(r[0]).price, 119495);  // the stop − 1 tick of slippage
  EXPECT_EQ(position_, -1);
  EXPECT_EQ(exchange_->position("WIN"), -1);
}

TEST_F(FixSessionTest, RefusedCancelsAndReplacesComeBackAsOrderCancelReject) {
  open();
  send(order("L1WIN-1", Side::Buy, 1));
  ASSERT_EQ(reports(1).size(), 1u);
  exchange_->bar(bar(0, 120000, 120050, 119950, 120010));
  ASSERT_EQ(reports(1).size(), 1u);  // filled

  const auto rejects_before = venue_->stats().session.received;
  send(bridge::OrderReplace{"L1WIN-1/r1", "L1WIN-1", "WIN", 119000});
  auto r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).cl_ord_id, "L1WIN-1");
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::Rejected);
  EXPECT_EQ(ack(r[0]).ord_status, bridge::OrdStatus::Filled);  // the order stays filled
  EXPECT_EQ(ack(r[0]).reason, "replace rejected: the order is filled");

  send(bridge::OrderCancel{"L1WIN-1/c2", "L1WIN-1", "WIN"});
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::Rejected);
  EXPECT_EQ(ack(r[0]).reason, "cancel rejected: the order is filled");

  // An order the platform believes it sent but the exchange never had (lost before a restart).
  venue_->remember(order("L1WIN-9", Side::Buy, 1, OrderType::Limit, 110000));
  send(bridge::OrderCancel{"L1WIN-9/c3", "L1WIN-9", "WIN"});
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).cl_ord_id, "L1WIN-9");
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::Rejected);
  EXPECT_EQ(ack(r[0]).ord_status, bridge::OrdStatus::Rejected);
  EXPECT_EQ(ack(r[0]).reason, "cancel rejected: unknown order 'L1WIN-9'");
  EXPECT_EQ(venue_->stats().session.received - rejects_before, 3);  // three 35=9 messages
  EXPECT_EQ(position_, 1);
}

TEST_F(FixSessionTest, ADroppedPlatformGetsTheMissedReportsResentFromTheStore) {
  open();
  send(order("L1WIN-1", Side::Buy, 2));
  send(order("L1WIN-2", Side::Sell, 2, OrderType::Stop, 0, 119500));
  ASSERT_EQ(reports(2).size(), 2u);
  exchange_->bar(bar(0, 120000, 120050, 119950, 120010));  // the entry fills
  ASSERT_EQ(reports(1).size(), 1u);
  EXPECT_EQ(position_, 2);
  const int seen = venue_->next_target_seq();

  // The platform dies (no Logout); the exchange trades on without it.
  venue_->stop(true);
  venue_.reset();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (exchange_->fix().logged_on() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(exchange_->fix().logged_on()) << "the exchange did not notice the drop";
  exchange_->bar(bar(1, 119800, 119850, 119300, 119400));  // the stop trades: the position is flat
  EXPECT_EQ(exchange_->position("WIN"), 0);
  const int sent_while_away = exchange_->fix().next_sender_seq() - seen;
  EXPECT_EQ(sent_while_away, 1);  // one fill, stored, not delivered

  // The platform restarts on the same store: its Logon shows the gap, it asks, the exchange resends.
  connect();
  auto r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].poss_dup);
  EXPECT_EQ(fill(r[0]).cl_ord_id, "L1WIN-2");
  EXPECT_EQ(fill(r[0]).qty, 2);
  EXPECT_EQ(r[0].message.seq, seen);
  EXPECT_GE(venue_->stats().session.resend_requests_sent, 1);
  EXPECT_GE(exchange_->fix().stats().session.resend_requests_received, 1);
  EXPECT_EQ(position_, 0);
  EXPECT_EQ(position_, exchange_->position("WIN"));
  EXPECT_EQ(venue_->next_target_seq(), exchange_->fix().next_sender_seq());
  expect_quiet();

  // Orders sent while the session is down go out as the resend after the next logon.
  venue_->stop(true);
  venue_.reset();
  while (exchange_->fix().logged_on()) std::this_thread::sleep_for(10ms);
  {
    B3Identity id;
    auto v = FixVenue::create(testing::venue_settings(dir_, port_), id);
    ASSERT_TRUE(v) << v.error().message;
    venue_ = std::move(*v);
    // Not started: the order is stored under its sequence number.
    send(order("L1WIN-3", Side::Buy, 1));
    ASSERT_TRUE(venue_->start());
    ASSERT_TRUE(venue_->wait_logon(10s));
  }
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ack(r[0]).cl_ord_id, "L1WIN-3");
  EXPECT_EQ(ack(r[0]).exec_type, bridge::ExecType::New);
}

TEST_F(FixSessionTest, APlatformThatLostReportsAsksForThemAgain) {
  open();
  send(order("L1WIN-1", Side::Buy, 1));
  ASSERT_EQ(reports(1).size(), 1u);
  exchange_->bar(bar(0, 120000, 120050, 119950, 120010));
  auto r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  const int fill_seq = static_cast<int>(r[0].message.seq);
  // A restarted platform whose journal ends before the fill: it expects the fill's seq again.
  venue_->stop();
  venue_.reset();
  {
    auto v = FixVenue::create(testing::venue_settings(dir_, port_), B3Identity{});
    ASSERT_TRUE(v) << v.error().message;
    venue_ = std::move(*v);
    ASSERT_TRUE(venue_->expect_next(fill_seq));
    ASSERT_TRUE(venue_->start());
    ASSERT_TRUE(venue_->wait_logon(10s));
  }
  r = reports(1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].poss_dup);
  EXPECT_EQ(r[0].message.seq, fill_seq);
  EXPECT_EQ(fill(r[0]).exec_id, "L1WIN-1#1");
}

}  // namespace
}  // namespace quant::fix

namespace quant::fix {
namespace {

TEST(FixDictionaryTest, ASessionRefusesToSendWhatTheDictionaryDoesNotDescribe) {
  const auto dir = std::filesystem::temp_directory_path() / ("quant_fix_dict_" + std::to_string(::getpid()));
  std::string error;
  auto session = Session::create(testing::venue_settings(dir, testing::free_port()), {}, {}, &error);
  ASSERT_TRUE(session) << error;
  RawMessage unknown_tag{"D", {{11, "A"}, {55, "WIN"}, {54, "1"}, {60, "20231114-22:13:20.123"}, {38, "1"},
                               {40, "1"}, {9999, "x"}}, 0, false};
  EXPECT_FALSE(session->send(unknown_tag, &error));
  EXPECT_NE(error.find("does not fit the dictionary"), std::string::npos) << error;
  RawMessage missing{"D", {{11, "A"}, {55, "WIN"}, {54, "1"}}, 0, false};  // no 60, 38, 40
  EXPECT_FALSE(session->send(missing, &error));
  RawMessage bad_value{"D", {{11, "A"}, {55, "WIN"}, {54, "9"}, {60, "20231114-22:13:20.123"}, {38, "1"},
                             {40, "1"}}, 0, false};
  EXPECT_FALSE(session->send(bad_value, &error));
  RawMessage good{"D", {{11, "A"}, {55, "WIN"}, {54, "1"}, {60, "20231114-22:13:20.123"}, {38, "1"}, {40, "1"}}, 0,
                  false};
  EXPECT_TRUE(session->send(good, &error)) << error;  // stored for the next logon
  EXPECT_EQ(session->next_sender_seq(), 2);
  session.reset();
  std::filesystem::remove_all(dir);
  auto bad = Session::create([&] {
    auto s = testing::venue_settings(dir, 1);
    s.dictionary = "/nonexistent.xml";
    return s;
  }(), {}, {}, &error);
  EXPECT_FALSE(bad);
  EXPECT_NE(error.find("/nonexistent.xml"), std::string::npos) << error;
}

}  // namespace
}  // namespace quant::fix
