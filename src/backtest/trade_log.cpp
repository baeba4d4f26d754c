#include "backtest/trade_log.h"

namespace quant::backtest {

TradeLog::TradeLog(double tick_size) : decimals_(price_decimals(tick_size)) {}

Expected<void> TradeLog::open(const std::string& path) {
  return file_.open(path,
                    "entry_time,exit_time,side,qty,entry_price,exit_price,gross_pnl,fees,net_pnl,exit_reason,"
                    "initial_stop,bars_held");
}

void TradeLog::write(const engine::TradeRecord& t) {
  line_.time(t.entry_time).comma().time(t.exit_time).comma().text(t.side == Side::Buy ? "long" : "short");
  line_.comma().integer(t.qty).comma().fixed(t.entry_price, decimals_ + 2).comma().fixed(t.exit_price, decimals_ + 2);
  line_.comma().fixed(t.gross_pnl, 2).comma().fixed(t.fees, 2).comma().fixed(t.net_pnl, 2);
  line_.comma().field_text(t.exit_reason).comma().fixed(t.initial_stop, decimals_).comma().integer(t.bars_held);
  line_.write_to(file_.get());
}

}  // namespace quant::backtest
