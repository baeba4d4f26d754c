// Importers: one parser per format family behind a common line-driven driver.
//
// The driver reads lines (LineReader), hands the first non-blank line to the
// parser's start() (header or first data row), then every data row to row().
// Parsers validate a row completely before emitting anything, so a rejected
// row never reaches the sink, and they keep no state that depends on the sink:
// a validation pass and a write pass over the same input emit the same records.
#include "ingest/importer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/order_book.h"
#include "ingest/line_reader.h"
#include "ingest/parse_util.h"

namespace quant::ingest {

using detail::kNanosPerDay;
using detail::kNanosPerSecond;
using detail::LocalClock;
using detail::number_text;
using detail::parse_double;
using detail::parse_int;
using detail::split;
using detail::TextTime;
using detail::trim;

namespace {

struct FormatEntry {
  Format format;
  std::string_view name;
  std::string_view dataset;
};

constexpr FormatEntry kFormats[] = {
    {Format::Mt5Bars, "mt5-bars", "bars_1m"},
    {Format::Mt5Ticks, "mt5-ticks", "ticks"},
    {Format::HistData, "histdata", "bars_1m"},
    {Format::Csv, "csv", "bars_1m"},
    {Format::Trades, "trades", "trades"},
    {Format::Quotes, "quotes", "ticks"},
    {Format::TardisBook, "tardis-book", "book"},
    {Format::TardisIncremental, "tardis-incremental", "book"},
    {Format::BinanceDepth, "binance-depth", "book"},
    {Format::Lean, "lean", "bars_1m"},
};

}  // namespace

Expected<Format> parse_format(std::string_view name) {
  std::string known;
  for (const auto& entry : kFormats) {
    if (entry.name == name) return entry.format;
    if (!known.empty()) known += ", ";
    known += entry.name;
  }
  return make_error("unknown format '" + std::string(name) + "' (known: " + known + ")");
}

std::string_view format_name(Format format) {
  for (const auto& entry : kFormats) {
    if (entry.format == format) return entry.name;
  }
  return "unknown";
}

std::string_view format_dataset(Format format) {
  for (const auto& entry : kFormats) {
    if (entry.format == format) return entry.dataset;
  }
  return "unknown";
}

Expected<TimeFormat> parse_time_format(std::string_view name) {
  if (name == "auto") return TimeFormat::Auto;
  if (name == "iso8601" || name == "iso") return TimeFormat::Iso8601;
  if (name == "epoch_s" || name == "s") return TimeFormat::EpochSeconds;
  if (name == "epoch_ms" || name == "ms") return TimeFormat::EpochMillis;
  if (name == "epoch_us" || name == "us") return TimeFormat::EpochMicros;
  if (name == "epoch_ns" || name == "ns") return TimeFormat::EpochNanos;
  return make_error("unknown time format '" + std::string(name) +
                    "' (known: auto, iso8601, epoch_s, epoch_ms, epoch_us, epoch_ns)");
}

std::string RowError::to_string() const {
  return source + ":" + std::to_string(line) + ": " + field + ": " + reason;
}

namespace {

/// Why a row was rejected; `field` views a name owned by the parser.
struct Fail {
  std::string_view field;
  std::string reason;
};

bool fail_with(Fail& fail, std::string_view field, std::string reason) {
  fail.field = field;
  fail.reason = std::move(reason);
  return false;
}

std::string quoted(std::string_view text) {
  if (text.size() > 40) return "'" + std::string(text.substr(0, 40)) + "...'";
  return "'" + std::string(text) + "'";
}

// For header mismatch messages: the first 80 characters, tabs made visible.
std::string shown(std::string_view line) {
  std::string out;
  for (char c : line.substr(0, 80)) {
    if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  if (line.size() > 80) out += "...";
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Header cell → comparable name: trimmed, quotes and MT5's <> removed, lower case.
std::string normalize(std::string_view cell) {
  cell = trim(cell);
  if (cell.size() >= 2 && cell.front() == '<' && cell.back() == '>') cell = cell.substr(1, cell.size() - 2);
  return lower(trim(cell));
}

// Header cell as shown in messages (MT5's <> removed, case kept).
std::string display_name(std::string_view cell) {
  cell = trim(cell);
  if (cell.size() >= 2 && cell.front() == '<' && cell.back() == '>') cell = cell.substr(1, cell.size() - 2);
  return std::string(cell);
}

char detect_delimiter(std::string_view line, char option) {
  if (option != '\0') return option;
  const auto tabs = std::count(line.begin(), line.end(), '\t');
  const auto semis = std::count(line.begin(), line.end(), ';');
  const auto commas = std::count(line.begin(), line.end(), ',');
  if (tabs > 0 && tabs >= semis && tabs >= commas) return '\t';
  if (semis > commas) return ';';
  return ',';
}

bool starts_with_digit(std::string_view line) {
  line = trim(line);
  return !line.empty() && detail::is_digit(line.front());
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return detail::is_digit(c); });
}

/// Counts records and tracks the first/last timestamp delivered (file order).
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

/// State and helpers every parser shares.
class Parser {
 public:
  Parser(const ByteSource& source, const ImportOptions& options, Emitter& out)
      : source_(source), options_(options), out_(out), clock_(options.time_zone) {
    if (options.spec && options.spec->tick_size > 0) grid_.emplace(options.spec->tick_size);
    if (options.price_scale > 0 && std::isfinite(options.price_scale)) scale_ = options.price_scale;
  }
  virtual ~Parser() = default;
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
  Error header_error(std::string_view what, std::string_view line) const {
    return Error{source_.name() + ": not " + std::string(what) + ", saw '" + shown(line) + "'"};
  }

