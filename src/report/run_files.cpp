#include "report/run_files.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <deque>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include "core/time.h"

namespace quant::report {
namespace {

Error open_error(const std::filesystem::path& path) {
  return Error{path.string() + ": cannot open (" + std::generic_category().message(errno) +
               "); is this a backtest run directory (quant backtest --out DIR)?"};
}

std::string_view trim_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void split_commas(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(line.substr(start));
      return;
    }
    out.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

bool is_date(std::string_view text) {
  if (text.size() != 10) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 4 || i == 7;
    if (dash ? text[i] != '-' : (text[i] < '0' || text[i] > '9')) return false;
  }
  return parse_utc_seconds(text).has_value();
}

std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxShown = 40;
  std::string shown(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  return "'" + shown + "'";
}

}  // namespace

std::size_t Table::kept_rows() const {
  if (columns.empty()) return 0;
  return std::visit([](const auto& values) { return values.size(); }, columns.front());
}

const std::vector<double>& Table::numbers(std::size_t column) const {
  return std::get<std::vector<double>>(columns.at(column));
}

const std::vector<std::string>& Table::texts(std::size_t column) const {
  return std::get<std::vector<std::string>>(columns.at(column));
}

Error CsvRow::error(std::string_view message) const {
  return Error{path_ + ":" + std::to_string(line_) + ": " + std::string(message)};
}

