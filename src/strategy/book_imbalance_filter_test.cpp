#include "strategy/book_imbalance_filter.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/bar_aggregator.h"
#include "features/test_market_files.h"
#include "strategy/ma_breakout.h"
#include "strategy/test_data.h"

namespace quant::strategy {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kT0 = from_epoch_ns(0) + std::chrono::hours(24 * 18000);

// A fixed value per close (a test fake of the port).
class FixedSource final : public ImbalanceSource {
 public:
  explicit FixedSource(std::map<Timestamp, double> values) : values_(std::move(values)) {}
  std::optional<double> imbalance_at(Timestamp close) override {
    calls.push_back(close);
    auto it = values_.find(close);
    return it == values_.end() ? std::nullopt : std::optional<double>(it->second);
  }
  std::vector<Timestamp> calls;

 private:
  std::map<Timestamp, double> values_;
};

// The live pattern: events arrive from a stream into an OrderFlowSampler; at
// each bar close everything stamped up to the close (trades: before it) has
// been fed, nothing later, and the filter samples.
class EventFedSource final : public ImbalanceSource {
 public:
  EventFedSource(const features::OrderFlowConfig& config, std::vector<BookSnapshot> books, std::vector<Trade> trades)
      : sampler_(config), books_(std::move(books)), trades_(std::move(trades)) {}
  std::optional<double> imbalance_at(Timestamp close) override {
    while (b_ < books_.size() && books_[b_].ts <= close) sampler_.add(books_[b_++]);
    while (t_ < trades_.size() && trades_[t_].ts < close) sampler_.add(trades_[t_++]);
    return sampler_.sample(close);
  }

