#pragma once
/// trades.csv (docs/contracts/backtest_outputs.md): one line per closed round
/// trip. The backtest's run writer and anything else that must produce the
/// same file (the gateway parity test, the paper desk) write it through this
/// one class, so the format exists once.

#include <string>

#include "backtest/csv_output.h"
#include "core/error.h"
#include "engine/trading_book.h"

namespace quant::backtest {

class TradeLog {
 public:
  /// Prices are printed with the decimals of `tick_size` + 2 (averages).
  explicit TradeLog(double tick_size);
  /// Creates `path` and writes the header.
  Expected<void> open(const std::string& path);
  void write(const engine::TradeRecord& trade);
  /// Flushes and closes; the first write error, if any.
  Expected<void> close() { return file_.close(); }

 private:
  CsvFile file_;
  Line line_;
  int decimals_;
};

}  // namespace quant::backtest