std::optional<double> parse_number(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_utc_seconds(std::string_view text) {
  // The run directory's own form, "YYYY-MM-DDTHH:MM:SSZ", read directly (a
  // long run has millions of them); anything else through the general parser.
  if (text.size() == 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
      text[16] == ':' && text[19] == 'Z') {
    int v[6] = {0, 0, 0, 0, 0, 0};
    static constexpr int kStart[6] = {0, 5, 8, 11, 14, 17}, kWidth[6] = {4, 2, 2, 2, 2, 2};
    bool digits = true;
    for (int f = 0; f < 6 && digits; ++f) {
      for (int i = kStart[f]; i < kStart[f] + kWidth[f]; ++i) {
        const char ch = text[static_cast<std::size_t>(i)];
        digits = digits && ch >= '0' && ch <= '9';
        v[f] = v[f] * 10 + (ch - '0');
      }
    }
    if (digits && v[1] >= 1 && v[1] <= 12 && v[2] >= 1 && v[3] <= 23 && v[4] <= 59 && v[5] <= 59) {
      const std::int64_t day = days_from_civil(v[0], static_cast<unsigned>(v[1]), static_cast<unsigned>(v[2]));
      // A day past the month's end (Feb 30) lands in the next month: the general parser rejects it.
      const std::int64_t next_month =
          v[1] == 12 ? days_from_civil(v[0] + 1, 1, 1) : days_from_civil(v[0], static_cast<unsigned>(v[1] + 1), 1);
      if (day < next_month) return static_cast<double>(day * 86400 + v[3] * 3600 + v[4] * 60 + v[5]);
    }
  }
  auto time = parse_time_arg(text, TimeZone::utc());
  if (!time) return std::nullopt;
  const std::int64_t millis = to_epoch_ns(*time) / 1'000'000;
  return static_cast<double>(millis) / 1000.0;
}

int decimal_places(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return 0;
  std::size_t end = dot + 1;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return static_cast<int>(end - dot - 1);
}

Expected<std::string> read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return tl::unexpected(open_error(path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(path.string() + ": read failed");
  return text.str();
}

Expected<Table> read_table(const std::filesystem::path& path, std::span<const ColumnSpec> specs,
                           const ReadOptions& options) {
  const std::string path_text = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return tl::unexpected(open_error(path));

  std::string line;
  std::size_t line_number = 0;
  std::vector<std::string_view> fields;
  // The header: map each wanted column to its position in the file.
  std::string header_line;
  while (std::getline(in, header_line)) {
    ++line_number;
    if (!is_blank(trim_cr(header_line))) break;
  }
  if (is_blank(trim_cr(header_line))) {
    return make_error(path_text + ":1: empty file, expected a header line");
  }
  split_commas(trim_cr(header_line), fields);
  const std::size_t field_count = fields.size();
  std::vector<std::size_t> positions;
  for (const ColumnSpec& spec : specs) {
    std::size_t found = field_count;
    for (std::size_t i = 0; i < field_count; ++i) {
      if (fields[i] == spec.name) found = i;
    }
    if (found == field_count) {
      return make_error(path_text + ":" + std::to_string(line_number) + ": missing column '" + std::string(spec.name) +
                        "' (header: " + std::string(trim_cr(header_line)) + ")");
    }
    positions.push_back(found);
  }

  Table table;
  for (const ColumnSpec& spec : specs) {
    table.names.emplace_back(spec.name);
    const bool text = spec.kind == FieldKind::Date || spec.kind == FieldKind::Text;
    if (text) {
      table.columns.emplace_back(std::vector<std::string>{});
    } else {
      table.columns.emplace_back(std::vector<double>{});
    }
  }

  std::vector<std::string_view> wanted(specs.size());
  std::vector<double> numbers(specs.size());
  // The last rows, kept until the end of the file is known: a ring of records.
  struct Record {
    std::vector<double> numbers;
    std::vector<std::string> texts;
  };
  std::deque<Record> tail;
  const auto keep = [&](auto&& number_of, auto&& text_of) {
    for (std::size_t c = 0; c < specs.size(); ++c) {
      if (auto* texts = std::get_if<std::vector<std::string>>(&table.columns[c])) {
        texts->emplace_back(text_of(c));
      } else {
        std::get<std::vector<double>>(table.columns[c]).push_back(number_of(c));
      }
    }
  };
  double previous_time = -std::numeric_limits<double>::infinity();
  while (std::getline(in, line)) {
    ++line_number;
    const std::string_view record = trim_cr(line);
    if (is_blank(record)) continue;
    split_commas(record, fields);
    for (std::size_t c = 0; c < specs.size(); ++c) {
      wanted[c] = positions[c] < fields.size() ? fields[positions[c]] : std::string_view{};
    }
    const CsvRow row(path_text, line_number, wanted, numbers);
    if (fields.size() != field_count) {
      return tl::unexpected(
          row.error("expected " + std::to_string(field_count) + " fields, got " + std::to_string(fields.size())));
    }
    for (std::size_t c = 0; c < specs.size(); ++c) {
      const std::string_view value = wanted[c];
      // Built only for an error: this loop runs for every field of every row.
      const auto column = [&] { return "column " + std::string(specs[c].name) + ": "; };
      switch (specs[c].kind) {
        case FieldKind::Time: {
          const auto seconds = parse_utc_seconds(value);
          if (!seconds) {
            return tl::unexpected(row.error(column() + quoted(value) + " is not an ISO 8601 UTC time"));
          }
          numbers[c] = *seconds;
          break;
        }
        case FieldKind::OptionalTime: {
          const auto seconds = parse_utc_seconds(value);
          if (!seconds && !value.empty()) {
            return tl::unexpected(row.error(column() + quoted(value) + " is not an ISO 8601 UTC time"));
          }
          numbers[c] = seconds ? *seconds : std::numeric_limits<double>::quiet_NaN();
          break;
        }
        case FieldKind::Number: {
          const auto number = parse_number(value);
          if (!number || !std::isfinite(*number)) {
            return tl::unexpected(row.error(column() + quoted(value) + " is not a number"));
          }
          numbers[c] = *number;
          break;
        }
        case FieldKind::OptionalNumber: {
          const auto number = parse_number(value);
          if (!number && !value.empty() && value != "nan" && value != "NaN") {
            return tl::unexpected(row.error(column() + quoted(value) + " is not a number"));
          }
          numbers[c] = number ? *number : std::numeric_limits<double>::quiet_NaN();
          break;
        }
        case FieldKind::Date:
          if (!is_date(value)) {
            return tl::unexpected(row.error(column() + quoted(value) + " is not a date YYYY-MM-DD"));
          }
          break;
        case FieldKind::Text: break;
      }
    }
    if (options.ascending_time_column) {
      const double time = numbers[*options.ascending_time_column];
      if (time < previous_time) {
        return tl::unexpected(row.error("column " + std::string(specs[*options.ascending_time_column].name) +
                                        ": time goes backwards (rows must be in time order)"));
      }
      previous_time = time;
    }
    if (options.on_row) {
      if (auto checked = options.on_row(row); !checked) return tl::unexpected(checked.error());
    }
    ++table.total_rows;
    if (table.total_rows <= options.head_rows) {
      keep([&](std::size_t c) { return numbers[c]; }, [&](std::size_t c) { return wanted[c]; });
      ++table.head_rows;
      continue;
    }
    if (options.tail_rows == 0) continue;
    Record kept;
    if (tail.size() == options.tail_rows) {
      kept = std::move(tail.front());  // reuse its buffers
      tail.pop_front();
    }
    kept.numbers.assign(numbers.begin(), numbers.end());
    kept.texts.resize(specs.size());
    for (std::size_t c = 0; c < specs.size(); ++c) {
      if (specs[c].kind == FieldKind::Date || specs[c].kind == FieldKind::Text) kept.texts[c].assign(wanted[c]);
    }
    tail.push_back(std::move(kept));
  }
  for (const Record& kept : tail) {
    keep([&](std::size_t c) { return kept.numbers[c]; }, [&](std::size_t c) { return kept.texts[c]; });
  }
  if (in.bad()) return make_error(path_text + ": read failed after line " + std::to_string(line_number));
  return table;
}

}  // namespace quant::report
