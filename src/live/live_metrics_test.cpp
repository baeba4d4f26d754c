#include "live/live_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace quant::live {
namespace {

namespace bridge = execution::bridge;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'700'000'000'000'000'000;  // wall ns

/// The value of one series line "name{labels} value" in the exposition text, -1 when absent.
double value_of(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

bridge::Message tick(double last, Timestamp ts, std::int64_t t_ms) {
  bridge::TickMsg t;
  t.symbol = "WIN";
  t.tick.ts = ts;
  t.tick.last = last;
  return bridge::Message{1, t_ms, t};
}

stream::Entry entry(std::int64_t recv_ns) {
  return stream::Entry{"md:tick:WIN", {1, 1}, {{"recv_ns", std::to_string(recv_ns)}}};
}

// A trailed stop: its slippage is against the price the venue confirmed by
// the last replace, not the one it was placed at.
TEST(LiveMetricsTest, AReplacedStopsSlippageIsAgainstItsNewPrice) {
  monitor::Registry registry("live", "t");
  LiveMetrics m(registry, {{"WIN", 5.0}});
  bridge::OrderNew stop;
  stop.cl_ord_id = "M-2";
  stop.symbol = "WIN";
  stop.side = Side::Sell;
  stop.type = OrderType::Stop;
  stop.stop_price = 119000;
  stop.qty = 1;
  m.order_queued(stop);
  bridge::OrderAck replaced;  // trailed up 1000 points (200 ticks)
  replaced.cl_ord_id = "M-2";
  replaced.symbol = "WIN";
  replaced.exec_type = bridge::ExecType::Replaced;
  replaced.ord_status = bridge::OrdStatus::Replaced;
  replaced.stop_price = 120000;
  m.report(replaced);
  bridge::FillMsg fill;
  fill.cl_ord_id = "M-2";
  fill.symbol = "WIN";
  fill.side = Side::Sell;
  fill.qty = 1;
  fill.price = 119995;  // 1 tick below the trailed stop
  m.report(fill);
  const std::string text = registry.render();
  EXPECT_EQ(value_of(text, "quant_live_slippage_ticks_count{symbol=\"WIN\"}"), 1);
  EXPECT_EQ(value_of(text, "quant_live_slippage_ticks_sum{symbol=\"WIN\"}"), 1);
}

TEST(LiveMetricsTest, SlippageIsInTicksAgainstTheArrivalPriceSignedWorseIsPositive) {
  monitor::Registry registry("live", "t");
  LiveMetrics m(registry, {{"WIN", 5.0}});
  const Timestamp t0 = Timestamp(std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(kNow)));
  m.input(entry(kNow - 1'000'000), tick(120000, t0, kNow / 1'000'000 - 4), kNow);
  bridge::OrderNew buy;
  buy.cl_ord_id = "M-1";
  buy.symbol = "WIN";
  buy.side = Side::Buy;
  buy.qty = 2;
  m.order_queued(buy);
  m.orders_published(kNow + 6'000'000);
  bridge::FillMsg fill;
  fill.cl_ord_id = "M-1";
  fill.symbol = "WIN";
  fill.side = Side::Buy;
  fill.qty = 2;
  fill.price = 120010;  // 2 ticks above the arrival price: worse for a buy
  m.report(fill);
  bridge::OrderNew stop;  // a sell stop: its reference is the stop price
  stop.cl_ord_id = "M-2";
  stop.symbol = "WIN";
  stop.side = Side::Sell;
  stop.type = OrderType::Stop;
  stop.stop_price = 119900;
  stop.qty = 2;
  m.order_queued(stop);
  fill.cl_ord_id = "M-2";
  fill.side = Side::Sell;
  fill.price = 119885;  // 3 ticks below the stop: worse for a sell
  m.report(fill);

  const std::string text = registry.render();
  EXPECT_EQ(value_of(text, "quant_live_slippage_ticks_count{symbol=\"WIN\"}"), 2);
  EXPECT_EQ(value_of(text, "quant_live_slippage_ticks_sum{symbol=\"WIN\"}"), 5);
  EXPECT_EQ(value_of(text, "quant_live_slippage_ticks_bucket{symbol=\"WIN\",le=\"2\"}"), 1);
  EXPECT_EQ(value_of(text, "quant_live_fills_total{side=\"buy\",symbol=\"WIN\"}"), 1);
  EXPECT_EQ(value_of(text, "quant_live_filled_contracts_total{symbol=\"WIN\"}"), 4);
  EXPECT_EQ(value_of(text, "quant_live_orders_sent_total{kind=\"new\",symbol=\"WIN\"}"), 2);
  EXPECT_EQ(value_of(text, "quant_live_signals_total{outcome=\"entry\",symbol=\"WIN\"}"), 2);  // purpose defaults to entry
  // Feed latency 4 ms (terminal send → receipt), the Redis hop 1 ms, tick to order 10 ms.
  EXPECT_NEAR(value_of(text, "quant_live_feed_latency_seconds_sum{symbol=\"WIN\"}"), 0.004, 1e-9);
  EXPECT_NEAR(value_of(text, "quant_live_hub_latency_seconds_sum{symbol=\"WIN\"}"), 0.001, 1e-9);
  EXPECT_NEAR(value_of(text, "quant_live_tick_to_order_seconds_sum{symbol=\"WIN\"}"), 0.010, 1e-9);
  EXPECT_EQ(value_of(text, "quant_live_tick_to_order_seconds_count{symbol=\"WIN\"}"), 1);
  EXPECT_NEAR(value_of(text, "quant_live_last_tick_received_timestamp_seconds{symbol=\"WIN\"}"), kNow / 1e9, 1e-3);
}

TEST(LiveMetricsTest, BarLagRunsOnTheFeedsOwnClockNotTheWallClock) {
  monitor::Registry registry("live", "t");
  LiveMetrics m(registry, {{"WIN", 5.0}});
  // Market time years before the wall clock (a replay): only wall differences count.
  const Timestamp minute = Timestamp(std::chrono::duration_cast<Duration>(std::chrono::hours(24 * 365 * 30)));
  m.input(entry(kNow), tick(1, minute + 30s, kNow / 1'000'000), kNow);
  m.input(entry(kNow), tick(1, minute + 60s + 200ms, kNow / 1'000'000), kNow + 2'000'000);  // the feed passes 1 min
  m.bar_closed("WIN", minute, kNow + 5'000'000);  // the bar closed 3 ms after that
  // A bar closed with nothing past its close seen yet: its own arrival is the first sign (0).
  m.bar_closed("WIN", minute + 60s, kNow + 9'000'000);
  const std::string text = registry.render();
  EXPECT_EQ(value_of(text, "quant_live_bar_lag_seconds_count{symbol=\"WIN\"}"), 2);
  EXPECT_NEAR(value_of(text, "quant_live_bar_lag_seconds_sum{symbol=\"WIN\"}"), 0.003, 1e-9);
}

TEST(LiveMetricsTest, ExchangeLatencyIsMeasuredOnRecentTicksAndHistoryIsCountedApart) {
  monitor::Registry registry("live", "t");
  LiveMetrics m(registry, {{"WIN", 5.0}});
  const Timestamp now{std::chrono::nanoseconds(kNow)};
  m.input(entry(kNow), tick(1, now - 40ms, kNow / 1'000'000), kNow);   // 40 ms from the exchange
  m.input(entry(kNow), tick(1, now + 5ms, kNow / 1'000'000), kNow);    // the terminal's clock ahead: 0
  m.input(entry(kNow), tick(1, now - 3h, kNow / 1'000'000), kNow);     // history (a replay)
  const std::string text = registry.render();
  EXPECT_EQ(value_of(text, "quant_live_exchange_latency_seconds_count{symbol=\"WIN\"}"), 2);
  EXPECT_NEAR(value_of(text, "quant_live_exchange_latency_seconds_sum{symbol=\"WIN\"}"), 0.040, 1e-9);
  EXPECT_EQ(value_of(text, "quant_live_exchange_time_outside_total{symbol=\"WIN\"}"), 1);
}

TEST(LiveMetricsTest, SessionOpenFollowsTheInstrumentsSessionAtScrapeTime) {
  monitor::Registry registry("live", "t");
  InstrumentSpec spec;
  spec.symbol = "WIN";
  spec.time_zone = "UTC";
  spec.session.open = std::chrono::minutes(9 * 60);
  spec.session.close = std::chrono::minutes(18 * 60);
  spec.weekdays = {1, 2, 3, 4, 5};
  // Monday 2026-12-07 (days since 1970: 20794).
  Timestamp now = Timestamp(std::chrono::duration_cast<Duration>(std::chrono::days(20794) + std::chrono::hours(10)));
  LiveMetrics::watch_sessions(registry, {spec}, [&] { return now; });
  EXPECT_EQ(value_of(registry.render(), "quant_live_session_open{symbol=\"WIN\"}"), 1);
  now += std::chrono::hours(9);  // 19:00: closed
  EXPECT_EQ(value_of(registry.render(), "quant_live_session_open{symbol=\"WIN\"}"), 0);
  now += std::chrono::hours(24 * 5 - 9 + 1);  // Saturday 11:00: not a trading day
  EXPECT_EQ(value_of(registry.render(), "quant_live_session_open{symbol=\"WIN\"}"), 0);
}

TEST(LiveMetricsTest, SymbolsOutsideTheConfigurationMakeNoSeries) {
  monitor::Registry registry("live", "t");
  LiveMetrics m(registry, {{"WIN", 5.0}});
  bridge::TickMsg t;
  t.symbol = "EVIL\"}";
  m.input(entry(kNow), bridge::Message{1, 1, t}, kNow);
  EXPECT_EQ(registry.render().find("EVIL"), std::string::npos);
}

}  // namespace
}  // namespace quant::live
