#include "logger/clickhouse.h"

#include <gtest/gtest.h>

#include "logger/test_clickhouse.h"

namespace quant::logger {
namespace {

using testing::ClickHouseTest;

TEST(SchemaTest, TheSchemaFileHasTheFourTables) {
  const auto statements = schema_statements(schema_sql());
  ASSERT_EQ(statements.size(), 4U);
  for (const char* table : {"ticks", "trades", "metrics", "rejects"}) {
    bool found = false;
    for (const auto& s : statements) found = found || s.find(std::string("CREATE TABLE IF NOT EXISTS ") + table) == 0;
    EXPECT_TRUE(found) << table;
  }
  for (const auto& s : statements) EXPECT_EQ(s.find("--"), std::string::npos) << "comments are removed";
}

TEST(SchemaTest, DatabaseNamesMustBePlainIdentifiers) {
  EXPECT_TRUE(check_identifier("database", "quant_2"));
  EXPECT_FALSE(check_identifier("database", "quant; DROP"));
  EXPECT_FALSE(check_identifier("database", "2x"));
  EXPECT_FALSE(check_identifier("database", ""));
}

TEST(ClickHouseClientTest, AnUnreachableServerIsAnErrorNamingTheUrl) {
  ClickHouseEndpoint e;
  e.url = "http://127.0.0.1:1";
  e.connect_timeout = std::chrono::milliseconds(300);
  auto client = ClickHouseClient::create(e);
  ASSERT_TRUE(client);
  auto r = client->query("SELECT 1");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("http://127.0.0.1:1"), std::string::npos) << r.error().message;
  EXPECT_FALSE(client->ping());
  EXPECT_FALSE(ClickHouseClient::create(ClickHouseEndpoint{"127.0.0.1:8123", "", "", {}, {}}));
}

class ClickHouseServerTest : public ClickHouseTest {};

TEST_F(ClickHouseServerTest, ApplyingTheSchemaTwiceCreatesTheTablesOnce) {
  ASSERT_TRUE(client->ping());
  auto applied = apply_schema(*client, database);
  ASSERT_TRUE(applied) << applied.error().message;
  applied = apply_schema(*client, database);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(scalar("SELECT groupArray(name) FROM (SELECT name FROM system.tables WHERE database = '" + database +
                   "' ORDER BY name)"),
            "['metrics','rejects','ticks','trades']");
  EXPECT_EQ(scalar("SELECT engine FROM system.tables WHERE database = '" + database + "' AND name = 'ticks'"),
            "ReplacingMergeTree");
}

TEST_F(ClickHouseServerTest, ReinsertedRowsCollapseUnderFinalWithinTheirSymbolMonthPartition) {
  ASSERT_TRUE(apply_schema(*client, database));
  const std::string rows =
      R"({"symbol":"WIN","ts_ms":1796601600000,"bid":1,"ask":2,"last":null,"volume":0,"flags":6,"stream_ms":1,"stream_seq":1,"recv_ns":0,"logged_ms":1})"
      "\n"
      R"({"symbol":"WIN","ts_ms":1796601600001,"bid":1,"ask":2,"last":null,"volume":0,"flags":6,"stream_ms":2,"stream_seq":1,"recv_ns":0,"logged_ms":1})"
      "\n"
      R"({"symbol":"WDO","ts_ms":1764547200000,"bid":1,"ask":2,"last":null,"volume":0,"flags":6,"stream_ms":3,"stream_seq":1,"recv_ns":0,"logged_ms":1})"
      "\n";
  for (int i = 0; i < 3; ++i) {
    auto r = client->insert(database, "ticks", "JSONEachRow", rows);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->ok()) << r->describe();
  }
  EXPECT_EQ(scalar("SELECT count() FROM ticks"), "9");
  EXPECT_EQ(scalar("SELECT count() FROM ticks FINAL"), "3");
  EXPECT_EQ(scalar("SELECT toString(ts) FROM ticks FINAL WHERE stream_ms = 1"), "2026-12-07 00:00:00");
  EXPECT_EQ(scalar("SELECT groupArray(partition) FROM (SELECT DISTINCT partition FROM system.parts WHERE database = '" +
                   database + "' AND table = 'ticks' AND active ORDER BY partition)"),
            "['(\\'WDO\\',202512)','(\\'WIN\\',202612)']");
  EXPECT_EQ(scalar("SELECT count() FROM ticks FINAL WHERE last IS NULL"), "3");
}

TEST_F(ClickHouseServerTest, ErrorsCarryTheHttpStatusClickHousesCodeAndMessage) {
  ASSERT_TRUE(apply_schema(*client, database));
  auto r = client->insert(database, "ticks", "JSONEachRow",
                          R"({"symbol":"WIN","ts_ms":"soon"})"
                          "\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->code, 27);
  EXPECT_NE(r->describe().find("Cannot parse input"), std::string::npos) << r->describe();
  EXPECT_TRUE(is_data_error(*r));

  r = client->insert(database, "ticks", "JSONEachRow",
                     R"({"symbol":"WIN","colour":"red"})"
                     "\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 117);
  EXPECT_TRUE(is_data_error(*r));

  r = client->insert(database, "no_such_table", "JSONEachRow",
                     R"({"a":1})"
                     "\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 60);
  EXPECT_FALSE(is_data_error(*r)) << "a missing table may be created: retried, not rejected";

  auto q = client->query_ok("SELEC 1");
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("code 62"), std::string::npos) << q.error().message;
  EXPECT_NE(q.error().message.find(clickhouse->url()), std::string::npos);
}

}  // namespace
}  // namespace quant::logger
