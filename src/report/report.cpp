#include "report/report.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/html.h"
#include "report/report_assets.h"
#include "report/run_files.h"

namespace quant::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using K = FieldKind;

constexpr std::array kTradeColumns{ColumnSpec{"entry_time", K::Time},
                                   ColumnSpec{"exit_time", K::Time},
                                   ColumnSpec{"side", K::Text},
                                   ColumnSpec{"qty", K::Number},
                                   ColumnSpec{"entry_price", K::Number},
                                   ColumnSpec{"exit_price", K::Number},
                                   ColumnSpec{"gross_pnl", K::Number},
                                   ColumnSpec{"fees", K::Number},
                                   ColumnSpec{"net_pnl", K::Number},
                                   ColumnSpec{"exit_reason", K::Text},
                                   ColumnSpec{"initial_stop", K::OptionalNumber},
                                   ColumnSpec{"bars_held", K::OptionalNumber}};
constexpr std::array kOrderColumns{ColumnSpec{"id", K::Text},
                                   ColumnSpec{"created", K::Time},
                                   ColumnSpec{"updated", K::OptionalTime},
                                   ColumnSpec{"side", K::Text},
                                   ColumnSpec{"type", K::Text},
                                   ColumnSpec{"tif", K::Text},
                                   ColumnSpec{"purpose", K::Text},
                                   ColumnSpec{"qty", K::Number},
                                   ColumnSpec{"limit_price", K::OptionalNumber},
                                   ColumnSpec{"stop_price", K::OptionalNumber},
                                   ColumnSpec{"status", K::Text},
                                   ColumnSpec{"filled_qty", K::OptionalNumber},
                                   ColumnSpec{"avg_fill_price", K::OptionalNumber}};
constexpr std::array kChartEquityColumns{ColumnSpec{"ts", K::Time}, ColumnSpec{"equity", K::Number},
                                         ColumnSpec{"drawdown_pct", K::Number}};
constexpr std::array kDailyColumns{ColumnSpec{"date", K::Date},
                                   ColumnSpec{"start_equity", K::Number},
                                   ColumnSpec{"end_equity", K::Number},
                                   ColumnSpec{"pnl", K::Number},
                                   ColumnSpec{"return_pct", K::OptionalNumber},
                                   ColumnSpec{"trades", K::OptionalNumber},
                                   ColumnSpec{"fees", K::OptionalNumber},
                                   ColumnSpec{"halted", K::Text}};
constexpr std::array kRiskEventColumns{ColumnSpec{"ts", K::Time}, ColumnSpec{"kind", K::Text},
                                       ColumnSpec{"reason", K::Text}, ColumnSpec{"equity", K::OptionalNumber},
                                       ColumnSpec{"value", K::OptionalNumber}};
constexpr std::array kChartBarColumns{ColumnSpec{"ts", K::Time}, ColumnSpec{"open", K::Number},
                                      ColumnSpec{"high", K::Number}, ColumnSpec{"low", K::Number},
                                      ColumnSpec{"close", K::Number}};
constexpr std::array kGateColumns{
    ColumnSpec{"ts", K::Time},     ColumnSpec{"side", K::Text},    ColumnSpec{"prob", K::Number},
    ColumnSpec{"q10", K::Number},  ColumnSpec{"q90", K::Number},   ColumnSpec{"target", K::Number},
    ColumnSpec{"stop", K::Number}, ColumnSpec{"allowed", K::Text}, ColumnSpec{"reason", K::Text}};

constexpr std::array<std::string_view, 15> kSummaryNumbers{
    "net_pnl",    "gross_pnl", "trades",  "win_rate",     "profit_factor",
    "expectancy", "sharpe",    "sortino", "max_drawdown", "max_drawdown_pct",
    "calmar",     "exposure",  "fees",    "bars",         "bars_per_second"};
constexpr std::array<std::string_view, 6> kMetaTexts{"symbol", "strategy", "from", "to", "currency", "data_source"};
constexpr std::array<std::string_view, 2> kMetaNumbers{"initial_equity", "final_equity"};

