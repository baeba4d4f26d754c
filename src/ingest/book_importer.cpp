// Order books: "tardis-book" (wide snapshots, one row per snapshot) and the
// incremental formats "tardis-incremental" and "binance-depth" (rows applied to
// core's OrderBook, one snapshot per run of rows sharing a timestamp).
#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/order_book.h"
#include "ingest/parser.h"

namespace quant::ingest::detail {

namespace {

/// Tardis wide snapshots: asks[i].price, asks[i].amount, bids[i].price, bids[i].amount.
class TardisBookParser final : public Parser {
 public:
  using Parser::Parser;

  Expected<bool> start(std::string_view line) override {
    delimiter_ = detect_delimiter(line, options_.delimiter);
    split(line, delimiter_, fields_);
    set_header(fields_);
    n_fields_ = fields_.size();
    auto ts = column(options_.columns.ts, "ts", n_fields_, {"timestamp"});
    if (!ts) return tl::unexpected(ts.error());
    ts_col_ = *ts;
    const std::size_t depth = options_.book_depth > 0 ? static_cast<std::size_t>(options_.book_depth) : 0;
    for (std::size_t i = 0; i < depth; ++i) {
      const std::string n = std::to_string(i);
      Level level{find({"asks[" + n + "].price"}), find({"asks[" + n + "].amount"}), find({"bids[" + n + "].price"}),
                  find({"bids[" + n + "].amount"})};
      if (level.ask_price < 0 || level.ask_amount < 0 || level.bid_price < 0 || level.bid_amount < 0) break;
      levels_.push_back(level);
    }
    if (ts_col_ < 0 || levels_.empty()) {
      return tl::unexpected(
          header_error("a Tardis book snapshot file: expected the header 'exchange,symbol,timestamp,local_timestamp,"
                       "asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,...'",
                       line));
    }
    snapshot_.asks.reserve(levels_.size());
    snapshot_.bids.reserve(levels_.size());
    return true;
  }

  bool row(std::string_view line, Fail& fail) override {
    if (!split_row(line, n_fields_, true, fail)) return false;
    if (!timestamp(snapshot_.ts, fail)) return false;
    snapshot_.asks.clear();
    snapshot_.bids.clear();
    bool asks_open = true, bids_open = true;  // an empty cell ends that side
    for (const Level& level : levels_) {
      if (!add_level(level.ask_price, level.ask_amount, asks_open, snapshot_.asks, fail) ||
          !add_level(level.bid_price, level.bid_amount, bids_open, snapshot_.bids, fail)) {
        return false;
      }
    }
    out_.book(snapshot_);
    return true;
  }

 private:
  struct Level {
    int ask_price, ask_amount, bid_price, bid_amount;
  };
  bool add_level(int price_col, int amount_col, bool& open, std::vector<BookLevel>& side, Fail& fail) {
    if (!open) return true;
    if (trim(fields_[static_cast<std::size_t>(price_col)]).empty()) {
      open = false;
      return true;
    }
    BookLevel level;
    if (!price(price_col, level.price, fail) || !amount(amount_col, level.size, fail)) return false;
    side.push_back(level);
    return true;
  }

  std::size_t n_fields_ = 0;
  std::vector<Level> levels_;
  BookSnapshot snapshot_;
};

/// Incremental L2 (Tardis incremental_book_L2, Binance depth): rows update an
/// OrderBook; one snapshot is emitted per run of rows sharing a timestamp.
/// A run of snapshot rows following update rows (or at the start) first clears
/// the book. A file of updates alone starts from an empty book.
class DeltaBookParser final : public Parser {
 public:
  DeltaBookParser(Format format, const ByteSource& source, const ImportOptions& options, Emitter& out)
      : Parser(source, options, out), binance_(format == Format::BinanceDepth) {}

  Expected<bool> start(std::string_view line) override {
    delimiter_ = detect_delimiter(line, options_.delimiter);
    split(line, delimiter_, fields_);
    set_header(fields_);
    n_fields_ = fields_.size();
    ts_col_ = find({"timestamp"});
    side_ = find({"side"});
    price_ = find({"price"});
    if (binance_) {
      snapshot_col_ = find({"update_type"});
      amount_ = find({"qty", "quantity"});
    } else {
      snapshot_col_ = find({"is_snapshot"});
      amount_ = find({"amount"});
    }
    if (ts_col_ < 0 || side_ < 0 || price_ < 0 || amount_ < 0) {
      return tl::unexpected(header_error(
          binance_ ? "a Binance depth file: expected the header 'symbol,timestamp,first_update_id,last_update_id,"
                     "side,update_type,price,qty,pu'"
                   : "a Tardis incremental L2 file: expected the header 'exchange,symbol,timestamp,local_timestamp,"
                     "is_snapshot,side,price,amount'",
          line));
    }
    return true;
  }

  bool row(std::string_view line, Fail& fail) override {
    if (!split_row(line, n_fields_, true, fail)) return false;
    Timestamp ts;
    if (!timestamp(ts, fail)) return false;
    const std::string_view side_text = trim(fields_[static_cast<std::size_t>(side_)]);
    BookSide side;
    if (side_text == "bid" || side_text == "b" || side_text == "buy" || side_text == "bids") {
      side = BookSide::Bid;
    } else if (side_text == "ask" || side_text == "a" || side_text == "sell" || side_text == "asks") {
      side = BookSide::Ask;
    } else {
      return fail_with(fail, name_of(side_), "unknown side " + quoted(side_text));
    }
    bool snapshot = false;
    if (snapshot_col_ >= 0) {
      const std::string_view s = trim(fields_[static_cast<std::size_t>(snapshot_col_)]);
      if (s == "true" || s == "snap" || s == "snapshot" || s == "1") {
        snapshot = true;
      } else if (!(s == "false" || s == "set" || s == "update" || s == "0")) {
        return fail_with(fail, name_of(snapshot_col_), "unknown update type " + quoted(s));
      }
    }
    double px = 0, size = 0;
    if (!price(price_, px, fail) || !amount(amount_, size, fail)) return false;
    if (have_group_ && ts != group_ts_) emit();
    if (snapshot && !in_snapshot_) book_.clear();
    in_snapshot_ = snapshot;
    book_.apply(side, px, size);
    group_ts_ = ts;
    have_group_ = true;
    return true;
  }

  void finish() override {
    if (have_group_) emit();
  }

 private:
  void emit() {
    book_.snapshot(group_ts_, static_cast<std::size_t>(std::max(options_.book_depth, 0)), snapshot_);
    out_.book(snapshot_);
    have_group_ = false;
  }

  bool binance_;
  std::size_t n_fields_ = 0;
  int side_ = -1, price_ = -1, amount_ = -1, snapshot_col_ = -1;
  OrderBook book_;
  BookSnapshot snapshot_;
  Timestamp group_ts_{};
  bool have_group_ = false, in_snapshot_ = false;
};

}  // namespace

std::unique_ptr<Parser> make_tardis_book_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<TardisBookParser>(source, options, out);
}

std::unique_ptr<Parser> make_delta_book_parser(Format format, const ByteSource& source, const ImportOptions& options,
                                               Emitter& out) {
  return std::make_unique<DeltaBookParser>(format, source, options, out);
}

}  // namespace quant::ingest::detail
