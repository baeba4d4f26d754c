// Generic bar CSV ("csv"): columns by mapping, usual names or position; one
// timestamp column or date + time; the timestamp kind decided on the first data
// row; backtrader's header that omits the time column.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/bar_parser.h"
#include "ingest/parser.h"

namespace quant::ingest::detail {

namespace {

class CsvBarParser final : public BarParser {
 public:
  using BarParser::BarParser;

  Expected<bool> start(std::string_view line) override {
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
      default_names(n_fields_, {{ts_col_, date_time ? "date" : "timestamp"},
                                {time_col_, "time"},
                                {open_, "open"},
                                {high_, "high"},
                                {low_, "low"},
                                {close_, "close"},
                                {volume_, "volume"},
                                {tick_volume_, "tick_volume"},
                                {spread_, "spread"}});
    }
    has_header_ = header;
    ts_kind_ = date_time ? TsKind::DateTime : TsKind::Text;
    return header;
  }

 private:
  // Decisions that need a data row: the epoch unit, and the backtrader trap.
  void first_data_row() override {
    if (ts_kind_ == TsKind::Text) choose_time_kind(fields_[static_cast<std::size_t>(ts_col_)]);
    // A header that names one date column while the rows carry one more field,
    // a time of day right after the date (backtrader's minute files:
    // "Date,Open,..." over "2006-01-02,09:01:00,3602.00,..."). Read it as
    // date + time and shift the columns after the date by one.
    std::int64_t tod = 0;
    TextTime t;
    const auto ts_index = static_cast<std::size_t>(ts_col_);
    if (has_header_ && ts_kind_ == TsKind::Text && options_.columns.time.empty() && fields_.size() == n_fields_ + 1 &&
        ts_index + 1 < fields_.size() && parse_text_time(fields_[ts_index], t) && !t.has_time &&
        parse_time_of_day(fields_[ts_index + 1], tod)) {
      for (int* col : {&open_, &high_, &low_, &close_, &volume_, &tick_volume_, &spread_}) {
        if (*col > ts_col_) ++*col;
      }
      names_.insert(names_.begin() + static_cast<std::ptrdiff_t>(ts_index) + 1, "time (unnamed)");
      time_col_ = ts_col_ + 1;
      ts_kind_ = TsKind::DateTime;
      ++n_fields_;
    }
  }

  bool has_header_ = false;
};

}  // namespace

std::unique_ptr<Parser> make_csv_bar_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<CsvBarParser>(source, options, out);
}

}  // namespace quant::ingest::detail
