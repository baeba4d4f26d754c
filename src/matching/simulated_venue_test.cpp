#include "matching/simulated_venue.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/test_bars.h"

namespace quant::matching {
namespace {

InstrumentSpec win() {
  InstrumentSpec s = testing::win_spec();
  s.fee_per_side = 0.26;
  return s;
}

Bar bar(std::int64_t minute, double o, double h, double l, double c, double volume = 1000) {
  return testing::minute_bar(minute, o, h, l, c, volume);
}

/// Records what the venue reports; can cancel an OCO partner on a fill.
struct Recorder final : engine::ExecutionListener {
  engine::ExecutionVenue* venue = nullptr;
  OrderId cancel_on_fill = 0;
  std::vector<std::string> log;
  std::vector<Fill> fills;
  void on_accepted(OrderId id, Timestamp) override { log.push_back("accepted " + std::to_string(id)); }
  void on_rejected(OrderId id, Timestamp, std::string_view r) override {
    log.push_back("rejected " + std::to_string(id) + ": " + std::string(r));
  }
  void on_fill(const Fill& f) override {
    fills.push_back(f);
    log.push_back("fill " + std::to_string(f.order_id));
    if (cancel_on_fill != 0) venue->cancel(cancel_on_fill);
  }
  void on_cancelled(OrderId id, Timestamp) override { log.push_back("cancelled " + std::to_string(id)); }
  void on_expired(OrderId id, Timestamp) override { log.push_back("expired " + std::to_string(id)); }
  void on_replaced(OrderId id, Timestamp, double p) override {
    log.push_back("replaced " + std::to_string(id) + " " + std::to_string(static_cast<int>(p)));
  }
};

Order order(OrderId id, Side side, OrderType type, std::int64_t qty, double stop = 0, double limit = 0,
            TimeInForce tif = TimeInForce::Gtc) {
  Order o;
  o.id = id;
  o.side = side;
  o.type = type;
  o.qty = qty;
  o.stop_price = stop;
  o.limit_price = limit;
  o.tif = tif;
  return o;
}

struct VenueTest : ::testing::Test {
  Recorder rec;
  SimulatedVenue venue{win(), CostModel{0.26, 1}, std::make_unique<FullFillModel>()};
  void SetUp() override {
    venue.set_listener(&rec);
    rec.venue = &venue;
  }
};

TEST_F(VenueTest, MarketOrdersFillAtTheNextOpenPlusSlippage) {
  venue.submit(order(1, Side::Buy, OrderType::Market, 2));
  venue.process(bar(1, 100000, 100100, 99900, 100050));
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].price, 100005);  // open + 1 tick of 5 points
  EXPECT_EQ(rec.fills[0].qty, 2);
  EXPECT_DOUBLE_EQ(rec.fills[0].fee, 0.52);
  EXPECT_EQ(rec.fills[0].ts, Timestamp(std::chrono::minutes(1)));
  EXPECT_EQ(venue.working(), 0u);
}

TEST_F(VenueTest, StopsFillAtTheStopOrAtTheOpenOnAGap) {
  venue.submit(order(1, Side::Sell, OrderType::Stop, 1, 99800));
  venue.process(bar(1, 100000, 100100, 99850, 99900));  // not touched
  EXPECT_TRUE(rec.fills.empty());
  venue.process(bar(2, 99900, 99950, 99700, 99750));  // touched: stop − 1 tick
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].price, 99795);
  venue.submit(order(2, Side::Sell, OrderType::Stop, 1, 99600));
  venue.process(bar(3, 99400, 99500, 99300, 99450));  // gap through: open − 1 tick
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[1].price, 99395);
}

TEST_F(VenueTest, LimitsFillAtTheLimitOrTheBetterOpen) {
  venue.submit(order(1, Side::Buy, OrderType::Limit, 1, 0, 99800));
  venue.process(bar(1, 99700, 99900, 99650, 99850));  // opens below the limit: fills at the open
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].price, 99700);
  venue.submit(order(2, Side::Sell, OrderType::Limit, 1, 0, 100000));
  venue.process(bar(2, 99850, 100020, 99800, 99900));
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[1].price, 100000);
}

TEST_F(VenueTest, WhenABarTouchesStopAndTargetTheStopFillsFirst) {
  // A long's stop at 99800 and target at 100200 (OCO): the bar spans both.
  venue.submit(order(1, Side::Sell, OrderType::Limit, 1, 0, 100200));
  venue.submit(order(2, Side::Sell, OrderType::Stop, 1, 99800));
  rec.cancel_on_fill = 1;  // the engine cancels the target once the stop filled
  venue.process(bar(1, 100000, 100300, 99700, 100100));
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].order_id, 2u);
  EXPECT_EQ(rec.fills[0].price, 99795);
  EXPECT_EQ(rec.log.back(), "cancelled 1");
}

