#pragma once
/// Internal to ingest: the base class of every format parser and the helpers
/// they share: header lookup and column picking, timestamp decoding (text,
/// date + time, epoch, Lean's milliseconds of day), price/amount/integer
/// validation against the tick grid, and the reasons of rejected rows.
///
/// The driver (`import_source` in importer.cpp) hands the first non-blank line
/// to `Parser::start()` and every data row to `Parser::row()`. A parser
/// validates a row completely before emitting anything, so a rejected row never
/// reaches the sink, and keeps no state that depends on the sink: a validation
/// pass and a write pass over the same input emit the same records.
///
/// The per-row members (`split_row`, `price`, `amount`, `timestamp` ...) are
/// defined here so that they inline into each format's `row()`; the once-per-file
/// ones live in parser.cpp. Not thread-safe: one parser per import.

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "core/tick_grid.h"
#include "core/time.h"
#include "ingest/importer.h"
#include "ingest/parse_util.h"

namespace quant::ingest::detail {

/// Why a row was rejected; `field` views a name owned by the parser.
struct Fail {
  std::string_view field;
  std::string reason;
};

/// Sets `fail` and returns false, so that checks read `return fail_with(...)`.
inline bool fail_with(Fail& fail, std::string_view field, std::string reason) {
  fail.field = field;
  fail.reason = std::move(reason);
  return false;
}

/// A field as quoted in reasons: 'text', cut to 40 characters ("...").
std::string quoted(std::string_view text);
/// A line as shown in header mismatch messages: the first 80 characters, tabs made visible.
std::string shown(std::string_view line);
/// ASCII lower case.
std::string lower(std::string_view s);
/// Header cell → comparable name: trimmed, quotes and MT5's <> removed, lower case.
std::string normalize(std::string_view cell);
/// Header cell as shown in messages (MT5's <> removed, case kept).
std::string display_name(std::string_view cell);
/// `option` when set, else the most frequent of tab, ';' and ',' in `line` (ties: tab, then ',').
char detect_delimiter(std::string_view line, char option);
/// True when the trimmed line starts with a digit (a data row rather than a header).
bool starts_with_digit(std::string_view line);
/// True for a non-empty run of ASCII digits.
bool all_digits(std::string_view s);

/// Forwards records to the sink, counting them and tracking the first/last
/// timestamp delivered (file order) in `ImportStats`.
class Emitter {
 public:
  Emitter(RecordSink& sink, ImportStats& stats) : sink_(sink), stats_(stats) {}
  void bar(const Bar& bar) {
    sink_.on_bar(bar);
    note(bar.ts);
  }
  void tick(const Tick& tick) {
    sink_.on_tick(tick);
    note(tick.ts);
  }
  void trade(const Trade& trade) {
    sink_.on_trade(trade);
    note(trade.ts);
  }
  void book(const BookSnapshot& book) {
    sink_.on_book(book);
    note(book.ts);
  }

 private:
  void note(Timestamp ts) {
    if (stats_.records == 0) stats_.first_ts = ts;
    stats_.last_ts = ts;
    ++stats_.records;
  }
  RecordSink& sink_;
  ImportStats& stats_;
};

/// How a row's timestamp is written.
enum class TsKind {
  Text,      ///< one column: ISO 8601 / MT5 dotted / HistData compact, offset optional
  DateTime,  ///< a date column and a time-of-day column
  Epoch,     ///< one integer column, `epoch_scale_` nanoseconds per unit
  MsOfDay,   ///< Lean: milliseconds since local midnight of `base_day_`
};

/// State and helpers every format parser shares. `source`, `options` and `out`
/// outlive the parser.
class Parser {
 public:
  Parser(const ByteSource& source, const ImportOptions& options, Emitter& out)
      : source_(source), options_(options), out_(out), clock_(options.time_zone) {
    if (options.spec && options.spec->tick_size > 0) grid_.emplace(options.spec->tick_size);
    if (options.price_scale > 0 && std::isfinite(options.price_scale)) scale_ = options.price_scale;
  }
  virtual ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  /// The first non-blank line: true when it is a header (consumed), false when
  /// it is data; an error when it does not fit the format.
  virtual Expected<bool> start(std::string_view line) = 0;
  /// One data row; false with `fail` set when the row is bad.
  virtual bool row(std::string_view line, Fail& fail) = 0;
  /// End of input (flushes grouped records).
  virtual void finish() {}

 protected:
  /// "<file>: not <what>, saw '<line>'": the first line fits neither the header nor the rows.
  Error header_error(std::string_view what, std::string_view line) const;

