#include "logger/logger.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "execution/bridge_protocol.h"
#include "logger/test_clickhouse.h"
#include "stream/metrics.h"
#include "stream/test_redis.h"

namespace quant::logger {
namespace {

namespace bridge = execution::bridge;
using testing::ClickHouseTest;
using testing::RedisServer;

/// A real redis-server per test (beside the shared clickhouse-server).
class LoggerTest : public ClickHouseTest {
 protected:
  void SetUp() override {
    ClickHouseTest::SetUp();
    if (::testing::Test::IsSkipped() || ::testing::Test::HasFatalFailure()) return;
    if (!RedisServer::installed()) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && *ci != '\0') FAIL() << "redis-server is not installed, and CI always has it";
      GTEST_SKIP() << "redis-server is not installed: logger test skipped";
    }
    ASSERT_EQ(redis.start(), "");
    auto p = stream::Producer::connect(redis.endpoint());
    ASSERT_TRUE(p) << p.error().message;
    producer.emplace(std::move(*p));
  }
  void TearDown() override {
    stop_logger();
    ClickHouseTest::TearDown();
  }

  LoggerConfig config() {
    LoggerConfig c;
    c.redis = redis.endpoint();
    c.clickhouse = clickhouse->endpoint();
    c.database = database;
    c.symbols = {"WIN", "WDO"};
    c.batch_rows = 64;
    c.batch_interval = std::chrono::milliseconds(50);
    c.retry_first = std::chrono::milliseconds(50);
    c.retry_max = std::chrono::milliseconds(200);
    c.apply_schema = true;
    c.on_batch = [this](const LoggerStats& s) { acked = s.entries; };
    c.log = [this](const std::string& line) {
      std::lock_guard lock(log_mutex);
      log_lines.push_back(line);
    };
    return c;
  }

