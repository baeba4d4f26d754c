#include "logger/rows.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "execution/bridge_protocol.h"
#include "logger/logger.h"
#include "stream/metrics.h"

namespace quant::logger {
namespace {

namespace bridge = execution::bridge;
using nlohmann::json;

stream::Entry entry(std::string stream, stream::StreamId id, stream::Fields fields) {
  return stream::Entry{std::move(stream), id, std::move(fields)};
}

stream::Entry tick_entry(const std::string& symbol, std::int64_t msc, double bid, double ask, std::uint64_t n) {
  bridge::TickMsg t;
  t.symbol = symbol;
  t.tick.ts = from_epoch_ns(msc * 1'000'000);
  t.tick.bid = bid;
  t.tick.ask = ask;
  t.tick.volume = 3;
  t.tick.flags = 6;
  return entry(stream::tick_key(symbol), {n, 1},
               {{"type", "tick"}, {"msg", bridge::encode({7, msc + 5, t})}, {"recv_ns", "1700000000123456789"}});
}

stream::Entry fill_entry(const std::string& exec_id, std::uint64_t n) {
  bridge::FillMsg f;
  f.cl_ord_id = "LWIN-1";
  f.exec_id = exec_id;
  f.symbol = "WIN";
  f.side = Side::Sell;
  f.qty = 2;
  f.price = 123460;
  f.fee = 1.1;
  f.time_msc = 1700000000399;
  f.cum_qty = 2;
  f.ord_status = bridge::OrdStatus::Filled;
  return entry(std::string(stream::kFills), {n, 1},
               {{"type", "fill"}, {"msg", bridge::encode({3, 1700000000400, f})}, {"recv_ns", "1700000000401000000"}});
}

TEST(RowsTest, TickBecomesATicksRowWithItsKeyAndNullForAbsentPrices) {
  const auto c = convert(tick_entry("WIN", 1700000000001, 123450, std::numeric_limits<double>::quiet_NaN(), 42), 99);
  ASSERT_EQ(c.kind, Conversion::Kind::Row) << c.reason;
  EXPECT_EQ(c.table, Table::Ticks);
  EXPECT_EQ(c.produced_ns, 1700000000123456789);
  const json j = json::parse(c.row);
  EXPECT_EQ(j["symbol"], "WIN");
  EXPECT_EQ(j["ts_ms"], 1700000000001);
  EXPECT_EQ(j["bid"], 123450.0);
  EXPECT_TRUE(j["ask"].is_null());
  EXPECT_TRUE(j["last"].is_null());
  EXPECT_EQ(j["volume"], 3.0);
  EXPECT_EQ(j["flags"], 6);
  EXPECT_EQ(j["stream_ms"], 42);
  EXPECT_EQ(j["stream_seq"], 1);
  EXPECT_EQ(j["recv_ns"], 1700000000123456789);
  EXPECT_EQ(j["logged_ms"], 99);
  EXPECT_EQ(j.size(), 11U);  // the columns of schema.sql's ticks, ts excepted (MATERIALIZED)
}

TEST(RowsTest, PricesAreWrittenSoTheyReadBackExactly) {
  const double bid = 0.1 + 0.2;
  const auto c = convert(tick_entry("WDO", 1700000000001, bid, 5123.5, 1), 1);
  ASSERT_EQ(c.kind, Conversion::Kind::Row);
  EXPECT_EQ(json::parse(c.row)["bid"].get<double>(), bid);
}

TEST(RowsTest, FillBecomesATradesRowKeyedByExecId) {
  const auto c = convert(fill_entry("889900", 7), 5);
  ASSERT_EQ(c.kind, Conversion::Kind::Row) << c.reason;
  EXPECT_EQ(c.table, Table::Trades);
  const json j = json::parse(c.row);
  EXPECT_EQ(j["exec_id"], "889900");
  EXPECT_EQ(j["cl_ord_id"], "LWIN-1");
  EXPECT_EQ(j["side"], "sell");
  EXPECT_EQ(j["qty"], 2);
  EXPECT_EQ(j["price"], 123460.0);
  EXPECT_EQ(j["fee"], 1.1);
  EXPECT_EQ(j["ts_ms"], 1700000000399);
  EXPECT_EQ(j["ord_status"], "filled");
  EXPECT_EQ(j["stream_ms"], 7);
}

TEST(RowsTest, OrderAcksAndPositionsAreNotTrades) {
  bridge::OrderAck a;
  a.cl_ord_id = "LWIN-1";
  a.symbol = "WIN";
  const auto ack = convert(
      entry(std::string(stream::kFills), {1, 1}, {{"type", "order_ack"}, {"msg", bridge::encode({1, 1, a})}}), 1);
  EXPECT_EQ(ack.kind, Conversion::Kind::Skipped);
  EXPECT_NE(ack.reason.find("order_ack"), std::string::npos);
  const auto positions =
      convert(entry(std::string(stream::kFills), {2, 1},
                    {{"type", "positions"}, {"msg", bridge::encode({1, 1, bridge::PositionsMsg{}})}}),
              1);
  EXPECT_EQ(positions.kind, Conversion::Kind::Skipped);
}

TEST(RowsTest, MetricsRoundTripThroughTheStreamFields) {
  stream::Metrics m;
  m.symbol = "WIN";
  m.ts_ms = 1700000060000;
  m.session = "L";
  m.equity = 99123.456789012345;
  m.position = -2;
  m.realized_pnl = -877.5;
  m.open_pnl = 0.1 + 0.7;
  m.day_start_equity = 100000;
  m.drawdown = 99123.456789012345 / 100000 - 1;
  m.halted = true;
  m.sent_ns = 1700000060000123456;
  m.breaker_drawdown = -0.03;
  auto back = stream::parse_metrics(stream::metrics_fields(m));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->breaker_drawdown, -0.03);
  EXPECT_EQ(back->equity, m.equity);
  EXPECT_EQ(back->open_pnl, m.open_pnl);
  EXPECT_EQ(back->drawdown, m.drawdown);
  EXPECT_EQ(back->position, -2);
  EXPECT_TRUE(back->halted);
  // An entry written before breaker_drawdown existed reads as "no breaker".
  auto fields = stream::metrics_fields(m);
  std::erase_if(fields, [](const auto& f) { return f.first == "breaker_drawdown"; });
  auto old = stream::parse_metrics(fields);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->breaker_drawdown, 0);

