#include "report/report.h"

#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/test_fixture.h"

namespace quant::report {
namespace {

namespace fs = std::filesystem;
using testing::FixtureOptions;
using testing::write_fixture_run;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

nlohmann::json embedded_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const std::size_t begin = html.find(open);
  EXPECT_NE(begin, std::string::npos);
  const std::size_t end = html.find("</script>", begin);
  return nlohmann::json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("report_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const FixtureOptions& fixture = {}, const ReportOptions& options = {}) {
    write_fixture_run(dir_, fixture);
    auto path = write_report(dir_.string(), options);
    EXPECT_TRUE(path) << path.error().message;
    if (!path) return {};
    EXPECT_EQ(fs::path(*path), dir_ / "report.html");
    EXPECT_FALSE(fs::exists(dir_ / "report.html.partial"));
    return read_all(*path);
  }

  fs::path dir_;
};

TEST_F(ReportTest, WritesOneSelfContainedPage) {
  const std::string html = write();
  // The library is inlined, not referenced.
  EXPECT_NE(html.find("TradingView Lightweight Charts™ v5.2.1"), std::string::npos);
  EXPECT_NE(html.find("window.LightweightCharts="), std::string::npos);
  EXPECT_NE(html.find("createSeriesMarkers"), std::string::npos);
  EXPECT_NE(html.find("Apache License"), std::string::npos);
  // Nothing is loaded from the network.
  const std::regex remote(R"((src|href)\s*=\s*["']?\s*(https?:)?//)", std::regex::icase);
  EXPECT_FALSE(std::regex_search(html, remote));
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // Each section has its heading.
  for (const char* heading : {"Key metrics", "Price and trades", "Equity and drawdown", "Monthly returns", "Trades",
                              "Risk events", "Orders", "Daily results", "Configuration"}) {
    EXPECT_NE(html.find("<h2>" + std::string(heading) + "</h2>"), std::string::npos) << heading;
  }
  EXPECT_NE(html.find("document.body.dataset.rendered = 'ok'"), std::string::npos);
}

TEST_F(ReportTest, BannerWhenDataIsGenerated) {
  const std::string html = write();
  EXPECT_NE(html.find("<div class=\"banner-generated\" role=\"alert\">GENERATED DATA — not real prices: "
                      "sim: random walk &lt;seed 42&gt; &amp; co</div>"),
            std::string::npos);
  EXPECT_NE(html.find("<title>WIN$N · breakout_atr — backtest report</title>"), std::string::npos);
}

TEST_F(ReportTest, NoBannerForRealData) {
  FixtureOptions fixture;
  fixture.generated_data = false;
  const std::string html = write(fixture);
  EXPECT_EQ(html.find("GENERATED DATA"), std::string::npos);
}

TEST_F(ReportTest, EmbeddedTextCannotCloseItsScript) {
  const std::string html = write();
  // The fixture's risk event reason and config contain "</script>": only the
  // page's own three script elements may end.
  EXPECT_EQ(count(html, "</script>"), 3u);
  EXPECT_EQ(html.find("<b>not bold</b>"), std::string::npos);
  const auto data = embedded_data(html);
  EXPECT_NE(data["config_toml"].get<std::string>().find("</pre><script>alert(1)</script>"), std::string::npos);
  EXPECT_EQ(data["risk_events"]["reason"][2], "size would exceed limit </script><b>not bold</b>");
}

TEST_F(ReportTest, EmbedsTheRunData) {
  const auto data = embedded_data(write());
  EXPECT_EQ(data["summary"]["meta"]["symbol"], "WIN$N");
  EXPECT_EQ(data["summary"]["meta"]["generated_data"], true);
  EXPECT_EQ(data["trades"]["side"].size(), 6u);
  EXPECT_EQ(data["trades"]["total_rows"], 6u);
  EXPECT_EQ(data["trades"]["side"][0], "long");
  EXPECT_EQ(data["trades"]["side"][1], "short");
  EXPECT_EQ(data["trades"]["entry_time"][0].get<double>(), data["chart"]["ts"][11].get<double>());
  EXPECT_EQ(data["trade_stats"]["count"], 6u);
  EXPECT_EQ(data["chart"]["ts"].size(), 300u);
  EXPECT_EQ(data["chart"]["ts"][0], 1705276800);  // 2024-01-15T00:00:00Z
  EXPECT_EQ(data["chart"]["source_rows"], 300u);
  EXPECT_EQ(data["chart"]["equity"].size(), 300u);
  EXPECT_EQ(data["chart"]["drawdown_pct"].size(), 300u);
  EXPECT_EQ(data["orders"]["total_rows"], 18u);
  EXPECT_TRUE(data["orders"]["limit_price"][0].is_null());
  EXPECT_EQ(data["order_status_counts"]["filled"], 12u);
  EXPECT_EQ(data["risk_events"]["total_rows"], 12u);
  EXPECT_EQ(data["options"]["price_decimals"], 2);
  const auto& dates = data["daily"]["date"];
  ASSERT_GE(dates.size(), 40u);
  EXPECT_EQ(dates.front(), "2024-01-15");
  EXPECT_EQ(dates.back().get<std::string>().substr(0, 7), "2024-03");
  // Monthly returns compound every daily row: Jan..Mar.
  const auto& monthly = data["monthly_growth"];
  EXPECT_EQ(monthly.size(), 3u);
  EXPECT_TRUE(monthly.contains("2024-01") && monthly.contains("2024-02") && monthly.contains("2024-03"));
  double growth = 1;
  for (const auto& [month, g] : monthly.items()) growth *= g.get<double>();
  EXPECT_NEAR(growth * 100'000.0, data["summary"]["meta"]["final_equity"].get<double>(), 0.01);
  // Each trade is counted at the chart point of its entry and of its exit.
  std::size_t entries = 0, exits = 0;
  for (std::size_t i = 0; i < data["trade_points"]["point"].size(); ++i) {
    entries += data["trade_points"]["long"][i].get<std::size_t>() + data["trade_points"]["short"][i].get<std::size_t>();
    exits += data["trade_points"]["exits"][i].get<std::size_t>();
  }
  EXPECT_EQ(entries, 6u);
  EXPECT_EQ(exits, 6u);
  EXPECT_EQ(data["trade_points"]["point"][0], 11);
  EXPECT_EQ(data["trade_points"]["long"][0], 1);
}

TEST_F(ReportTest, EquityComesFromChartEquityNotEquityCsv) {
  write_fixture_run(dir_);
  // equity.csv may be huge or absent in a long run: the report must not need it.
  fs::remove(dir_ / "equity.csv");
  auto path = write_report(dir_.string(), {});
  ASSERT_TRUE(path) << path.error().message;
  const auto data = embedded_data(read_all(*path));
  // The last row of chart_equity.csv, as written by the fixture.
  std::string text = read_all(dir_ / "chart_equity.csv");
  text.pop_back();
  const std::string last_row = text.substr(text.rfind('\n') + 1);
  const std::string equity = last_row.substr(last_row.find(',') + 1, last_row.rfind(',') - last_row.find(',') - 1);
  EXPECT_DOUBLE_EQ(data["chart"]["equity"].back().get<double>(), std::stod(equity));
  EXPECT_DOUBLE_EQ(data["chart"]["drawdown_pct"].back().get<double>(),
                   std::stod(last_row.substr(last_row.rfind(',') + 1)));
  EXPECT_FALSE(data.contains("equity"));

  // chart_equity.csv must have one row per chart bar, at the same ts.
  const auto expect_error = [&](const std::string& csv, const std::string& message) {
    std::ofstream(dir_ / "chart_equity.csv", std::ios::binary) << csv;
    auto result = write_report(dir_.string(), {});
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find(message), std::string::npos) << result.error().message;
  };
  write_fixture_run(dir_);
  const std::string good = read_all(dir_ / "chart_equity.csv");
  std::string wrong_ts = good;
  wrong_ts.replace(wrong_ts.find("2024-01-15T04:00:00Z"), 20, "2024-01-15T04:30:00Z");
  expect_error(wrong_ts, "chart_equity.csv:3: column ts: '2024-01-15T04:30:00Z' differs from row 2 of chart_bars.csv");
  expect_error(good.substr(0, good.rfind('\n', good.size() - 2) + 1),
               "chart_equity.csv: 299 rows, chart_bars.csv has 300");
  expect_error(good + "2030-01-01T00:00:00Z,1,0\n", "chart_equity.csv:302: more rows than chart_bars.csv (300)");
  expect_error("ts,equity\n", "chart_equity.csv:1: missing column 'drawdown_pct'");
}

TEST_F(ReportTest, LongTablesKeepTheirFirstAndLastRows) {
  FixtureOptions fixture;
  fixture.trades = 2500;
  fixture.risk_events = 2600;
  ReportOptions options;
  options.max_trade_rows = 1000;
  options.max_daily_rows = 10;
  const std::string html = write(fixture, options);
  const auto data = embedded_data(html);
  const auto& trades = data["trades"];
  EXPECT_EQ(trades["side"].size(), 1000u);
  EXPECT_EQ(trades["head_rows"], 500u);
  EXPECT_EQ(trades["total_rows"], 2500u);
  // The first kept rows are the file's first, the others its last: the last
  // kept trade is the file's last one.
  std::string csv = read_all(dir_ / "trades.csv");
  csv.pop_back();
  const std::string last_entry = csv.substr(csv.rfind('\n') + 1, 20);
  EXPECT_EQ(last_entry.substr(0, 4), "2024");
  const double last_entry_seconds = trades["entry_time"].back().get<double>();
  EXPECT_GT(last_entry_seconds, trades["entry_time"][499].get<double>());
  EXPECT_EQ(data["trade_stats"]["count"], 2500u);
  std::size_t entries = 0;
  for (std::size_t i = 0; i < data["trade_points"]["point"].size(); ++i) {
    entries += data["trade_points"]["long"][i].get<std::size_t>() + data["trade_points"]["short"][i].get<std::size_t>();
  }
  EXPECT_EQ(entries, 2500u);  // the chart counts every trade, kept or not

  EXPECT_EQ(data["risk_events"]["kind"].size(), 2000u);
  EXPECT_EQ(data["risk_events"]["head_rows"], 1000u);
  EXPECT_EQ(data["risk_events"]["total_rows"], 2600u);
  std::size_t counted = 0;
  for (const auto& [kind, n] : data["risk_event_counts"].items()) counted += n.get<std::size_t>();
  EXPECT_EQ(counted, 2600u);

  EXPECT_EQ(data["daily"]["date"].size(), 10u);
  EXPECT_GT(data["daily"]["total_rows"].get<std::size_t>(), 40u);
  EXPECT_EQ(data["monthly_growth"].size(), 3u);  // still every session
  EXPECT_EQ(data["daily_halted"], 1u);
}

TEST_F(ReportTest, ChartBarsAboveTheCapAreMerged) {
  ReportOptions options;
  options.max_chart_bars = 100;  // 300 fixture bars: three per point
  const auto data = embedded_data(write({}, options));
  const auto& chart = data["chart"];
  ASSERT_EQ(chart["ts"].size(), 100u);
  EXPECT_EQ(chart["source_rows"], 300u);
  EXPECT_EQ(chart["ts"][1].get<double>() - chart["ts"][0].get<double>(), 3 * 4 * 3600);
  const std::string bars = read_all(dir_ / "chart_bars.csv");
  // Point 0 = bars 0..2: open of the first, close of the third, highest high.
  std::vector<std::vector<double>> rows;
  std::size_t pos = bars.find('\n') + 1;
  for (int r = 0; r < 3; ++r) {
    const std::size_t end = bars.find('\n', pos);
    std::vector<double> fields;
    std::size_t field = bars.find(',', pos) + 1;
    while (field < end) {
      const std::size_t comma = std::min(bars.find(',', field), end);
      fields.push_back(std::stod(bars.substr(field, comma - field)));
      field = comma + 1;
    }
    rows.push_back(fields);
    pos = end + 1;
  }
  EXPECT_EQ(chart["open"][0].get<double>(), rows[0][0]);
  EXPECT_EQ(chart["high"][0].get<double>(), std::max({rows[0][1], rows[1][1], rows[2][1]}));
  EXPECT_EQ(chart["low"][0].get<double>(), std::min({rows[0][2], rows[1][2], rows[2][2]}));
  EXPECT_EQ(chart["close"][0].get<double>(), rows[2][3]);
  // Trades are counted on the merged points: bar 11 is in point 3.
  EXPECT_EQ(data["trade_points"]["point"][0], 3);
}

TEST_F(ReportTest, LargeRunStaysSmall) {
  testing::write_large_fixture_run(dir_);  // 60,000 chart bars, 400,000 trades, 800,000 orders, no equity.csv
  ASSERT_FALSE(fs::exists(dir_ / "equity.csv"));
  auto path = write_report(dir_.string(), {});
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_LE(fs::file_size(*path), 10u * 1024 * 1024);
  const auto data = embedded_data(read_all(*path));
  const ReportOptions defaults;
  EXPECT_EQ(data["chart"]["ts"].size(), 60'000u);
  EXPECT_EQ(data["trade_stats"]["count"], 400'000u);
  EXPECT_EQ(data["trades"]["total_rows"], 400'000u);
  EXPECT_EQ(data["trades"]["side"].size(), defaults.max_trade_rows);
  EXPECT_EQ(data["orders"]["total_rows"], 800'000u);
  EXPECT_EQ(data["orders"]["id"].size(), defaults.max_order_rows);
  EXPECT_EQ(data["orders"]["id"].back(), "800000");
  EXPECT_EQ(data["risk_events"]["total_rows"], 100'000u);
  EXPECT_EQ(data["risk_events"]["kind"].size(), defaults.max_risk_event_rows);
  EXPECT_LE(data["daily"]["date"].size(), defaults.max_daily_rows);
  EXPECT_LE(data["trade_points"]["point"].size(), 60'000u);
  std::size_t entries = 0, exits = 0;
  for (std::size_t i = 0; i < data["trade_points"]["point"].size(); ++i) {
    entries += data["trade_points"]["long"][i].get<std::size_t>() + data["trade_points"]["short"][i].get<std::size_t>();
    exits += data["trade_points"]["exits"][i].get<std::size_t>();
  }
  EXPECT_EQ(entries, 400'000u);
  EXPECT_EQ(exits, 400'000u);
}

TEST_F(ReportTest, MissingFileIsNamed) {
  for (const char* name : {"trades.csv", "orders.csv", "chart_equity.csv", "daily.csv", "risk_events.csv",
                           "chart_bars.csv", "summary.json", "config.toml"}) {
    fs::remove_all(dir_);
    write_fixture_run(dir_);
    fs::remove(dir_ / name);
    auto result = write_report(dir_.string(), {});
    ASSERT_FALSE(result) << name;
    EXPECT_NE(result.error().message.find((dir_ / name).string() + ": cannot open"), std::string::npos)
        << result.error().message;
    EXPECT_FALSE(fs::exists(dir_ / "report.html")) << name;
  }
}

TEST_F(ReportTest, BadRowIsNamedWithItsLine) {
  write_fixture_run(dir_);
  std::string trades = read_all(dir_ / "trades.csv");
  trades.replace(trades.find(",short,") + 7, 1, "x");  // the second trade (line 3) is short
  std::ofstream(dir_ / "trades.csv", std::ios::binary) << trades;
  auto result = write_report(dir_.string(), {});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("trades.csv:3: column qty"), std::string::npos) << result.error().message;
}

TEST_F(ReportTest, BadSideAndBadJsonAreNamed) {
  write_fixture_run(dir_);
  std::string trades = read_all(dir_ / "trades.csv");
  trades.replace(trades.find(",long,"), 6, ",flat,");
  std::ofstream(dir_ / "trades.csv", std::ios::binary) << trades;
  auto side = write_report(dir_.string(), {});
  ASSERT_FALSE(side);
  EXPECT_NE(side.error().message.find("trades.csv:2: column side: 'flat' is not one of long/short"), std::string::npos)
      << side.error().message;

  write_fixture_run(dir_);
  std::string summary = read_all(dir_ / "summary.json");
  summary.replace(summary.find("\"sharpe\": 1.2345"), 16, "\"sharpe\": oops");
  std::ofstream(dir_ / "summary.json", std::ios::binary) << summary;
  auto json = write_report(dir_.string(), {});
  ASSERT_FALSE(json);
  EXPECT_NE(json.error().message.find("summary.json:8: not valid JSON"), std::string::npos) << json.error().message;

  write_fixture_run(dir_);
  summary = read_all(dir_ / "summary.json");
  summary.replace(summary.find("\"generated_data\": true"), 22, "\"generated_data\": 1");
  std::ofstream(dir_ / "summary.json", std::ios::binary) << summary;
  auto meta = write_report(dir_.string(), {});
  ASSERT_FALSE(meta);
  EXPECT_NE(meta.error().message.find("meta.generated_data' must be true or false"), std::string::npos)
      << meta.error().message;
}

TEST_F(ReportTest, GateSectionsOnlyWhenTheirFilesArePresent) {
  const std::string plain = write();
  for (const char* heading : {"Gated vs ungated", "Model", "Quantile bands"}) {
    EXPECT_EQ(plain.find("<h2>" + std::string(heading) + "</h2>"), std::string::npos) << heading;
  }
  const auto plain_data = embedded_data(plain);
  EXPECT_FALSE(plain_data.contains("gate"));
  EXPECT_FALSE(plain_data.contains("model"));
  EXPECT_FALSE(plain_data.contains("ungated"));
  EXPECT_EQ(plain.find("{{"), std::string::npos);  // every placeholder filled

  FixtureOptions fixture;
  fixture.gate = true;
  const std::string gated = write(fixture);
  for (const char* heading : {"Gated vs ungated", "Model", "Quantile bands"}) {
    EXPECT_NE(gated.find("<h2>" + std::string(heading) + "</h2>"), std::string::npos) << heading;
  }
  const auto data = embedded_data(gated);
  ASSERT_TRUE(data.contains("gate"));
  const auto& gate = data["gate"];
  const std::size_t signals = gate["table"]["total_rows"].get<std::size_t>();
  EXPECT_EQ(gate["table"]["ts"].size(), signals);
  EXPECT_GE(signals, 30u);
  EXPECT_EQ(gate["allowed_count"].get<std::size_t>() + gate["blocked_count"].get<std::size_t>(), signals);
  EXPECT_GT(gate["allowed_count"].get<std::size_t>(), 0u);
  EXPECT_GT(gate["blocked_count"].get<std::size_t>(), 0u);
  EXPECT_EQ(gate["chart"]["per_signal"], true);
  EXPECT_EQ(gate["chart"]["ts"].size(), signals);
  EXPECT_EQ(data["model"]["auc"], 0.6123);
  EXPECT_EQ(data["model"]["calibration"].size(), 10u);
  EXPECT_TRUE(data["model"]["calibration"][9]["observed"].is_null());
  EXPECT_EQ(data["model"]["model_dir"], testing::kModelDir);
  EXPECT_EQ(gated.find("ma_breakout/<2024"), std::string::npos);  // '<' escaped in the JSON
  EXPECT_EQ(data["ungated"]["summary"]["trades"], 10);
  // The ungated run has the same chart bars: only its equity per point is embedded.
  EXPECT_EQ(data["ungated"]["equity"].size(), 300u);
  EXPECT_FALSE(data["ungated"].contains("ts"));
  EXPECT_EQ(data["options"]["max_gate_rows"], 2000u);

  // Many signals: the chart draws their means per group of chart points.
  ReportOptions few_points;
  few_points.max_gate_points = 5;
  auto grouped_path = write_report(dir_.string(), few_points);
  ASSERT_TRUE(grouped_path) << grouped_path.error().message;
  const auto grouped = embedded_data(read_all(*grouped_path))["gate"]["chart"];
  EXPECT_EQ(grouped["per_signal"], false);
  EXPECT_LE(grouped["ts"].size(), 5u);
  EXPECT_EQ(grouped["points_per_bucket"], 60u);  // 300 chart points in 5 groups
  std::size_t counted = 0;
  for (const auto& n : grouped["signals"]) counted += n.get<std::size_t>();
  EXPECT_EQ(counted, signals);

  // Each file on its own brings its own section.
  fs::remove_all(dir_ / "ungated");
  fs::remove(dir_ / "gate.csv");
  auto only_model = write_report(dir_.string(), {});
  ASSERT_TRUE(only_model) << only_model.error().message;
  const std::string html = read_all(*only_model);
  EXPECT_NE(html.find("<h2>Model</h2>"), std::string::npos);
  EXPECT_EQ(html.find("<h2>Quantile bands</h2>"), std::string::npos);
  EXPECT_EQ(html.find("<h2>Gated vs ungated</h2>"), std::string::npos);
}

TEST_F(ReportTest, MalformedGateFilesAreNamed) {
  FixtureOptions fixture;
  fixture.gate = true;
  const auto expect_error = [&](const std::string& file, const std::string& from, const std::string& to,
                                const std::string& message) {
    fs::remove_all(dir_);
    write_fixture_run(dir_, fixture);
    std::string text = read_all(dir_ / file);
    const std::size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(dir_ / file, std::ios::binary) << text;
    auto result = write_report(dir_.string(), {});
    ASSERT_FALSE(result) << file << ": " << from;
    EXPECT_NE(result.error().message.find(message), std::string::npos) << result.error().message;
    EXPECT_FALSE(fs::exists(dir_ / "report.html"));
  };
  expect_error("gate.csv", ",long,", ",flat,", "gate.csv:2: column side: 'flat' is not one of long/short");
  expect_error("gate.csv", ",short,", ",short,x", "gate.csv:3: column prob: 'x");
  expect_error("gate.csv", ",1,prob", ",yes,prob", ": column allowed: 'yes' is not one of 0/1");
  expect_error("gate.csv", "\n2024", "\n2024,extra", "gate.csv:2: expected 9 fields, got 10");
  expect_error("gate.csv", "ts,side,prob,", "ts,side,probability,", "gate.csv:1: missing column 'prob'");
  expect_error("model_metrics.json", "\"brier\": 0.2391", "\"brier\": oops", "model_metrics.json:4: not valid JSON");
  expect_error("model_metrics.json", "\"auc\": 0.6123", "\"auc\": \"high\"", "'auc' must be a number");
  expect_error("model_metrics.json", "\"count\": 0}", "\"count\": null}", "'calibration[9].count' must be a number");
  expect_error("model_metrics.json", "\"manifest_hash\"", "\"hash\"", "'manifest_hash' must be a string");
  expect_error("ungated/chart_equity.csv", "\n2024", "\nnot-a-time", "ungated/chart_equity.csv:2: column ts");
  // A probability outside [0, 1] is named with its line.
  fs::remove_all(dir_);
  write_fixture_run(dir_, fixture);
  std::string gate = read_all(dir_ / "gate.csv");
  const std::size_t line2 = gate.find('\n') + 1;
  const std::size_t prob = gate.find(',', gate.find(',', line2) + 1) + 1;
  gate.replace(prob, gate.find(',', prob) - prob, "1.5");
  std::ofstream(dir_ / "gate.csv", std::ios::binary) << gate;
  auto result = write_report(dir_.string(), {});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("gate.csv:2: column prob: '1.5' is not in [0, 1]"), std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace quant::report
