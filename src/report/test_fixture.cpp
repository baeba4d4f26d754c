#include "report/test_fixture.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/time.h"

namespace quant::report::testing {
namespace {

constexpr double kInitialEquity = 100'000.0;
constexpr double kPointValue = 10.0;
constexpr std::int64_t kBarSeconds = 4 * std::int64_t{3600};  // 4-hour bars
constexpr std::array<const char*, 7> kExitReasons{"stop",        "target",          "exit_signal", "reverse",
                                                  "session_end", "circuit_breaker", "end_of_data"};

std::string fixed(double value, int decimals = 2) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

/// What summary.json says of a fixture run (docs/contracts/backtest_outputs.md).
struct FixtureSummary {
  double gross = 0, fees = 0, wins = 0, win_sum = 0, loss_sum = 0;
  std::size_t trades = 0;
  double sharpe = 0, sortino = 0, max_drawdown = 0, max_drawdown_pct = 0, calmar = 0, exposure = 0;
  std::int64_t bars = 0;
  std::string strategy, from, to, data_source, chart_timeframe;
  double final_equity = 0;
  bool generated_data = false;
  int seed = 0;
};

std::string summary_json(const FixtureSummary& s, double initial_equity) {
  const double count = static_cast<double>(s.trades);
  const double net = s.gross - s.fees;
  std::string summary = "{\n";
  summary += "  \"net_pnl\": " + fixed(net) + ",\n  \"gross_pnl\": " + fixed(s.gross) + ",\n";
  summary += "  \"trades\": " + std::to_string(s.trades) + ",\n";
  summary += "  \"win_rate\": " + fixed(count > 0 ? s.wins / count : 0, 4) + ",\n";
  summary += "  \"profit_factor\": " + (s.loss_sum > 0 ? fixed(s.win_sum / s.loss_sum, 4) : std::string("null")) + ",\n";
  summary += "  \"expectancy\": " + fixed(count > 0 ? net / count : 0, 4) + ",\n";
  summary += "  \"sharpe\": " + fixed(s.sharpe, 4) + ",\n  \"sortino\": " + fixed(s.sortino, 4) + ",\n";
  summary += "  \"max_drawdown\": " + fixed(s.max_drawdown) + ",\n";
  summary += "  \"max_drawdown_pct\": " + fixed(s.max_drawdown_pct, 6) + ",\n";
  summary += "  \"calmar\": " + fixed(s.calmar, 4) + ",\n  \"exposure\": " + fixed(s.exposure, 4) + ",\n";
  summary += "  \"fees\": " + fixed(s.fees) + ",\n  \"bars\": " + std::to_string(s.bars) + ",\n";
  summary += "  \"bars_per_second\": 1234567.8,\n";
  summary += "  \"meta\": {\n";
  summary += "    \"symbol\": \"WIN$N\",\n    \"strategy\": \"" + s.strategy + "\",\n";
  summary += "    \"from\": \"" + s.from + "\",\n    \"to\": \"" + s.to + "\",\n";
  summary += "    \"initial_equity\": " + fixed(initial_equity) + ",\n    \"final_equity\": " + fixed(s.final_equity) + ",\n";
  summary += "    \"currency\": \"BRL\",\n";
  summary += std::string("    \"generated_data\": ") + (s.generated_data ? "true" : "false") + ",\n";
  summary += "    \"data_source\": \"" + s.data_source + "\",\n";
  summary += "    \"chart_timeframe\": \"" + s.chart_timeframe + "\",\n    \"seed\": " + std::to_string(s.seed) +
             ",\n    \"version\": \"0.1.0\"\n  }\n}\n";
  return summary;
}

std::string iso(std::int64_t seconds) { return format_utc(from_epoch_ns(seconds * 1'000'000'000)); }

std::string date_of(std::int64_t seconds) { return iso(seconds).substr(0, 10); }

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  QUANT_CHECK(out.good());
}

struct FixtureTrade {
  std::size_t entry_bar = 0;
  std::size_t exit_bar = 0;
  bool long_side = true;
  double qty = 1;
  double entry_price = 0;
  double exit_price = 0;
  double gross = 0;
  double fees = 0;
  double net = 0;
  double stop = 0;
  const char* reason = "";
};

}  // namespace

void write_fixture_run(const std::filesystem::path& dir, const FixtureOptions& options) {
  std::filesystem::create_directories(dir);
  const std::int64_t start = days_from_civil(2024, 1, 15) * 86'400;
  const std::size_t n = std::max<std::size_t>(options.bars, 30);
  auto bar_time = [&](std::size_t i) { return start + static_cast<std::int64_t>(i) * kBarSeconds; };

  // Prices: a deterministic wave with a drift, on a 0.25 grid.
  std::vector<double> close(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(i);
    const double raw = 5000 + 60 * std::sin(x / 17.0) + 18 * std::sin(x / 3.7) + 0.15 * x;
    close[i] = std::round(raw * 4) / 4;
  }
  std::string bars = "ts,open,high,low,close\n";
  for (std::size_t i = 0; i < n; ++i) {
    const double open = i == 0 ? close[0] - 1 : close[i - 1];
    const double high = std::max(open, close[i]) + 3.25;
    const double low = std::min(open, close[i]) - 2.75;
    bars += iso(bar_time(i)) + "," + fixed(open) + "," + fixed(high) + "," + fixed(low) + "," + fixed(close[i]) + "\n";
  }
  write_file(dir / "chart_bars.csv", bars);

  // Trades spread over the bars; they may share bars when there are many.
  std::vector<FixtureTrade> trades;
  const std::size_t span = n - 20;
  for (std::size_t k = 0; k < options.trades; ++k) {
    FixtureTrade t;
    t.entry_bar = 10 + k * span / options.trades;
    const std::size_t hold = std::max<std::size_t>(1, span / options.trades / 2);
    t.exit_bar = std::min(n - 1, t.entry_bar + hold);
    t.long_side = k % 3 != 1;
    t.qty = static_cast<double>(1 + k % 2);
    t.entry_price = close[t.entry_bar];
    t.exit_price = close[t.exit_bar];
    const double direction = t.long_side ? 1.0 : -1.0;
    t.gross = (t.exit_price - t.entry_price) * direction * t.qty * kPointValue;
    t.fees = 2.5 * t.qty;
    t.net = t.gross - t.fees;
    t.stop = t.entry_price - direction * 25;
    t.reason = kExitReasons[k % kExitReasons.size()];
    trades.push_back(t);
  }
  std::string trade_csv =
      "entry_time,exit_time,side,qty,entry_price,exit_price,gross_pnl,fees,net_pnl,exit_reason,initial_stop,bars_"
      "held\n";
  std::string order_csv =
      "id,created,updated,side,type,tif,purpose,qty,limit_price,stop_price,status,filled_qty,avg_fill_price\n";
  std::size_t order_id = 1;
  for (const FixtureTrade& t : trades) {
    const std::int64_t entry_time = bar_time(t.entry_bar) + kBarSeconds;  // at the bar's close
    const std::int64_t exit_time = bar_time(t.exit_bar) + kBarSeconds - 60;
    trade_csv += iso(entry_time) + "," + iso(exit_time) + "," + (t.long_side ? "long" : "short") + "," +
                 fixed(t.qty, 0) + "," + fixed(t.entry_price) + "," + fixed(t.exit_price) + "," + fixed(t.gross) + "," +
                 fixed(t.fees) + "," + fixed(t.net) + "," + t.reason + "," + fixed(t.stop) + "," +
                 std::to_string(t.exit_bar - t.entry_bar) + "\n";
    const std::string in_side = t.long_side ? "buy" : "sell";
    const std::string out_side = t.long_side ? "sell" : "buy";
    order_csv += std::to_string(order_id++) + "," + iso(entry_time) + "," + iso(entry_time) + "," + in_side +
                 ",market,ioc,entry," + fixed(t.qty, 0) + ",,,filled," + fixed(t.qty, 0) + "," + fixed(t.entry_price) +
                 "\n";
    order_csv += std::to_string(order_id++) + "," + iso(entry_time) + "," + iso(exit_time) + "," + out_side +
                 ",stop,gtc,stop," + fixed(t.qty, 0) + ",," + fixed(t.stop) + ",cancelled,0,\n";
    order_csv += std::to_string(order_id++) + "," + iso(exit_time) + "," + iso(exit_time) + "," + out_side +
                 ",market,ioc,exit," + fixed(t.qty, 0) + ",,,filled," + fixed(t.qty, 0) + "," + fixed(t.exit_price) +
                 "\n";
  }
  write_file(dir / "trades.csv", trade_csv);
  write_file(dir / "orders.csv", order_csv);

  // Equity per bar: realized PnL of closed trades plus the open trade's PnL.
  std::string equity_csv = "ts,equity,realized,open_pnl,position,drawdown,drawdown_pct\n";
  std::string chart_equity_csv = "ts,equity,drawdown_pct\n";  // the chart bars are the bars
  std::string daily_csv = "date,start_equity,end_equity,pnl,return_pct,trades,fees,halted\n";
  double peak = kInitialEquity;
  double day_start = kInitialEquity;
  double day_fees = 0;
  std::size_t day_trades = 0;
  std::size_t day_index = 0;
  double equity = kInitialEquity;
  double max_drawdown = 0;
  double max_drawdown_pct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double realized = 0;
    double open_pnl = 0;
    double position = 0;
    for (const FixtureTrade& t : trades) {
      const double direction = t.long_side ? 1.0 : -1.0;
      if (t.exit_bar <= i) {
        realized += t.net;
      } else if (t.entry_bar <= i) {
        open_pnl += (close[i] - t.entry_price) * direction * t.qty * kPointValue;
        position += direction * t.qty;
      }
      if (t.exit_bar == i) {
        ++day_trades;
        day_fees += t.fees;
      }
    }
    equity = kInitialEquity + realized + open_pnl;
    peak = std::max(peak, equity);
    const double drawdown = peak - equity;
    max_drawdown = std::max(max_drawdown, drawdown);
    max_drawdown_pct = std::max(max_drawdown_pct, drawdown / peak);
    equity_csv += iso(bar_time(i) + kBarSeconds) + "," + fixed(equity) + "," + fixed(realized) + "," + fixed(open_pnl) +
                  "," + fixed(position, 0) + "," + fixed(drawdown) + "," + fixed(drawdown / peak, 6) + "\n";
    chart_equity_csv += iso(bar_time(i)) + "," + fixed(equity) + "," + fixed(drawdown / peak, 6) + "\n";
    const bool day_ends = i + 1 == n || date_of(bar_time(i + 1)) != date_of(bar_time(i));
    if (day_ends) {
      const bool halted = day_index == 9;
      daily_csv += date_of(bar_time(i)) + "," + fixed(day_start) + "," + fixed(equity) + "," +
                   fixed(equity - day_start) + "," + fixed((equity - day_start) / day_start, 6) + "," +
                   std::to_string(day_trades) + "," + fixed(day_fees) + "," + (halted ? "1" : "0") + "\n";
      day_start = equity;
      day_trades = 0;
      day_fees = 0;
      ++day_index;
    }
  }
  write_file(dir / "equity.csv", equity_csv);
  write_file(dir / "chart_equity.csv", chart_equity_csv);
  write_file(dir / "daily.csv", daily_csv);

  // Risk events; one reason carries markup that the report must escape.
  constexpr std::array<const char*, 6> kKinds{"entry_accepted", "entry_resized", "entry_rejected",
                                              "stop_moved",     "halted",        "halt_cleared"};
  std::string risk_csv = "ts,kind,reason,equity,value\n";
  for (std::size_t k = 0; k < options.risk_events; ++k) {
    const std::size_t bar = 5 + k * (n - 10) / std::max<std::size_t>(1, options.risk_events);
    const std::string reason = k == 2 ? "size would exceed limit </script><b>not bold</b>"
                                      : std::string("rule ") + kKinds[k % kKinds.size()] + " fired";
    risk_csv += iso(bar_time(bar)) + "," + kKinds[k % kKinds.size()] + "," + reason + "," +
                fixed(kInitialEquity + static_cast<double>(k) * 10) + "," + fixed(0.01 * static_cast<double>(k), 4) +
                "\n";
  }
  write_file(dir / "risk_events.csv", risk_csv);

  double gross = 0, fees = 0, wins = 0, win_sum = 0, loss_sum = 0;
  for (const FixtureTrade& t : trades) {
    gross += t.gross;
    fees += t.fees;
    if (t.net > 0) {
      wins += 1;
      win_sum += t.net;
    } else {
      loss_sum -= t.net;
    }
  }
  FixtureSummary summary;
  summary.gross = gross;
  summary.fees = fees;
  summary.wins = wins;
  summary.win_sum = win_sum;
  summary.loss_sum = loss_sum;
  summary.trades = trades.size();
  summary.sharpe = 1.2345;
  summary.sortino = 1.8765;
  summary.max_drawdown = max_drawdown;
  summary.max_drawdown_pct = max_drawdown_pct;
  summary.calmar = 0.75;
  summary.exposure = 0.4321;
  summary.bars = static_cast<std::int64_t>(n);
  summary.strategy = "breakout_atr";
  summary.from = iso(start);
  summary.to = iso(bar_time(n));
  summary.final_equity = equity;
  summary.generated_data = options.generated_data;
  summary.data_source = "sim: random walk <seed 42> & co";
  summary.chart_timeframe = "H4";
  summary.seed = 42;
  write_file(dir / "summary.json", summary_json(summary, kInitialEquity));

  write_file(dir / "config.toml",
             "# resolved configuration of the fixture run\n[backtest]\nsymbol = \"WIN$N\"\n"
             "from = \"2024-01-15\"\n[risk]\nmax_risk_per_trade = 0.01  # < 1 % of equity\n"
             "note = \"</pre><script>alert(1)</script>\"\n");

  if (!options.gate) return;

  // gate.csv: one judged entry signal every few bars; q10/q90 are signed in
  // the trade's direction; blocked when prob < p_min (0.55).
  constexpr double kPMin = 0.55;
  std::string gate_csv = "ts,side,prob,q10,q90,target,stop,allowed,reason\n";
  for (std::size_t i = 6; i + 1 < n; i += 7) {
    const double x = static_cast<double>(i);
    const bool long_side = (i / 7) % 3 != 1;
    const double prob = 0.5 + 0.3 * std::sin(x / 9.0) * std::cos(x / 23.0);
    const double q10 = -28 + 14 * std::sin(x / 11.0);
    const double q90 = 34 + 16 * std::cos(x / 13.0);
    const double stop = 2 * (11 + 3 * std::sin(x / 5.0));  // 2 x ATR
    const double target = 1.5 * stop;
    const bool allowed = prob >= kPMin;
    const std::string reason = allowed ? "prob " + fixed(prob, 3) + " >= p_min " + fixed(kPMin)
                                       : "prob " + fixed(prob, 3) + " < p_min " + fixed(kPMin);
    gate_csv += iso(bar_time(i) + kBarSeconds) + "," + (long_side ? "long" : "short") + "," + fixed(prob, 4) + "," +
                fixed(q10) + "," + fixed(q90) + "," + fixed(target) + "," + fixed(stop) + "," + (allowed ? "1" : "0") +
                "," + reason + "\n";
  }
  write_file(dir / "gate.csv", gate_csv);

  // model_metrics.json: ten calibration bins, the top one empty (nulls).
  std::string bins;
  for (int b = 0; b < 10; ++b) {
    const double lower = b / 10.0;
    const double upper = (b + 1) / 10.0;
    const bool empty = b == 9;
    const double predicted = lower + 0.05;
    const double observed = std::clamp(predicted + 0.06 * std::sin(b * 1.7) - 0.02, 0.0, 1.0);
    bins += std::string(b == 0 ? "" : ",\n") + "    {\"lower\": " + fixed(lower, 1) +
            ", \"upper\": " + fixed(upper, 1) + ", \"mean_predicted\": " + (empty ? "null" : fixed(predicted, 4)) +
            ", \"observed\": " + (empty ? "null" : fixed(observed, 4)) +
            ", \"count\": " + std::to_string(empty ? 0 : 40 + 30 * (4 - std::abs(b - 4))) + "}";
  }
  write_file(dir / "model_metrics.json",
             "{\n  \"auc\": 0.6123,\n  \"log_loss\": 0.6712,\n  \"brier\": 0.2391,\n  \"rows\": 1850,\n"
             "  \"calibration\": [\n" +
                 bins +
                 "\n  ],\n"
                 "  \"coverage\": {\"below_lower\": 0.112, \"above_upper\": 0.087, \"inside\": 0.801},\n"
                 "  \"p_min\": " +
                 fixed(kPMin) + ",\n  \"model_dir\": \"" + std::string(kModelDir) + "\",\n  \"manifest_hash\": \"" +
                 kManifestHash + "\"\n}\n");

  // ungated/: the same backtest without the gate takes more trades.
  FixtureOptions ungated = options;
  ungated.gate = false;
  ungated.trades = options.trades + options.trades / 2 + 1;
  write_fixture_run(dir / "ungated", ungated);
}

}  // namespace quant::report::testing

namespace quant::report::testing {
namespace {

/// A file written through one buffer, flushed every megabyte: the large
/// fixture writes some 130 MB and must stay fast.
class BufferedFile {
 public:
  explicit BufferedFile(const std::filesystem::path& path) : file_(std::fopen(path.c_str(), "wb")) {
    QUANT_CHECK(file_ != nullptr);
    text_.reserve(kFlushBytes + 4096);
  }
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;
  ~BufferedFile() {
    flush();
    QUANT_CHECK(std::fclose(file_) == 0);
  }

