#include "features/order_flow.h"

#include <chrono>
#include <cmath>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace quant::features {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kT0 = from_epoch_ns(0) + std::chrono::hours(24 * 18000);  // a whole minute

BookSnapshot book(Timestamp ts, const std::vector<double>& bid_sizes, const std::vector<double>& ask_sizes) {
  BookSnapshot b;
  b.ts = ts;
  double price = 100;
  for (double s : bid_sizes) b.bids.push_back({price -= 1, s});
  price = 100;
  for (double s : ask_sizes) b.asks.push_back({price += 1, s});
  return b;
}

Trade trade(Timestamp ts, double price, double volume, Aggressor side = Aggressor::Unknown) {
  return Trade{ts, price, volume, side};
}

OrderFlowConfig book_config(std::size_t depth = 5) {
  OrderFlowConfig c;
  c.source = OrderFlowSource::Book;
  c.depth = depth;
  return c;
}

OrderFlowConfig trades_config() {
  OrderFlowConfig c;
  c.source = OrderFlowSource::Trades;
  return c;
}

TEST(BookImbalanceTest, SumsTheTopLevelsOfEachSide) {
  const BookSnapshot b = book(kT0, {3, 1, 2}, {1, 1});
  EXPECT_DOUBLE_EQ(*book_imbalance(b, 1), 0.5);        // (3 − 1) / 4
  EXPECT_DOUBLE_EQ(*book_imbalance(b, 2), 1.0 / 3.0);  // (4 − 2) / 6
  EXPECT_DOUBLE_EQ(*book_imbalance(b, 5), 0.5);        // (6 − 2) / 8: the asks have only two levels
  EXPECT_DOUBLE_EQ(*book_imbalance(book(kT0, {1}, {3}), 1), -0.5);
}

TEST(BookImbalanceTest, OneSidedOrEmptyBooksHaveNoValue) {
  EXPECT_FALSE(book_imbalance(book(kT0, {3, 1}, {}), 5));
  EXPECT_FALSE(book_imbalance(book(kT0, {}, {2}), 5));
  EXPECT_FALSE(book_imbalance(book(kT0, {}, {}), 5));
  EXPECT_FALSE(book_imbalance(book(kT0, {0}, {0}), 5));
  // Corrupt sizes never give a value (−1 vs 3 would otherwise be −2, outside [−1, 1]).
  EXPECT_FALSE(book_imbalance(book(kT0, {-1}, {3}), 5));
  EXPECT_FALSE(book_imbalance(book(kT0, {1, std::nan("")}, {3}), 5));
  EXPECT_FALSE(book_imbalance(book(kT0, {1}, {HUGE_VAL}), 5));
  // A corrupt level beyond the depth is not read.
  EXPECT_DOUBLE_EQ(*book_imbalance(book(kT0, {1, -5}, {3}), 1), -0.5);
}

TEST(TradeClassifierTest, AggressorFirstThenTheTickRule) {
  TradeClassifier c;
  EXPECT_EQ(c.classify(trade(kT0, 100, 1)), Aggressor::Unknown);  // nothing to compare with
  EXPECT_EQ(c.classify(trade(kT0, 100, 1)), Aggressor::Unknown);  // zero tick, nothing classified yet
  EXPECT_EQ(c.classify(trade(kT0, 101, 1)), Aggressor::Buy);      // uptick
  EXPECT_EQ(c.classify(trade(kT0, 101, 1)), Aggressor::Buy);      // zero tick: as the previous
  EXPECT_EQ(c.classify(trade(kT0, 100, 1)), Aggressor::Sell);     // downtick
  EXPECT_EQ(c.classify(trade(kT0, 100, 1)), Aggressor::Sell);
  EXPECT_EQ(c.classify(trade(kT0, 99, 1, Aggressor::Buy)), Aggressor::Buy);  // the aggressor wins over a downtick
  EXPECT_EQ(c.classify(trade(kT0, 99, 1)), Aggressor::Buy);  // zero tick after it: the previous classification
  EXPECT_EQ(c.classify(trade(kT0, 98, 1)), Aggressor::Sell);
  c.reset();
  EXPECT_EQ(c.classify(trade(kT0, 98, 1)), Aggressor::Unknown);
}

