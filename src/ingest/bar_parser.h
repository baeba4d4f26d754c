#pragma once
/// Internal to ingest: the row logic that MT5 bars, HistData and generic CSV
/// bars share. A derived parser's start() sets the delimiter, the column
/// indices and `n_fields_`; row() then reads timestamp, OHLC, volume, tick
/// volume and spread and checks high >= max(open, close, low) and
/// low <= min(open, close) before emitting the bar.

#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/parser.h"

namespace quant::ingest::detail {

/// Bars over a format-specific column layout (see mt5_importer.cpp,
/// histdata_importer.cpp, csv_importer.cpp).
class BarParser : public Parser {
 public:
  using Parser::Parser;

  bool row(std::string_view line, Fail& fail) override {
    split(line, delimiter_, fields_);
    if (first_row_) {
      first_row_ = false;
      first_data_row();
    }
    if (!field_count(n_fields_, fail)) return false;
    Bar bar;
    if (!timestamp(bar.ts, fail) || !price(open_, bar.open, fail) || !price(high_, bar.high, fail) ||
        !price(low_, bar.low, fail) || !price(close_, bar.close, fail) || !amount(volume_, bar.volume, fail) ||
        !integer(tick_volume_, bar.tick_volume, fail)) {
      return false;
    }
    if (bar.tick_volume < 0) return fail_with(fail, name_of(tick_volume_), "negative tick volume");
    std::int64_t spread = 0;
    if (!integer(spread_, spread, fail)) return false;
    if (spread < INT32_MIN || spread > INT32_MAX) return fail_with(fail, name_of(spread_), "spread out of range");
    bar.spread = static_cast<std::int32_t>(spread);
    if (!check_bar(bar, fail)) return false;
    out_.bar(bar);
    return true;
  }

 protected:
  /// Called once, on the first data row after it is split into `fields_` and
  /// before its field count is checked: decisions that need a data row (the
  /// CSV epoch unit and backtrader's extra time column). Nothing by default.
  virtual void first_data_row() {}

  std::size_t n_fields_ = 0;
  int open_ = -1, high_ = -1, low_ = -1, close_ = -1, volume_ = -1, tick_volume_ = -1, spread_ = -1;

 private:
  bool check_bar(const Bar& bar, Fail& fail) const {
    auto high_below = [&](double other, std::string_view what) {
      return fail_with(fail, name_of(high_),
                       "high " + number_text(bar.high) + " below " + std::string(what) + " " + number_text(other));
    };
    auto low_above = [&](double other, std::string_view what) {
      return fail_with(fail, name_of(low_),
                       "low " + number_text(bar.low) + " above " + std::string(what) + " " + number_text(other));
    };
    if (bar.high < bar.low) return high_below(bar.low, "low");
    if (bar.high < bar.open) return high_below(bar.open, "open");
    if (bar.high < bar.close) return high_below(bar.close, "close");
    if (bar.low > bar.open) return low_above(bar.open, "open");
    if (bar.low > bar.close) return low_above(bar.close, "close");
    return true;
  }
};

}  // namespace quant::ingest::detail
