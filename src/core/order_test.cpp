#include "core/order.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace quant {
namespace {

Timestamp t0{};

TEST(OrderTest, HappyPathAndPartialFills) {
  Order o;
  o.qty = 5;
  ASSERT_TRUE(apply_event(o, OrderEvent::Accept, t0));
  EXPECT_EQ(o.status, OrderStatus::Accepted);
  ASSERT_TRUE(apply_fill(o, 2, 100.0, t0));
  EXPECT_EQ(o.status, OrderStatus::PartiallyFilled);
  ASSERT_TRUE(apply_fill(o, 3, 110.0, t0));
  EXPECT_EQ(o.status, OrderStatus::Filled);
  EXPECT_DOUBLE_EQ(o.avg_fill_price, 106.0);
  EXPECT_FALSE(apply_fill(o, 1, 100.0, t0));
  EXPECT_FALSE(apply_event(o, OrderEvent::Cancel, t0));
}

TEST(OrderTest, NoFillBeforeAcceptanceNorOverfill) {
  Order o;
  o.qty = 2;
  EXPECT_FALSE(apply_fill(o, 1, 1.0, t0));
  apply_event(o, OrderEvent::Accept, t0);
  EXPECT_FALSE(apply_fill(o, 3, 1.0, t0));
  EXPECT_FALSE(apply_fill(o, 0, 1.0, t0));
  EXPECT_EQ(o.filled_qty, 0);
}

TEST(OrderTest, RejectOnlyFromNewExpireOnlyWhenWorking) {
  Order o;
  o.qty = 1;
  EXPECT_FALSE(apply_event(o, OrderEvent::Expire, t0));
  EXPECT_TRUE(apply_event(o, OrderEvent::Reject, t0));
  EXPECT_FALSE(apply_event(o, OrderEvent::Accept, t0));
}

RC_GTEST_PROP(OrderProperty, NoTransitionLeavesATerminalState, ()) {
  const auto events = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 6));
  Order o;
  o.qty = 10;
  for (int e : events) {
    const OrderStatus before = o.status;
    const auto filled_before = o.filled_qty;
    bool ok = false;
    if (e == 2 || e == 3) {
      ok = apply_fill(o, e == 3 ? o.remaining_qty() : 1, 1.0, t0);
    } else {
      ok = apply_event(o, static_cast<OrderEvent>(e), t0);
    }
    if (is_terminal(before)) {
      RC_ASSERT(!ok);
      RC_ASSERT(o.status == before);
      RC_ASSERT(o.filled_qty == filled_before);
    }
    RC_ASSERT(o.filled_qty <= o.qty);
    RC_ASSERT((o.status == OrderStatus::Filled) == (o.filled_qty == o.qty));
  }
}

RC_GTEST_PROP(PositionProperty, PositionEqualsSumOfFillsAndPnlAddsUp, ()) {
  const auto n = *rc::gen::inRange(1, 60);
  Position p;
  std::int64_t sum = 0;
  double cash = 0;  // points: − buys + sells
  double last = 100;
  for (int i = 0; i < n; ++i) {
    const Side side = *rc::gen::element(Side::Buy, Side::Sell);
    const auto qty = *rc::gen::inRange<std::int64_t>(1, 8);
    last = static_cast<double>(*rc::gen::inRange(50, 150));
    p.apply(side, qty, last);
    sum += sign(side) * qty;
    cash -= sign(side) * static_cast<double>(qty) * last;
    RC_ASSERT(p.qty == sum);
  }
  // Realised + open PnL equals the cash flow marked at the last price.
  RC_ASSERT(std::abs(p.realized_points + p.open_points(last) - (cash + static_cast<double>(sum) * last)) < 1e-6);
}

TEST(PositionTest, FlipKeepsTheRemainderAtTheFillPrice) {
  Position p;
  p.apply(Side::Buy, 2, 100);
  const double r = p.apply(Side::Sell, 5, 110);
  EXPECT_DOUBLE_EQ(r, 20);
  EXPECT_EQ(p.qty, -3);
  EXPECT_DOUBLE_EQ(p.avg_price, 110);
}

}  // namespace
}  // namespace quant
