#pragma once
/// Buffered CSV output for the run directory: a file that remembers its first
/// write error, and a line builder that formats numbers and times without
/// printf on the per-bar path. Shared by the run writer and the trade log.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/time.h"

namespace quant::backtest {

/// A buffered output file; remembers the first write error.
class CsvFile {
 public:
  Expected<void> open(const std::string& path, const char* header) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) return make_error("backtest: cannot write " + path);
    buffer_ = std::make_unique<char[]>(1 << 20);
    std::setvbuf(file_, buffer_.get(), _IOFBF, 1 << 20);
    std::fputs(header, file_);
    std::fputc('\n', file_);
    return {};
  }
  FILE* get() { return file_; }
  Expected<void> close() {
    if (file_ == nullptr) return {};
    const bool bad = std::ferror(file_) != 0;
    const bool close_failed = std::fclose(file_) != 0;
    file_ = nullptr;
    if (bad || close_failed) return make_error("backtest: write failed for " + path_);
    return {};
  }
  ~CsvFile() {
    // Only on an error path: a finished run calls close(), which reports write errors.
    if (file_ != nullptr) (void)std::fclose(file_);
  }

 private:
  std::string path_;
  FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;
};

/// Decimals that print multiples of `tick` exactly (5 → 0, 0.5 → 1).
inline int price_decimals(double tick) {
  int d = 0;
  while (d < 10 && std::fabs(tick * std::pow(10.0, d) - std::round(tick * std::pow(10.0, d))) > 1e-9) ++d;
  return d;
}

/// One output line built in a reused buffer, then written with one fwrite.
/// Produces the same text as the printf formats it replaces (std::to_chars
/// with a precision is specified as printf's %.*f / %.*g), without printf's
/// format parsing on the per-bar and per-order path.
class Line {
 public:
  Line& text(std::string_view s) {
    buffer_.append(s);
    return *this;
  }
  Line& comma() {
    buffer_.push_back(',');
    return *this;
  }
  /// Free text for a CSV field: commas and line breaks become ';'.
  Line& field_text(std::string_view s) {
    const std::size_t at = buffer_.size();
    buffer_.append(s);
    for (std::size_t i = at; i < buffer_.size(); ++i) {
      char& c = buffer_[i];
      if (c == ',' || c == '\n' || c == '\r') c = ';';
    }
    return *this;
  }
  Line& integer(long long value) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, value);
    buffer_.append(digits, r.ptr);
    return *this;
  }
  /// printf("%.*f", decimals, value)
  Line& fixed(double value, int decimals) {
    // Fast path: the value scaled to an integer, when that cannot round
    // differently from printf (not near a tie, well inside 2^53).
    static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (decimals >= 0 && decimals <= 9) {
      const double scaled = value * kPow10[decimals];
      const double magnitude = std::fabs(scaled);
      if (magnitude < 1e15) {
        const double floor_part = std::floor(magnitude);
        const double fraction = magnitude - floor_part;
        if (std::fabs(fraction - 0.5) > 1e-6) {
          auto units = static_cast<std::uint64_t>(floor_part) + (fraction > 0.5 ? 1 : 0);
          char digits[32];
          char* end = digits + sizeof digits;
          char* p = end;
          for (int i = 0; i < decimals; ++i) {
            *--p = static_cast<char>('0' + units % 10);
            units /= 10;
          }
          if (decimals > 0) *--p = '.';
          do {
            *--p = static_cast<char>('0' + units % 10);
            units /= 10;
          } while (units != 0);
          // printf keeps the sign of a negative value that rounds to zero ("-0.00").
          if (std::signbit(value) && !std::isnan(value)) *--p = '-';
          buffer_.append(p, end);
          return *this;
        }
      }
    }
    char digits[400];
    const auto r = std::to_chars(digits, digits + sizeof digits, value, std::chars_format::fixed, decimals);
    if (r.ec != std::errc()) {
      const int n = std::snprintf(digits, sizeof digits, "%.*f", decimals, value);
      buffer_.append(digits, static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof digits) - 1)));
      return *this;
    }
    buffer_.append(digits, r.ptr);
    return *this;
  }
  /// printf("%.6g", value)
  Line& general6(double value) {
    char digits[64];
    const auto r = std::to_chars(digits, digits + sizeof digits, value, std::chars_format::general, 6);
    buffer_.append(digits, r.ptr);
    return *this;
  }
  /// format_utc(t), with the date part cached (bars of one day share it).
  Line& time(Timestamp t) {
    const std::int64_t ns = t.time_since_epoch().count();
    std::int64_t secs = ns / 1'000'000'000;
    if (secs * 1'000'000'000 > ns) --secs;
    if (secs * 1'000'000'000 != ns) return text(format_utc(t));  // sub-second part: the general path
    std::int64_t day = secs / 86400;
    if (day * 86400 > secs) --day;
    if (day != cached_day_) {
      const std::string full = format_utc(t);  // "YYYY-MM-DDTHH:MM:SSZ"
      cached_date_ = full.substr(0, full.size() - 9);
      cached_day_ = day;
    }
    buffer_.append(cached_date_);
    const auto in_day = static_cast<unsigned>(secs - day * 86400);
    const unsigned h = in_day / 3600, m = in_day / 60 % 60, sec = in_day % 60;
    const char hms[9] = {static_cast<char>('0' + h / 10),   static_cast<char>('0' + h % 10),   ':',
                         static_cast<char>('0' + m / 10),   static_cast<char>('0' + m % 10),   ':',
                         static_cast<char>('0' + sec / 10), static_cast<char>('0' + sec % 10), 'Z'};
    buffer_.append(hms, sizeof hms);
    return *this;
  }
  /// Writes the line and a newline to `file`, and empties the buffer.
  void write_to(FILE* file) {
    buffer_.push_back('\n');
    std::fwrite(buffer_.data(), 1, buffer_.size(), file);
    buffer_.clear();
  }

 private:
  std::string buffer_;
  std::int64_t cached_day_ = std::numeric_limits<std::int64_t>::min();
  std::string cached_date_;
};

}  // namespace quant::backtest
