// MetaTrader 5 exports: "mt5-bars" (tab <DATE>\t<TIME>... or comma Date,Time,...
// header, or header-less rows in MT5 column order; daily files without a time
// column) and "mt5-ticks" (an empty field keeps the previous row's value).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/bar_parser.h"
#include "ingest/parser.h"

namespace quant::ingest::detail {

namespace {

/// MT5 bar export: the header names the columns, else MT5's column order.
class Mt5BarParser final : public BarParser {
 public:
  using BarParser::BarParser;

  Expected<bool> start(std::string_view line) override {
    delimiter_ = detect_delimiter(line, options_.delimiter);
    split(line, delimiter_, fields_);
    const std::string first = normalize(fields_[0]);
    const std::string_view expected =
        "an MT5 bar export: expected the header '<DATE>\\t<TIME>\\t<OPEN>\\t<HIGH>\\t<LOW>\\t<CLOSE>\\t<TICKVOL>\\t"
        "<VOL>\\t<SPREAD>' or 'Date,Time,Open,High,Low,Close,Tick,Volume,Spread'";
    if (first == "date") {
      set_header(fields_);
      ts_col_ = find({"date"});
      time_col_ = find({"time"});
      open_ = find({"open"});
      high_ = find({"high"});
      low_ = find({"low"});
      close_ = find({"close"});
      tick_volume_ = find({"tickvol", "tick", "tick_volume", "tickvolume", "ticks"});
      volume_ = find({"vol", "volume", "real_volume", "realvolume"});
      spread_ = find({"spread"});
      if (open_ < 0 || high_ < 0 || low_ < 0 || close_ < 0) return tl::unexpected(header_error(expected, line));
      n_fields_ = fields_.size();
      ts_kind_ = TsKind::DateTime;
      return true;
    }
    // No header: the column order MT5 writes.
    TextTime t;
    if (!parse_text_time(fields_[0], t) || t.has_time || fields_.size() < 5) {
      return tl::unexpected(header_error(expected, line));
    }
    std::int64_t tod = 0;
    const bool has_time = fields_.size() > 1 && parse_time_of_day(fields_[1], tod);
    const int b = has_time ? 2 : 1;
    if (fields_.size() < static_cast<std::size_t>(b) + 4) return tl::unexpected(header_error(expected, line));
    ts_col_ = 0;
    time_col_ = has_time ? 1 : -1;
    open_ = b;
    high_ = b + 1;
    low_ = b + 2;
    close_ = b + 3;
    n_fields_ = fields_.size();
    const int n = static_cast<int>(n_fields_);
    tick_volume_ = b + 4 < n ? b + 4 : -1;
    volume_ = b + 5 < n ? b + 5 : -1;
    spread_ = b + 6 < n ? b + 6 : -1;
    default_names(n_fields_, {{0, "DATE"},
                              {time_col_, "TIME"},
                              {open_, "OPEN"},
                              {high_, "HIGH"},
                              {low_, "LOW"},
                              {close_, "CLOSE"},
                              {tick_volume_, "TICKVOL"},
                              {volume_, "VOL"},
                              {spread_, "SPREAD"}});
    ts_kind_ = TsKind::DateTime;
    return false;
  }
};

/// MT5 tick export; an empty field keeps the previous row's value.
class Mt5TickParser final : public Parser {
 public:
  using Parser::Parser;

  Expected<bool> start(std::string_view line) override {
    delimiter_ = detect_delimiter(line, options_.delimiter);
    split(line, delimiter_, fields_);
    const std::string_view expected =
        "an MT5 tick export: expected the header '<DATE>\\t<TIME>\\t<BID>\\t<ASK>\\t<LAST>\\t<VOLUME>\\t<FLAGS>'";
    n_fields_ = fields_.size();
    if (normalize(fields_[0]) == "date") {
      set_header(fields_);
      ts_col_ = find({"date"});
      time_col_ = find({"time"});
      bid_ = find({"bid"});
      ask_ = find({"ask"});
      last_ = find({"last"});
      volume_ = find({"volume", "vol"});
      flags_ = find({"flags"});
      if (time_col_ < 0 || (bid_ < 0 && ask_ < 0 && last_ < 0)) return tl::unexpected(header_error(expected, line));
      ts_kind_ = TsKind::DateTime;
      return true;
    }
    TextTime t;
    if (n_fields_ != 7 || !parse_text_time(fields_[0], t) || t.has_time) {
      return tl::unexpected(header_error(expected, line));
    }
    ts_col_ = 0;
    time_col_ = 1;
    bid_ = 2;
    ask_ = 3;
    last_ = 4;
    volume_ = 5;
    flags_ = 6;
    default_names(7, {{0, "DATE"}, {1, "TIME"}, {2, "BID"}, {3, "ASK"}, {4, "LAST"}, {5, "VOLUME"}, {6, "FLAGS"}});
    ts_kind_ = TsKind::DateTime;
    return false;
  }

  bool row(std::string_view line, Fail& fail) override {
    split(line, delimiter_, fields_);
    if (!field_count(n_fields_, fail)) return false;
    Tick tick = carried_;
    tick.flags = 0;
    if (!timestamp(tick.ts, fail) || !carry_price(bid_, tick.bid, fail) || !carry_price(ask_, tick.ask, fail) ||
        !carry_price(last_, tick.last, fail)) {
      return false;
    }
    if (volume_ >= 0 && !trim(fields_[static_cast<std::size_t>(volume_)]).empty() &&
        !amount(volume_, tick.volume, fail)) {
      return false;
    }
    if (flags_ >= 0 && !trim(fields_[static_cast<std::size_t>(flags_)]).empty()) {
      std::int64_t flags = 0;
      if (!integer(flags_, flags, fail)) return false;
      if (flags < 0 || flags > UINT32_MAX) return fail_with(fail, name_of(flags_), "flags out of range");
      tick.flags = static_cast<std::uint32_t>(flags);
    }
    carried_ = tick;
    out_.tick(tick);
    return true;
  }

 private:
  bool carry_price(int index, double& value, Fail& fail) {
    if (index < 0 || trim(fields_[static_cast<std::size_t>(index)]).empty()) return true;  // unchanged
    return price(index, value, fail);
  }

  std::size_t n_fields_ = 0;
  int bid_ = -1, ask_ = -1, last_ = -1, volume_ = -1, flags_ = -1;
  Tick carried_{};
};

}  // namespace

std::unique_ptr<Parser> make_mt5_bar_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<Mt5BarParser>(source, options, out);
}

std::unique_ptr<Parser> make_mt5_tick_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<Mt5TickParser>(source, options, out);
}

}  // namespace quant::ingest::detail