/// A number for the page: NaN → null, whole numbers without ".0" (most
/// times and many prices), so long columns stay short.
json compact(double value) {
  if (std::isnan(value)) return nullptr;
  if (value == std::floor(value) && std::fabs(value) < 9.0e15) return static_cast<std::int64_t>(value);
  return value;
}

/// A number rounded to `decimals` places (for means, which have no natural precision).
json rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return compact(std::round(value * scale) / scale);
}

json numbers_to_json(const std::vector<double>& values) {
  json out = json::array();
  for (double value : values) out.push_back(compact(value));
  return out;
}

/// The kept rows of a table, column by column, with `total_rows` (rows in the
/// file) and `head_rows` (kept rows from the start; the rest are its last rows).
json columns_to_json(const Table& table) {
  json out = json::object();
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    if (const auto* numbers = std::get_if<std::vector<double>>(&table.columns[c])) {
      out[table.names[c]] = numbers_to_json(*numbers);
    } else {
      out[table.names[c]] = table.texts(c);
    }
  }
  out["total_rows"] = table.total_rows;
  out["head_rows"] = table.head_rows;
  return out;
}

/// Read options that keep the first and the last half of `max_rows` rows.
ReadOptions head_and_tail(std::size_t max_rows) {
  ReadOptions read;
  read.head_rows = max_rows - max_rows / 2;
  read.tail_rows = max_rows / 2;
  return read;
}

/// The chart's points as groups of chart_bars.csv rows, by first row: rows of
/// the same whole second share a point (chart times are whole seconds), and
/// above `max_points` points k consecutive ones merge so that at most
/// `max_points` remain.
std::vector<std::size_t> chart_groups(const std::vector<double>& ts, std::size_t max_points) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (i == 0 || std::floor(ts[i]) != std::floor(ts[i - 1])) starts.push_back(i);
  }
  if (max_points > 0 && starts.size() > max_points) {
    const std::size_t k = (starts.size() + max_points - 1) / max_points;
    std::vector<std::size_t> merged;
    for (std::size_t g = 0; g < starts.size(); g += k) merged.push_back(starts[g]);
    starts = std::move(merged);
  }
  return starts;
}

/// One value per group of rows: `reduce(begin, end)` over the rows [begin, end).
template <typename Reduce>
json per_group(const std::vector<std::size_t>& starts, std::size_t rows, Reduce reduce) {
  json out = json::array();
  for (std::size_t g = 0; g < starts.size(); ++g) {
    const std::size_t end = g + 1 < starts.size() ? starts[g + 1] : rows;
    out.push_back(compact(reduce(starts[g], end)));
  }
  return out;
}

/// The group (chart point) holding time t: the last one starting at or before
/// t, the first for earlier times. `starts` are the groups' whole-second times.
std::size_t group_of(const std::vector<double>& starts, double t) {
  const auto after = std::upper_bound(starts.begin(), starts.end(), t);
  return after == starts.begin() ? 0 : static_cast<std::size_t>(after - starts.begin() - 1);
}

/// A CSV checker that accepts only the listed values in one column.
std::function<Expected<void>(const CsvRow&)> one_of(std::size_t column, std::string_view name,
                                                    std::set<std::string_view> allowed) {
  return [column, name, allowed = std::move(allowed)](const CsvRow& row) -> Expected<void> {
    if (allowed.count(row.field(column)) != 0) return {};
    std::string list;
    for (std::string_view value : allowed) list += (list.empty() ? "" : "/") + std::string(value);
    return tl::unexpected(
        row.error("column " + std::string(name) + ": '" + std::string(row.field(column)) + "' is not one of " + list));
  };
}

/// 1-based line of a byte offset, for JSON parse errors.
std::size_t line_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 +
         static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

