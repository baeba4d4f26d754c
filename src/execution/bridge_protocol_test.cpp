#include "execution/bridge_protocol.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace quant::execution::bridge {
namespace {

Timestamp ms(std::int64_t t) { return from_epoch_ns(t * 1'000'000); }

Message wrap(Body body, std::int64_t seq = 3) { return Message{seq, 1'700'000'000'123, std::move(body)}; }

Message round_trip(const Message& m) {
  const std::string line = encode(m);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto back = decode(line);
  EXPECT_TRUE(back.has_value()) << (back ? "" : back.error().message) << "\n" << line;
  if (!back) return {};
  EXPECT_EQ(back->seq, m.seq);
  EXPECT_EQ(back->t_ms, m.t_ms);
  EXPECT_EQ(back->body.index(), m.body.index());
  // Encoding is canonical: the decoded message writes the same line.
  EXPECT_EQ(encode(*back), line);
  return *back;
}

std::string error_of(std::string_view line) {
  auto m = decode(line);
  EXPECT_FALSE(m.has_value()) << line;
  return m ? std::string() : m.error().message;
}

OrderNew stop_loss() {
  OrderNew o;
  o.cl_ord_id = "L1-7";
  o.symbol = "WIN";
  o.side = Side::Sell;
  o.qty = 2;
  o.type = OrderType::Stop;
  o.stop_price = 123455;
  o.purpose = OrderPurpose::StopLoss;
  o.oco_with = "L1-8";
  return o;
}

TEST(BridgeProtocol, OrderNewMatchesTheContractExample) {
  OrderNew o = stop_loss();
  o.side = Side::Buy;
  o.oco_with.clear();
  EXPECT_EQ(encode(wrap(o)),
            R"({"type":"order_new","seq":3,"t_ms":1700000000123,"cl_ord_id":"L1-7","symbol":"WIN","side":"buy",)"
            R"("qty":2,"ord_type":"stop","tif":"day","price":0,"stop_price":123455,"purpose":"stop_loss",)"
            R"("oco_with":""})");
}

TEST(BridgeProtocol, HelloRoundTrips) {
  Hello h;
  h.role = "platform";
  h.terminal = "MT5 4410";
  h.account = "1234567";
  h.server_utc_offset_s = -10800;
  h.symbols = {"WIN", "WDO"};
  h.resume = {{"WIN", {1'700'000'000'500, 3, 1'699'999'940}}, {"WDO", {0, 0, 0}}};
  const auto back = std::get<Hello>(round_trip(wrap(h, 1)).body);
  EXPECT_EQ(back.role, "platform");
  EXPECT_EQ(back.terminal, h.terminal);
  EXPECT_EQ(back.account, h.account);
  EXPECT_EQ(back.server_utc_offset_s, -10800);
  EXPECT_EQ(back.symbols, h.symbols);
  ASSERT_EQ(back.resume.size(), 2u);
  EXPECT_EQ(back.resume[0].first, "WIN");
  EXPECT_EQ(back.resume[0].second.tick_msc, 1'700'000'000'500);
  EXPECT_EQ(back.resume[0].second.ticks_at_msc, 3);
  EXPECT_EQ(back.resume[0].second.bar_time, 1'699'999'940);
  EXPECT_EQ(back.resume[1].first, "WDO");
}

TEST(BridgeProtocol, TickRoundTripsWithAbsentPricesAsNull) {
  TickMsg t;
  t.symbol = "WDO";
  t.tick.ts = ms(1'700'000'000'001);
  t.tick.bid = 5012.5;
  t.tick.ask = 5013.0;
  t.tick.volume = 3;
  t.tick.flags = kTickBid | kTickAsk;
  const std::string line = encode(wrap(t));
  EXPECT_NE(line.find(R"("last":null)"), std::string::npos) << line;
  const auto back = std::get<TickMsg>(round_trip(wrap(t)).body);
  EXPECT_EQ(back.symbol, "WDO");
  EXPECT_EQ(back.tick.ts, t.tick.ts);
  EXPECT_EQ(back.tick.bid, 5012.5);
  EXPECT_EQ(back.tick.ask, 5013.0);
  EXPECT_TRUE(std::isnan(back.tick.last));
  EXPECT_EQ(back.tick.volume, 3);
  EXPECT_EQ(back.tick.flags, t.tick.flags);

  // Absent = NaN too.
  auto absent = decode(R"({"type":"tick","seq":1,"t_ms":1,"symbol":"WIN","time_msc":5,"bid":1,"ask":2})");
  ASSERT_TRUE(absent.has_value()) << absent.error().message;
  EXPECT_TRUE(std::isnan(std::get<TickMsg>(absent->body).tick.last));
}

TEST(BridgeProtocol, BookAndBarRoundTrip) {
  BookMsg b;
  b.symbol = "WIN";
  b.book.ts = ms(1'700'000'000'250);
  b.book.bids = {{123450, 10}, {123445, 7.5}};
  b.book.asks = {{123455, 4}};
  const auto book = std::get<BookMsg>(round_trip(wrap(b)).body);
  EXPECT_EQ(book.book.ts, b.book.ts);
  EXPECT_EQ(book.book.bids, b.book.bids);
  EXPECT_EQ(book.book.asks, b.book.asks);

  BarMsg bar;
  bar.symbol = "WIN";
  bar.bar.ts = from_epoch_ns(1'700'000'040LL * 1'000'000'000);
  bar.bar.open = 123450;
  bar.bar.high = 123500;
  bar.bar.low = 123400;
  bar.bar.close = 123455;
  bar.bar.tick_volume = 812;
  bar.bar.volume = 4120;
  bar.bar.spread = 1;
  EXPECT_EQ(std::get<BarMsg>(round_trip(wrap(bar)).body).bar, bar.bar);
}

TEST(BridgeProtocol, OrdersAcksFillsPositionsAndHeartbeatsRoundTrip) {
  const auto o = std::get<OrderNew>(round_trip(wrap(stop_loss())).body);
  EXPECT_EQ(o.cl_ord_id, "L1-7");
  EXPECT_EQ(o.side, Side::Sell);
  EXPECT_EQ(o.type, OrderType::Stop);
  EXPECT_EQ(o.purpose, OrderPurpose::StopLoss);
  EXPECT_EQ(o.stop_price, 123455);
  EXPECT_EQ(o.oco_with, "L1-8");

  const auto c = std::get<OrderCancel>(round_trip(wrap(OrderCancel{"L1-9", "L1-7", "WIN"})).body);
  EXPECT_EQ(c.orig_cl_ord_id, "L1-7");
  const auto r = std::get<OrderReplace>(round_trip(wrap(OrderReplace{"L1-10", "L1-7", "WIN", 123470.5})).body);
  EXPECT_EQ(r.stop_price, 123470.5);

  for (ExecType et : {ExecType::New, ExecType::Rejected, ExecType::Canceled, ExecType::Replaced, ExecType::Expired,
                      ExecType::Trade}) {
    for (OrdStatus os : {OrdStatus::New, OrdStatus::PartiallyFilled, OrdStatus::Filled, OrdStatus::Canceled,
                         OrdStatus::Replaced, OrdStatus::Rejected, OrdStatus::Expired}) {
      OrderAck a{"L1-7", "WIN", "5512345", et, os, "10006 rejected", 123460, 1'700'000'000'777};
      const auto back = std::get<OrderAck>(round_trip(wrap(a)).body);
      EXPECT_EQ(back.exec_type, et);
      EXPECT_EQ(back.ord_status, os);
      EXPECT_EQ(back.reason, a.reason);
      EXPECT_EQ(back.venue_order_id, a.venue_order_id);
    }
  }

  FillMsg f;
  f.cl_ord_id = "L1-7";
  f.exec_id = "889900";
  f.symbol = "WIN";
  f.side = Side::Sell;
  f.qty = 1;
  f.price = 123455;
  f.fee = 0.25;
  f.time_msc = 1'700'000'000'900;
  f.cum_qty = 1;
  f.leaves_qty = 1;
  f.ord_status = OrdStatus::PartiallyFilled;
  const auto fill = std::get<FillMsg>(round_trip(wrap(f)).body);
  EXPECT_EQ(fill.exec_id, "889900");
  EXPECT_EQ(fill.fee, 0.25);
  EXPECT_EQ(fill.leaves_qty, 1);
  EXPECT_EQ(fill.ord_status, OrdStatus::PartiallyFilled);

  PositionsMsg p;
  p.positions = {{"WIN", -2, 123456.25}, {"WDO", 1, 5012.5}};
  p.orders = {{"L1-7", "WIN", Side::Buy, OrderType::Stop, 2, 0, 0, 123500}};
  const auto pos = std::get<PositionsMsg>(round_trip(wrap(p)).body);
  EXPECT_FALSE(pos.request);
  ASSERT_EQ(pos.positions.size(), 2u);
  EXPECT_EQ(pos.positions[0].qty, -2);
  EXPECT_EQ(pos.positions[0].avg_price, 123456.25);
  ASSERT_EQ(pos.orders.size(), 1u);
  EXPECT_EQ(pos.orders[0].type, OrderType::Stop);
  EXPECT_EQ(pos.orders[0].stop_price, 123500);
  EXPECT_TRUE(std::get<PositionsMsg>(round_trip(wrap(PositionsMsg{true, {}, {}})).body).request);

  EXPECT_EQ(std::get<Heartbeat>(round_trip(wrap(Heartbeat{"1700000000123-1"})).body).mark, "1700000000123-1");
}

TEST(BridgeProtocol, TypeNamesAndEnums) {
  EXPECT_EQ(type_name(Body{Heartbeat{}}), "hb");
  EXPECT_EQ(type_name(Body{OrderReplace{}}), "order_replace");
  EXPECT_EQ(to_string(ExecType::Trade), "trade");
  EXPECT_EQ(to_string(OrdStatus::PartiallyFilled), "partially_filled");
}

RC_GTEST_PROP(BridgeProtocol, DoublesRoundTripExactly, (double price, double size)) {
  RC_PRE(std::isfinite(price) && std::isfinite(size) && price > 0 && size >= 0);
  BookMsg b;
  b.symbol = "X";
  b.book.bids = {{price, size}};
  const auto back = decode(encode(wrap(b)));
  RC_ASSERT(back.has_value());
  const auto& level = std::get<BookMsg>(back->body).book.bids.at(0);
  RC_ASSERT(level.price == price);
  RC_ASSERT(level.size == size);
}

TEST(BridgeProtocol, ErrorsNameTheField) {
  const std::string base =
      R"({"type":"order_new","seq":3,"t_ms":1,"cl_ord_id":"L1-7","symbol":"WIN","side":"buy","qty":2,)"
      R"("ord_type":"stop","tif":"day","price":0,"stop_price":123455,"purpose":"stop_loss","oco_with":""})";
  ASSERT_TRUE(decode(base).has_value());
  auto with = [&](const std::string& field, const std::string& value) {
    const std::string key = "\"" + field + "\":";
    std::string line = base;
    const auto at = line.find(key);
    EXPECT_NE(at, std::string::npos) << field;
    const auto end = line.find_first_of(",}", at + key.size());
    return line.replace(at + key.size(), end - at - key.size(), value);
  };
  auto without = [&](const std::string& field) {
    const std::string key = ",\"" + field + "\":";
    std::string line = base;
    const auto at = line.find(key);
    const auto end = line.find_first_of(",}", at + key.size());
    return line.erase(at, end - at);
  };
  EXPECT_EQ(error_of(with("qty", "0")), "order_new: field qty: must be a positive integer");
  EXPECT_EQ(error_of(with("qty", "1.5")), "order_new: field qty: must be a positive integer");
  EXPECT_EQ(error_of(with("qty", "\"2\"")), "order_new: field qty: must be a positive integer");
  EXPECT_EQ(error_of(with("qty", "18446744073709551615")), "order_new: field qty: must be a positive integer");
  EXPECT_EQ(error_of(without("qty")), "order_new: field qty: missing");
  EXPECT_EQ(error_of(with("side", "\"long\"")), "order_new: field side: must be one of buy, sell");
  EXPECT_EQ(error_of(with("ord_type", "3")),
            "order_new: field ord_type: must be one of market, limit, stop, stop_limit");
  EXPECT_EQ(error_of(with("tif", "\"fok\"")), "order_new: field tif: must be one of day, gtc, ioc");
  EXPECT_EQ(error_of(with("purpose", "null")),
            "order_new: field purpose: must be one of entry, exit, stop_loss, target, flatten");
  EXPECT_EQ(error_of(with("stop_price", "0")), "order_new: field stop_price: must be > 0 for a stop order");
  EXPECT_EQ(error_of(with("stop_price", "-1")), "order_new: field stop_price: must be a finite number >= 0");
  EXPECT_EQ(error_of(with("stop_price", "1e999")).substr(0, 11), "not a JSON ");  // JSON has no infinity
  EXPECT_EQ(error_of(with("price", "[]")), "order_new: field price: must be a finite number");
  EXPECT_EQ(error_of(with("cl_ord_id", "\"\"")), "order_new: field cl_ord_id: must be a non-empty string");
  EXPECT_EQ(error_of(with("symbol", "{}")), "order_new: field symbol: must be a string");
  EXPECT_EQ(error_of(with("oco_with", "7")), "order_new: field oco_with: must be a string");
  EXPECT_EQ(error_of(with("seq", "0")), "order_new: field seq: must be a positive integer");
  EXPECT_EQ(error_of(with("t_ms", "-5")), "order_new: field t_ms: must be a non-negative integer (Unix ms)");

  EXPECT_EQ(error_of(R"({"type":"quote","seq":1,"t_ms":1})").substr(0, 28), "unknown message type 'quote'");
  EXPECT_EQ(error_of(R"({"seq":1,"t_ms":1})"), "message: field type: missing");
  EXPECT_EQ(error_of(R"({"type":7,"seq":1,"t_ms":1})"), "message: field type: must be a string");
  EXPECT_EQ(error_of("[1,2]"), "not a JSON object: a bridge message is one object per line");
  EXPECT_EQ(error_of("{\"type\":").substr(0, 16), "not a JSON line:");
  EXPECT_EQ(error_of("").substr(0, 16), "not a JSON line:");

  EXPECT_EQ(error_of(R"({"type":"hello","seq":1,"t_ms":1,"schema":2,"role":"terminal"})").substr(0, 51),
            "hello: field schema: version 2 is not supported (th");
  EXPECT_EQ(error_of(R"({"type":"hello","seq":1,"t_ms":1,"schema":1,"role":"broker"})"),
            "hello: field role: must be terminal or platform");
  EXPECT_EQ(error_of(R"({"type":"hello","seq":1,"t_ms":1,"schema":1,"role":"terminal","symbols":["WIN",3]})"),
            "hello: field symbols[1]: must be a non-empty string");
  EXPECT_EQ(
      error_of(R"({"type":"hello","seq":1,"t_ms":1,"schema":1,"role":"platform","resume":{"WIN":{"tick_msc":1}}})"),
      "hello: field resume.WIN: field ticks_at_msc: missing");
  EXPECT_EQ(error_of(R"({"type":"tick","seq":1,"t_ms":1,"symbol":"WIN","time_msc":5,"bid":"x"})"),
            "tick: field bid: must be a finite number");
  EXPECT_EQ(error_of(R"({"type":"tick","seq":1,"t_ms":1,"symbol":"WIN","time_msc":99999999999999999})"),
            "tick: field time_msc: must be a non-negative integer (Unix ms)");
  EXPECT_EQ(error_of(R"({"type":"tick","seq":1,"t_ms":1,"symbol":"WIN","time_msc":5,"flags":-1})"),
            "tick: field flags: must be an integer in [0, 2^32)");
  EXPECT_EQ(error_of(R"({"type":"book","seq":1,"t_ms":1,"symbol":"WIN","time_msc":5,"bids":[[1,2],[3]],"asks":[]})"),
            "book: field bids[1]: must be [price, size]");
  EXPECT_EQ(error_of(R"({"type":"book","seq":1,"t_ms":1,"symbol":"WIN","time_msc":5,"bids":[]})"),
            "book: field asks: missing");
  EXPECT_EQ(error_of(R"({"type":"bar","seq":1,"t_ms":1,"symbol":"WIN","time":60,"open":1,"high":1,"low":2,)"
                     R"("close":1,"tick_volume":1,"volume":1,"spread":0})"),
            "bar: field high: must be >= low");
  EXPECT_EQ(error_of(R"({"type":"bar","seq":1,"t_ms":1,"symbol":"WIN","time":60,"open":1,"high":1,"low":1,)"
                     R"("close":1,"tick_volume":1,"volume":1})"),
            "bar: field spread: missing");
  EXPECT_EQ(error_of(R"({"type":"order_cancel","seq":1,"t_ms":1,"cl_ord_id":"a","symbol":"WIN"})"),
            "order_cancel: field orig_cl_ord_id: missing");
  EXPECT_EQ(error_of(R"({"type":"order_replace","seq":1,"t_ms":1,"cl_ord_id":"a","orig_cl_ord_id":"b",)"
                     R"("symbol":"WIN","stop_price":0})"),
            "order_replace: field stop_price: must be > 0");
  EXPECT_EQ(error_of(R"({"type":"order_ack","seq":1,"t_ms":1,"cl_ord_id":"a","symbol":"WIN","exec_type":"done",)"
                     R"("ord_status":"new","time_msc":1})"),
            "order_ack: field exec_type: must be one of new, rejected, canceled, replaced, expired, trade");
  EXPECT_EQ(error_of(R"({"type":"order_ack","seq":1,"t_ms":1,"cl_ord_id":"a","symbol":"WIN","exec_type":"new",)"
                     R"("ord_status":"open","time_msc":1})"),
            "order_ack: field ord_status: must be one of new, partially_filled, filled, canceled, replaced, "
            "rejected, expired");
  EXPECT_EQ(error_of(R"({"type":"fill","seq":1,"t_ms":1,"cl_ord_id":"a","exec_id":"","symbol":"WIN"})"),
            "fill: field exec_id: must be a non-empty string");
  EXPECT_EQ(error_of(R"({"type":"positions","seq":1,"t_ms":1,"request":"yes"})"),
            "positions: field request: must be true or false");
  EXPECT_EQ(error_of(R"({"type":"positions","seq":1,"t_ms":1,"request":false,"positions":[{"symbol":"WIN"}]})"),
            "positions: positions[0]: field qty: missing");
  EXPECT_EQ(error_of(R"({"type":"positions","seq":1,"t_ms":1,"request":false,"orders":[7]})"),
            "positions: field orders[0]: must be an object");
  EXPECT_EQ(error_of(R"({"type":"hb","seq":1,"t_ms":1,"mark":5})"), "hb: field mark: must be a string");
}

TEST(BridgeProtocol, GarbageNeverThrows) {
  for (std::string_view line :
       {"", "{", "null", "1", "\"x\"", R"({"type":null})", R"({"type":"hb","seq":true,"t_ms":1})",
        R"({"type":"hello","seq":1,"t_ms":1,"schema":"1"})", R"({"type":"hello","seq":1,"t_ms":1,"schema":1.0})",
        R"({"type":"hello","seq":1,"t_ms":1,"schema":1,"role":"terminal","resume":[1]})",
        R"({"type":"positions","seq":1,"t_ms":1,"request":false,"positions":{}})",
        "{\"type\":\"hb\",\"seq\":1,\"t_ms\":1,\"mark\":\"\xff\"}"}) {
    EXPECT_NO_THROW((void)decode(line)) << line;
  }
}

TEST(LineReader, SplitsMergedAndSplitReads) {
  LineReader r;
  ASSERT_TRUE(r.feed("{\"a\":1}\n{\"b\"").has_value());
  EXPECT_EQ(r.next(), "{\"a\":1}");
  EXPECT_EQ(r.next(), std::nullopt);
  ASSERT_TRUE(r.feed(":2}\r\n").has_value());
  EXPECT_EQ(r.next(), "{\"b\":2}");  // CRLF tolerated
  ASSERT_TRUE(r.feed("x\ny\n\nz").has_value());
  EXPECT_EQ(r.next(), "x");
  EXPECT_EQ(r.next(), "y");
  EXPECT_EQ(r.next(), "");
  EXPECT_EQ(r.next(), std::nullopt);
  ASSERT_TRUE(r.feed("").has_value());
  ASSERT_TRUE(r.feed("\n").has_value());
  EXPECT_EQ(r.next(), "z");

  // Byte by byte.
  const std::string text = "one\ntwo\r\nthree\n";
  LineReader bytes;
  std::vector<std::string> got;
  for (char c : text) {
    ASSERT_TRUE(bytes.feed(std::string_view(&c, 1)).has_value());
    while (auto line = bytes.next()) got.push_back(*line);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(LineReader, CapsALineAt64KiBWithItsNewline) {
  {
    LineReader r;  // exactly kMaxLine with the '\n': accepted
    ASSERT_TRUE(r.feed(std::string(kMaxLine - 1, 'a') + "\n").has_value());
    EXPECT_EQ(r.next()->size(), kMaxLine - 1);
  }
  {
    LineReader r;  // one more byte in one read
    auto fed = r.feed(std::string(kMaxLine, 'a') + "\n");
    ASSERT_FALSE(fed.has_value());
    EXPECT_NE(fed.error().message.find("line longer than 65536 bytes"), std::string::npos);
  }
  {
    LineReader r;  // a tail that can no longer end within the cap fails before its newline
    ASSERT_TRUE(r.feed("ok\n").has_value());
    ASSERT_TRUE(r.feed(std::string(kMaxLine - 1, 'a')).has_value());
    EXPECT_FALSE(r.feed("b").has_value());
  }
  {
    LineReader r;  // many short lines add up beyond the cap: fine
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(r.feed(std::string(50, 'x') + "\n").has_value());
      if (i % 7 == 0)
        while (r.next()) {
        }
    }
  }
}

TEST(SeqTracker, AcceptsOneByOneAndNamesGapsAndRepeats) {
  SeqTracker s;
  ASSERT_TRUE(s.check(1).has_value());
  ASSERT_TRUE(s.check(2).has_value());
  auto gap = s.check(4);
  ASSERT_FALSE(gap.has_value());
  EXPECT_EQ(gap.error().message, "seq gap: expected 3, got 4 (last was 2)");
  auto repeat = s.check(2);
  ASSERT_FALSE(repeat.has_value());
  EXPECT_EQ(repeat.error().message, "seq 2 repeats or goes back (last was 2, expected 3)");
  EXPECT_EQ(s.last(), 2);
  ASSERT_TRUE(s.check(3).has_value());
  s.reset();
  EXPECT_FALSE(s.check(4).has_value());
  EXPECT_TRUE(s.check(1).has_value());
}

}  // namespace
}  // namespace quant::execution::bridge
