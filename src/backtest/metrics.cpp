#include "backtest/metrics.h"

#include <cmath>

namespace quant::backtest {

MetricsAccumulator::MetricsAccumulator(double initial_equity) : peak_(initial_equity) {}

void MetricsAccumulator::on_equity(double equity) {
  if (equity > peak_) peak_ = equity;
  const double dd = peak_ - equity;
  if (dd > max_dd_) max_dd_ = dd;
  if (peak_ > 0 && dd / peak_ > max_dd_pct_) max_dd_pct_ = dd / peak_;
}

void MetricsAccumulator::on_trade(double net_pnl, double gross_pnl, double fees) {
  ++trades_;
  net_ += net_pnl;
  gross_ += gross_pnl;
  fees_ += fees;
  if (net_pnl > 0) {
    ++wins_;
    wins_sum_ += net_pnl;
  } else {
    losses_sum_ += net_pnl;
  }
}

void MetricsAccumulator::on_day(double start_equity, double end_equity) {
  if (start_equity > 0) daily_returns_.push_back(end_equity / start_equity - 1.0);
}

Summary MetricsAccumulator::finish(std::int64_t bars, std::int64_t bars_in_market) const {
  Summary s;
  s.trades = trades_;
  s.wins = wins_;
  s.net_pnl = net_;
  s.gross_pnl = gross_;
  s.fees = fees_;
  s.win_rate = trades_ > 0 ? static_cast<double>(wins_) / static_cast<double>(trades_) : 0;
  if (losses_sum_ < 0)
    s.profit_factor = wins_sum_ / -losses_sum_;
  else
    s.profit_factor_infinite = wins_sum_ > 0;
  s.expectancy = trades_ > 0 ? net_ / static_cast<double>(trades_) : 0;
  s.max_drawdown = max_dd_;
  s.max_drawdown_pct = max_dd_pct_;
  s.exposure = bars > 0 ? static_cast<double>(bars_in_market) / static_cast<double>(bars) : 0;
  const auto n = static_cast<double>(daily_returns_.size());
  if (n >= 2) {
    double mean = 0;
    for (double r : daily_returns_) mean += r;
    mean /= n;
    double var = 0, down = 0;
    for (double r : daily_returns_) {
      var += (r - mean) * (r - mean);
      if (r < 0) down += r * r;
    }
    const double sd = std::sqrt(var / (n - 1));
    const double dd = std::sqrt(down / n);
    s.sharpe = sd > 0 ? mean / sd * std::sqrt(252.0) : 0;
    s.sortino = dd > 0 ? mean / dd * std::sqrt(252.0) : 0;
  }
  if (n >= 1) {
    double growth = 1;
    for (double r : daily_returns_) growth *= 1 + r;
    s.annual_return = growth > 0 ? std::pow(growth, 252.0 / n) - 1 : -1;
    s.calmar = max_dd_pct_ > 0 ? s.annual_return / max_dd_pct_ : 0;
  }
  return s;
}

}  // namespace quant::backtest