 private:
  features::OrderFlowSampler sampler_;
  std::vector<BookSnapshot> books_;
  std::vector<Trade> trades_;
  std::size_t b_ = 0, t_ = 0;
};

// The backtest pattern: the whole series computed before the run, as the lake adapter does.
std::shared_ptr<features::ImbalanceSeries> series_of(const features::OrderFlowConfig& config,
                                                     const std::vector<BookSnapshot>& books,
                                                     const std::vector<Trade>& trades, const std::vector<Bar>& bars) {
  auto series = std::make_shared<features::ImbalanceSeries>();
  series->source = config.source;
  EventFedSource fed(config, books, trades);
  for (const Bar& bar : bars) {
    ++series->bars;
    const Timestamp close = bar.ts + kMinute;
    if (auto v = fed.imbalance_at(close)) series->samples.push_back({close, *v});
  }
  return series;
}

Bar bar_at(int minute, double close) {
  Bar b = testing::make_bar(close + 1, close - 1, close);
  b.ts = kT0 + minutes(minute);
  return b;
}

Signal entry(Action action) {
  Signal s;
  s.action = action;
  s.reason = "test";
  return s;
}

BookImbalanceConfig config_with(double threshold, MissingImbalance on_missing = MissingImbalance::Block) {
  BookImbalanceConfig c;
  c.threshold = threshold;
  c.on_missing = on_missing;
  return c;
}

TEST(BookImbalanceFilterTest, LongNeedsAtLeastTheThresholdShortAtMostMinusIt) {
  const Bar bar = bar_at(0, 1000);
  const Timestamp close = bar.ts + kMinute;
  for (const auto& [value, long_passes, short_passes] :
       std::vector<std::tuple<double, bool, bool>>{{0.25, true, false},
                                                   {0.2, true, false},  // equal to the threshold: passes
                                                   {0.19, false, false},
                                                   {0.0, false, false},
                                                   {-0.2, false, true},
                                                   {-0.9, false, true}}) {
    BookImbalanceFilter f(config_with(0.2), std::make_unique<FixedSource>(std::map<Timestamp, double>{{close, value}}));
    f.observe(bar);
    ASSERT_EQ(f.value(), value);
    EXPECT_EQ(f.allow(entry(Action::EnterLong), bar), long_passes) << value;
    EXPECT_EQ(f.allow(entry(Action::EnterShort), bar), short_passes) << value;
  }
  // Threshold 0: a value of exactly 0 lets both sides through.
  BookImbalanceFilter zero(config_with(0), std::make_unique<FixedSource>(std::map<Timestamp, double>{{close, 0.0}}));
  zero.observe(bar);
  EXPECT_TRUE(zero.allow(entry(Action::EnterLong), bar));
  EXPECT_TRUE(zero.allow(entry(Action::EnterShort), bar));
  EXPECT_STREQ(zero.name(), "book_imbalance");
}

TEST(BookImbalanceFilterTest, BarsWithoutDataBlockByDefaultOrPassWhenAllowed) {
  const Bar bar = bar_at(0, 1000);
  BookImbalanceFilter block(BookImbalanceConfig{}, std::make_unique<FixedSource>(std::map<Timestamp, double>{}));
  block.observe(bar);
  EXPECT_FALSE(block.value());
  EXPECT_FALSE(block.allow(entry(Action::EnterLong), bar));
  EXPECT_FALSE(block.allow(entry(Action::EnterShort), bar));
  EXPECT_EQ(block.stats().missing_blocked, 2);
  BookImbalanceFilter allow(config_with(0.1, MissingImbalance::Allow),
                            std::make_unique<FixedSource>(std::map<Timestamp, double>{}));
  allow.observe(bar);
  EXPECT_TRUE(allow.allow(entry(Action::EnterLong), bar));
  EXPECT_EQ(allow.stats().missing_passed, 1);
}

TEST(BookImbalanceFilterTest, ReadsEachBarOnceAtItsClose) {
  auto source = std::make_unique<FixedSource>(std::map<Timestamp, double>{{kT0 + minutes(2), 0.5}});
  FixedSource* raw = source.get();
  BookImbalanceFilter f(BookImbalanceConfig{}, std::move(source));
  f.observe(bar_at(0, 1000));
  f.observe(bar_at(1, 1000));
  EXPECT_TRUE(f.allow(entry(Action::EnterLong), bar_at(1, 1000)));
  // allow() for a bar that was not observed reads that bar, never reuses the last value.
  EXPECT_FALSE(f.allow(entry(Action::EnterLong), bar_at(2, 1000)));
  EXPECT_EQ(raw->calls, (std::vector<Timestamp>{kT0 + minutes(1), kT0 + minutes(2), kT0 + minutes(3)}));
  EXPECT_EQ(f.stats().bars, 3);
  EXPECT_EQ(f.stats().bars_with_data, 1);
  EXPECT_EQ(f.stats().passed, 1);
  EXPECT_EQ(f.stats().missing_blocked, 1);
}

TEST(SeriesImbalanceSourceTest, MatchesClosesExactlyAndMovesForward) {
  auto series = std::make_shared<features::ImbalanceSeries>();
  series->samples = {{kT0 + minutes(1), 0.5}, {kT0 + minutes(3), -0.25}, {kT0 + minutes(4), 0.0}};
  SeriesImbalanceSource s(series);
  EXPECT_FALSE(s.imbalance_at(kT0));
  EXPECT_EQ(s.imbalance_at(kT0 + minutes(1)), 0.5);
  EXPECT_FALSE(s.imbalance_at(kT0 + minutes(2)));  // no sample: a bar without data, not the previous value
  EXPECT_EQ(s.imbalance_at(kT0 + minutes(3)), -0.25);
  EXPECT_EQ(s.imbalance_at(kT0 + minutes(4)), 0.0);
  EXPECT_FALSE(s.imbalance_at(kT0 + minutes(5)));
}

TEST(BookImbalanceFilterTest, OrderFlowConfigFromTheStrategySettings) {
  BookImbalanceConfig c;
  c.depth = 7;
  c.max_book_age_seconds = 90;
  const auto f = order_flow_config(c, features::OrderFlowSource::Trades, 5);
  EXPECT_EQ(f.source, features::OrderFlowSource::Trades);
  EXPECT_EQ(f.depth, 7u);
  EXPECT_EQ(f.max_book_age, seconds(90));
  EXPECT_EQ(f.tick_size, 5);
}

// fast 1 / slow 2 SMA without the Keltner filter: an entry on every crossover bar.
MaBreakoutConfig crossing_config() {
  MaBreakoutConfig c;
  c.fast = 1;
  c.slow = 2;
  c.keltner_filter = false;
  c.confirm_bars = 1;
  c.exit_on_opposite_cross = false;
  return c;
}

// 1000, 1000, 999 (sign −), 1001 (cross up: long), 1000 (cross down: short), 1000.
std::vector<Bar> crossing_bars() {
  return {bar_at(0, 1000), bar_at(1, 1000), bar_at(2, 999), bar_at(3, 1001), bar_at(4, 1000), bar_at(5, 1000)};
}

std::vector<Signal> run(Strategy& s, const std::vector<Bar>& bars) {
  std::vector<Signal> out;
  out.reserve(bars.size());
  for (const Bar& b : bars) out.push_back(s.on_bar(b, 0));
  return out;
}

TEST(BookImbalanceFilterTest, BlocksMaBreakoutEntriesAgainstTheFlowNoLookAhead) {
  // Bar 3 [+3 min, +4 min): sellers 5 vs buyers 1 → −2/3: the long is blocked.
  // A buy of 100 stamped exactly at bar 3's close belongs to bar 4 (+1): it must
  // not rescue bar 3's long, and it blocks bar 4's short.
  const std::vector<Trade> trades = {
      {kT0 + minutes(3) + seconds(10), 1001, 5, Aggressor::Sell},
      {kT0 + minutes(3) + seconds(20), 1001, 1, Aggressor::Buy},
      {kT0 + minutes(4), 1000, 100, Aggressor::Buy},
  };
  features::OrderFlowConfig flow;
  flow.source = features::OrderFlowSource::Trades;
  const auto bars = crossing_bars();
  for (int pass = 0; pass < 2; ++pass) {
    MaBreakout s(crossing_config(), TickGrid(1));
    std::unique_ptr<ImbalanceSource> source;
    if (pass == 0) {
      source = std::make_unique<EventFedSource>(flow, std::vector<BookSnapshot>{}, trades);
    } else {
      source = std::make_unique<SeriesImbalanceSource>(series_of(flow, {}, trades, bars));
    }
    auto filter = std::make_unique<BookImbalanceFilter>(BookImbalanceConfig{}, std::move(source));
    const BookImbalanceFilter* f = filter.get();
    s.add_filter(std::move(filter));
    const auto signals = run(s, bars);
    EXPECT_EQ(signals[3].action, Action::None);
    EXPECT_STREQ(signals[3].reason, "ma_cross_up");
    EXPECT_STREQ(signals[3].blocked_by, "book_imbalance");
    EXPECT_EQ(signals[4].action, Action::None);
    EXPECT_STREQ(signals[4].reason, "ma_cross_down");
    EXPECT_STREQ(signals[4].blocked_by, "book_imbalance");
    EXPECT_EQ(f->stats().entries, 2);
    EXPECT_EQ(f->stats().blocked, 2);
    EXPECT_EQ(f->stats().bars, 6);
    EXPECT_EQ(f->stats().bars_with_data, 2);
  }
  // Without the filter both entries go out: the filter made the difference.
  MaBreakout plain(crossing_config(), TickGrid(1));
  const auto signals = run(plain, bars);
  EXPECT_EQ(signals[3].action, Action::EnterLong);
  EXPECT_EQ(signals[4].action, Action::EnterShort);
}

TEST(BookImbalanceFilterTest, ASnapshotJustAfterTheCloseIsNotUsed) {
  // Bar 3 closes at +4 min: the snapshot at +3 min 30 s leans to the asks (−0.5);
  // one 1 ns after the close leans to the bids (+0.8) and belongs to bar 4.
  auto snapshot = [](Timestamp ts, double bid, double ask) {
    BookSnapshot b;
    b.ts = ts;
    b.bids = {{999, bid}};
    b.asks = {{1001, ask}};
    return b;
  };
  const std::vector<BookSnapshot> books = {snapshot(kT0 + minutes(3) + seconds(30), 1, 3),
                                           snapshot(kT0 + minutes(4) + Duration(1), 9, 1)};
  features::OrderFlowConfig flow;
  flow.source = features::OrderFlowSource::Book;
  MaBreakout s(crossing_config(), TickGrid(1));
  auto filter = std::make_unique<BookImbalanceFilter>(
      BookImbalanceConfig{}, std::make_unique<EventFedSource>(flow, books, std::vector<Trade>{}));
  s.add_filter(std::move(filter));
  const auto signals = run(s, crossing_bars());
  EXPECT_STREQ(signals[3].blocked_by, "book_imbalance");  // the long saw −0.5, not +0.8
  EXPECT_STREQ(signals[4].blocked_by, "book_imbalance");  // the short sees +0.8
}

// The WIN trades of 2021-06-15 as the backtest sees them: 1-minute bars
// aggregated from the trades (as `quant ingest -f trades` does) and each bar's
// tick-rule trade flow.
struct WinDay {
  std::vector<Trade> trades;
  std::vector<Bar> bars;
};

WinDay win_day(const std::string& path) {
  WinDay day;
  day.trades = quant::testing::read_win_trades_gz(path);
  BarAggregator aggregator;
  for (const Trade& t : day.trades) {
    if (auto b = aggregator.add_trade(t.ts, t.price, t.volume)) day.bars.push_back(*b);
  }
  if (auto b = aggregator.finish()) day.bars.push_back(*b);
  return day;
}

features::OrderFlowConfig win_flow() {
  return order_flow_config(BookImbalanceConfig{}, features::OrderFlowSource::Trades, 5);
}

TEST(BookImbalanceFilterRealDataTest, WinTradesDayBlocksSomeEntriesWithoutLookAhead) {
  const std::string path = quant::testing::shared_data("b3/WIN_trades_2021-06-15.csv.gz");
  QUANT_REQUIRE_SHARED_FILE(path);
  const WinDay day = win_day(path);
  ASSERT_EQ(day.bars.size(), 110u);
  MaBreakoutConfig config;  // defaults, without the Keltner filter: an entry per crossover
  config.keltner_filter = false;
  const auto series = series_of(win_flow(), {}, day.trades, day.bars);
  ASSERT_EQ(series->samples.size(), 110u);

  MaBreakout plain(config, TickGrid(5));
  const auto unfiltered = run(plain, day.bars);
  MaBreakout filtered(config, TickGrid(5));
  auto filter =
      std::make_unique<BookImbalanceFilter>(BookImbalanceConfig{}, std::make_unique<SeriesImbalanceSource>(series));
  const BookImbalanceFilter* f = filter.get();
  filtered.add_filter(std::move(filter));
  const auto signals = run(filtered, day.bars);

  int entries = 0, blocked = 0;
  for (std::size_t i = 0; i < signals.size(); ++i) {
    const bool was_entry = unfiltered[i].action == Action::EnterLong || unfiltered[i].action == Action::EnterShort;
    entries += was_entry;
    if (std::strcmp(signals[i].blocked_by, "book_imbalance") == 0) {
      ++blocked;
      ASSERT_TRUE(was_entry);
      // Blocked exactly when the bar's flow does not lean the entry's way by 0.1.
      const double v = series->samples[i].value;
      EXPECT_TRUE(unfiltered[i].action == Action::EnterLong ? v < 0.1 : v > -0.1) << format_utc(day.bars[i].ts);
    } else {
      EXPECT_EQ(signals[i].action, unfiltered[i].action) << format_utc(day.bars[i].ts);
    }
  }
  EXPECT_EQ(f->stats().entries, entries);
  EXPECT_EQ(f->stats().blocked, blocked);
  EXPECT_EQ(f->stats().missing_blocked, 0);
  EXPECT_GT(blocked, 0);
  EXPECT_LT(blocked, entries);
  std::printf("[ book_imbalance ] WIN 2021-06-15, ma_breakout without Keltner: %d entries, %d blocked\n", entries,
              blocked);

  // No look-ahead on the real day: the decision at every bar t is the same
  // when the trades after bar t's close were never recorded.
  for (std::size_t t = 0; t < day.bars.size(); ++t) {
    const Timestamp close = day.bars[t].ts + kMinute;
    std::vector<Trade> known;
    for (const Trade& trade : day.trades) {
      if (trade.ts < close) known.push_back(trade);
    }
    const std::vector<Bar> seen(day.bars.begin(), day.bars.begin() + static_cast<std::ptrdiff_t>(t) + 1);
    MaBreakout prefix(config, TickGrid(5));
    prefix.add_filter(std::make_unique<BookImbalanceFilter>(
        BookImbalanceConfig{}, std::make_unique<SeriesImbalanceSource>(series_of(win_flow(), {}, known, seen))));
    const Signal last = run(prefix, seen).back();
    ASSERT_EQ(last.action, signals[t].action) << "bar " << t;
    ASSERT_STREQ(last.blocked_by, signals[t].blocked_by) << "bar " << t;
  }
}

}  // namespace
}  // namespace quant::strategy