TEST(TradeClassifierTest, ComparesWholeTicksWhenGivenTheTickSize) {
  TradeClassifier ticks(0.5);
  ticks.classify(trade(kT0, 100.0, 1));
  EXPECT_EQ(ticks.classify(trade(kT0, 100.5, 1)), Aggressor::Buy);
  // 100.5000000001 is 100.5 on the grid: a zero tick, not an uptick.
  EXPECT_EQ(ticks.classify(trade(kT0, 100.5000000001, 1)), Aggressor::Buy);
  EXPECT_EQ(ticks.classify(trade(kT0, 100.4999999999, 1)), Aggressor::Buy);
  TradeClassifier doubles;
  doubles.classify(trade(kT0, 100.5, 1));
  EXPECT_EQ(doubles.classify(trade(kT0, 100.4999999999, 1)), Aggressor::Sell);
}

TEST(TradeFlowTest, ImbalanceLeavesUnclassifiedVolumeOut) {
  TradeFlow f;
  EXPECT_FALSE(f.imbalance());
  f.unclassified_volume = 5;
  EXPECT_FALSE(f.imbalance());
  f.buy_volume = 3;
  f.sell_volume = 1;
  EXPECT_DOUBLE_EQ(*f.imbalance(), 0.5);
}

TEST(OrderFlowSamplerTest, TradesOfEachMinuteByTheTickRule) {
  OrderFlowSampler s(trades_config());
  // Bar 10:00 [kT0, kT0 + 1 min): 100 (unknown, 2), 105 up (buy 3), 105 zero (buy 1), 100 down (sell 2).
  s.add(trade(kT0 + seconds(1), 100, 2));
  s.add(trade(kT0 + seconds(10), 105, 3));
  s.add(trade(kT0 + seconds(10), 105, 1));
  s.add(trade(kT0 + seconds(59), 100, 2));
  // (4 − 2) / 6 = 1/3; the 2 unclassified lots are left out.
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(1)), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.current_flow().unclassified_volume, 2);
  // A trade stamped exactly at 10:01:00 belongs to the bar 10:01.
  s.add(trade(kT0 + minutes(1), 95, 4));     // downtick: sell 4
  EXPECT_FALSE(s.sample(kT0 + minutes(1)));  // its own bar is gone: never mixed with the next one
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(2)), -1.0);
  // No trade in 10:02: no value; 10:03 resumes the tick rule from 95.
  EXPECT_FALSE(s.sample(kT0 + minutes(3)));
  s.add(trade(kT0 + minutes(3) + seconds(5), 95, 1));   // zero tick: sell (as the previous)
  s.add(trade(kT0 + minutes(3) + seconds(6), 100, 3));  // buy 3
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(4)), 0.5);   // (3 − 1) / 4
  const OrderFlowCounts& c = s.counts();
  EXPECT_EQ(c.trades, 7);
  EXPECT_EQ(c.trades_unclassified, 1);
  EXPECT_EQ(c.trades_by_tick_rule, 6);
  EXPECT_EQ(c.trades_by_aggressor, 0);
}

TEST(OrderFlowSamplerTest, KnownAggressorsAreUsedAsGiven) {
  OrderFlowSampler s(trades_config());
  s.add(trade(kT0, 100, 5, Aggressor::Sell));
  s.add(trade(kT0 + seconds(1), 100, 1, Aggressor::Buy));
  s.add(trade(kT0 + seconds(2), 100, 2));  // zero tick: as the previous trade (a buy)
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(1)), -2.0 / 8.0);
  EXPECT_EQ(s.counts().trades_by_aggressor, 2);
  EXPECT_EQ(s.counts().trades_by_tick_rule, 1);
}

