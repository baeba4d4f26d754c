// QuantConnect Lean minute bars ("lean"): trade bars as they are, quote bars as
// mid-price bars; time is ms since midnight New York of the date in the file or
// member name (or options.base_date), prices x 10000.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "ingest/parser.h"

namespace quant::ingest::detail {

namespace {

/// Lean minute bars: trade rows "ms,open,high,low,close,volume" or quote rows
/// "ms,bid OHLC,bid_size,ask OHLC,ask_size" turned into mid-price bars.
class LeanBarParser final : public Parser {
 public:
  using Parser::Parser;

  Expected<bool> start(std::string_view line) override {
    delimiter_ = options_.delimiter != '\0' ? options_.delimiter : ',';
    split(line, delimiter_, fields_);
    n_fields_ = fields_.size();
    const std::string inner = lower(source_.inner_name());
    quote_ = inner.find("quote") != std::string::npos || (inner.find("trade") == std::string::npos && n_fields_ == 11);
    const std::size_t expected = quote_ ? 11 : 6;
    if (n_fields_ != expected || !all_digits(trim(fields_[0]))) {
      return tl::unexpected(header_error(
          quote_ ? "a Lean minute quote file: expected rows 'ms,bid_open,bid_high,bid_low,bid_close,bid_size,"
                   "ask_open,ask_high,ask_low,ask_close,ask_size'"
                 : "a Lean minute trade file: expected rows 'ms,open,high,low,close,volume'",
          line));
    }
    if (auto r = lean_setup(); !r) return tl::unexpected(r.error());
    if (quote_) {
      default_names(11, {{0, "time"},
                         {1, "bid_open"},
                         {2, "bid_high"},
                         {3, "bid_low"},
                         {4, "bid_close"},
                         {5, "bid_size"},
                         {6, "ask_open"},
                         {7, "ask_high"},
                         {8, "ask_low"},
                         {9, "ask_close"},
                         {10, "ask_size"}});
    } else {
      default_names(6, {{0, "time"}, {1, "open"}, {2, "high"}, {3, "low"}, {4, "close"}, {5, "volume"}});
    }
    return false;
  }

  bool row(std::string_view line, Fail& fail) override {
    split(line, delimiter_, fields_);
    if (!field_count(n_fields_, fail)) return false;
    Bar bar;
    if (!timestamp(bar.ts, fail)) return false;
    if (quote_) {
      // The mid price: the mean of the bid and ask bars, field by field (the
      // mean keeps high >= open/close >= low when both sides do). Scale and
      // tick grid apply to the mid, not to each side.
      double mid[4];
      for (int i = 0; i < 4; ++i) {
        double bid = 0, ask = 0;
        for (auto [col, value] : {std::pair<int, double*>{1 + i, &bid}, std::pair<int, double*>{6 + i, &ask}}) {
          const std::string_view text = fields_[static_cast<std::size_t>(col)];
          if (!parse_double(text, *value)) return fail_with(fail, name_of(col), "not a number: " + quoted(text));
          if (!std::isfinite(*value) || *value <= 0) {
            return fail_with(fail, name_of(col), "price " + std::string(trim(text)) + " is not positive");
          }
        }
        mid[i] = (bid + ask) / 2;
        if (!check_price(1 + i, mid[i], fail)) return false;
      }
      bar.open = mid[0];
      bar.high = mid[1];
      bar.low = mid[2];
      bar.close = mid[3];
      if (bar.high < bar.low || bar.high < bar.open || bar.high < bar.close || bar.low > bar.open ||
          bar.low > bar.close) {
        return fail_with(fail, "row", "bid/ask bars are inconsistent (high below low/open/close)");
      }
    } else {
      if (!price(1, bar.open, fail) || !price(2, bar.high, fail) || !price(3, bar.low, fail) ||
          !price(4, bar.close, fail) || !amount(5, bar.volume, fail)) {
        return false;
      }
      if (bar.high < std::max({bar.open, bar.close, bar.low})) {
        return fail_with(fail, "high", "high " + number_text(bar.high) + " below open/low/close");
      }
      if (bar.low > std::min(bar.open, bar.close)) {
        return fail_with(fail, "low", "low " + number_text(bar.low) + " above open/close");
      }
    }
    out_.bar(bar);
    return true;
  }

 private:
  bool quote_ = false;
  std::size_t n_fields_ = 0;
};

}  // namespace

std::unique_ptr<Parser> make_lean_bar_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<LeanBarParser>(source, options, out);
}

}  // namespace quant::ingest::detail
