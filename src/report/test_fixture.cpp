#include "report/test_fixture.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
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
  const double count = static_cast<double>(trades.size());
  const double net = gross - fees;
  std::string summary = "{\n";
  summary += "  \"net_pnl\": " + fixed(net) + ",\n  \"gross_pnl\": " + fixed(gross) + ",\n";
  summary += "  \"trades\": " + std::to_string(trades.size()) + ",\n";
  summary += "  \"win_rate\": " + fixed(count > 0 ? wins / count : 0, 4) + ",\n";
  summary += "  \"profit_factor\": " + (loss_sum > 0 ? fixed(win_sum / loss_sum, 4) : std::string("null")) + ",\n";
  summary += "  \"expectancy\": " + fixed(count > 0 ? net / count : 0, 4) + ",\n";
  summary += "  \"sharpe\": 1.2345,\n  \"sortino\": 1.8765,\n";
  summary += "  \"max_drawdown\": " + fixed(max_drawdown) + ",\n";
  summary += "  \"max_drawdown_pct\": " + fixed(max_drawdown_pct, 6) + ",\n";
  summary += "  \"calmar\": 0.75,\n  \"exposure\": 0.4321,\n";
  summary += "  \"fees\": " + fixed(fees) + ",\n  \"bars\": " + std::to_string(n) + ",\n";
  summary += "  \"bars_per_second\": 1234567.8,\n";
  summary += "  \"meta\": {\n";
  summary += "    \"symbol\": \"WIN$N\",\n    \"strategy\": \"breakout_atr\",\n";
  summary += "    \"from\": \"" + iso(start) + "\",\n    \"to\": \"" + iso(bar_time(n)) + "\",\n";
  summary += "    \"initial_equity\": " + fixed(kInitialEquity) + ",\n    \"final_equity\": " + fixed(equity) + ",\n";
  summary += "    \"currency\": \"BRL\",\n";
  summary += std::string("    \"generated_data\": ") + (options.generated_data ? "true" : "false") + ",\n";
  summary += "    \"data_source\": \"sim: random walk <seed 42> & co\",\n";
  summary += "    \"chart_timeframe\": \"H4\",\n    \"seed\": 42,\n    \"version\": \"0.1.0\"\n  }\n}\n";
  write_file(dir / "summary.json", summary);

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
                 fixed(kPMin) +
                 ",\n  \"model_dir\": \"models/gatekeeper/<2024-06>\",\n"
                 "  \"manifest_hash\": \"3f9a1c0d5e7b\"\n}\n");

  // ungated/: the same backtest without the gate takes more trades.
  FixtureOptions ungated = options;
  ungated.gate = false;
  ungated.trades = options.trades + options.trades / 2 + 1;
  write_fixture_run(dir / "ungated", ungated);
}

}  // namespace quant::report::testing