  BufferedFile& operator<<(std::string_view text) {
    text_.append(text);
    return *this;
  }
  /// Ends a record: a line feed, and a flush when the buffer is full.
  void end_line() {
    text_ += '\n';
    if (text_.size() >= kFlushBytes) flush();
  }

 private:
  static constexpr std::size_t kFlushBytes = std::size_t{1} << 20;
  void flush() {
    QUANT_CHECK(std::fwrite(text_.data(), 1, text_.size(), file_) == text_.size());
    text_.clear();
  }
  std::FILE* file_;
  std::string text_;
};

}  // namespace

void write_large_fixture_run(const std::filesystem::path& dir, const LargeFixtureOptions& options) {
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / "equity.csv");  // not written: the report must not need it
  constexpr std::int64_t kHour = 3600;
  constexpr double kPoint = 0.2;  // WIN: BRL per point
  const std::int64_t start = days_from_civil(2015, 1, 5) * 86'400;
  const std::size_t n = std::max<std::size_t>(options.bars, 2);
  const std::size_t trade_count = options.trades;
  const auto bar_time = [&](std::size_t i) { return start + static_cast<std::int64_t>(i) * kHour; };

  std::vector<double> close(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(i);
    close[i] = std::round((100'000 + 3000 * std::sin(x / 500) + 800 * std::sin(x / 37) + 0.05 * x) / 5) * 5;
  }

  // Trades first: the equity per bar and per day follows from their exits.
  std::vector<double> net_by_bar(n, 0.0), fees_by_bar(n, 0.0);
  std::vector<std::uint32_t> exits_by_bar(n, 0);
  double gross_total = 0, fees_total = 0, winning = 0, won = 0, lost = 0;
  {
    BufferedFile trades(dir / "trades.csv");
    BufferedFile orders(dir / "orders.csv");
    BufferedFile risk(dir / "risk_events.csv");
    trades << "entry_time,exit_time,side,qty,entry_price,exit_price,gross_pnl,fees,net_pnl,exit_reason,"
              "initial_stop,bars_held";
    trades.end_line();
    orders << "id,created,updated,side,type,tif,purpose,qty,limit_price,stop_price,status,filled_qty,avg_fill_price";
    orders.end_line();
    risk << "ts,kind,reason,equity,value";
    risk.end_line();
    double equity = kInitialEquity;
    for (std::size_t k = 0; k < trade_count; ++k) {
      // Spread evenly: trade k enters at k/trades of the run, so entries are in time order.
      const std::size_t slot = k * n;
      const std::size_t entry_bar = slot / trade_count;
      const auto within = static_cast<std::int64_t>((slot % trade_count) * 3000 / trade_count);
      const std::int64_t entry_time = bar_time(entry_bar) + within / 60 * 60 + 30;
      const std::int64_t exit_time = entry_time + 25 * 60;
      const std::size_t exit_bar = std::min(n - 1, static_cast<std::size_t>((exit_time - start) / kHour));
      const bool long_side = k % 3 != 1;
      const double direction = long_side ? 1.0 : -1.0;
      const double qty = static_cast<double>(1 + k % 3);
      const double kd = static_cast<double>(k);
      // Points in the trade's favour: noise around an edge that comes and goes over the run.
      const double edge = 3 + 5 * std::sin(kd / 30'000.0);
      const double move = std::round((60 * std::sin(kd * 0.7) + 25 * std::cos(kd * 1.3) + edge) / 5) * 5;
      const double entry_price = close[entry_bar];
      const double exit_price = entry_price + direction * move;
      const double gross = move * qty * kPoint;
      const double fees = 0.5 * qty;
      const double net = gross - fees;
      gross_total += gross;
      fees_total += fees;
      if (net > 0) {
        winning += 1;
        won += net;
      } else {
        lost -= net;
      }
      net_by_bar[exit_bar] += net;
      fees_by_bar[exit_bar] += fees;
      ++exits_by_bar[exit_bar];
      const std::string entry_iso = iso(entry_time);
      const std::string exit_iso = iso(exit_time);
      trades << entry_iso << "," << exit_iso << "," << (long_side ? "long" : "short") << "," << fixed(qty, 0) << ","
             << fixed(entry_price, 0) << "," << fixed(exit_price, 0) << "," << fixed(gross) << "," << fixed(fees) << ","
             << fixed(net) << "," << kExitReasons[k % kExitReasons.size()] << ","
             << fixed(entry_price - direction * 250, 0) << "," << std::to_string(exit_bar - entry_bar);
      trades.end_line();
      const std::string id = std::to_string(2 * k + 1);
      orders << id << "," << entry_iso << "," << entry_iso << "," << (long_side ? "buy" : "sell")
             << ",market,ioc,entry," << fixed(qty, 0) << ",,,filled," << fixed(qty, 0) << "," << fixed(entry_price, 0);
      orders.end_line();
      orders << std::to_string(2 * k + 2) << "," << exit_iso << "," << exit_iso << "," << (long_side ? "sell" : "buy")
             << ",market,ioc,exit," << fixed(qty, 0) << ",,,filled," << fixed(qty, 0) << "," << fixed(exit_price, 0);
      orders.end_line();
      equity += net;
      if (k % 4 == 0) {
        const char* kind = k % 8 == 0 ? "entry_accepted" : "entry_resized";
        risk << entry_iso << "," << kind << ",rule " << kind << " fired," << fixed(equity) << ","
             << fixed(0.01 * static_cast<double>(k % 7), 4);
        risk.end_line();
      }
    }
  }

  // Chart bars and their equity; a daily row per UTC day.
  double equity = kInitialEquity;
  double peak = kInitialEquity;
  double max_drawdown = 0, max_drawdown_pct = 0;
  {
    BufferedFile bars(dir / "chart_bars.csv");
    BufferedFile chart_equity(dir / "chart_equity.csv");
    BufferedFile daily(dir / "daily.csv");
    bars << "ts,open,high,low,close";
    bars.end_line();
    chart_equity << "ts,equity,drawdown_pct";
    chart_equity.end_line();
    daily << "date,start_equity,end_equity,pnl,return_pct,trades,fees,halted";
    daily.end_line();
    double day_start = equity, day_fees = 0;
    std::size_t day_trades = 0, day_index = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double open = i == 0 ? close[0] - 5 : close[i - 1];
      const std::string ts = iso(bar_time(i));
      bars << ts << "," << fixed(open, 0) << "," << fixed(std::max(open, close[i]) + 35, 0) << ","
           << fixed(std::min(open, close[i]) - 30, 0) << "," << fixed(close[i], 0);
      bars.end_line();
      equity += net_by_bar[i];
      peak = std::max(peak, equity);
      const double drawdown = peak - equity;
      max_drawdown = std::max(max_drawdown, drawdown);
      max_drawdown_pct = std::max(max_drawdown_pct, drawdown / peak);
      chart_equity << ts << "," << fixed(equity) << "," << fixed(drawdown / peak, 6);
      chart_equity.end_line();
      day_fees += fees_by_bar[i];
      day_trades += exits_by_bar[i];
      if (i + 1 == n || (bar_time(i + 1) - start) % 86'400 == 0) {
        daily << ts.substr(0, 10) << "," << fixed(day_start) << "," << fixed(equity) << "," << fixed(equity - day_start)
              << "," << fixed((equity - day_start) / day_start, 6) << "," << std::to_string(day_trades) << ","
              << fixed(day_fees) << "," << (day_index % 97 == 96 ? "1" : "0");
        daily.end_line();
        day_start = equity;
        day_fees = 0;
        day_trades = 0;
        ++day_index;
      }
    }
  }

  FixtureSummary summary;
  summary.gross = gross_total;
  summary.fees = fees_total;
  summary.wins = winning;
  summary.win_sum = won;
  summary.loss_sum = lost;
  summary.trades = trade_count;
  summary.sharpe = 0.4321;
  summary.sortino = 0.6543;
  summary.max_drawdown = max_drawdown;
  summary.max_drawdown_pct = max_drawdown_pct;
  summary.calmar = 0.25;
  summary.exposure = 0.5123;
  summary.bars = static_cast<std::int64_t>(n * 60);
  summary.strategy = "ma_breakout";
  summary.from = iso(start);
  summary.to = iso(bar_time(n));
  summary.final_equity = equity;
  summary.generated_data = true;
  summary.data_source = "report fixture: a long generated run";
  summary.chart_timeframe = "1h";
  summary.seed = 7;
  write_file(dir / "summary.json", summary_json(summary, kInitialEquity));
  write_file(dir / "config.toml", "# the large report fixture\n[backtest]\nsymbol = \"WIN$N\"\n");
}

}  // namespace quant::report::testing
