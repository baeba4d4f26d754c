#include "report/run_files.h"

#include <cmath>
#include <ctime>
#include <fstream>

#include <gtest/gtest.h>

namespace quant::report {
namespace {

class RunFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("run_files_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path dir_;
};

constexpr std::array kSpecs{ColumnSpec{"ts", FieldKind::Time}, ColumnSpec{"price", FieldKind::Number},
                            ColumnSpec{"stop", FieldKind::OptionalNumber}, ColumnSpec{"note", FieldKind::Text}};

TEST(RunFilesParseTest, NumbersTimesAndDecimals) {
  EXPECT_EQ(parse_number("1234.5"), 1234.5);
  EXPECT_EQ(parse_number("-0.25"), -0.25);
  EXPECT_EQ(parse_number("+3"), 3.0);
  EXPECT_FALSE(parse_number(""));
  EXPECT_FALSE(parse_number("1,5"));
  EXPECT_FALSE(parse_number("12abc"));
  EXPECT_EQ(parse_utc_seconds("2024-01-02T12:00:00Z"), 1704196800.0);
  EXPECT_EQ(parse_utc_seconds("2024-01-02T12:00:00.250Z"), 1704196800.25);
  EXPECT_EQ(parse_utc_seconds("2024-01-02T09:00:00-03:00"), 1704196800.0);
  EXPECT_EQ(parse_utc_seconds("2024-01-02"), 1704153600.0);
  EXPECT_FALSE(parse_utc_seconds("2024-13-02T12:00:00Z"));
  EXPECT_FALSE(parse_utc_seconds("yesterday"));
  EXPECT_FALSE(parse_utc_seconds("2024-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_utc_seconds("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_utc_seconds("2024-01-02T24:00:00Z"));
  EXPECT_FALSE(parse_utc_seconds("2024-01-0xT12:00:00Z"));
  EXPECT_EQ(parse_utc_seconds("2024-02-29T23:59:59Z"), 1709251199.0);
  // The direct reading of the "...Z" form agrees with the general parser
  // (reached through the "+00:00" spelling) over years of minutes.
  for (std::int64_t t = 946684800; t < 1893456000; t += 86400 * 7 + 3607) {
    char z[32], offset[40];
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::strftime(z, sizeof z, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::strftime(offset, sizeof offset, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    ASSERT_EQ(parse_utc_seconds(z), static_cast<double>(t)) << z;
    ASSERT_EQ(parse_utc_seconds(offset), static_cast<double>(t)) << offset;
  }
  EXPECT_EQ(decimal_places("5000.25"), 2);
  EXPECT_EQ(decimal_places("1.23450"), 5);
  EXPECT_EQ(decimal_places("12"), 0);
}

TEST_F(RunFilesTest, ReadsColumnsByNameInAnyOrder) {
  const auto path = write("a.csv",
                          "note,extra,price,ts,stop\r\n"
                          "first,x,10.5,2024-01-02T00:00:00Z,9\r\n"
                          "\r\n"
                          "second,y,11,2024-01-02T00:05:00Z,\r\n");
  auto table = read_table(path, kSpecs);
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(table->total_rows, 2u);
  EXPECT_EQ(table->kept_rows(), 2u);
  EXPECT_EQ(table->names[1], "price");
  EXPECT_EQ(table->numbers(1)[0], 10.5);
  EXPECT_EQ(table->numbers(0)[1], 1704153900.0);
  EXPECT_EQ(table->numbers(2)[0], 9.0);
  EXPECT_TRUE(std::isnan(table->numbers(2)[1]));
  EXPECT_EQ(table->texts(3)[1], "second");
}

TEST_F(RunFilesTest, KeepsFirstAndLastRowsAndChecksAll) {
  std::string text = "ts,price,stop,note\n";
  for (int i = 0; i < 10; ++i)
    text += "2024-01-02T00:0" + std::to_string(i) + ":00Z," + std::to_string(i) + ",,n" + std::to_string(i) + "\n";
  const auto path = write("a.csv", text);
  std::vector<double> seen_prices;
  ReadOptions options;
  options.head_rows = 3;
  options.tail_rows = 2;
  options.on_row = [&](const CsvRow& row) -> Expected<void> {
    seen_prices.push_back(row.number(1));  // parsed, not text
    return {};
  };
  auto table = read_table(path, kSpecs, options);
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(table->kept_rows(), 5u);
  EXPECT_EQ(table->head_rows, 3u);
  EXPECT_EQ(table->total_rows, 10u);
  EXPECT_EQ(table->numbers(1), (std::vector<double>{0, 1, 2, 8, 9}));
  EXPECT_EQ(table->texts(3), (std::vector<std::string>{"n0", "n1", "n2", "n8", "n9"}));
  EXPECT_EQ(seen_prices.size(), 10u);
  EXPECT_EQ(seen_prices[7], 7.0);

  // Fewer rows than head + tail: all kept, in order.
  options.head_rows = 8;
  options.tail_rows = 5;
  auto all = read_table(path, kSpecs, options);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->numbers(1), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(all->head_rows, 8u);

  // A bad row after the kept ones still fails the read.
  auto bad = read_table(write("b.csv", text + "2024-01-02T00:20:00Z,oops,,n\n"), kSpecs, options);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("b.csv:12: column price: 'oops' is not a number"), std::string::npos)
      << bad.error().message;
}

TEST_F(RunFilesTest, ErrorsNameFileLineAndColumn) {
  auto bad_number = read_table(
      write("n.csv", "ts,price,stop,note\n2024-01-02T00:00:00Z,1,,a\n2024-01-02T00:01:00Z,abc,,b\n"), kSpecs);
  ASSERT_FALSE(bad_number);
  EXPECT_NE(bad_number.error().message.find("n.csv:3: column price: 'abc' is not a number"), std::string::npos)
      << bad_number.error().message;

  auto bad_time =
      read_table(write("t.csv", "ts,price,stop,note\n2024-01-02 00:00,1,,a\n2024-31-02T00:01:00Z,2,,b\n"), kSpecs);
  ASSERT_FALSE(bad_time);
  EXPECT_NE(bad_time.error().message.find("t.csv:3: column ts"), std::string::npos) << bad_time.error().message;

  auto fields = read_table(write("f.csv", "ts,price,stop,note\n2024-01-02T00:00:00Z,1,,a,extra\n"), kSpecs);
  ASSERT_FALSE(fields);
  EXPECT_NE(fields.error().message.find("f.csv:2: expected 4 fields, got 5"), std::string::npos)
      << fields.error().message;

  auto missing = read_table(write("m.csv", "ts,price,note\n"), kSpecs);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("m.csv:1: missing column 'stop'"), std::string::npos)
      << missing.error().message;

  auto empty = read_table(write("e.csv", ""), kSpecs);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("e.csv:1: empty file"), std::string::npos) << empty.error().message;

  auto absent = read_table(dir_ / "absent.csv", kSpecs);
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message.find("absent.csv: cannot open"), std::string::npos) << absent.error().message;
}

TEST_F(RunFilesTest, AscendingTimeIsEnforced) {
  ReadOptions options;
  options.ascending_time_column = 0;
  auto table = read_table(write("a.csv",
                                "ts,price,stop,note\n2024-01-02T00:05:00Z,1,,a\n2024-01-02T00:05:00Z,1,,a\n"
                                "2024-01-02T00:01:00Z,2,,b\n"),
                          kSpecs, options);
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message.find("a.csv:4: column ts: time goes backwards"), std::string::npos)
      << table.error().message;
}

}  // namespace
}  // namespace quant::report
