#include "report/report.h"

#include <algorithm>
#include <array>
#include <cctype>
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
constexpr std::array kEquityColumns{ColumnSpec{"ts", K::Time},
                                    ColumnSpec{"equity", K::Number},
                                    ColumnSpec{"realized", K::OptionalNumber},
                                    ColumnSpec{"open_pnl", K::OptionalNumber},
                                    ColumnSpec{"position", K::OptionalNumber},
                                    ColumnSpec{"drawdown", K::Number},
                                    ColumnSpec{"drawdown_pct", K::OptionalNumber}};
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

json columns_to_json(const Table& table, const std::vector<std::size_t>* rows = nullptr) {
  json out = json::object();
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    json values = json::array();
    std::visit(
        [&](const auto& column) {
          if (rows == nullptr) {
            for (const auto& value : column) values.push_back(value);
          } else {
            for (std::size_t row : *rows) values.push_back(column[row]);
          }
        },
        table.columns[c]);
    out[table.names[c]] = std::move(values);
  }
  out["total_rows"] = table.total_rows;
  return out;
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

/// Keeps at most about `max_points` rows: per bucket the rows of lowest and
/// highest equity, in time order, plus the last row.
std::vector<std::size_t> thin_equity(const std::vector<double>& equity, std::size_t max_points) {
  std::vector<std::size_t> rows;
  const std::size_t n = equity.size();
  if (n <= max_points || max_points < 4) {
    rows.resize(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = i;
    return rows;
  }
  const std::size_t bucket = (n + max_points / 2 - 1) / (max_points / 2);
  for (std::size_t start = 0; start < n; start += bucket) {
    const std::size_t end = std::min(n, start + bucket);
    std::size_t low = start;
    std::size_t high = start;
    for (std::size_t i = start; i < end; ++i) {
      if (equity[i] < equity[low]) low = i;
      if (equity[i] > equity[high]) high = i;
    }
    rows.push_back(std::min(low, high));
    if (low != high) rows.push_back(std::max(low, high));
  }
  if (rows.back() != n - 1) rows.push_back(n - 1);
  return rows;
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

  ReadOptions trade_read;
  trade_read.on_row = one_of(2, "side", {"long", "short"});
  auto trades = read_table(dir / "trades.csv", kTradeColumns, trade_read);
  if (!trades) return tl::unexpected(trades.error());

  std::map<std::string, std::size_t> order_status_counts;
  ReadOptions order_read;
  order_read.head_rows = options.max_order_rows;
  order_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    ++order_status_counts[std::string(row.field(10))];
    return {};
  };
  auto orders = read_table(dir / "orders.csv", kOrderColumns, order_read);
  if (!orders) return tl::unexpected(orders.error());

  ReadOptions equity_read;
  equity_read.ascending_time_column = 0;
  auto equity = read_table(dir / "equity.csv", kEquityColumns, equity_read);
  if (!equity) return tl::unexpected(equity.error());

  ReadOptions daily_read;
  daily_read.on_row = one_of(7, "halted", {"0", "1"});
  auto daily = read_table(dir / "daily.csv", kDailyColumns, daily_read);
  if (!daily) return tl::unexpected(daily.error());

  std::map<std::string, std::size_t> risk_kind_counts;
  ReadOptions risk_read;
  risk_read.head_rows = options.max_risk_event_rows;
  risk_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    ++risk_kind_counts[std::string(row.field(1))];
    return {};
  };
  auto risk_events = read_table(dir / "risk_events.csv", kRiskEventColumns, risk_read);
  if (!risk_events) return tl::unexpected(risk_events.error());

  int price_decimals = 0;
  ReadOptions bar_read;
  bar_read.ascending_time_column = 0;
  bar_read.on_row = [&](const CsvRow& row) -> Expected<void> {
    for (std::size_t c = 1; c <= 4; ++c) price_decimals = std::max(price_decimals, decimal_places(row.field(c)));
    return {};
  };
  auto bars = read_table(dir / "chart_bars.csv", kChartBarColumns, bar_read);
  if (!bars) return tl::unexpected(bars.error());

  const std::vector<std::size_t> equity_rows = thin_equity(equity->numbers(1), options.max_equity_points);

  // Optional files of a gated run: absent → the section is left out; present
  // but malformed → an error like any other file.
  std::error_code exists_error;
  const auto present = [&](const fs::path& path) { return fs::exists(path, exists_error); };
  json gate;
  if (present(dir / "gate.csv")) {
    std::size_t allowed_count = 0;
    std::size_t blocked_count = 0;
    const auto side_ok = one_of(1, "side", {"long", "short"});
    const auto allowed_ok = one_of(7, "allowed", {"0", "1"});
    ReadOptions gate_read;
    gate_read.ascending_time_column = 0;
    gate_read.on_row = [&](const CsvRow& row) -> Expected<void> {
      if (auto ok = side_ok(row); !ok) return ok;
      if (auto ok = allowed_ok(row); !ok) return ok;
      const auto prob = parse_number(row.field(2));
      if (!prob || *prob < 0 || *prob > 1) {
        return tl::unexpected(row.error("column prob: '" + std::string(row.field(2)) + "' is not in [0, 1]"));
      }
      ++(row.field(7) == "1" ? allowed_count : blocked_count);
      return {};
    };
    auto gate_table = read_table(dir / "gate.csv", kGateColumns, gate_read);
    if (!gate_table) return tl::unexpected(gate_table.error());
    gate = columns_to_json(*gate_table);
    gate["allowed_count"] = allowed_count;
    gate["blocked_count"] = blocked_count;
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
    auto other_equity = read_table(other / "equity.csv", kEquityColumns, equity_read);
    if (!other_equity) return tl::unexpected(other_equity.error());
    const std::vector<std::size_t> other_rows = thin_equity(other_equity->numbers(1), options.max_equity_points);
    ungated["summary"] = std::move(*other_summary);
    ungated["equity"] = columns_to_json(*other_equity, &other_rows);
  }

  json data;
  data["contract_version"] = 1;
  data["summary"] = *summary;
  data["config_toml"] = *config;
  data["trades"] = columns_to_json(*trades);
  data["orders"] = columns_to_json(*orders);
  data["order_status_counts"] = order_status_counts;
  data["equity"] = columns_to_json(*equity, &equity_rows);
  data["daily"] = columns_to_json(*daily);
  data["risk_events"] = columns_to_json(*risk_events);
  data["risk_event_counts"] = risk_kind_counts;
  data["chart_bars"] = columns_to_json(*bars);
  if (!gate.is_null()) data["gate"] = std::move(gate);
  if (!model.is_null()) data["model"] = std::move(model);
  if (!ungated.is_null()) data["ungated"] = std::move(ungated);
  data["options"] = {{"max_trade_rows", options.max_trade_rows},
                     {"max_gate_rows", options.max_gate_rows},
                     {"max_risk_event_rows", options.max_risk_event_rows},
                     {"max_order_rows", options.max_order_rows},
                     {"price_decimals", std::min(price_decimals, 8)}};

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
        "    <div id=\"gate-chart\" class=\"chart chart-gate\"></div>\n"
        "    <p class=\"legend\" id=\"gate-legend\"></p>\n"
        "    <div id=\"gate-body\" class=\"table-scroll\"></div>\n  </section>";
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