  const auto c = convert(entry(std::string(stream::kMetrics), {5, 0}, stream::metrics_fields(m)), 1);
  ASSERT_EQ(c.kind, Conversion::Kind::Row) << c.reason;
  EXPECT_EQ(c.table, Table::Metrics);
  EXPECT_EQ(c.produced_ns, m.sent_ns);
  const json j = json::parse(c.row);
  EXPECT_EQ(j["equity"].get<double>(), m.equity);
  EXPECT_EQ(j["halted"], 1);
  EXPECT_EQ(j["session"], "L");
  EXPECT_EQ(j["ts_ms"], 1700000060000);
}

TEST(RowsTest, MalformedEntriesAreRejectedWholeWithAReason) {
  // Not JSON.
  auto c = convert(entry("md:tick:WIN", {9, 1}, {{"type", "tick"}, {"msg", "{not json"}}), 3);
  ASSERT_EQ(c.kind, Conversion::Kind::Rejected);
  EXPECT_EQ(c.table, Table::Rejects);
  json j = json::parse(c.row);
  EXPECT_EQ(j["stream"], "md:tick:WIN");
  EXPECT_EQ(j["stream_ms"], 9);
  EXPECT_EQ(json::parse(j["fields"].get<std::string>())["msg"], "{not json");
  EXPECT_EQ(j["reason"], c.reason);

  // A tick of another symbol in this stream.
  auto other = tick_entry("WDO", 1700000000001, 1, 2, 3);
  other.stream = "md:tick:WIN";
  c = convert(other, 3);
  ASSERT_EQ(c.kind, Conversion::Kind::Rejected);
  EXPECT_NE(c.reason.find("WDO"), std::string::npos);

  // A metrics entry without equity: the reason names the field.
  auto fields = stream::metrics_fields(stream::Metrics{"WIN", 1, "L", 1, 0, 0, 0, 1, 0, false, 0});
  std::erase_if(fields, [](const auto& f) { return f.first == "equity"; });
  c = convert(entry(std::string(stream::kMetrics), {1, 0}, fields), 3);
  ASSERT_EQ(c.kind, Conversion::Kind::Rejected);
  EXPECT_NE(c.reason.find("field equity: missing"), std::string::npos) << c.reason;

  // A stream the logger has no table for.
  c = convert(entry("md:book:WIN", {1, 1}, {{"type", "book"}}), 3);
  ASSERT_EQ(c.kind, Conversion::Kind::Rejected);
  EXPECT_NE(c.reason.find("md:book:WIN"), std::string::npos);
}

TEST(RowsTest, StreamsAreTheSymbolsTicksFillsAndMetrics) {
  EXPECT_EQ(logged_streams({"WIN", "WDO"}),
            (std::vector<std::string>{"md:tick:WIN", "md:tick:WDO", "exec:fills", "mon:metrics"}));
}

TEST(LagHistogramTest, QuantilesWithinOnePercent) {
  LagHistogram h;
  for (int i = 1; i <= 10000; ++i) h.add(i);
  EXPECT_EQ(h.count(), 10000);
  EXPECT_EQ(h.max(), 10000);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.5)), 5000, 5000 * 0.011);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.99)), 9900, 9900 * 0.011);
  EXPECT_EQ(h.quantile(1.0), 10000);
  EXPECT_EQ(LagHistogram{}.quantile(0.5), 0);
}

}  // namespace
}  // namespace quant::logger
