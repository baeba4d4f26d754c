#include "fix/fix_codec.h"

#include <gtest/gtest.h>

namespace quant::fix {
namespace {

/// "tag=value|tag=value|..." of a message body, for readable comparisons.
std::string text(const RawMessage& m) {
  std::string out = "35=" + m.type;
  for (const Field& f : m.fields) out += "|" + std::to_string(f.tag) + "=" + f.value;
  return out;
}

B3Identity identity() {
  B3Identity id;
  id.account = "12345";
  id.entering_trader = "TRD1";
  id.entering_firm = "308";
  return id;
}

bridge::OrderNew stop_order() {
  bridge::OrderNew o;
  o.cl_ord_id = "LWIN-7";
  o.symbol = "WIN";
  o.side = Side::Sell;
  o.qty = 3;
  o.type = OrderType::Stop;
  o.tif = TimeInForce::Day;
  o.stop_price = 123455;
  o.purpose = OrderPurpose::StopLoss;
  o.oco_with = "LWIN-8";
  return o;
}

constexpr std::int64_t kT = 1700000000123;  // 2023-11-14 22:13:20.123 UTC

TEST(FixCodecTest, TimestampsAndDecimalsRoundTrip) {
  EXPECT_EQ(format_utc_ms(kT), "20231114-22:13:20.123");
  EXPECT_EQ(*parse_utc_ms("20231114-22:13:20.123"), kT);
  EXPECT_EQ(*parse_utc_ms("20231114-22:13:20"), kT - 123);
  EXPECT_EQ(*parse_utc_ms("20231114-22:13:20.123456"), kT);
  EXPECT_FALSE(parse_utc_ms("2023-11-14 22:13:20"));
  EXPECT_FALSE(parse_utc_ms("20231314-22:13:20"));
  EXPECT_EQ(format_decimal(123455), "123455");
  EXPECT_EQ(format_decimal(5012.5), "5012.5");
  EXPECT_EQ(format_decimal(0.1), "0.1");
  EXPECT_EQ(format_decimal(1e21), "1000000000000000000000");  // never an exponent
  // Longer than 64 digits: written whole (it came out "0" once: fuzz_fix_codec).
  EXPECT_EQ(format_decimal(1e100).size(), 101u);
  EXPECT_EQ(format_decimal(1e100).substr(0, 2), "10");
}

TEST(FixCodecTest, AnAbsurdPriceIsRefusedNamingItsTag) {
  RawMessage m;
  m.type = "D";
  m.fields = {{11, "X1"}, {55, "WIN"}, {54, "1"}, {38, "1"}, {40, "3"}, {59, "0"},
              {99, "7777777777777777777777777777777777777777777777777777777777777777777777123411154"}};
  ExchangeCodec exchange;
  auto r = exchange.decode(m);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("tag 99 '7777777777777777777777777777777777777777' is out of range"),
            std::string::npos)
      << r.error().message;
}

TEST(FixCodecTest, NewOrderSingleCarriesB3TagsTagByTag) {
  VenueCodec venue(identity());
  auto m = venue.encode(stop_order(), kT);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(text(*m),
            "35=D|11=LWIN-7|1=12345|453=2|448=TRD1|447=D|452=36|448=308|447=D|452=7|55=WIN|48=WIN|22=8|207=BVMF|"
            "54=2|60=20231114-22:13:20.123|38=3|40=3|99=123455|59=0|5149=stop_loss oco=LWIN-8");
  bridge::OrderNew limit;
  limit.cl_ord_id = "LWIN-9";
  limit.symbol = "WIN";
  limit.qty = 1;
  limit.type = OrderType::Limit;
  limit.tif = TimeInForce::Ioc;
  limit.price = 123000.5;
  auto l = VenueCodec(B3Identity{}).encode(limit, kT);
  ASSERT_TRUE(l);
  EXPECT_EQ(text(*l), "35=D|11=LWIN-9|55=WIN|48=WIN|22=8|207=BVMF|54=1|60=20231114-22:13:20.123|38=1|40=2|44=123000.5|"
                      "59=3|5149=entry");
}

TEST(FixCodecTest, TheExchangeReadsBackTheSameOrder) {
  VenueCodec venue(identity());
  ExchangeCodec exchange;
  for (OrderType type : {OrderType::Market, OrderType::Limit, OrderType::Stop, OrderType::StopLimit}) {
    bridge::OrderNew o = stop_order();
    o.cl_ord_id = "LWIN-" + std::to_string(static_cast<int>(type) + 10);
    o.type = type;
    o.price = type == OrderType::Limit || type == OrderType::StopLimit ? 123460 : 0;
    o.stop_price = type == OrderType::Stop || type == OrderType::StopLimit ? 123455.5 : 0;
    o.tif = TimeInForce::Gtc;
    auto back = exchange.decode(*venue.encode(o, kT));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(bridge::encode({1, 0, *back}), bridge::encode({1, 0, o})) << to_string(type);
  }
}

TEST(FixCodecTest, CancelAndReplaceNameTheLatestClOrdIdAndRepeatTheOrdersFields) {
  VenueCodec venue(identity());
  ExchangeCodec exchange;
  const bridge::OrderNew o = stop_order();
  ASSERT_TRUE(exchange.decode(*venue.encode(o, kT)));

  const bridge::OrderReplace r{"LWIN-7/r1", "LWIN-7", "WIN", 123470};
  auto g = venue.encode(r, kT);
  ASSERT_TRUE(g);
  EXPECT_EQ(text(*g),
            "35=G|41=LWIN-7|11=LWIN-7/r1|1=12345|453=2|448=TRD1|447=D|452=36|448=308|447=D|452=7|55=WIN|48=WIN|22=8|"
            "207=BVMF|54=2|60=20231114-22:13:20.123|38=3|40=3|99=123470|59=0|5149=stop_loss oco=LWIN-8");
  auto request = exchange.decode(*g);
  ASSERT_TRUE(request);
  EXPECT_EQ(bridge::encode({1, 0, *request}), bridge::encode({1, 0, r}));

  // The exchange replaces the stop: 8 with 150=5, 11 = the request, 41 = the order's id before it.
  bridge::OrderAck replaced;
  replaced.cl_ord_id = "LWIN-7";
  replaced.symbol = "WIN";
  replaced.venue_order_id = "1";
  replaced.exec_type = bridge::ExecType::Replaced;
  replaced.ord_status = bridge::OrdStatus::New;
  replaced.stop_price = 123470;
  replaced.time_msc = kT;
  auto reports = exchange.encode(&*request, {replaced});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(text(reports[0]),
            "35=8|37=1|11=LWIN-7/r1|41=LWIN-7|17=LWIN-7/r1:5|150=5|39=0|55=WIN|54=2|38=3|40=3|99=123470|151=3|14=0|"
            "6=0|60=20231114-22:13:20.123");
  auto back = venue.decode(reports[0]);
  ASSERT_TRUE(back && *back) << (back ? "duplicate" : back.error().message);
  EXPECT_EQ(bridge::encode({1, 0, **back}), bridge::encode({1, 0, replaced}));
  EXPECT_EQ(venue.current_id("LWIN-7"), "LWIN-7/r1");

  // The next cancel names the replaced order by its latest ClOrdID; the exchange maps it to the first.
  auto f = venue.encode(bridge::OrderCancel{"LWIN-7/c2", "LWIN-7", "WIN"}, kT);
  ASSERT_TRUE(f);
  EXPECT_EQ(text(*f), "35=F|41=LWIN-7/r1|11=LWIN-7/c2|1=12345|453=2|448=TRD1|447=D|452=36|448=308|447=D|452=7|"
                      "55=WIN|48=WIN|22=8|207=BVMF|54=2|60=20231114-22:13:20.123|38=3");
  auto cancel = exchange.decode(*f);
  ASSERT_TRUE(cancel);
  EXPECT_EQ(std::get<bridge::OrderCancel>(*cancel).orig_cl_ord_id, "LWIN-7");
  bridge::OrderAck cancelled = replaced;
  cancelled.exec_type = bridge::ExecType::Canceled;
  cancelled.ord_status = bridge::OrdStatus::Canceled;
  cancelled.stop_price = 0;
  auto c = exchange.encode(&*cancel, {cancelled});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(text(c[0]), "35=8|37=1|11=LWIN-7/c2|41=LWIN-7/r1|17=LWIN-7/c2:4|150=4|39=4|55=WIN|54=2|38=3|40=3|"
                        "99=123470|151=0|14=0|6=0|60=20231114-22:13:20.123");
  auto cb = venue.decode(c[0]);
  ASSERT_TRUE(cb && *cb);
  EXPECT_EQ(bridge::encode({1, 0, **cb}), bridge::encode({1, 0, cancelled}));
  // The same report again (a resend) is dropped.
  auto again = venue.decode(c[0]);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST(FixCodecTest, PartialFillsCarryLastCumLeavesAvgAndCommission) {
  VenueCodec venue(identity());
  ExchangeCodec exchange;
  bridge::OrderNew o = stop_order();
  o.type = OrderType::Market;
  o.oco_with.clear();
  o.purpose = OrderPurpose::Entry;
  ASSERT_TRUE(exchange.decode(*venue.encode(o, kT)));
  bridge::FillMsg f1{"LWIN-7", "LWIN-7#1", "WIN", Side::Sell, 1, 123450, 0.5, kT, 1, 2,
                     bridge::OrdStatus::PartiallyFilled};
  bridge::FillMsg f2{"LWIN-7", "LWIN-7#2", "WIN", Side::Sell, 2, 123465, 1.0, kT + 60000, 3, 0,
                     bridge::OrdStatus::Filled};
  auto reports = exchange.encode(nullptr, {f1, f2});
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(text(reports[0]), "35=8|37=LWIN-7|11=LWIN-7|17=LWIN-7#1|150=F|39=1|55=WIN|54=2|38=3|40=1|32=1|31=123450|"
                              "151=2|14=1|6=123450|60=20231114-22:13:20.123|12=0.5|13=3");
  EXPECT_EQ(text(reports[1]), "35=8|37=LWIN-7|11=LWIN-7|17=LWIN-7#2|150=F|39=2|55=WIN|54=2|38=3|40=1|32=2|31=123465|"
                              "151=0|14=3|6=123460|60=20231114-22:14:20.123|12=1|13=3");
  for (const auto& [report, fill] : {std::pair{reports[0], f1}, std::pair{reports[1], f2}}) {
    auto back = venue.decode(report);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ(bridge::encode({1, 0, **back}), bridge::encode({1, 0, fill}));
  }
}

TEST(FixCodecTest, RefusedCancelsAndReplacesBecomeOrderCancelReject) {
  VenueCodec venue(identity());
  ExchangeCodec exchange;
  ASSERT_TRUE(exchange.decode(*venue.encode(stop_order(), kT)));
  // A replace of a filled order: 9 with 434=2, 102=0 (too late), 39 = the order's status.
  auto g = exchange.decode(*venue.encode(bridge::OrderReplace{"LWIN-7/r1", "LWIN-7", "WIN", 123470}, kT));
  ASSERT_TRUE(g);
  bridge::OrderAck refused;
  refused.cl_ord_id = "LWIN-7";
  refused.symbol = "WIN";
  refused.venue_order_id = "1";
  refused.exec_type = bridge::ExecType::Rejected;
  refused.ord_status = bridge::OrdStatus::Filled;
  refused.reason = "replace rejected: the order is filled";
  refused.time_msc = kT;
  auto r = exchange.encode(&*g, {refused});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(text(r[0]), "35=9|37=1|11=LWIN-7/r1|41=LWIN-7|39=2|55=WIN|60=20231114-22:13:20.123|434=2|102=0|"
                        "58=replace rejected: the order is filled");
  auto back = venue.decode(r[0]);
  ASSERT_TRUE(back && *back);
  EXPECT_EQ(bridge::encode({1, 0, **back}), bridge::encode({1, 0, refused}));

  // A cancel of an order the exchange never had: 434=1, 102=1 (unknown order), 39=8.
  VenueCodec other(identity());
  ASSERT_TRUE(other.encode(stop_order(), kT));
  ExchangeCodec fresh;  // never saw the D
  auto f = fresh.decode(*other.encode(bridge::OrderCancel{"LWIN-7/c1", "LWIN-7", "WIN"}, kT));
  ASSERT_TRUE(f);
  bridge::OrderAck unknown;
  unknown.cl_ord_id = "LWIN-7";
  unknown.symbol = "WIN";
  unknown.exec_type = bridge::ExecType::Rejected;
  unknown.ord_status = bridge::OrdStatus::Rejected;
  unknown.reason = "cancel rejected: unknown order 'LWIN-7'";
  unknown.time_msc = kT;
  auto u = fresh.encode(&*f, {unknown});
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(text(u[0]), "35=9|37=NONE|11=LWIN-7/c1|41=LWIN-7|39=8|55=WIN|60=20231114-22:13:20.123|434=1|102=1|"
                        "58=cancel rejected: unknown order 'LWIN-7'");
  auto ub = other.decode(u[0]);
  ASSERT_TRUE(ub && *ub);
  EXPECT_EQ(bridge::encode({1, 0, **ub}), bridge::encode({1, 0, unknown}));
}

TEST(FixCodecTest, ANewOrderRejectIsAnExecutionReport) {
  VenueCodec venue(identity());
  ExchangeCodec exchange;
  bridge::OrderNew o = stop_order();
  o.symbol = "XYZ";
  auto d = exchange.decode(*venue.encode(o, kT));
  ASSERT_TRUE(d);
  bridge::OrderAck rejected;
  rejected.cl_ord_id = "LWIN-7";
  rejected.exec_type = bridge::ExecType::Rejected;
  rejected.ord_status = bridge::OrdStatus::Rejected;
  rejected.reason = "unknown symbol 'XYZ'";
  rejected.time_msc = kT;
  auto r = exchange.encode(&*d, {rejected});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(text(r[0]), "35=8|37=NONE|11=LWIN-7|17=LWIN-7:8|150=8|39=8|103=1|55=XYZ|54=2|38=3|40=3|99=123455|151=0|"
                        "14=0|6=0|60=20231114-22:13:20.123|58=unknown symbol 'XYZ'");
  auto back = venue.decode(r[0]);
  ASSERT_TRUE(back && *back);
  const auto& a = std::get<bridge::OrderAck>(**back);
  EXPECT_EQ(a.exec_type, bridge::ExecType::Rejected);
  EXPECT_EQ(a.reason, "unknown symbol 'XYZ'");
  EXPECT_EQ(a.symbol, "XYZ");  // FIX requires 55; the bridge's ack had none
}

TEST(FixCodecTest, BadMessagesAreErrorsNamingTheTag) {
  VenueCodec venue(identity());
  ExchangeCodec exchange;
  RawMessage d{"D", {{11, "A"}, {55, "WIN"}, {54, "7"}, {38, "1"}, {40, "1"}}, 1, false};
  auto e = exchange.decode(d);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "fix D: tag 54 '7' is not one of 12");
  RawMessage q{"D", {{11, "A"}, {55, "WIN"}, {54, "1"}, {38, "1.5"}, {40, "1"}}, 1, false};
  EXPECT_EQ(exchange.decode(q).error().message, "fix D: tag 38 '1.5' is not a whole number");
  RawMessage s{"D", {{11, "A"}, {55, "WIN"}, {54, "1"}, {38, "1"}, {40, "3"}}, 1, false};
  EXPECT_EQ(exchange.decode(s).error().message, "fix D: tag 99 is missing");
  RawMessage er{"8", {{11, "A"}, {37, "1"}, {17, "x"}, {150, "F"}, {39, "2"}, {55, "WIN"}, {54, "1"}}, 1, false};
  EXPECT_EQ(venue.decode(er).error().message, "fix 8: tag 32 is missing");
  EXPECT_FALSE(venue.encode(bridge::OrderCancel{"c", "never-sent", "WIN"}, kT));
  EXPECT_FALSE(venue.encode(bridge::Heartbeat{}, kT));
}

TEST(FixCodecTest, TheShippedDictionaryLoads) {
  std::string error;
  EXPECT_TRUE(check_dictionary(std::string(QUANT_SOURCE_DIR) + "/config/fix/FIX44.xml", &error)) << error;
  EXPECT_FALSE(check_dictionary("/nonexistent/FIX44.xml", &error));
  EXPECT_NE(error.find("/nonexistent/FIX44.xml"), std::string::npos) << error;
}

}  // namespace
}  // namespace quant::fix
