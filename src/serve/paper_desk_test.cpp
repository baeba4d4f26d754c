#include "serve/paper_desk.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/test_bars.h"

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

PaperDeskConfig win_config(std::string audit_log = {}) {
  PaperDeskConfig pc;
  PaperSymbol win;
  win.spec.symbol = "WIN";
  win.spec.tick_size = 5;
  win.spec.point_value = 0.2;
  win.spec.time_zone = "America/Sao_Paulo";
  win.spec.session = Session{std::chrono::minutes(9 * 60), std::chrono::minutes(18 * 60 + 25)};
  win.slippage_ticks = 1;
  pc.symbols.push_back(win);
  pc.audit_log = std::move(audit_log);
  return pc;
}

/// 2021-03-01 (a Monday) 10:00 BRT + `minute` minutes, UTC.
Timestamp minute_of(int minute) { return testing::brt_march_2021(1, 10, 0) + minute * kMinute; }

/// Bars at minutes [first, first + n), each delivered at its close (the clock follows).
void feed_bars(PaperDesk& desk, engine::ManualClock& clock, int first, int n, double start) {
  double price = start;
  for (int i = 0; i < n; ++i) {
    const Bar bar = testing::ohlc_bar(minute_of(first + i), price, price + 50, price - 50, price + 10);
    price += 10;
    clock.set(bar.ts + kMinute);
    desk.on_bar("WIN", bar);
  }
}

std::vector<json> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(PaperDeskTest, AnswersWithHttpStatuses) {
  engine::ManualClock clock;
  auto desk = std::move(PaperDesk::create(win_config(), nullptr, &clock).value());
  const std::string order = R"({"client_order_id":"d-1","symbol":"WIN","side":"buy","qty":1,"type":"market"})";
  std::string reason;
  desk->caught_up();
  EXPECT_FALSE(desk->ready(reason));
  EXPECT_NE(reason.find("WIN"), std::string::npos);
  EXPECT_EQ(desk->submit(order).status, 503);  // no price yet
  feed_bars(*desk, clock, 0, 30, 120000);
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
  const auto bad_reason = desk->submit(
      R"({"client_order_id":"d-3","symbol":"WIN","side":"buy","qty":1,"type":"market","reason":"Not OK"})");
  EXPECT_EQ(bad_reason.status, 400);
  EXPECT_EQ(json::parse(bad_reason.body)["field"], "reason");
  // The next bar fills the market order at its open + 1 tick.
  feed_bars(*desk, clock, 30, 1, 125000);
  const auto filled = json::parse(desk->submit(order).body);
  EXPECT_EQ(filled["state"], "filled");
  EXPECT_DOUBLE_EQ(filled["avg_fill_price"].get<double>(), 125005);
  EXPECT_EQ(desk->position("WIN"), 1);
}

TEST(PaperDeskTest, TakesNoOrderUntilItHasCaughtUpWithTheLake) {
  engine::ManualClock clock;
  auto desk = std::move(PaperDesk::create(win_config(), nullptr, &clock).value());
  feed_bars(*desk, clock, 0, 30, 120000);  // the start-up replay
  std::string reason;
  EXPECT_FALSE(desk->ready(reason));
  EXPECT_NE(reason.find("catching up"), std::string::npos) << reason;
  const std::string order = R"({"client_order_id":"c-1","symbol":"WIN","side":"buy","qty":1,"type":"market"})";
  EXPECT_EQ(desk->submit(order).status, 503);
  desk->caught_up();
  EXPECT_TRUE(desk->ready(reason));
  EXPECT_EQ(desk->submit(order).status, 200);
}

TEST(PaperDeskTest, AnOrderNeverFillsAtABarThatOpenedBeforeIt) {
  // The desk has bars to 10:19; an order arrives at 10:21:30 (the lake lags).
  // A later ingest adds 10:20–10:22: only the 10:22 bar, the first to open
  // after the order, may fill it — at its open.
  engine::ManualClock clock;
  auto desk = std::move(PaperDesk::create(win_config(), nullptr, &clock).value());
  feed_bars(*desk, clock, 0, 20, 120000);
  desk->caught_up();
  clock.set(minute_of(21) + std::chrono::seconds(30));
  const std::string order = R"({"client_order_id":"late-1","symbol":"WIN","side":"buy","qty":1,"type":"market"})";
  const auto placed = desk->submit(order);
  ASSERT_EQ(placed.status, 200);
  ASSERT_EQ(json::parse(placed.body)["state"], "accepted") << placed.body;
  desk->on_bar("WIN", testing::ohlc_bar(minute_of(20), 119000, 119050, 118950, 119000));
  desk->on_bar("WIN", testing::ohlc_bar(minute_of(21), 119100, 119150, 119050, 119100));
  EXPECT_EQ(json::parse(desk->submit(order).body)["state"], "accepted");
  desk->on_bar("WIN", testing::ohlc_bar(minute_of(22), 121000, 121050, 120950, 121000));
  const auto filled = json::parse(desk->submit(order).body);
  ASSERT_EQ(filled["state"], "filled");
  EXPECT_DOUBLE_EQ(filled["avg_fill_price"].get<double>(), 121005);
}