TEST(OrderFlowSamplerTest, BookValueIsTheLatestSnapshotAtOrBeforeTheClose) {
  OrderFlowSampler s(book_config(2));
  EXPECT_FALSE(s.sample(kT0));
  s.add(book(kT0 + seconds(30), {3, 1}, {1, 1}));  // (4 − 2) / 6
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(1)), 1.0 / 3.0);
  s.add(book(kT0 + minutes(1), {1}, {3}));  // stamped exactly at the 10:01 close: it counts for that bar
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(1)), -0.5);
  // 60 s old at 10:02 (the default max age): still used; 120 s old at 10:03: no value.
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(2)), -0.5);
  EXPECT_FALSE(s.sample(kT0 + minutes(3)));
  // A one-sided snapshot hides the older value instead of letting it linger.
  s.add(book(kT0 + minutes(3) + seconds(10), {2}, {}));
  EXPECT_FALSE(s.sample(kT0 + minutes(4)));
  s.add(book(kT0 + minutes(4) + seconds(1), {2}, {2}));
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(5)), 0.0);
  // A snapshot from after the close never answers for it.
  s.add(book(kT0 + minutes(5) + seconds(1), {9}, {1}));
  EXPECT_FALSE(s.sample(kT0 + minutes(5)));
  // An older snapshot arriving late is ignored.
  s.add(book(kT0 + minutes(5), {1}, {9}));
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(6)), 0.8);
  EXPECT_EQ(s.counts().snapshots, 5);
  EXPECT_EQ(s.counts().unusable_snapshots, 1);
  EXPECT_EQ(s.counts().late, 1);
}

TEST(OrderFlowSamplerTest, EventsOfTheOtherSourceAreIgnored) {
  OrderFlowSampler b(book_config());
  b.add(trade(kT0, 100, 1, Aggressor::Buy));
  EXPECT_FALSE(b.sample(kT0 + minutes(1)));
  EXPECT_EQ(b.counts().ignored, 1);
  OrderFlowSampler t(trades_config());
  t.add(book(kT0, {1}, {1}));
  EXPECT_FALSE(t.sample(kT0 + minutes(1)));
  EXPECT_EQ(t.counts().ignored, 1);
  EXPECT_EQ(t.counts().late, 0);
}

TEST(OrderFlowSamplerTest, LateTradesAreCountedAndIgnored) {
  OrderFlowSampler s(trades_config());
  s.add(trade(kT0 + minutes(1), 100, 1, Aggressor::Buy));
  s.add(trade(kT0 + seconds(59), 90, 7, Aggressor::Sell));
  EXPECT_DOUBLE_EQ(*s.sample(kT0 + minutes(2)), 1.0);
  EXPECT_EQ(s.counts().late, 1);
}

TEST(OrderFlowConfigTest, Validation) {
  EXPECT_TRUE(validate(OrderFlowConfig{}));
  OrderFlowConfig c;
  c.depth = 0;
  EXPECT_FALSE(validate(c));
  c = {};
  c.max_book_age = Duration(0);
  EXPECT_FALSE(validate(c));
  c = {};
  c.tick_size = -1;
  EXPECT_FALSE(validate(c));
  EXPECT_EQ(order_flow_source_name(OrderFlowSource::Book), "book");
  EXPECT_EQ(order_flow_source_name(OrderFlowSource::Trades), "trades");
}