/// Reads a JSON file that must hold one object; parse errors name the line.
Expected<json> read_json_object(const fs::path& path) {
  auto text = read_text_file(path);
  if (!text) return tl::unexpected(text.error());
  const std::string where = path.string();
  json value;
  try {
    value = json::parse(*text);
  } catch (const json::parse_error& e) {
    return make_error(where + ":" + std::to_string(line_of(*text, e.byte == 0 ? 0 : e.byte - 1)) +
                      ": not valid JSON (" + e.what() + ")");
  }
  if (!value.is_object()) return make_error(where + ":1: expected a JSON object");
  return value;
}

Expected<json> read_summary(const fs::path& path) {
  auto parsed = read_json_object(path);
  if (!parsed) return tl::unexpected(parsed.error());
  const std::string where = path.string();
  json summary = std::move(*parsed);
  for (std::string_view key : kSummaryNumbers) {
    const auto it = summary.find(key);
    if (it == summary.end()) return make_error(where + ": missing key '" + std::string(key) + "'");
    // null stands for "not defined" (a profit factor without losing trades).
    if (!it->is_number() && !it->is_null()) {
      return make_error(where + ": '" + std::string(key) + "' must be a number or null");
    }
  }
  const auto meta = summary.find("meta");
  if (meta == summary.end() || !meta->is_object()) {
    return make_error(where + ": missing object 'meta'");
  }
  for (std::string_view key : kMetaTexts) {
    const auto it = meta->find(key);
    if (it == meta->end() || !it->is_string()) {
      return make_error(where + ": 'meta." + std::string(key) + "' must be a string");
    }
  }
  for (std::string_view key : kMetaNumbers) {
    const auto it = meta->find(key);
    if (it == meta->end() || !it->is_number()) {
      return make_error(where + ": 'meta." + std::string(key) + "' must be a number");
    }
  }
  const auto generated = meta->find("generated_data");
  if (generated == meta->end() || !generated->is_boolean()) {
    return make_error(where + ": 'meta.generated_data' must be true or false");
  }
  if (!meta->contains("chart_timeframe")) {
    return make_error(where + ": missing key 'meta.chart_timeframe'");
  }
  return summary;
}