TEST_F(VenueTest, ABarThatOpensBeyondTheTargetFillsItAtTheOpenBeforeTheStop) {
  // A long's target 100200 and stop 99800; the bar gaps up to 100250, then
  // falls through the stop. The open came first: the target fills at 100250.
  venue.submit(order(1, Side::Sell, OrderType::Stop, 1, 99800));
  venue.submit(order(2, Side::Sell, OrderType::Limit, 1, 0, 100200));
  rec.cancel_on_fill = 1;
  venue.process(bar(1, 100250, 100300, 99700, 99750));
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].order_id, 2u);
  EXPECT_EQ(rec.fills[0].price, 100250);
  EXPECT_EQ(rec.log.back(), "cancelled 1");
}

TEST_F(VenueTest, ABarThatOpensThroughTheStopFillsItAtTheOpenFirst) {
  // The mirror case: opens below the stop (gap down), later reaches the target.
  venue.submit(order(1, Side::Sell, OrderType::Limit, 1, 0, 100200));
  venue.submit(order(2, Side::Sell, OrderType::Stop, 1, 99800));
  rec.cancel_on_fill = 1;
  venue.process(bar(1, 99700, 100300, 99650, 100250));
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].order_id, 2u);
  EXPECT_EQ(rec.fills[0].price, 99695);  // the open − 1 tick of slippage
}

TEST_F(VenueTest, ABarThatOpenedBeforeTheOrderExistedNeverFillsIt) {
  // An order placed at 10:07:30 (minute 607.5); bars of 10:01 and 10:07 arrive
  // late (a backfill): neither may fill it, the 10:08 bar does at its open.
  Order o = order(1, Side::Buy, OrderType::Market, 1);
  o.created = Timestamp(std::chrono::seconds(607 * 60 + 30));
  venue.submit(o);
  Order limit = order(2, Side::Buy, OrderType::Limit, 1, 0, 100000, TimeInForce::Ioc);
  limit.created = o.created;
  venue.submit(limit);
  venue.process(bar(601, 99000, 99100, 98900, 99050));
  venue.process(bar(607, 99050, 99100, 98950, 99000));
  EXPECT_TRUE(rec.fills.empty());
  EXPECT_EQ(venue.working(), 2u);  // the IOC's first chance has not come yet either
  venue.process(bar(608, 99020, 99100, 98950, 99000));
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[0].order_id, 1u);
  EXPECT_EQ(rec.fills[0].price, 99025);
  EXPECT_EQ(rec.fills[1].order_id, 2u);
  EXPECT_EQ(rec.fills[1].price, 99020);
}

TEST_F(VenueTest, StopLimitWorksAsALimitOnceTriggered) {
  venue.submit(order(1, Side::Buy, OrderType::StopLimit, 1, 100100, 100050));
  venue.process(bar(1, 100000, 100150, 99990, 100120));  // triggered at 100100, limit 100050 below: bar reached it
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].price, 100050);
}

TEST_F(VenueTest, IocCancelsTheRestAndDayOrdersExpire) {
  venue.submit(order(1, Side::Buy, OrderType::Limit, 1, 0, 99000, TimeInForce::Ioc));
  venue.submit(order(2, Side::Buy, OrderType::Limit, 1, 0, 99000, TimeInForce::Day));
  venue.process(bar(1, 100000, 100100, 99900, 100050));
  EXPECT_EQ(rec.log.back(), "cancelled 1");
  venue.end_of_session(Timestamp(std::chrono::minutes(2)));
  EXPECT_EQ(rec.log.back(), "expired 2");
  EXPECT_EQ(venue.working(), 0u);
}

TEST_F(VenueTest, RejectsPricesOffTheGrid) {
  venue.submit(order(1, Side::Sell, OrderType::Stop, 1, 99802));
  EXPECT_EQ(rec.log.back(), "rejected 1: stop price must be positive and on the tick grid");
  venue.submit(order(2, Side::Sell, OrderType::Market, 0));
  EXPECT_EQ(rec.log.back(), "rejected 2: quantity must be positive");
}

TEST_F(VenueTest, ReplaceStopMovesAWorkingStop) {
  venue.submit(order(1, Side::Sell, OrderType::Stop, 1, 99800));
  venue.replace_stop(1, 99900);
  EXPECT_EQ(rec.log.back(), "replaced 1 99900");
  venue.process(bar(1, 100000, 100100, 99880, 99950));
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].price, 99895);
}

TEST(VolumeParticipationTest, PartialFillsAcrossBars) {
  Recorder rec;
  SimulatedVenue venue(win(), CostModel{0, 0}, std::make_unique<VolumeParticipationModel>(0.1));
  venue.set_listener(&rec);
  venue.submit(order(1, Side::Buy, OrderType::Market, 25));
  venue.process(bar(1, 100000, 100100, 99900, 100050, 100));  // 10 % of 100 = 10
  venue.process(bar(2, 100050, 100100, 99900, 100050, 120));  // 12
  venue.process(bar(3, 100100, 100100, 99900, 100050, 500));  // the last 3
  ASSERT_EQ(rec.fills.size(), 3u);
  EXPECT_EQ(rec.fills[0].qty, 10);
  EXPECT_EQ(rec.fills[1].qty, 12);
  EXPECT_EQ(rec.fills[2].qty, 3);
  EXPECT_EQ(rec.fills[2].price, 100100);
  EXPECT_EQ(venue.working(), 0u);
}

}  // namespace
}  // namespace quant::matching
