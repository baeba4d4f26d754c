#pragma once
/// Reading the CSV files of a backtest run directory
/// (docs/contracts/backtest_outputs.md) into typed columns.
///
/// Columns are looked up by name in the header, so their order may change and
/// extra columns are ignored. Every failure is an `Error` whose message starts
/// with `<path>:<line>:` and names the column, e.g.
/// `run/trades.csv:7: column entry_price: 'abc' is not a number`.
/// No state; safe to call from several threads on different files.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace quant::report {

/// How one CSV field is read.
enum class FieldKind {
  Time,            ///< ISO 8601 UTC time → seconds since the Unix epoch (ms kept)
  OptionalTime,    ///< a Time, or empty → NaN
  Date,            ///< `YYYY-MM-DD` → kept as text
  Number,          ///< a finite decimal number, required
  OptionalNumber,  ///< a number, or empty / `nan` → NaN (written as JSON null)
  Text,            ///< kept as text
};

struct ColumnSpec {
  std::string_view name;
  FieldKind kind;
};

/// One column: numbers (times, numbers; NaN = absent) or texts (Date, Text).
using ColumnValues = std::variant<std::vector<double>, std::vector<std::string>>;

/// The rows of one CSV file as columns, in the order of the specs.
struct Table {
  std::vector<std::string> names;
  std::vector<ColumnValues> columns;
  std::size_t total_rows = 0;  ///< rows in the file (may exceed the rows kept)

  std::size_t kept_rows() const;
  const std::vector<double>& numbers(std::size_t column) const;
  const std::vector<std::string>& texts(std::size_t column) const;
};

/// A data row while it is read: raw fields by spec index, plus where it is.
class CsvRow {
 public:
  CsvRow(const std::string& path, std::size_t line, std::span<const std::string_view> fields)
      : path_(path), line_(line), fields_(fields) {}
  std::string_view field(std::size_t column) const { return fields_[column]; }
  std::size_t line() const { return line_; }
  /// "<path>:<line>: <message>".
  Error error(std::string_view message) const;

 private:
  const std::string& path_;
  std::size_t line_;
  std::span<const std::string_view> fields_;
};

struct ReadOptions {
  /// Keep at most this many rows (the rest are still read and checked).
  std::size_t row_limit = static_cast<std::size_t>(-1);
  /// Index of a Time column that must never decrease from row to row.
  std::optional<std::size_t> ascending_time_column;
  /// Called for every data row after its fields were checked, kept or not;
  /// an error it returns ends the read (use `CsvRow::error` to say where).
  std::function<Expected<void>(const CsvRow&)> on_row;
};

/// Reads `path` (a header line, then one record per line; CR before LF is
/// tolerated, blank lines are skipped). Fails when the file cannot be opened,
/// is empty, lacks a column of `specs`, or a row has the wrong field count or
/// a field that does not parse as its kind.
Expected<Table> read_table(const std::filesystem::path& path, std::span<const ColumnSpec> specs,
                           const ReadOptions& options = {});

/// Reads a whole text file; the error names the file and says why.
Expected<std::string> read_text_file(const std::filesystem::path& path);

/// Parses a decimal number (`std::from_chars`, no locale). Empty or junk → nullopt.
std::optional<double> parse_number(std::string_view text);

/// Parses ISO 8601 UTC ("2024-01-02T12:00:00Z", offsets and "YYYY-MM-DD" too)
/// into seconds since the epoch, keeping milliseconds.
std::optional<double> parse_utc_seconds(std::string_view text);

/// Digits after the decimal point in `text` ("1.2350" → 4; "12" → 0).
int decimal_places(std::string_view text);

}  // namespace quant::report