/// model_metrics.json (optional, written by a gated run): checks keys and types.
Expected<json> read_model_metrics(const fs::path& path) {
  auto parsed = read_json_object(path);
  if (!parsed) return tl::unexpected(parsed.error());
  json metrics = std::move(*parsed);
  const std::string where = path.string();
  const auto number = [&](const json& object, std::string_view key, const std::string& name,
                          bool nullable) -> Expected<void> {
    const auto it = object.find(key);
    if (it == object.end()) return make_error(where + ": missing key '" + name + "'");
    if (it->is_number() || (nullable && it->is_null())) return {};
    return make_error(where + ": '" + name + "' must be a number" + (nullable ? " or null" : ""));
  };
  for (std::string_view key : {"auc", "log_loss", "brier", "rows", "p_min"}) {
    if (auto ok = number(metrics, key, std::string(key), true); !ok) return tl::unexpected(ok.error());
  }
  for (std::string_view key : {"model_dir", "manifest_hash"}) {
    const auto it = metrics.find(key);
    if (it == metrics.end() || !it->is_string()) {
      return make_error(where + ": '" + std::string(key) + "' must be a string");
    }
  }
  const auto calibration = metrics.find("calibration");
  if (calibration == metrics.end() || !calibration->is_array()) {
    return make_error(where + ": 'calibration' must be an array of bins");
  }
  for (std::size_t i = 0; i < calibration->size(); ++i) {
    const json& bin = (*calibration)[i];
    const std::string name = "calibration[" + std::to_string(i) + "]";
    if (!bin.is_object()) return make_error(where + ": '" + name + "' must be an object");
    for (std::string_view key : {"lower", "upper", "count"}) {
      if (auto ok = number(bin, key, name + "." + std::string(key), false); !ok) return tl::unexpected(ok.error());
    }
    for (std::string_view key : {"mean_predicted", "observed"}) {
      if (auto ok = number(bin, key, name + "." + std::string(key), true); !ok) return tl::unexpected(ok.error());
    }
  }
  const auto coverage = metrics.find("coverage");
  if (coverage == metrics.end() || !coverage->is_object()) {
    return make_error(where + ": missing object 'coverage'");
  }
  for (std::string_view key : {"below_lower", "above_upper", "inside"}) {
    if (auto ok = number(*coverage, key, "coverage." + std::string(key), true); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return metrics;
}

/// JSON for a <script type="application/json"> block: every '<' becomes
/// \u003c, so no "</script" or "<!--" can end or confuse the block.
std::string script_safe_json(const json& data) {
  const std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

/// Inline JavaScript must not contain "</script" (any case): it would end the element.
std::string script_safe_js(std::string_view code) {
  std::string out(code);
  for (std::size_t pos = out.find("</"); pos != std::string::npos; pos = out.find("</", pos + 2)) {
    std::string tag = out.substr(pos + 2, 6);
    std::transform(tag.begin(), tag.end(), tag.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (tag == "script") out.replace(pos, 2, "<\\/");
  }
  return out;
}

/// Replaces each {{NAME}} of the template once, in one pass (values are not rescanned).
std::string fill_template(std::string_view page, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(page.size() + 1024);
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = page.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = page.find("}}", open);
    if (close == std::string_view::npos) break;
    const auto it = values.find(std::string(page.substr(open + 2, close - open - 2)));
    out.append(page.substr(pos, open - pos));
    if (it != values.end()) {
      out += it->second;
    } else {
      out.append(page.substr(open, close + 2 - open));
    }
    pos = close + 2;
  }
  out.append(page.substr(pos));
  return out;
}

Expected<std::string> render(const fs::path& dir, const ReportOptions& options) {
  auto summary = read_summary(dir / "summary.json");
  if (!summary) return tl::unexpected(summary.error());
  auto config = read_text_file(dir / "config.toml");
  if (!config) return tl::unexpected(config.error());

  // The chart bars come first: trades, equity and gate signals are placed on them.
  int price_decimals = 0;
  ReadOptions bar_read;
  bar_read.ascending_time_column = 0;
  bar_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    for (std::size_t c = 1; c <= 4; ++c) price_decimals = std::max(price_decimals, decimal_places(row.field(c)));
    return {};
  };
  auto bars = read_table(dir / "chart_bars.csv", kChartBarColumns, bar_read);
  if (!bars) return tl::unexpected(bars.error());
  const std::vector<double>& bar_ts = bars->numbers(0);
  const std::size_t bar_rows = bar_ts.size();

  // chart_equity.csv: one row per chart bar, same ts (the contract); checked
  // row by row, so the equity and drawdown charts share the price chart's times.
  const fs::path chart_equity_path = dir / "chart_equity.csv";
  ReadOptions equity_read;
  equity_read.ascending_time_column = 0;
  equity_read.on_row = [&, row_index = std::size_t{0}](const CsvRow& row) mutable -> Expected<void> {
    const std::size_t i = row_index++;
    if (i >= bar_rows) {
      return tl::unexpected(row.error("more rows than chart_bars.csv (" + std::to_string(bar_rows) +
                                      "): the files must have one row per chart bar"));
    }
    if (row.number(0) != bar_ts[i]) {
      return tl::unexpected(row.error("column ts: '" + std::string(row.field(0)) + "' differs from row " +
                                      std::to_string(i + 1) + " of chart_bars.csv: the files must have one row per " +
                                      "chart bar, same ts"));
    }
    return {};
  };
  auto chart_equity = read_table(chart_equity_path, kChartEquityColumns, equity_read);
  if (!chart_equity) return tl::unexpected(chart_equity.error());
  if (chart_equity->total_rows != bar_rows) {
    return make_error(chart_equity_path.string() + ": " + std::to_string(chart_equity->total_rows) +
                      " rows, chart_bars.csv has " + std::to_string(bar_rows) +
                      ": the files must have one row per chart bar");
  }

  const std::vector<std::size_t> groups = chart_groups(bar_ts, options.max_chart_bars);
  std::vector<double> point_ts;  // each chart point's time, whole seconds
  for (std::size_t start : groups) point_ts.push_back(std::floor(bar_ts[start]));
  const auto column_per_group = [&](const std::vector<double>& values, auto reduce) {
    return per_group(groups, bar_rows, [&](std::size_t begin, std::size_t end) { return reduce(values, begin, end); });
  };
  const auto first = [](const std::vector<double>& v, std::size_t begin, std::size_t) { return v[begin]; };
  const auto last = [](const std::vector<double>& v, std::size_t, std::size_t end) { return v[end - 1]; };
  const auto highest = [](const std::vector<double>& v, std::size_t begin, std::size_t end) {
    return *std::max_element(v.begin() + static_cast<std::ptrdiff_t>(begin),
                             v.begin() + static_cast<std::ptrdiff_t>(end));
  };
  const auto lowest = [](const std::vector<double>& v, std::size_t begin, std::size_t end) {
    return *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(begin),
                             v.begin() + static_cast<std::ptrdiff_t>(end));
  };
  json chart;
  chart["ts"] = numbers_to_json(point_ts);
  chart["open"] = column_per_group(bars->numbers(1), first);
  chart["high"] = column_per_group(bars->numbers(2), highest);
  chart["low"] = column_per_group(bars->numbers(3), lowest);
  chart["close"] = column_per_group(bars->numbers(4), last);
  chart["equity"] = column_per_group(chart_equity->numbers(1), last);
  chart["drawdown_pct"] = column_per_group(chart_equity->numbers(2), highest);
  chart["source_rows"] = bar_rows;

  // Trades: every row is checked and counted; the first and last ones are
  // kept for the table and the one-by-one markers; per chart point, how many
  // entries and exits, for markers anywhere on the chart.
  const std::size_t points = groups.size();
  std::vector<std::uint32_t> long_entries(points), short_entries(points), exits(points), losing_exits(points);
  std::size_t winning_trades = 0;
  double trades_net_pnl = 0;
  const auto side_ok = one_of(2, "side", {"long", "short"});
  ReadOptions trade_read = head_and_tail(options.max_trade_rows);
  trade_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    if (auto ok = side_ok(row); !ok) return ok;
    const double net = row.number(8);
    winning_trades += net > 0 ? 1 : 0;
    trades_net_pnl += net;
    if (points == 0) return {};
    ++(row.field(2) == "long" ? long_entries : short_entries)[group_of(point_ts, row.number(0))];
    const std::size_t exit_point = group_of(point_ts, row.number(1));
    ++exits[exit_point];
    losing_exits[exit_point] += net < 0 ? 1 : 0;
    return {};
  };
  auto trades = read_table(dir / "trades.csv", kTradeColumns, trade_read);
  if (!trades) return tl::unexpected(trades.error());
  json trade_points = {{"point", json::array()},
                       {"long", json::array()},
                       {"short", json::array()},
                       {"exits", json::array()},
                       {"losing", json::array()}};
  for (std::size_t p = 0; p < points; ++p) {
    if (long_entries[p] + short_entries[p] + exits[p] == 0) continue;
    trade_points["point"].push_back(p);
    trade_points["long"].push_back(long_entries[p]);
    trade_points["short"].push_back(short_entries[p]);
    trade_points["exits"].push_back(exits[p]);
    trade_points["losing"].push_back(losing_exits[p]);
  }

  std::map<std::string, std::size_t> order_status_counts;
  ReadOptions order_read = head_and_tail(options.max_order_rows);
  order_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    ++order_status_counts[std::string(row.field(10))];
    return {};
  };
  auto orders = read_table(dir / "orders.csv", kOrderColumns, order_read);
  if (!orders) return tl::unexpected(orders.error());

  // Daily rows: monthly returns compound every session, so they are summed up here.
  std::map<std::string, double> monthly_growth;
  std::size_t halted_sessions = 0;
  const auto halted_ok = one_of(7, "halted", {"0", "1"});
  ReadOptions daily_read = head_and_tail(options.max_daily_rows);
  daily_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    if (auto ok = halted_ok(row); !ok) return ok;
    halted_sessions += row.field(7) == "1" ? 1 : 0;
    const double start = row.number(1);
    if (start > 0) {
      auto [it, added] = monthly_growth.try_emplace(std::string(row.field(0).substr(0, 7)), 1.0);
      it->second *= row.number(2) / start;
    }
    return {};
  };
  auto daily = read_table(dir / "daily.csv", kDailyColumns, daily_read);
  if (!daily) return tl::unexpected(daily.error());

  std::map<std::string, std::size_t> risk_kind_counts;
  ReadOptions risk_read = head_and_tail(options.max_risk_event_rows);
  risk_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    ++risk_kind_counts[std::string(row.field(1))];
    return {};
  };
  auto risk_events = read_table(dir / "risk_events.csv", kRiskEventColumns, risk_read);
  if (!risk_events) return tl::unexpected(risk_events.error());

  // Optional files of a gated run: absent → the section is left out; present
  // but malformed → an error like any other file.
  std::error_code exists_error;
  const auto present = [&](const fs::path& path) { return fs::exists(path, exists_error); };
  json gate;
  if (present(dir / "gate.csv")) {
    std::size_t allowed_count = 0;
    std::size_t blocked_count = 0;
    // The chart draws each signal while there are at most max_gate_points of
    // them, else the means per bucket of chart points (at most that many buckets).
    const std::size_t max_points = std::max<std::size_t>(options.max_gate_points, 1);
    const std::size_t points_per_bucket = std::max<std::size_t>(1, (points + max_points - 1) / max_points);
    const std::size_t buckets = (points + points_per_bucket - 1) / points_per_bucket;
    std::vector<double> one_ts, one_q10, one_q90, one_target, one_stop, one_allowed;
    std::vector<double> sum_q10(buckets), sum_q90(buckets), sum_target(buckets), sum_stop(buckets);
    std::vector<std::size_t> bucket_signals(buckets), bucket_allowed(buckets);
    const auto side_valid = one_of(1, "side", {"long", "short"});
    const auto allowed_ok = one_of(7, "allowed", {"0", "1"});
    ReadOptions gate_read = head_and_tail(options.max_gate_rows);
    gate_read.ascending_time_column = 0;
    gate_read.on_row = [&](const CsvRow& row) -> Expected<void> {
      if (auto ok = side_valid(row); !ok) return ok;
      if (auto ok = allowed_ok(row); !ok) return ok;
      const double prob = row.number(2);
      if (prob < 0 || prob > 1) {
        return tl::unexpected(row.error("column prob: '" + std::string(row.field(2)) + "' is not in [0, 1]"));
      }
      const bool allowed = row.field(7) == "1";
      ++(allowed ? allowed_count : blocked_count);
      if (allowed_count + blocked_count <= max_points) {
        one_ts.push_back(row.number(0));
        one_q10.push_back(row.number(3));
        one_q90.push_back(row.number(4));
        one_target.push_back(row.number(5));
        one_stop.push_back(row.number(6));
        one_allowed.push_back(allowed ? 1 : 0);
      } else if (!one_ts.empty()) {
        for (auto* v : {&one_ts, &one_q10, &one_q90, &one_target, &one_stop, &one_allowed}) {
          v->clear();
          v->shrink_to_fit();
        }
      }
      if (buckets == 0) return {};
      const std::size_t b = group_of(point_ts, row.number(0)) / points_per_bucket;
      ++bucket_signals[b];
      bucket_allowed[b] += allowed ? 1 : 0;
      sum_q10[b] += row.number(3);
      sum_q90[b] += row.number(4);
      sum_target[b] += row.number(5);
      sum_stop[b] += row.number(6);
      return {};
    };
    auto gate_table = read_table(dir / "gate.csv", kGateColumns, gate_read);
    if (!gate_table) return tl::unexpected(gate_table.error());
    const std::size_t signals = allowed_count + blocked_count;
    json gate_chart;
    if (signals <= max_points) {
      gate_chart = {{"per_signal", true},
                    {"ts", numbers_to_json(one_ts)},
                    {"q10", numbers_to_json(one_q10)},
                    {"q90", numbers_to_json(one_q90)},
                    {"target", numbers_to_json(one_target)},
                    {"stop", numbers_to_json(one_stop)},
                    {"allowed", numbers_to_json(one_allowed)}};
    } else {
      gate_chart = {{"per_signal", false}, {"points_per_bucket", points_per_bucket}};
      for (const char* key : {"ts", "q10", "q90", "target", "stop", "signals", "allowed"})
        gate_chart[key] = json::array();
      for (std::size_t b = 0; b < buckets; ++b) {
        if (bucket_signals[b] == 0) continue;
        const double n = static_cast<double>(bucket_signals[b]);
        gate_chart["ts"].push_back(compact(point_ts[b * points_per_bucket]));
        gate_chart["q10"].push_back(rounded(sum_q10[b] / n, 3));
        gate_chart["q90"].push_back(rounded(sum_q90[b] / n, 3));
        gate_chart["target"].push_back(rounded(sum_target[b] / n, 3));
        gate_chart["stop"].push_back(rounded(sum_stop[b] / n, 3));
        gate_chart["signals"].push_back(bucket_signals[b]);
        gate_chart["allowed"].push_back(bucket_allowed[b]);
      }
    }
    gate = {{"table", columns_to_json(*gate_table)},
            {"chart", std::move(gate_chart)},
            {"allowed_count", allowed_count},
            {"blocked_count", blocked_count}};
  }
  json model;
  if (present(dir / "model_metrics.json")) {
    auto metrics = read_model_metrics(dir / "model_metrics.json");
    if (!metrics) return tl::unexpected(metrics.error());
    model = std::move(*metrics);
  }
  json ungated;
  if (fs::is_directory(dir / "ungated", exists_error)) {
    const fs::path other = dir / "ungated";
    auto other_summary = read_summary(other / "summary.json");
    if (!other_summary) return tl::unexpected(other_summary.error());
    ReadOptions other_read;
    other_read.ascending_time_column = 0;
    auto other_equity = read_table(other / "chart_equity.csv", kChartEquityColumns, other_read);
    if (!other_equity) return tl::unexpected(other_equity.error());
    const std::vector<double>& other_ts = other_equity->numbers(0);
    const std::vector<double>& other_values = other_equity->numbers(1);
    ungated["summary"] = std::move(*other_summary);
    if (other_ts == bar_ts) {
      // The same chart bars (the usual case): the points of this run's chart.
      ungated["equity"] =
          per_group(groups, bar_rows, [&](std::size_t, std::size_t end) { return other_values[end - 1]; });
    } else {
      const std::vector<std::size_t> other_groups = chart_groups(other_ts, options.max_chart_bars);
      json ts = json::array();
      for (std::size_t start : other_groups) ts.push_back(compact(std::floor(other_ts[start])));
      ungated["ts"] = std::move(ts);
      ungated["equity"] =
          per_group(other_groups, other_ts.size(), [&](std::size_t, std::size_t end) { return other_values[end - 1]; });
    }
  }

  json data;
  data["contract_version"] = 1;
  data["summary"] = *summary;
  data["config_toml"] = *config;
  data["chart"] = std::move(chart);
  data["trades"] = columns_to_json(*trades);
  data["trade_stats"] = {{"count", trades->total_rows}, {"winning", winning_trades}, {"net_pnl", trades_net_pnl}};
  data["trade_points"] = std::move(trade_points);
  data["orders"] = columns_to_json(*orders);
  data["order_status_counts"] = order_status_counts;
  data["daily"] = columns_to_json(*daily);
  data["daily_halted"] = halted_sessions;
  json monthly = json::object();
  for (const auto& [month, growth] : monthly_growth) monthly[month] = growth;
  data["monthly_growth"] = std::move(monthly);
  data["risk_events"] = columns_to_json(*risk_events);
  data["risk_event_counts"] = risk_kind_counts;
  if (!gate.is_null()) data["gate"] = std::move(gate);
  if (!model.is_null()) data["model"] = std::move(model);
  if (!ungated.is_null()) data["ungated"] = std::move(ungated);
  data["options"] = {
      {"max_trade_rows", options.max_trade_rows},           {"max_gate_rows", options.max_gate_rows},
      {"max_risk_event_rows", options.max_risk_event_rows}, {"max_order_rows", options.max_order_rows},
      {"max_daily_rows", options.max_daily_rows},           {"price_decimals", std::min(price_decimals, 8)}};

  const json& meta = (*summary)["meta"];
  const std::string symbol = meta["symbol"].get<std::string>();
  const std::string strategy = meta["strategy"].get<std::string>();
  std::string banner;
  if (meta["generated_data"].get<bool>()) {
    banner = "<div class=\"banner-generated\" role=\"alert\">GENERATED DATA — not real prices: " +
             html_escape(meta["data_source"].get<std::string>()) + "</div>";
  }
  std::string comparison_section;
  if (data.contains("ungated")) {
    comparison_section =
        "<section id=\"gate-compare\">\n    <h2>Gated vs ungated</h2>\n"
        "    <p class=\"note\" id=\"compare-note\"></p>\n"
        "    <div id=\"compare-body\"></div>\n"
        "    <div id=\"compare-chart\" class=\"chart chart-equity\"></div>\n"
        "    <p class=\"legend\" id=\"compare-legend\"></p>\n  </section>";
  }
  std::string model_sections;
  if (data.contains("model")) {
    model_sections +=
        "<section id=\"model\">\n    <h2>Model</h2>\n"
        "    <div id=\"model-body\" class=\"model-grid\"></div>\n  </section>\n  ";
  }
  if (data.contains("gate")) {
    model_sections +=
        "<section id=\"gate\">\n    <h2>Quantile bands</h2>\n"
        "    <p class=\"note\" id=\"gate-note\"></p>\n"
        "    <div id=\"gate-counts\"></div>\n"
        "    <p class=\"hint\" id=\"gate-markers\" aria-live=\"polite\"></p>\n"
        "    <div id=\"gate-chart\" class=\"chart chart-gate\"></div>\n"
        "    <p class=\"legend\" id=\"gate-legend\"></p>\n"
        "    <div id=\"gate-body\"></div>\n  </section>";
  }
  const std::map<std::string, std::string> values{
      {"COMPARISON_SECTION", comparison_section},
      {"MODEL_SECTIONS", model_sections},
      {"TITLE", html_escape(symbol + " · " + strategy + " — backtest report")},
      {"BANNER", banner},
      {"PAGE_CSS", std::string(assets::page_css())},
      {"DATA_JSON", script_safe_json(data)},
      {"LIGHTWEIGHT_CHARTS_JS", script_safe_js(assets::lightweight_charts_js())},
      {"PAGE_JS", script_safe_js(assets::page_js())},
      {"LIGHTWEIGHT_CHARTS_LICENSE", html_escape(assets::lightweight_charts_license())},
  };
  return fill_template(assets::page_html(), values);
}

}  // namespace

Expected<std::string> write_report(const std::string& run_dir, const ReportOptions& options) {
  const fs::path dir(run_dir);
  auto page = render(dir, options);
  if (!page) return tl::unexpected(page.error());

  const fs::path target = dir / "report.html";
  const fs::path partial = dir / "report.html.partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(partial.string() + ": cannot create the report file");
    out.write(page->data(), static_cast<std::streamsize>(page->size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(partial, ignored);
      return make_error(partial.string() + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(partial, target, ec);
  if (ec) return make_error(target.string() + ": cannot move the report into place: " + ec.message());
  return target.string();
}

}  // namespace quant::report
