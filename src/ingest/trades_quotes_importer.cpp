// "trades" (time and sales: time, price[, volume][, side]; WIN's leading
// unnamed index column) and "quotes" (L1: generic timestamp,bid,ask[,sizes], or
// Lean tick quotes with ms since midnight New York and 0 for an absent side).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/parser.h"

namespace quant::ingest::detail {

namespace {

/// Time and sales; a leading unnamed index column (WIN) makes the first line a header.
class TradeParser final : public Parser {
 public:
  using Parser::Parser;

  Expected<bool> start(std::string_view line) override {
    delimiter_ = detect_delimiter(line, options_.delimiter);
    split(line, delimiter_, fields_);
    n_fields_ = fields_.size();
    const bool header = options_.header.value_or(!starts_with_digit(line) || starts_with_empty_cell());
    const ColumnMapping& m = options_.columns;
    if (header) set_header(fields_);
    auto pick = [&](const std::string& mapped, std::string_view role, std::initializer_list<std::string_view> names,
                    int fallback) { return pick_column(mapped, role, names, fallback, header, n_fields_); };
    auto ts = pick(m.ts, "ts", {"timestamp", "time", "datetime", "date_time", "ts", "date"}, 0);
    auto px = pick(m.price, "price", {"price", "last", "px"}, 1);
    auto vol = pick(m.volume, "volume", {"volume", "vol", "qty", "quantity", "size", "amount"}, 2);
    auto side = pick(m.side, "side", {"side", "aggressor", "direction"}, -1);
    for (auto* e : {&ts, &px, &vol, &side}) {
      if (!*e) return tl::unexpected(e->error());
    }
    ts_col_ = *ts;
    price_ = *px;
    volume_ = *vol;
    side_ = *side;
    if (ts_col_ < 0 || price_ < 0) {
      return tl::unexpected(header_error("a trades file: expected columns time, price[, volume][, side]", line));
    }
    if (!header) {
      default_names(n_fields_, {{ts_col_, "time"}, {price_, "price"}, {volume_, "volume"}, {side_, "side"}});
    }
    return header;
  }

  bool row(std::string_view line, Fail& fail) override {
    if (!split_row(line, n_fields_, true, fail)) return false;
    Trade trade;
    if (!timestamp(trade.ts, fail) || !price(price_, trade.price, fail) || !amount(volume_, trade.volume, fail)) {
      return false;
    }
    if (side_ >= 0) {
      const std::string s = lower(trim(fields_[static_cast<std::size_t>(side_)]));
      if (s == "buy" || s == "b" || s == "1") {
        trade.aggressor = Aggressor::Buy;
      } else if (s == "sell" || s == "s" || s == "-1") {
        trade.aggressor = Aggressor::Sell;
      } else if (!s.empty() && s != "0" && s != "unknown") {
        return fail_with(fail, name_of(side_), "unknown side " + quoted(s));
      }
    }
    out_.trade(trade);
    return true;
  }

 private:
  bool starts_with_empty_cell() const { return trim(fields_[0]).empty(); }
  std::size_t n_fields_ = 0;
  int price_ = -1, volume_ = -1, side_ = -1;
};

/// L1 quotes: generic "timestamp,bid,ask[,bid_size,ask_size]" or Lean tick
/// quotes (no header, ms since midnight New York, prices x 10000, 0 = side absent).
class QuoteParser final : public Parser {
 public:
  using Parser::Parser;