  /// Header names for messages and lookup.
  void set_header(const std::vector<std::string_view>& cells);
  /// The first header column whose normalized name is one of `candidates` (in
  /// the order of `candidates`), else -1.
  int find(std::initializer_list<std::string_view> candidates) const;
  /// A column named by the user's mapping (header name or 0-based index), else
  /// the first of the usual names; -1 when absent.
  Expected<int> column(const std::string& mapped, std::string_view role, std::size_t count,
                       std::initializer_list<std::string_view> candidates) const;
  /// A column by mapping or usual name; without a header, the format's default
  /// position `fallback` (when the row has it), else -1.
  Expected<int> pick_column(const std::string& mapped, std::string_view role,
                            std::initializer_list<std::string_view> names, int fallback, bool header,
                            std::size_t n_fields);
  /// Fills names for a file without header.
  void default_names(std::size_t count, std::initializer_list<std::pair<int, std::string_view>> known);
  /// Decides Text vs Epoch (and the epoch unit) from the options or the first value.
  void choose_time_kind(std::string_view sample);
  /// Lean: the date from options.base_date or the first 8-digit run in the
  /// member / file name; the zone is New York whatever options.time_zone says.
  Expected<void> lean_setup();

  std::string_view name_of(int index) const {
    if (index >= 0 && static_cast<std::size_t>(index) < names_.size()) return names_[static_cast<std::size_t>(index)];
    return "row";
  }

  /// Splits a data row and checks it has `expected` fields. On the first data
  /// row, with `detect_time`, decides how the timestamp column is written.
  bool split_row(std::string_view line, std::size_t expected, bool detect_time, Fail& fail) {
    split(line, delimiter_, fields_);
    if (first_row_) {
      first_row_ = false;
      if (detect_time) {
        const bool has = ts_col_ >= 0 && fields_.size() > static_cast<std::size_t>(ts_col_);
        choose_time_kind(has ? fields_[static_cast<std::size_t>(ts_col_)] : std::string_view());
      }
    }
    return field_count(expected, fail);
  }

  bool field_count(std::size_t expected, Fail& fail) {
    if (fields_.size() == expected) return true;
    return fail_with(fail, "row",
                     "expected " + std::to_string(expected) + " fields, found " + std::to_string(fields_.size()));
  }

  /// A positive, finite price, divided by the scale and checked against the tick grid.
  bool price(int index, double& value, Fail& fail) {
    const std::string_view text = fields_[static_cast<std::size_t>(index)];
    if (!parse_double(text, value)) return fail_with(fail, name_of(index), "not a number: " + quoted(text));
    return check_price(index, value, fail);
  }
  bool check_price(int index, double& value, Fail& fail) {
    if (scale_ != 1.0) value /= scale_;
    if (!std::isfinite(value)) return fail_with(fail, name_of(index), "price is not finite");
    if (value <= 0) return fail_with(fail, name_of(index), "price " + number_text(value) + " is not positive");
    if (grid_) {
      if (!grid_->on_grid(value)) {
        return fail_with(fail, name_of(index),
                         "price " + number_text(value) + " is off the tick grid " + number_text(grid_->tick_size()));
      }
      value = grid_->snap(value);
    }
    return true;
  }
  /// A finite amount >= 0 (volume, size). An absent column gives 0.
  bool amount(int index, double& value, Fail& fail) {
    value = 0;
    if (index < 0) return true;
    const std::string_view text = fields_[static_cast<std::size_t>(index)];
    if (!parse_double(text, value)) return fail_with(fail, name_of(index), "not a number: " + quoted(text));
    if (!std::isfinite(value)) return fail_with(fail, name_of(index), "volume is not finite");
    if (value < 0) return fail_with(fail, name_of(index), "negative volume " + number_text(value));
    return true;
  }
  bool integer(int index, std::int64_t& value, Fail& fail) {
    value = 0;
    if (index < 0) return true;
    const std::string_view text = fields_[static_cast<std::size_t>(index)];
    if (parse_int(text, value)) return true;
    double d = 0;  // "12.0" style integers
    if (parse_double(text, d) && std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9e18) {
      value = static_cast<std::int64_t>(d);
      return true;
    }
    return fail_with(fail, name_of(index), "not an integer: " + quoted(text));
  }

  bool local_to_utc(std::int64_t local_ns, int field, Timestamp& ts, Fail& fail) {
    std::int64_t utc = 0;
    if (!clock_.to_utc(local_ns, utc)) {
      return fail_with(fail, name_of(field),
                       "local time " + format_local(LocalTime(Duration(local_ns))) + " does not exist in " +
                           clock_.zone().name() + " (DST gap)");
    }
    ts = from_epoch_ns(utc);
    return true;
  }