  /// Header names for messages and lookup.
  void set_header(const std::vector<std::string_view>& cells) {
    names_.clear();
    normalized_.clear();
    for (auto cell : cells) {
      names_.push_back(display_name(cell));
      normalized_.push_back(normalize(cell));
    }
  }
  int find(std::initializer_list<std::string_view> candidates) const {
    for (auto candidate : candidates) {
      for (std::size_t i = 0; i < normalized_.size(); ++i) {
        if (normalized_[i] == candidate) return static_cast<int>(i);
      }
    }
    return -1;
  }
  /// A column named by the user's mapping (header name or 0-based index), else
  /// the first of the usual names; -1 when absent.
  Expected<int> column(const std::string& mapped, std::string_view role, std::size_t count,
                       std::initializer_list<std::string_view> candidates) const {
    if (mapped.empty()) return find(candidates);
    if (all_digits(mapped)) {
      std::int64_t index = 0;
      parse_int(mapped, index);
      if (index >= static_cast<std::int64_t>(count)) {
        return make_error(source_.name() + ": column " + mapped + " for " + std::string(role) + " is beyond the " +
                          std::to_string(count) + " columns of the file");
      }
      return static_cast<int>(index);
    }
    const std::string wanted = normalize(mapped);
    for (std::size_t i = 0; i < normalized_.size(); ++i) {
      if (normalized_[i] == wanted) return static_cast<int>(i);
    }
    return make_error(source_.name() + ": no column '" + mapped + "' (for " + std::string(role) + ") in the header");
  }
  std::string_view name_of(int index) const {
    if (index >= 0 && static_cast<std::size_t>(index) < names_.size()) return names_[static_cast<std::size_t>(index)];
    return "row";
  }
  /// Fills names for a file without header.
  void default_names(std::size_t count, std::initializer_list<std::pair<int, std::string_view>> known) {
    names_.assign(count, std::string());
    for (std::size_t i = 0; i < count; ++i) names_[i] = "column " + std::to_string(i + 1);
    for (const auto& [index, name] : known) {
      if (index >= 0 && static_cast<std::size_t>(index) < count) names_[static_cast<std::size_t>(index)] = name;
    }
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

  /// A column by mapping or usual name; without a header, the format's default
  /// position `fallback` (when the row has it), else -1.
  Expected<int> pick_column(const std::string& mapped, std::string_view role,
                            std::initializer_list<std::string_view> names, int fallback, bool header,
                            std::size_t n_fields) {
    auto c = column(mapped, role, n_fields, names);
    if (!c) return c;
    return *c >= 0 ? *c : (header ? -1 : (fallback < static_cast<int>(n_fields) ? fallback : -1));
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

  /// Decides Text vs Epoch (and the epoch unit) from the options or the first value.
  void choose_time_kind(std::string_view sample) {
    epoch_scale_ = 1;
    switch (options_.time_format) {
      case TimeFormat::Iso8601:
        ts_kind_ = TsKind::Text;
        return;
      case TimeFormat::EpochSeconds:
        ts_kind_ = TsKind::Epoch;
        epoch_scale_ = kNanosPerSecond;
        return;
      case TimeFormat::EpochMillis:
        ts_kind_ = TsKind::Epoch;
        epoch_scale_ = 1'000'000;
        return;
      case TimeFormat::EpochMicros:
        ts_kind_ = TsKind::Epoch;
        epoch_scale_ = 1'000;
        return;
      case TimeFormat::EpochNanos:
        ts_kind_ = TsKind::Epoch;
        return;
      case TimeFormat::Auto:
        break;
    }
    sample = trim(sample);
    if (!all_digits(sample) || sample.size() == 8) {
      ts_kind_ = TsKind::Text;
      return;
    }
    // Epoch by magnitude: seconds < 1e11 (year 5138) <= millis < 1e14 <= micros < 1e17 <= nanos.
    ts_kind_ = TsKind::Epoch;
    std::int64_t v = 0;
    parse_int(sample, v);
    if (v >= 100'000'000'000'000'000) {
      epoch_scale_ = 1;
    } else if (v >= 100'000'000'000'000) {
      epoch_scale_ = 1'000;
    } else if (v >= 100'000'000'000) {
      epoch_scale_ = 1'000'000;
    } else {
      epoch_scale_ = kNanosPerSecond;
    }
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

  bool timestamp(Timestamp& ts, Fail& fail) {
    switch (ts_kind_) {
      case TsKind::Text: {
        const std::string_view text = fields_[static_cast<std::size_t>(ts_col_)];
        TextTime t;
        if (!detail::parse_text_time(text, t)) return fail_with(fail, name_of(ts_col_), "bad timestamp " + quoted(text));
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
        if (!detail::parse_date_part(d, pos, days) || pos != d.size()) {
          return fail_with(fail, name_of(ts_col_), "bad date " + quoted(date_text));
        }
        std::int64_t tod = 0;
        if (time_col_ >= 0) {
          const std::string_view time_text = fields_[static_cast<std::size_t>(time_col_)];
          if (!detail::parse_time_of_day(time_text, tod)) {
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

  /// Lean: the date from options.base_date or the first 8-digit run in the
  /// member / file name; the zone is New York whatever options.time_zone says.
  Expected<void> lean_setup() {
    std::string_view date = options_.base_date;
    std::string from_name;
    if (date.empty()) {
      for (const std::string* name : {&source_.inner_name(), &source_.name()}) {
        const std::string_view base = std::string_view(*name).substr(name->find_last_of('/') + 1);
        for (std::size_t i = 0; i + 8 <= base.size(); ++i) {
          if (all_digits(base.substr(i, 8)) && (i + 8 == base.size() || !detail::is_digit(base[i + 8])) &&
              (i == 0 || !detail::is_digit(base[i - 1]))) {
            from_name = std::string(base.substr(i, 8));
            break;
          }
        }
        if (!from_name.empty()) break;
      }
      date = from_name;
    }
    TextTime t;
    if (date.empty() || !detail::parse_text_time(date, t) || t.has_time || t.has_offset) {
      return make_error(source_.name() + ": Lean rows hold the time of day only and no date was found: name the file "
                        "YYYYMMDD_... or pass base_date (YYYY-MM-DD)");
    }
    base_day_ = t.local_ns / kNanosPerDay;
    auto zone = TimeZone::find("America/New_York");
    if (!zone) return tl::unexpected(zone.error());
    clock_ = LocalClock(*zone);
    if (options_.price_scale == 1.0) scale_ = 10000.0;
    ts_kind_ = TsKind::MsOfDay;
    ts_col_ = 0;
    return {};
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

// ---------------------------------------------------------------- bars

/// MT5 bars, HistData and generic CSV bars: the same row logic over different
/// column layouts.
class BarParser final : public Parser {
 public:
  BarParser(Format format, const ByteSource& source, const ImportOptions& options, Emitter& out)
      : Parser(source, options, out), format_(format) {}

  Expected<bool> start(std::string_view line) override {
    switch (format_) {
      case Format::Mt5Bars:
        return start_mt5(line);
      case Format::HistData:
        return start_histdata(line);
      default:
        return start_csv(line);
    }
  }

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

  Expected<bool> start_mt5(std::string_view line) {
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
    if (!detail::parse_text_time(fields_[0], t) || t.has_time || fields_.size() < 5) {
      return tl::unexpected(header_error(expected, line));
    }
    std::int64_t tod = 0;
    const bool has_time = fields_.size() > 1 && detail::parse_time_of_day(fields_[1], tod);
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
    default_names(n_fields_, {{0, "DATE"}, {time_col_, "TIME"}, {open_, "OPEN"}, {high_, "HIGH"}, {low_, "LOW"},
                              {close_, "CLOSE"}, {tick_volume_, "TICKVOL"}, {volume_, "VOL"}, {spread_, "SPREAD"}});
    ts_kind_ = TsKind::DateTime;
    return false;
  }

  Expected<bool> start_histdata(std::string_view line) {
    delimiter_ = options_.delimiter != '\0' ? options_.delimiter
                 : line.find(';') == std::string_view::npos && line.find(',') != std::string_view::npos ? ','
                                                                                                        : ';';
    split(line, delimiter_, fields_);
    TextTime t;
    const std::string_view first = trim(fields_[0]);
    if (fields_.size() < 5 || fields_.size() > 6 || first.size() != 15 || !detail::parse_text_time(first, t) ||
        !t.has_time) {
      return tl::unexpected(header_error(
          "a HistData M1 file: expected rows like '20170102 020000;1.051550;1.051970;1.051550;1.051900;0'", line));
    }
    ts_kind_ = TsKind::Text;
    ts_col_ = 0;
    open_ = 1;
    high_ = 2;
    low_ = 3;
    close_ = 4;
    volume_ = fields_.size() == 6 ? 5 : -1;
    n_fields_ = fields_.size();
    default_names(n_fields_, {{0, "DATETIME"}, {1, "OPEN"}, {2, "HIGH"}, {3, "LOW"}, {4, "CLOSE"}, {5, "VOLUME"}});
    return false;
  }

  Expected<bool> start_csv(std::string_view line) {
    delimiter_ = detect_delimiter(line, options_.delimiter);
    split(line, delimiter_, fields_);
    const bool header = options_.header.value_or(!starts_with_digit(line));
    n_fields_ = fields_.size();
    const ColumnMapping& m = options_.columns;
    if (header) {
      set_header(fields_);
    } else {
      normalized_.clear();
    }
    auto resolve = [&](const std::string& mapped, std::string_view role, std::initializer_list<std::string_view> names,
                       int fallback, int& out) -> Expected<void> {
      auto c = column(mapped, role, n_fields_, names);
      if (!c) return tl::unexpected(c.error());
      out = *c >= 0 ? *c : (header ? -1 : fallback);
      if (out >= static_cast<int>(n_fields_)) out = -1;
      return {};
    };
    // Timestamp: one column, or a date column plus a time column.
    int date_col = -1;
    time_col_ = -1;
    if (!m.ts.empty()) {
      if (auto r = resolve(m.ts, "ts", {}, 0, ts_col_); !r) return tl::unexpected(r.error());
    } else if (!m.date.empty()) {
      if (auto r = resolve(m.date, "date", {}, 0, date_col); !r) return tl::unexpected(r.error());
      if (auto r = resolve(m.time, "time", {}, -1, time_col_); !r) return tl::unexpected(r.error());
      ts_col_ = date_col;
    } else {
      ts_col_ = header ? find({"timestamp", "timestamp_utc", "datetime", "date_time", "ts", "time_utc"}) : 0;
      if (ts_col_ < 0) {
        date_col = find({"date", "day"});
        const int time = find({"time"});
        if (date_col >= 0 && time >= 0) {
          ts_col_ = date_col;
          time_col_ = time;
        } else {
          ts_col_ = date_col >= 0 ? date_col : time;
        }
      }
    }
    const bool date_time = time_col_ >= 0;
    if (auto r = resolve(m.open, "open", {"open", "o"}, 1, open_); !r) return tl::unexpected(r.error());
    if (auto r = resolve(m.high, "high", {"high", "h"}, 2, high_); !r) return tl::unexpected(r.error());
    if (auto r = resolve(m.low, "low", {"low", "l"}, 3, low_); !r) return tl::unexpected(r.error());
    if (auto r = resolve(m.close, "close", {"close", "c"}, 4, close_); !r) return tl::unexpected(r.error());
    if (auto r = resolve(m.volume, "volume", {"volume", "vol", "v", "real_volume"}, 5, volume_); !r) {
      return tl::unexpected(r.error());
    }
    if (auto r = resolve(m.tick_volume, "tick_volume", {"tick_volume", "tickvol", "tick", "ticks", "trades"}, -1,
                         tick_volume_);
        !r) {
      return tl::unexpected(r.error());
    }
    if (auto r = resolve(m.spread, "spread", {"spread"}, -1, spread_); !r) return tl::unexpected(r.error());
    if (ts_col_ < 0 || open_ < 0 || high_ < 0 || low_ < 0 || close_ < 0) {
      return tl::unexpected(header_error(
          "a bar CSV: expected columns timestamp (or date and time), open, high, low, close[, volume]", line));
    }
    if (!header) {
      default_names(n_fields_, {{ts_col_, date_time ? "date" : "timestamp"}, {time_col_, "time"}, {open_, "open"},
                                {high_, "high"}, {low_, "low"}, {close_, "close"}, {volume_, "volume"},
                                {tick_volume_, "tick_volume"}, {spread_, "spread"}});
    }
    has_header_ = header;
    ts_kind_ = date_time ? TsKind::DateTime : TsKind::Text;
    return header;
  }

  // Decisions that need a data row: the epoch unit, and the backtrader trap.
  void first_data_row() {
    if (format_ != Format::Csv) return;
    if (ts_kind_ == TsKind::Text) choose_time_kind(fields_[static_cast<std::size_t>(ts_col_)]);
    // A header that names one date column while the rows carry one more field,
    // a time of day right after the date (backtrader's minute files:
    // "Date,Open,..." over "2006-01-02,09:01:00,3602.00,..."). Read it as
    // date + time and shift the columns after the date by one.
    std::int64_t tod = 0;
    TextTime t;
    const auto ts_index = static_cast<std::size_t>(ts_col_);
    if (has_header_ && ts_kind_ == TsKind::Text && options_.columns.time.empty() &&
        fields_.size() == n_fields_ + 1 && ts_index + 1 < fields_.size() &&
        detail::parse_text_time(fields_[ts_index], t) && !t.has_time &&
        detail::parse_time_of_day(fields_[ts_index + 1], tod)) {
      for (int* col : {&open_, &high_, &low_, &close_, &volume_, &tick_volume_, &spread_}) {
        if (*col > ts_col_) ++*col;
      }
      names_.insert(names_.begin() + static_cast<std::ptrdiff_t>(ts_index) + 1, "time (unnamed)");
      time_col_ = ts_col_ + 1;
      ts_kind_ = TsKind::DateTime;
      ++n_fields_;
    }
  }

  Format format_;
  std::size_t n_fields_ = 0;
  int open_ = -1, high_ = -1, low_ = -1, close_ = -1, volume_ = -1, tick_volume_ = -1, spread_ = -1;
  bool has_header_ = false;
};

// ---------------------------------------------------------------- MT5 ticks

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
    if (n_fields_ != 7 || !detail::parse_text_time(fields_[0], t) || t.has_time) {
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

// ---------------------------------------------------------------- trades

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

// ---------------------------------------------------------------- quotes

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
      return tl::unexpected(header_error("a quotes file: expected columns timestamp, bid, ask[, bid_size, ask_size]", line));
    }
    if (!header) {
      default_names(n_fields_, {{ts_col_, "timestamp"}, {bid_, "bid"}, {ask_, "ask"}, {bid_size_, "bid_size"},
                                {ask_size_, "ask_size"}});
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

// ---------------------------------------------------------------- Lean bars

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
      default_names(11, {{0, "time"}, {1, "bid_open"}, {2, "bid_high"}, {3, "bid_low"}, {4, "bid_close"},
                         {5, "bid_size"}, {6, "ask_open"}, {7, "ask_high"}, {8, "ask_low"}, {9, "ask_close"},
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

// ---------------------------------------------------------------- books

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
      return tl::unexpected(header_error(
          "a Tardis book snapshot file: expected the header 'exchange,symbol,timestamp,local_timestamp,"
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

std::unique_ptr<Parser> make_parser(Format format, const ByteSource& source, const ImportOptions& options,
                                    Emitter& out) {
  switch (format) {
    case Format::Mt5Bars:
    case Format::HistData:
    case Format::Csv:
      return std::make_unique<BarParser>(format, source, options, out);
    case Format::Mt5Ticks:
      return std::make_unique<Mt5TickParser>(source, options, out);
    case Format::Trades:
      return std::make_unique<TradeParser>(source, options, out);
    case Format::Quotes:
      return std::make_unique<QuoteParser>(source, options, out);
    case Format::TardisBook:
      return std::make_unique<TardisBookParser>(source, options, out);
    case Format::TardisIncremental:
    case Format::BinanceDepth:
      return std::make_unique<DeltaBookParser>(format, source, options, out);
    case Format::Lean:
      return std::make_unique<LeanBarParser>(source, options, out);
  }
  return nullptr;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

Expected<ImportStats> import_source(ByteSource& source, Format format, const ImportOptions& options,
                                    RecordSink& sink, ProgressFn progress, void* progress_context) {
  ImportStats stats;
  detail::LineReader reader(source, progress, progress_context);
  Emitter out(sink, stats);
  std::unique_ptr<Parser> parser = make_parser(format, source, options, out);
  if (!parser) return make_error("unsupported format");
  bool started = false;
  std::int64_t data_rows = 0;
  std::string_view line;
  Fail fail;
  while (reader.next(line)) {
    if (blank(line)) {
      ++stats.skipped;
      continue;
    }
    if (!started) {
      started = true;
      auto is_header = parser->start(line);
      if (!is_header) return tl::unexpected(is_header.error());
      if (*is_header) {
        ++stats.skipped;
        continue;
      }
    }
    ++data_rows;
    if (!parser->row(line, fail)) {
      RowError error{source.name(), reader.line_number(), std::string(fail.field), std::move(fail.reason),
                     std::string(line.substr(0, 200))};
      if (options.strict) return make_error(error.to_string());
      ++stats.rejected;
      sink.on_reject(error);
    }
  }
  if (reader.error()) return tl::unexpected(*reader.error());
  parser->finish();
  stats.lines = reader.line_number();
  stats.encoding = reader.encoding();
  if (data_rows == 0) return make_error(source.name() + ": no data rows");
  return stats;
}

}  // namespace quant::ingest