  Expected<bool> start(std::string_view line) override {
    const std::string inner = lower(source_.inner_name());
    lean_ = inner.find("_quote_tick") != std::string::npos ||
            (!options_.base_date.empty() && starts_with_digit(line) && !options_.header.value_or(false));
    delimiter_ = detect_delimiter(line, options_.delimiter);
    split(line, delimiter_, fields_);
    n_fields_ = fields_.size();
    if (lean_) {
      if (n_fields_ < 5 || !all_digits(trim(fields_[0]))) {
        return tl::unexpected(header_error(
            "a Lean tick quote file: expected rows 'ms_since_midnight,bid,bid_size,ask,ask_size,exchange,condition,"
            "suspicious'",
            line));
      }
      if (auto r = lean_setup(); !r) return tl::unexpected(r.error());
      bid_ = 1;
      bid_size_ = 2;
      ask_ = 3;
      ask_size_ = 4;
      default_names(n_fields_, {{0, "time"}, {1, "bid"}, {2, "bid_size"}, {3, "ask"}, {4, "ask_size"}});
      return false;
    }
    const bool header = options_.header.value_or(!starts_with_digit(line));
    if (header) set_header(fields_);
    const ColumnMapping& m = options_.columns;
    auto pick = [&](const std::string& mapped, std::string_view role, std::initializer_list<std::string_view> names,
                    int fallback) { return pick_column(mapped, role, names, fallback, header, n_fields_); };
    auto ts = pick(m.ts, "ts", {"timestamp", "time", "datetime", "date_time", "ts", "date"}, 0);
    auto bid = pick(m.bid, "bid", {"bid", "bid_price", "bidprice"}, 1);
    auto ask = pick(m.ask, "ask", {"ask", "ask_price", "askprice", "offer"}, 2);
    auto bid_size = pick(m.bid_size, "bid_size", {"bid_size", "bidsize", "bid_volume", "bid_amount", "bid_qty"}, 3);
    auto ask_size = pick(m.ask_size, "ask_size", {"ask_size", "asksize", "ask_volume", "ask_amount", "ask_qty"}, 4);
    for (auto* e : {&ts, &bid, &ask, &bid_size, &ask_size}) {
      if (!*e) return tl::unexpected(e->error());
    }
    ts_col_ = *ts;
    bid_ = *bid;
    ask_ = *ask;
    bid_size_ = *bid_size;
    ask_size_ = *ask_size;
    if (ts_col_ < 0 || (bid_ < 0 && ask_ < 0)) {
      return tl::unexpected(
          header_error("a quotes file: expected columns timestamp, bid, ask[, bid_size, ask_size]", line));
    }
    if (!header) {
      default_names(
          n_fields_,
          {{ts_col_, "timestamp"}, {bid_, "bid"}, {ask_, "ask"}, {bid_size_, "bid_size"}, {ask_size_, "ask_size"}});
    }
    return header;
  }

  bool row(std::string_view line, Fail& fail) override {
    if (!split_row(line, n_fields_, /*detect_time=*/!lean_, fail)) return false;
    Tick tick;
    if (!timestamp(tick.ts, fail) || !side(bid_, bid_size_, tick.bid, tick.bid_size, fail) ||
        !side(ask_, ask_size_, tick.ask, tick.ask_size, fail)) {
      return false;
    }
    if (!tick.has_bid() && !tick.has_ask()) return fail_with(fail, name_of(bid_), "neither bid nor ask present");
    // bid > ask (a crossed quote) is real market data, kept as is.
    out_.tick(tick);
    return true;
  }

 private:
  // One side: an empty price (generic) or 0 (Lean) means the side is absent.
  bool side(int price_col, int size_col, double& px, double& size, Fail& fail) {
    if (price_col < 0) return true;
    const std::string_view text = trim(fields_[static_cast<std::size_t>(price_col)]);
    if (text.empty()) return true;
    double value = 0;
    if (!parse_double(text, value)) return fail_with(fail, name_of(price_col), "not a number: " + quoted(text));
    if (lean_ && value == 0) return true;
    if (!check_price(price_col, value, fail) || !amount(size_col, size, fail)) return false;
    px = value;
    return true;
  }

  bool lean_ = false;
  std::size_t n_fields_ = 0;
  int bid_ = -1, ask_ = -1, bid_size_ = -1, ask_size_ = -1;
};

}  // namespace

std::unique_ptr<Parser> make_trade_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<TradeParser>(source, options, out);
}

std::unique_ptr<Parser> make_quote_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<QuoteParser>(source, options, out);
}

}  // namespace quant::ingest::detail