  void start_logger(LoggerConfig c) {
    stop = false;
    acked = 0;
    c.should_stop = [this] { return stop.load(); };
    logger_config = std::move(c);
    worker = std::thread([this] { outcome = run_logger(logger_config); });
  }
  void stop_logger() {
    stop = true;
    if (worker.joinable()) worker.join();
  }
  bool logged_any(const std::string& needle) {
    std::lock_guard lock(log_mutex);
    for (const auto& l : log_lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  void add_tick(const std::string& symbol, std::int64_t msc, double bid) {
    bridge::TickMsg t;
    t.symbol = symbol;
    t.tick.ts = from_epoch_ns(msc * 1'000'000);
    t.tick.bid = bid;
    t.tick.ask = bid + 5;
    t.tick.flags = 6;
    producer->add(stream::tick_key(symbol), {{"type", "tick"}, {"msg", bridge::encode({1, msc, t})}, {"recv_ns", "1"}});
  }
  void add_fill(const std::string& exec_id, std::int64_t msc) {
    bridge::FillMsg f;
    f.cl_ord_id = "LWIN-1";
    f.exec_id = exec_id;
    f.symbol = "WIN";
    f.qty = 1;
    f.price = 123455;
    f.fee = 0.5;
    f.time_msc = msc;
    f.cum_qty = 1;
    producer->add(stream::kFills, {{"type", "fill"}, {"msg", bridge::encode({1, msc, f})}});
  }
  void add_ack(const std::string& cl_ord_id) {
    bridge::OrderAck a;
    a.cl_ord_id = cl_ord_id;
    a.symbol = "WIN";
    producer->add(stream::kFills, {{"type", "order_ack"}, {"msg", bridge::encode({1, 1, a})}});
  }
  void add_metrics(const std::string& symbol, std::int64_t ts_ms, double equity) {
    stream::Metrics m;
    m.symbol = symbol;
    m.ts_ms = ts_ms;
    m.session = "L";
    m.equity = equity;
    m.day_start_equity = 100000;
    m.drawdown = std::min(0.0, equity / 100000 - 1);
    producer->add(stream::kMetrics, stream::metrics_fields(m));
  }
  void flush() {
    auto r = producer->flush();
    ASSERT_TRUE(r) << r.error().message;
  }

  /// Waits (up to `seconds`) until `sql` gives `expected`.
  bool eventually(const std::string& sql, const std::string& expected, double seconds = 20) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    std::string got;
    while (std::chrono::steady_clock::now() < until) {
      got = scalar(sql);
      if (got == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << sql << ": got " << got << ", expected " << expected;
    return false;
  }

  std::int64_t pending(const std::string& group = "logger") {
    auto c = stream::Consumer::connect(redis.endpoint(), group, "probe", logged_streams({"WIN", "WDO"}), "0");
    if (!c) return -1;
    auto p = c->pending();
    return p ? *p : -1;
  }

  RedisServer redis;
  std::optional<stream::Producer> producer;
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> acked{0};  ///< entries the running logger acknowledged
  LoggerConfig logger_config;
  std::thread worker;
  Expected<LoggerStats> outcome = make_error("not run");
  std::mutex log_mutex;
  std::vector<std::string> log_lines;
};

TEST_F(LoggerTest, TicksFillsAndMetricsLandOnceEachAndBadEntriesInRejects) {
  const std::int64_t t0 = 1796601600000;  // 2026-12-07 00:00:00 UTC
  for (int i = 0; i < 300; ++i) add_tick(i % 2 == 0 ? "WIN" : "WDO", t0 + i, 123000 + i);
  for (int i = 0; i < 5; ++i) add_fill("deal-" + std::to_string(i), t0 + 10LL * i);
  add_ack("LWIN-1");
  add_ack("LWIN-2");
  add_metrics("WIN", t0 + 60000, 99500);
  add_metrics("WDO", t0 + 60000, 99500);
  producer->add(stream::tick_key("WIN"), {{"type", "tick"}, {"msg", "{\"type\":\"tick\",\"seq\":1"}});
  producer->add(stream::kMetrics, {{"type", "metrics"}, {"symbol", "WIN"}});
  flush();

  start_logger(config());
  ASSERT_TRUE(eventually("SELECT count() FROM ticks FINAL", "300"));
  ASSERT_TRUE(eventually("SELECT count() FROM rejects FINAL", "2"));
  ASSERT_TRUE(eventually("SELECT count() FROM trades FINAL", "5"));
  ASSERT_TRUE(eventually("SELECT count() FROM metrics FINAL", "2"));
  stop_logger();
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->entries, 300 + 5 + 2 + 2 + 2);
  EXPECT_EQ(outcome->skipped, 2);  // the acks
  EXPECT_EQ(outcome->rows[static_cast<std::size_t>(Table::Ticks)], 300);
  EXPECT_EQ(outcome->rows[static_cast<std::size_t>(Table::Rejects)], 2);
  EXPECT_EQ(pending(), 0) << "every entry acknowledged";

  EXPECT_EQ(scalar("SELECT count() FROM ticks"), "300") << "no duplicates even before FINAL";
  EXPECT_EQ(scalar("SELECT count(), uniqExact(stream_ms, stream_seq) FROM ticks FINAL WHERE symbol = 'WIN'"),
            "150\t150");
  EXPECT_EQ(scalar("SELECT bid, ask, toString(ts) FROM ticks FINAL WHERE symbol = 'WDO' AND ts_ms = " +
                   std::to_string(t0 + 1)),
            "123001\t123006\t2026-12-07 00:00:00");
  EXPECT_EQ(scalar("SELECT groupArray(exec_id) FROM (SELECT exec_id FROM trades FINAL ORDER BY exec_id)"),
            "['deal-0','deal-1','deal-2','deal-3','deal-4']");
  EXPECT_EQ(scalar("SELECT sum(qty), sum(fee) FROM trades FINAL"), "5\t2.5");
  EXPECT_EQ(scalar("SELECT equity, round(drawdown, 9), session FROM metrics FINAL WHERE symbol = 'WIN'"),
            "99500\t-0.005\tL");
  EXPECT_EQ(scalar("SELECT countIf(stream = 'md:tick:WIN' AND position(reason, 'msg') > 0), "
                   "countIf(stream = 'mon:metrics' AND position(reason, 'missing') > 0) FROM rejects FINAL"),
            "1\t1");
  EXPECT_TRUE(logged_any("rejected md:tick:WIN"));
}

TEST_F(LoggerTest, EntriesDeliveredAgainCollapseUnderFinal) {
  const std::int64_t t0 = 1796601600000;
  for (int i = 0; i < 200; ++i) add_tick("WIN", t0 + i, 100 + i);
  for (int i = 0; i < 3; ++i) add_fill("d" + std::to_string(i), t0 + i);
  add_metrics("WIN", t0 + 60000, 100000);
  flush();
  start_logger(config());
  ASSERT_TRUE(eventually("SELECT count() FROM ticks", "200"));
  stop_logger();
  ASSERT_TRUE(outcome) << outcome.error().message;

  // A second group reads the same entries from the start: as if the first
  // logger had inserted them and died before its XACK.
  auto again = config();
  again.group = "logger_again";
  start_logger(again);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (acked < 204 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop_logger();
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->entries, 204) << "every entry inserted a second time";
  EXPECT_EQ(scalar("SELECT count() FROM ticks FINAL"), "200");
  EXPECT_EQ(scalar("SELECT count() FROM trades FINAL"), "3");
  EXPECT_EQ(scalar("SELECT count() FROM metrics FINAL"), "1");
  // The background merge gets there by itself; OPTIMIZE … FINAL forces it.
  ASSERT_TRUE(client->query_ok("OPTIMIZE TABLE ticks FINAL", database));
  EXPECT_EQ(scalar("SELECT count() FROM ticks"), "200");
}

TEST_F(LoggerTest, ClickHouseDownNothingAcknowledgedThenEverythingOnce) {
  ASSERT_TRUE(apply_schema(*client, database));
  auto c = config();
  c.apply_schema = false;
  start_logger(c);
  const std::int64_t t0 = 1796601600000;
  for (int i = 0; i < 100; ++i) add_tick("WDO", t0 + i, 5000 + i);
  flush();
  ASSERT_TRUE(eventually("SELECT count() FROM ticks FINAL", "100"));

  ASSERT_EQ(clickhouse->kill(), "");  // a crash, mid-run
  for (int i = 100; i < 400; ++i) add_tick("WDO", t0 + i, 5000 + i);
  add_fill("while-down", t0);
  flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_GT(pending(), 0) << "nothing is acknowledged while ClickHouse is down";
  EXPECT_TRUE(logged_any("nothing acknowledged, retrying"));
  ASSERT_EQ(clickhouse->start(), "");

  ASSERT_TRUE(eventually("SELECT count() FROM ticks FINAL", "400"));
  ASSERT_TRUE(eventually("SELECT count() FROM trades FINAL", "1"));
  stop_logger();
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_GT(outcome->failed_inserts, 0);
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(scalar("SELECT min(ts_ms) - " + std::to_string(t0) + ", max(ts_ms) - " + std::to_string(t0) +
                   ", uniqExact(ts_ms) FROM ticks FINAL"),
            "0\t399\t400");
}

TEST_F(LoggerTest, ARedisRestartMidRunLosesNothing) {
  start_logger(config());
  const std::int64_t t0 = 1796601600000;
  for (int i = 0; i < 150; ++i) add_tick("WIN", t0 + i, 100 + i);
  flush();
  ASSERT_TRUE(eventually("SELECT count() FROM ticks FINAL", "150"));
  redis.kill();  // a crash: the AOF (fsync always) keeps the streams and the group
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(redis.start(), "");
  auto p = stream::Producer::connect(redis.endpoint());
  ASSERT_TRUE(p) << p.error().message;
  producer.emplace(std::move(*p));
  for (int i = 150; i < 300; ++i) add_tick("WIN", t0 + i, 100 + i);
  add_fill("after-restart", t0);
  flush();
  ASSERT_TRUE(eventually("SELECT count() FROM ticks FINAL", "300"));
  ASSERT_TRUE(eventually("SELECT count() FROM trades FINAL", "1"));
  stop_logger();
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(scalar("SELECT uniqExact(ts_ms) FROM ticks FINAL"), "300");
}

TEST_F(LoggerTest, MissingTablesAreAClearErrorWithoutApplySchema) {
  auto c = config();
  c.apply_schema = false;
  c.should_stop = [] { return false; };
  auto r = run_logger(c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--apply-schema"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("ticks"), std::string::npos);
}

TEST_F(LoggerTest, AStopWhileClickHouseIsDownGivesUpAfterTheGraceAndKeepsTheEntriesPending) {
  ASSERT_TRUE(apply_schema(*client, database));
  auto c = config();
  c.stop_grace = std::chrono::milliseconds(300);
  start_logger(c);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(clickhouse->kill(), "");
  add_tick("WIN", 1796601600000, 1);
  flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop_logger();
  ASSERT_EQ(clickhouse->start(), "");
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.error().message.find("stay pending in Redis"), std::string::npos) << outcome.error().message;
  EXPECT_EQ(pending(), 1);
}

}  // namespace
}  // namespace quant::logger
