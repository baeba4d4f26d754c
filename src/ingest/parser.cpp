// The once-per-file half of Parser (header lookup, column mapping, time-kind
// detection, Lean's date) and the small text helpers every format uses. The
// per-row half is inline in parser.h.
#include "ingest/parser.h"

#include <algorithm>

namespace quant::ingest::detail {

std::string quoted(std::string_view text) {
  if (text.size() > 40) return "'" + std::string(text.substr(0, 40)) + "...'";
  return "'" + std::string(text) + "'";
}

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

std::string normalize(std::string_view cell) {
  cell = trim(cell);
  if (cell.size() >= 2 && cell.front() == '<' && cell.back() == '>') cell = cell.substr(1, cell.size() - 2);
  return lower(trim(cell));
}

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
  return !line.empty() && is_digit(line.front());
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c); });
}

Parser::~Parser() = default;

Error Parser::header_error(std::string_view what, std::string_view line) const {
  return Error{source_.name() + ": not " + std::string(what) + ", saw '" + shown(line) + "'"};
}

void Parser::set_header(const std::vector<std::string_view>& cells) {
  names_.clear();
  normalized_.clear();
  for (auto cell : cells) {
    names_.push_back(display_name(cell));
    normalized_.push_back(normalize(cell));
  }
}

int Parser::find(std::initializer_list<std::string_view> candidates) const {
  for (auto candidate : candidates) {
    for (std::size_t i = 0; i < normalized_.size(); ++i) {
      if (normalized_[i] == candidate) return static_cast<int>(i);
    }
  }
  return -1;
}

Expected<int> Parser::column(const std::string& mapped, std::string_view role, std::size_t count,
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

Expected<int> Parser::pick_column(const std::string& mapped, std::string_view role,
                                  std::initializer_list<std::string_view> names, int fallback, bool header,
                                  std::size_t n_fields) {
  auto c = column(mapped, role, n_fields, names);
  if (!c) return c;
  return *c >= 0 ? *c : (header ? -1 : (fallback < static_cast<int>(n_fields) ? fallback : -1));
}

void Parser::default_names(std::size_t count, std::initializer_list<std::pair<int, std::string_view>> known) {
  names_.assign(count, std::string());
  for (std::size_t i = 0; i < count; ++i) names_[i] = "column " + std::to_string(i + 1);
  for (const auto& [index, name] : known) {
    if (index >= 0 && static_cast<std::size_t>(index) < count) names_[static_cast<std::size_t>(index)] = name;
  }
}

void Parser::choose_time_kind(std::string_view sample) {
  epoch_scale_ = 1;
  switch (options_.time_format) {
    case TimeFormat::Iso8601: ts_kind_ = TsKind::Text; return;
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
    case TimeFormat::EpochNanos: ts_kind_ = TsKind::Epoch; return;
    case TimeFormat::Auto: break;
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

Expected<void> Parser::lean_setup() {
  std::string_view date = options_.base_date;
  std::string from_name;
  if (date.empty()) {
    for (const std::string* name : {&source_.inner_name(), &source_.name()}) {
      const std::string_view base = std::string_view(*name).substr(name->find_last_of('/') + 1);
      for (std::size_t i = 0; i + 8 <= base.size(); ++i) {
        if (all_digits(base.substr(i, 8)) && (i + 8 == base.size() || !is_digit(base[i + 8])) &&
            (i == 0 || !is_digit(base[i - 1]))) {
          from_name = std::string(base.substr(i, 8));
          break;
        }
      }
      if (!from_name.empty()) break;
    }
    date = from_name;
  }
  TextTime t;
  if (date.empty() || !parse_text_time(date, t) || t.has_time || t.has_offset) {
    return make_error(source_.name() +
                      ": Lean rows hold the time of day only and no date was found: name the file "
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

}  // namespace quant::ingest::detail
