#pragma once
/// Performance statistics of a run, computed incrementally in bounded memory
/// (one value per trading day, running drawdown over bar closes).

#include <cstdint>
#include <vector>

namespace quant::backtest {

struct Summary {
  double net_pnl = 0, gross_pnl = 0, fees = 0;
  std::int64_t trades = 0, wins = 0;
  double win_rate = 0;       ///< wins / trades (net PnL > 0)
  double profit_factor = 0;  ///< sum of winning net PnL / |sum of losing net PnL|; 0 without losses... see is_infinite
  bool profit_factor_infinite = false;
  double expectancy = 0;        ///< mean net PnL per trade
  double sharpe = 0;            ///< daily returns, mean/stdev × √252
  double sortino = 0;           ///< mean / downside deviation × √252
  double max_drawdown = 0;      ///< money, ≥ 0
  double max_drawdown_pct = 0;  ///< fraction of the peak, ≥ 0
  double calmar = 0;            ///< annualised return / max_drawdown_pct
  double exposure = 0;          ///< fraction of bars with a position
  double annual_return = 0;     ///< compounded, from daily returns (252 days a year)
};

class MetricsAccumulator {
 public:
  explicit MetricsAccumulator(double initial_equity);
  void on_equity(double equity);  ///< every bar close
  void on_trade(double net_pnl, double gross_pnl, double fees);
  void on_day(double start_equity, double end_equity);
  Summary finish(std::int64_t bars, std::int64_t bars_in_market) const;

 private:
  double peak_, max_dd_ = 0, max_dd_pct_ = 0;
  double wins_sum_ = 0, losses_sum_ = 0, gross_ = 0, fees_ = 0, net_ = 0;
  std::int64_t trades_ = 0, wins_ = 0;
  std::vector<double> daily_returns_;
};

}  // namespace quant::backtest
