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

/// The rows of one CSV file as columns, in the order of the specs: the
/// first `head_rows` kept rows are the file's first rows, the others its last
/// rows (`ReadOptions::head_rows`, `tail_rows`); when nothing was skipped the
/// kept rows are the whole file.
struct Table {
  std::vector<std::string> names;
  std::vector<ColumnValues> columns;
  std::size_t total_rows = 0;  ///< rows in the file (may exceed the rows kept)
  std::size_t head_rows = 0;   ///< kept rows from the start; rows after them come from the end

  std::size_t kept_rows() const;
  const std::vector<double>& numbers(std::size_t column) const;
  const std::vector<std::string>& texts(std::size_t column) const;
};

/// A data row while it is read: raw fields by spec index, their parsed values
/// (Time, OptionalTime, Number and OptionalNumber columns), and where it is.
class CsvRow {
 public:
  CsvRow(const std::string& path, std::size_t line, std::span<const std::string_view> fields,
         std::span<const double> numbers)
      : path_(path), line_(line), fields_(fields), numbers_(numbers) {}
  std::string_view field(std::size_t column) const { return fields_[column]; }
  /// The parsed value of a Time or number column (seconds for times; NaN when
  /// an optional field is empty). Meaningless for Date and Text columns.
  double number(std::size_t column) const { return numbers_[column]; }
  std::size_t line() const { return line_; }
  /// "<path>:<line>: <message>".
  Error error(std::string_view message) const;

 private:
  const std::string& path_;
  std::size_t line_;
  std::span<const std::string_view> fields_;
  std::span<const double> numbers_;
};

/// What `read_table` keeps and checks. Every row is read and checked whatever
/// is kept, so memory is bounded by `head_rows + tail_rows`, not by the file.
struct ReadOptions {
  /// Keep the first this many rows ...
  std::size_t head_rows = static_cast<std::size_t>(-1);
  /// ... and the last this many of the rows after them (a ring buffer while reading).
  std::size_t tail_rows = 0;
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