TEST(PaperDeskTest, EveryDecisionGoesToTheAuditLog) {
  const std::string path = ::testing::TempDir() + "paper_desk_audit/" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
  std::filesystem::remove(path);
  engine::ManualClock clock;
  {
    auto desk = std::move(PaperDesk::create(win_config(path), nullptr, &clock).value());
    feed_bars(*desk, clock, 0, 20, 120000);
    desk->caught_up();
    ASSERT_EQ(desk->submit(R"({"client_order_id":"a-1","symbol":"WIN","side":"buy","qty":1,"type":"market"})").status,
              200);
    ASSERT_EQ(
        desk->submit(R"({"client_order_id":"a-2","symbol":"WIN","side":"buy","qty":9999,"type":"market"})").status,
        200);
    feed_bars(*desk, clock, 20, 2, 120200);
  }
  const auto lines = read_lines(path);
  std::map<std::string, int> events;
  for (const json& j : lines) ++events[j["event"].get<std::string>()];
  EXPECT_GE(events["order"], 3) << "a-1 accepted, a-2 resized, a-1 filled";
  EXPECT_GE(events["risk"], 2) << "the two sizing decisions";
  EXPECT_GE(events["order_done"], 1);
  bool resized = false;
  for (const json& j : lines) {
    if (j["event"] == "order" && j["client_order_id"] == "a-2") resized |= j["risk"]["decision"] == "resized";
  }
  EXPECT_TRUE(resized);
  // A second desk appends to the same log.
  {
    auto desk = std::move(PaperDesk::create(win_config(path), nullptr, &clock).value());
    feed_bars(*desk, clock, 30, 1, 120000);
    desk->caught_up();
    ASSERT_EQ(desk->submit(R"({"client_order_id":"b-1","symbol":"WIN","side":"buy","qty":1,"type":"market"})").status,
              200);
  }
  EXPECT_GT(read_lines(path).size(), lines.size());
}

TEST(PaperDeskTest, AnOrderTakenBeforeARestartIsAnsweredFromTheJournalNotPlacedAgain) {
  const std::string path = ::testing::TempDir() + "paper_desk_journal/" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
  std::filesystem::remove(path);
  const std::string order = R"({"client_order_id":"j-1","symbol":"WIN","side":"buy","qty":1,"type":"market"})";
  engine::ManualClock clock;
  json first;
  {
    PaperDeskConfig pc = win_config();
    pc.journal = path;
    auto desk = std::move(PaperDesk::create(pc, nullptr, &clock).value());
    feed_bars(*desk, clock, 0, 20, 120000);
    desk->caught_up();
    const Answer a = desk->submit(order);
    ASSERT_EQ(a.status, 200) << a.body;
    first = json::parse(a.body);
    EXPECT_FALSE(first["replayed"].get<bool>());
  }
  // The desk restarts (a new process): the same client order is not placed again.
  PaperDeskConfig pc = win_config();
  pc.journal = path;
  auto desk = std::move(PaperDesk::create(pc, nullptr, &clock).value());
  feed_bars(*desk, clock, 40, 20, 120000);
  desk->caught_up();
  const Answer again = desk->submit(order);
  ASSERT_EQ(again.status, 200) << again.body;
  const json replayed = json::parse(again.body);
  EXPECT_TRUE(replayed["replayed"].get<bool>());
  EXPECT_EQ(replayed["order_id"], first["order_id"]);
  EXPECT_EQ(desk->position("WIN"), 0) << "nothing was placed";
  // The same id with other fields: a conflict naming the field.
  const Answer other =
      desk->submit(R"({"client_order_id":"j-1","symbol":"WIN","side":"sell","qty":1,"type":"market"})");
  EXPECT_EQ(other.status, 409);
  EXPECT_NE(other.body.find("client_order_id"), std::string::npos) << other.body;
  // A new id is placed, and journaled too.
  EXPECT_EQ(desk->submit(R"({"client_order_id":"j-2","symbol":"WIN","side":"buy","qty":1,"type":"market"})").status,
            200);
  EXPECT_EQ(read_lines(path).size(), 2u);
}

TEST(PaperDeskTest, AnAuditLogThatCannotBeOpenedStopsTheDesk) {
  auto desk = PaperDesk::create(win_config("/proc/quant-no-such-dir/audit.jsonl"), nullptr);
  ASSERT_FALSE(desk.has_value());
  EXPECT_NE(desk.error().message.find("audit log"), std::string::npos) << desk.error().message;
}

}  // namespace
}  // namespace quant::serve
