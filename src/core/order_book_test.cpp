#include "core/order_book.h"

#include <limits>
#include <map>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace quant {
namespace {

TEST(OrderBookTest, KeepsBestFirstOnBothSides) {
  OrderBook book;
  EXPECT_TRUE(book.apply(BookSide::Bid, 100.0, 1));
  EXPECT_TRUE(book.apply(BookSide::Bid, 101.0, 2));
  EXPECT_TRUE(book.apply(BookSide::Ask, 103.0, 3));
  EXPECT_TRUE(book.apply(BookSide::Ask, 102.0, 4));
  BookSnapshot snap;
  book.snapshot(from_epoch_ns(5), 10, snap);
  EXPECT_EQ(to_epoch_ns(snap.ts), 5);
  ASSERT_EQ(snap.bids.size(), 2u);
  ASSERT_EQ(snap.asks.size(), 2u);
  EXPECT_EQ(snap.bids[0], (BookLevel{101.0, 2}));
  EXPECT_EQ(snap.bids[1], (BookLevel{100.0, 1}));
  EXPECT_EQ(snap.asks[0], (BookLevel{102.0, 4}));
  EXPECT_EQ(snap.asks[1], (BookLevel{103.0, 3}));
  EXPECT_EQ(book.best_bid()->price, 101.0);
  EXPECT_EQ(book.best_ask()->price, 102.0);
}

TEST(OrderBookTest, ZeroSizeRemovesLevelAndUpdateReplaces) {
  OrderBook book;
  book.apply(BookSide::Bid, 100.0, 1);
  book.apply(BookSide::Bid, 100.0, 7);
  EXPECT_EQ(book.best_bid()->size, 7);
  book.apply(BookSide::Bid, 100.0, 0);
  EXPECT_FALSE(book.best_bid().has_value());
  book.apply(BookSide::Ask, 99.0, 0);  // unknown level: ignored
  EXPECT_TRUE(book.empty());
}

TEST(OrderBookTest, RejectsInvalidUpdates) {
  OrderBook book;
  EXPECT_FALSE(book.apply(BookSide::Bid, -1.0, 1));
  EXPECT_FALSE(book.apply(BookSide::Bid, 0.0, 1));
  EXPECT_FALSE(book.apply(BookSide::Ask, 1.0, -1));
  EXPECT_FALSE(book.apply(BookSide::Ask, std::numeric_limits<double>::quiet_NaN(), 1));
  EXPECT_TRUE(book.empty());
}

TEST(OrderBookTest, SnapshotTruncatesToDepthAndClearEmpties) {
  OrderBook book;
  for (int i = 1; i <= 20; ++i) {
    book.apply(BookSide::Bid, i, 1);
    book.apply(BookSide::Ask, 100 + i, 1);
  }
  BookSnapshot snap;
  book.snapshot(Timestamp{}, 5, snap);
  ASSERT_EQ(snap.bids.size(), 5u);
  EXPECT_EQ(snap.bids.front().price, 20);
  EXPECT_EQ(snap.bids.back().price, 16);
  EXPECT_EQ(snap.asks.front().price, 101);
  book.clear();
  book.snapshot(Timestamp{}, 5, snap);
  EXPECT_TRUE(snap.bids.empty());
  EXPECT_TRUE(snap.asks.empty());
}

RC_GTEST_PROP(OrderBookProperty, MatchesAMapModel, ()) {
  const auto updates = *rc::gen::container<std::vector<std::tuple<bool, int, int>>>(
      rc::gen::tuple(rc::gen::arbitrary<bool>(), rc::gen::inRange(1, 30), rc::gen::inRange(0, 4)));
  OrderBook book;
  std::map<double, double> bids, asks;
  for (const auto& [is_bid, price, size] : updates) {
    book.apply(is_bid ? BookSide::Bid : BookSide::Ask, price, size);
    auto& model = is_bid ? bids : asks;
    if (size == 0) {
      model.erase(price);
    } else {
      model[price] = size;
    }
  }
  BookSnapshot snap;
  book.snapshot(Timestamp{}, 1000, snap);
  RC_ASSERT(snap.bids.size() == bids.size());
  RC_ASSERT(snap.asks.size() == asks.size());
  std::size_t i = 0;
  for (auto it = bids.rbegin(); it != bids.rend(); ++it, ++i) {
    RC_ASSERT(snap.bids[i] == (BookLevel{it->first, it->second}));
  }
  i = 0;
  for (auto it = asks.begin(); it != asks.end(); ++it, ++i) {
    RC_ASSERT(snap.asks[i] == (BookLevel{it->first, it->second}));
  }
}

}  // namespace
}  // namespace quant
