#include "execution/order_reply.h"

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace quant::execution {
namespace {

OrderReply accepted() {
  OrderReply r;
  r.client_order_id = "strat-42-0001";
  r.order_id = 17;
  r.symbol = "WIN";
  r.side = Side::Buy;
  r.type = OrderType::Market;
  r.tif = TimeInForce::Day;
  r.requested_qty = 5;
  r.qty = 3;
  r.status = OrderStatus::Accepted;
  r.decision = risk::Decision::Resized;
  r.risk_reason = "resized to 3 from 5; ...";
  r.risk_stop_price = 117650;
  return r;
}

std::set<std::string> keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& item : j.items()) out.insert(item.key());
  return out;
}

TEST(OrderReplyTest, JsonHasExactlyTheDocumentedShape) {
  // docs/contracts/serve_api.md, POST /order response.
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "client_order_id": "strat-42-0001", "order_id": 17, "symbol": "WIN", "side": "buy",
    "type": "market", "tif": "day", "requested_qty": 5, "qty": 3, "price": null, "stop_price": null,
    "reason": null, "state": "accepted", "filled_qty": 0, "avg_fill_price": null,
    "risk": {"decision": "resized", "reason": "resized to 3 from 5; ...", "stop_price": 117650,
             "target_price": null},
    "reject_reason": null, "replayed": false})");
  const nlohmann::json j = to_json(accepted());
  EXPECT_EQ(j, expected) << j.dump();
  EXPECT_EQ(keys(j), keys(expected));
  EXPECT_EQ(keys(j["risk"]), (std::set<std::string>{"decision", "reason", "stop_price", "target_price"}));
  EXPECT_TRUE(j["order_id"].is_number_unsigned());
  EXPECT_TRUE(j["risk"]["stop_price"].is_number());
}

TEST(OrderReplyTest, FilledLimitHasNumbers) {
  OrderReply r = accepted();
  r.type = OrderType::Limit;
  r.tif = TimeInForce::Gtc;
  r.side = Side::Sell;
  r.price = 118250;
  r.status = OrderStatus::PartiallyFilled;
  r.filled_qty = 2;
  r.avg_fill_price = 118255;
  r.replayed = true;
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["side"], "sell");
  EXPECT_EQ(j["type"], "limit");
  EXPECT_EQ(j["tif"], "gtc");
  EXPECT_EQ(j["state"], "partially_filled");
  EXPECT_TRUE(j["price"].is_number());
  EXPECT_DOUBLE_EQ(j["price"].get<double>(), 118250);
  EXPECT_TRUE(j["stop_price"].is_null());
  EXPECT_DOUBLE_EQ(j["avg_fill_price"].get<double>(), 118255);
  EXPECT_EQ(j["filled_qty"], 2);
  EXPECT_EQ(j["replayed"], true);
}

TEST(OrderReplyTest, RejectedHasTheReasonAndNoStop) {
  OrderReply r = accepted();
  r.order_id = 18;
  r.qty = 0;
  r.type = OrderType::Stop;
  r.stop_price = 118000;
  r.status = OrderStatus::Rejected;
  r.decision = risk::Decision::Rejected;
  r.risk_reason = "halted: daily loss limit reached: no orders until the next session";
  r.risk_stop_price = 0;
  r.reject_reason = r.risk_reason;
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["order_id"], 18);
  EXPECT_EQ(j["state"], "rejected");
  EXPECT_EQ(j["type"], "stop");
  EXPECT_DOUBLE_EQ(j["stop_price"].get<double>(), 118000);
  EXPECT_TRUE(j["price"].is_null());
  EXPECT_EQ(j["risk"]["decision"], "rejected");
  EXPECT_TRUE(j["risk"]["stop_price"].is_null());
  EXPECT_EQ(j["reject_reason"], r.risk_reason);
}

TEST(OrderReplyTest, ClientOrderIdRule) {
  EXPECT_TRUE(valid_client_order_id("strat-42-0001"));
  EXPECT_TRUE(valid_client_order_id("a"));
  EXPECT_TRUE(valid_client_order_id("A.z_0:9-"));
  EXPECT_TRUE(valid_client_order_id(std::string(64, 'x')));
  EXPECT_FALSE(valid_client_order_id(""));
  EXPECT_FALSE(valid_client_order_id(std::string(65, 'x')));
  for (const char* bad : {"a b", "a/b", "a,b", "ação", "a\n", "a\"b"}) EXPECT_FALSE(valid_client_order_id(bad)) << bad;
  EXPECT_FALSE(valid_client_order_id(std::string_view("a\0b", 3)));
}

TEST(OrderReplyTest, ErrorKindNames) {
  EXPECT_STREQ(to_string(GatewayError::Kind::Invalid), "invalid");
  EXPECT_STREQ(to_string(GatewayError::Kind::UnknownSymbol), "unknown_symbol");
  EXPECT_STREQ(to_string(GatewayError::Kind::Conflict), "conflict");
  EXPECT_STREQ(to_string(GatewayError::Kind::NotReady), "not_ready");
}

}  // namespace
}  // namespace quant::execution