TEST(OrderFlowTest, MinuteOfFloorsBefore1970) {
  EXPECT_EQ(minute_of(from_epoch_ns(59'999'999'999)), from_epoch_ns(0));
  EXPECT_EQ(minute_of(from_epoch_ns(60'000'000'000)), from_epoch_ns(60'000'000'000));
  EXPECT_EQ(minute_of(from_epoch_ns(-1)), from_epoch_ns(-60'000'000'000));
}

// Random time-ordered events: small price steps (zero ticks are common), a few
// known aggressors, books of 0–3 levels a side, bars closing every minute.
struct Events {
  std::vector<BookSnapshot> books;
  std::vector<Trade> trades;
  std::vector<Timestamp> closes;
};

rc::Gen<Events> gen_events() {
  using Step = std::tuple<int, int, int, int, int, int>;
  return rc::gen::map(
      rc::gen::container<std::vector<Step>>(rc::gen::tuple(rc::gen::inRange(0, 40), rc::gen::inRange(-1, 2),
                                                           rc::gen::inRange(0, 6), rc::gen::inRange(0, 8),
                                                           rc::gen::inRange(0, 4), rc::gen::inRange(0, 4))),
      [](const std::vector<Step>& steps) {
        Events e;
        Timestamp ts = kT0;
        double price = 1000;
        for (const auto& [dt, move, volume, side, bids, asks] : steps) {
          ts += seconds(dt);
          price += 5 * move;
          const Aggressor a = side == 0 ? Aggressor::Buy : side == 1 ? Aggressor::Sell : Aggressor::Unknown;
          e.trades.push_back(trade(ts, price, volume, a));
          std::vector<double> b(static_cast<std::size_t>(bids)), k(static_cast<std::size_t>(asks));
          for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>((volume + i) % 4);
          for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<double>((side + i) % 3);
          e.books.push_back(book(ts, b, k));
        }
        for (Timestamp c = kT0 + minutes(1); c <= ts + minutes(3); c += minutes(1)) e.closes.push_back(c);
        return e;
      });
}

// Feeds every event at or before each close (trades: before it), as the lake
// adapter does, and samples.
std::vector<std::optional<double>> run_streaming(const OrderFlowConfig& config, const Events& e) {
  OrderFlowSampler s(config);
  std::vector<std::optional<double>> out;
  std::size_t b = 0, t = 0;
  for (Timestamp close : e.closes) {
    while (b < e.books.size() && e.books[b].ts <= close) s.add(e.books[b++]);
    while (t < e.trades.size() && e.trades[t].ts < close) s.add(e.trades[t++]);
    out.push_back(s.sample(close));
  }
  return out;
}

bool same(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b) return !a && !b;
  return *a == *b || std::fabs(*a - *b) <= 1e-12;
}

RC_GTEST_PROP(OrderFlowProperty, StreamingEqualsBatch, ()) {
  const Events e = *gen_events();
  for (OrderFlowSource source : {OrderFlowSource::Book, OrderFlowSource::Trades}) {
    OrderFlowConfig config;
    config.source = source;
    config.depth = *rc::gen::inRange<std::size_t>(1, 4);
    config.max_book_age = seconds(*rc::gen::inRange(1, 120));
    config.tick_size = *rc::gen::element(0.0, 5.0);
    const auto streaming = run_streaming(config, e);
    const auto batch = order_flow_batch(config, e.books, e.trades, e.closes);
    RC_ASSERT(streaming.size() == batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      RC_ASSERT(same(streaming[i], batch[i]));
      if (batch[i]) RC_ASSERT(*batch[i] >= -1.0 && *batch[i] <= 1.0);
    }
  }
}

RC_GTEST_PROP(OrderFlowProperty, NoLookAheadEventsAfterACloseChangeNothingBeforeIt, ()) {
  const Events e = *gen_events();
  RC_PRE(!e.closes.empty());
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, e.closes.size());
  const Timestamp close = e.closes[cut];
  for (OrderFlowSource source : {OrderFlowSource::Book, OrderFlowSource::Trades}) {
    OrderFlowConfig config;
    config.source = source;
    config.depth = 2;
    // Only what a sampler could have seen at `close`: snapshots at or before it, trades before it.
    Events prefix;
    for (const auto& b : e.books) {
      if (b.ts <= close) prefix.books.push_back(b);
    }
    for (const auto& t : e.trades) {
      if (t.ts < close) prefix.trades.push_back(t);
    }
    prefix.closes.assign(e.closes.begin(), e.closes.begin() + static_cast<std::ptrdiff_t>(cut) + 1);
    const auto full = run_streaming(config, e);
    const auto truncated = run_streaming(config, prefix);
    for (std::size_t i = 0; i <= cut; ++i) RC_ASSERT(same(full[i], truncated[i]));
  }
}

}  // namespace
}  // namespace quant::features
