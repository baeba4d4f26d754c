#include "serve/paper_desk.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace quant::serve {
namespace {

using nlohmann::json;

ApiError error_of(std::string_view body) {
  auto r = parse_order_body(body);
  EXPECT_FALSE(r.has_value()) << body;
  return r ? ApiError{} : r.error();
}

TEST(OrderBodyTest, ParsesTheContract) {
  auto r = parse_order_body(
      R"({"client_order_id":"a-1","symbol":"WIN","side":"sell","qty":3,"type":"limit","price":118250,"tif":"gtc"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->client_order_id, "a-1");
  EXPECT_EQ(r->symbol, "WIN");
  EXPECT_EQ(r->side, Side::Sell);
  EXPECT_EQ(r->qty, 3);
  EXPECT_EQ(r->type, OrderType::Limit);
  EXPECT_DOUBLE_EQ(r->price, 118250);
  EXPECT_EQ(r->tif, TimeInForce::Gtc);
  auto market = parse_order_body(R"({"client_order_id":"m","symbol":"WIN","side":"buy","qty":1,"type":"market"})");
  ASSERT_TRUE(market);
  EXPECT_EQ(market->tif, TimeInForce::Day);  // the default
}

TEST(OrderBodyTest, ErrorsNameTheField) {
  const std::string base = R"("client_order_id":"a","symbol":"WIN","side":"buy","type":"market")";
  EXPECT_EQ(error_of("{" + base + "}").field, "qty");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":0})").field, "qty");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":2.5})").field, "qty");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":"2"})").field, "qty");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":18446744073709551615})").field, "qty");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":1,"qty":50})").field, "qty");  // twice: refused, not guessed
  EXPECT_EQ(error_of("{" + base + R"(,"qty":1,"tif":"week"})").field, "tif");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":1,"price":-5})").field, "price");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":1,"stop_price":"x"})").field, "stop_price");
  EXPECT_EQ(error_of("{" + base + R"(,"qty":1,"account":"x"})").field, "account");
  EXPECT_EQ(error_of(R"({"symbol":"WIN","side":"buy","qty":1,"type":"market"})").field, "client_order_id");
  EXPECT_EQ(error_of(R"({"client_order_id":"a","symbol":"WIN","side":"long","qty":1,"type":"market"})").field, "side");
  EXPECT_EQ(error_of(R"({"client_order_id":"a","symbol":"WIN","side":"buy","qty":1,"type":"twap"})").field, "type");
  EXPECT_EQ(error_of("[1]").field, "");
  EXPECT_NE(error_of("{\"qty\": 1e999}").message.find("not valid JSON"), std::string::npos);
}

std::unique_ptr<PaperDesk> win_desk() {
  PaperDeskConfig pc;
  PaperSymbol win;
  win.spec.symbol = "WIN";
  win.spec.tick_size = 5;
  win.spec.point_value = 0.2;
  win.slippage_ticks = 1;
  pc.symbols.push_back(win);
  return std::move(PaperDesk::create(pc, nullptr).value());
}

void feed_bars(PaperDesk& desk, int first_minute, int n, double start) {
  Bar bar{};
  bar.ts = from_epoch_ns(1700000000000000000LL) + first_minute * kMinute;
  double price = start;
  for (int i = 0; i < n; ++i) {
    bar.ts += kMinute;
    bar.open = price;
    bar.high = price + 50;
    bar.low = price - 50;
    bar.close = price + 10;
    price += 10;
    desk.on_bar("WIN", bar);
  }
}

TEST(PaperDeskTest, AnswersWithHttpStatuses) {
  auto desk = win_desk();
  const std::string order = R"({"client_order_id":"d-1","symbol":"WIN","side":"buy","qty":1,"type":"market"})";
  std::string reason;
  EXPECT_FALSE(desk->ready(reason));
  EXPECT_NE(reason.find("WIN"), std::string::npos);
  EXPECT_EQ(desk->submit(order).status, 503);  // no price yet
  feed_bars(*desk, 0, 30, 120000);
  EXPECT_TRUE(desk->ready(reason));
  auto a = desk->submit(order);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(json::parse(a.body)["state"], "accepted");
  EXPECT_FALSE(json::parse(a.body)["replayed"].get<bool>());
  EXPECT_TRUE(json::parse(desk->submit(order).body)["replayed"].get<bool>());
  const auto conflict =
      desk->submit(R"({"client_order_id":"d-1","symbol":"WIN","side":"buy","qty":2,"type":"market"})");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(json::parse(conflict.body)["field"], "client_order_id");
  const auto unknown = desk->submit(R"({"client_order_id":"d-2","symbol":"XYZ","side":"buy","qty":1,"type":"market"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json::parse(unknown.body)["field"], "symbol");
  // The next bar fills the market order at its open + 1 tick.
  feed_bars(*desk, 30, 1, 125000);  // (bars not later than the last one are ignored)
  const auto filled = json::parse(desk->submit(order).body);
  EXPECT_EQ(filled["state"], "filled");
  EXPECT_DOUBLE_EQ(filled["avg_fill_price"].get<double>(), 125005);
}

}  // namespace
}  // namespace quant::serve