  /// The row's timestamp, as `ts_kind_` says it is written, in UTC.
  bool timestamp(Timestamp& ts, Fail& fail) {
    switch (ts_kind_) {
      case TsKind::Text: {
        const std::string_view text = fields_[static_cast<std::size_t>(ts_col_)];
        TextTime t;
        if (!parse_text_time(text, t)) return fail_with(fail, name_of(ts_col_), "bad timestamp " + quoted(text));
        if (t.has_offset) {
          ts = from_epoch_ns(t.local_ns - t.offset_ns);
          return true;
        }
        return local_to_utc(t.local_ns, ts_col_, ts, fail);
      }
      case TsKind::DateTime: {
        const std::string_view date_text = fields_[static_cast<std::size_t>(ts_col_)];
        std::size_t pos = 0;
        std::int64_t days = 0;
        const std::string_view d = trim(date_text);
        if (!parse_date_part(d, pos, days) || pos != d.size()) {
          return fail_with(fail, name_of(ts_col_), "bad date " + quoted(date_text));
        }
        std::int64_t tod = 0;
        if (time_col_ >= 0) {
          const std::string_view time_text = fields_[static_cast<std::size_t>(time_col_)];
          if (!parse_time_of_day(time_text, tod)) {
            return fail_with(fail, name_of(time_col_), "bad time " + quoted(time_text));
          }
        }
        return local_to_utc(days * kNanosPerDay + tod, time_col_ >= 0 ? time_col_ : ts_col_, ts, fail);
      }
      case TsKind::Epoch: {
        const std::string_view text = fields_[static_cast<std::size_t>(ts_col_)];
        std::int64_t v = 0;
        if (!parse_int(text, v)) return fail_with(fail, name_of(ts_col_), "bad epoch timestamp " + quoted(text));
        if (v < 0 || v > INT64_MAX / epoch_scale_) {
          return fail_with(fail, name_of(ts_col_), "epoch timestamp out of range " + quoted(text));
        }
        ts = from_epoch_ns(v * epoch_scale_);
        return true;
      }
      case TsKind::MsOfDay: {
        const std::string_view text = fields_[static_cast<std::size_t>(ts_col_)];
        std::int64_t ms = 0;
        if (!parse_int(text, ms)) return fail_with(fail, name_of(ts_col_), "bad milliseconds " + quoted(text));
        if (ms < 0 || ms > 86'400'000) {
          return fail_with(fail, name_of(ts_col_), "milliseconds since midnight out of range " + quoted(text));
        }
        return local_to_utc(base_day_ * kNanosPerDay + ms * 1'000'000, ts_col_, ts, fail);
      }
    }
    return false;
  }

  const ByteSource& source_;
  const ImportOptions& options_;
  Emitter& out_;
  LocalClock clock_;
  std::optional<TickGrid> grid_;
  double scale_ = 1.0;
  char delimiter_ = ',';
  std::vector<std::string_view> fields_;
  std::vector<std::string> names_, normalized_;
  TsKind ts_kind_ = TsKind::Text;
  int ts_col_ = 0, time_col_ = -1;
  std::int64_t epoch_scale_ = 1;
  std::int64_t base_day_ = 0;
  bool first_row_ = true;
};

// One factory per format family; importer.cpp's make_parser dispatches to them.

/// mt5_importer.cpp: "mt5-bars".
std::unique_ptr<Parser> make_mt5_bar_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// mt5_importer.cpp: "mt5-ticks".
std::unique_ptr<Parser> make_mt5_tick_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// histdata_importer.cpp: "histdata".
std::unique_ptr<Parser> make_histdata_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// csv_importer.cpp: "csv" (generic bars).
std::unique_ptr<Parser> make_csv_bar_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// trades_quotes_importer.cpp: "trades".
std::unique_ptr<Parser> make_trade_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// trades_quotes_importer.cpp: "quotes" (generic and Lean tick quotes).
std::unique_ptr<Parser> make_quote_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// lean_importer.cpp: "lean" (minute trade and quote bars).
std::unique_ptr<Parser> make_lean_bar_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// book_importer.cpp: "tardis-book".
std::unique_ptr<Parser> make_tardis_book_parser(const ByteSource& source, const ImportOptions& options, Emitter& out);
/// book_importer.cpp: "tardis-incremental" and "binance-depth" (`format` tells which).
std::unique_ptr<Parser> make_delta_book_parser(Format format, const ByteSource& source, const ImportOptions& options,
                                               Emitter& out);

}  // namespace quant::ingest::detail
