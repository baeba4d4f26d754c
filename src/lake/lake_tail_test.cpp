#include "lake/lake_tail.h"

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lake/lake.h"
#include "lake/test_lake.h"

namespace quant::lake {
namespace {

using quant::testing::make_bars;
using quant::testing::open_lake;
using quant::testing::TempDir;
using quant::testing::utc;
using quant::testing::write_bars;

/// What one poll handed to the sink, per symbol, in delivery order.
struct Delivered {
  std::map<std::string, std::vector<Bar>> bars;
  std::vector<std::string> order;  ///< symbol of each delivered bar
  std::size_t total() const { return order.size(); }
};

Delivered poll(LakeTail& tail, std::int64_t expected_count) {
  Delivered d;
  auto n = tail.poll([&](const std::string& symbol, const Bar& bar) {
    d.bars[symbol].push_back(bar);
    d.order.push_back(symbol);
  });
  EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().message);
  if (n) {
    EXPECT_EQ(*n, expected_count);
  }
  EXPECT_EQ(static_cast<std::int64_t>(d.total()), n.value_or(-1));
  return d;
}

std::vector<Bar> since(const std::vector<Bar>& bars, Timestamp from) {
  std::vector<Bar> out;
  for (const Bar& b : bars) {
    if (b.ts >= from) out.push_back(b);
  }
  return out;
}

LakeOptions one_thread() {
  LakeOptions o;
  o.threads = 1;
  return o;
}

/// Bars every 30 minutes from Jan 15 to Mar 10 2021: three partitions.
std::vector<Bar> three_months() { return make_bars(utc(2021, 1, 15), 54 * 48, std::chrono::minutes(30)); }

TEST(LakeTailTest, FirstPollDeliversTheLastTwoPartitionsInOrder) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  LakeTail tail(dir.str(), one_thread(), {"WIN"});
  const auto warm_up = since(bars, utc(2021, 2, 1));
  ASSERT_LT(warm_up.size(), bars.size());
  const Delivered d = poll(tail, static_cast<std::int64_t>(warm_up.size()));
  EXPECT_EQ(d.bars.at("WIN"), warm_up);
}

TEST(LakeTailTest, SecondPollWithNothingNewDeliversNothing) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  LakeTail tail(dir.str(), one_thread(), {"WIN"});
  poll(tail, static_cast<std::int64_t>(since(bars, utc(2021, 2, 1)).size()));
  EXPECT_EQ(poll(tail, 0).total(), 0U);
  // Writing bars the lake already holds adds nothing new either.
  write_bars(*lake, "WIN", std::vector<Bar>(bars.end() - 10, bars.end()));
  EXPECT_EQ(poll(tail, 0).total(), 0U);
}

TEST(LakeTailTest, BarsWrittenLaterAreDeliveredOnceAndOnlyTheNewOnes) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto bars = three_months();
  write_bars(*lake, "WIN", bars);
  LakeTail tail(dir.str(), one_thread(), {"WIN"});
  poll(tail, static_cast<std::int64_t>(since(bars, utc(2021, 2, 1)).size()));

  // New bars after the last one, running into a new month (a new partition),
  // written together with bars already delivered and with bars that are new
  // to the lake but older than the last one delivered (those are not live).
  auto later = make_bars(bars.back().ts + std::chrono::minutes(30), 23 * 48, std::chrono::minutes(30));
  std::vector<Bar> input(bars.end() - 5, bars.end());
  for (const Bar& b : make_bars(utc(2021, 2, 10, 0, 15), 4, std::chrono::minutes(30))) input.push_back(b);
  input.insert(input.end(), later.begin(), later.end());
  const WriteStats stats = write_bars(*lake, "WIN", input);
  EXPECT_EQ(stats.added, static_cast<std::int64_t>(later.size() + 4));
  ASSERT_GT(since(later, utc(2021, 4, 1)).size(), 0U) << "the new bars reach a new partition";

  const Delivered d = poll(tail, static_cast<std::int64_t>(later.size()));
  EXPECT_EQ(d.bars.at("WIN"), later);
  EXPECT_EQ(poll(tail, 0).total(), 0U) << "delivered exactly once";

  const Bar one_more = make_bars(later.back().ts + kMinute, 1)[0];
  write_bars(*lake, "WIN", {one_more});
  EXPECT_EQ(poll(tail, 1).bars.at("WIN"), std::vector<Bar>{one_more});
}

TEST(LakeTailTest, SymbolsAreKeptApart) {
  TempDir dir;
  auto lake = open_lake(dir);
  const auto win = three_months();
  auto wdo = make_bars(utc(2021, 3, 1), 300);  // one partition: the warm-up is all of it
  for (Bar& b : wdo) {
    b.open /= 20;
    b.high /= 20;
    b.low /= 20;
    b.close /= 20;
  }
  write_bars(*lake, "WIN", win);
  write_bars(*lake, "WDO", wdo);
  LakeTail tail(dir.str(), one_thread(), {"WIN", "WDO", "IND"});

  const auto win_warm_up = since(win, utc(2021, 2, 1));
  Delivered d = poll(tail, static_cast<std::int64_t>(win_warm_up.size() + wdo.size()));
  EXPECT_EQ(d.bars["WIN"], win_warm_up);
  EXPECT_EQ(d.bars["WDO"], wdo);
  EXPECT_EQ(d.bars.count("IND"), 0U) << "a symbol without bars delivers nothing";
  // Symbols are delivered one after the other, each in time order.
  EXPECT_EQ(d.order.front(), "WIN");
  EXPECT_EQ(d.order.back(), "WDO");

  // New WDO bars later than every WIN bar: only WDO moves.
  const auto wdo_later = make_bars(utc(2021, 3, 20), 30);
  write_bars(*lake, "WDO", wdo_later);
  d = poll(tail, static_cast<std::int64_t>(wdo_later.size()));
  EXPECT_EQ(d.bars["WDO"], wdo_later);
  EXPECT_EQ(d.bars.count("WIN"), 0U);

  // A symbol that gets its first bars later is warmed up then, alone.
  const auto ind = make_bars(utc(2021, 1, 25), 50);
  write_bars(*lake, "IND", ind);
  d = poll(tail, static_cast<std::int64_t>(ind.size()));
  EXPECT_EQ(d.bars["IND"], ind);
  EXPECT_EQ(d.bars.size(), 1U);
}

TEST(LakeTailTest, ALakeThatDoesNotExistYetIsAnErrorUntilItDoes) {
  TempDir dir;
  const std::string root = dir.str() + "/lake";
  LakeTail tail(root, one_thread(), {"WIN"});
  int calls = 0;
  auto n = tail.poll([&](const std::string&, const Bar&) { ++calls; });
  ASSERT_FALSE(n.has_value());
  EXPECT_NE(n.error().message.find("does not exist"), std::string::npos) << n.error().message;
  EXPECT_EQ(calls, 0);

  auto lake = Lake::open(root, /*create=*/true);
  ASSERT_TRUE(lake.has_value()) << lake.error().message;
  const auto bars = make_bars(utc(2021, 3, 1, 12), 20);
  write_bars(**lake, "WIN", bars);
  EXPECT_EQ(poll(tail, static_cast<std::int64_t>(bars.size())).bars.at("WIN"), bars);
  EXPECT_EQ(poll(tail, 0).total(), 0U);
}

}  // namespace
}  // namespace quant::lake
