#pragma once
/// The marks a partition carries in its Parquet key-value metadata, written by
/// the same COPY (and so published by the same rename) as its rows, and
/// carried over by every later merge. Internal to src/lake.
///
///   quant.provisional  bars that may still be forming: epoch nanoseconds, comma-separated, sorted
///   quant.generated    generated spans, one a line: "<first ns> <last ns> <label>"
///
/// The format is part of the lake contract (docs/contracts/lake.md).

#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "lake/duckdb_connection.h"
#include "lake/lake.h"

namespace quant::lake {

inline constexpr const char* kProvisionalKey = "quant.provisional";
inline constexpr const char* kGeneratedKey = "quant.generated";

/// What one partition is marked with.
struct PartitionMarks {
  std::vector<Timestamp> provisional;    ///< sorted, unique
  std::vector<GeneratedSpan> generated;  ///< one span per label
  bool operator==(const PartitionMarks&) const = default;
};

/// Adds `span`: widened into the span with the same label, else appended.
void add_generated(std::vector<GeneratedSpan>& spans, const GeneratedSpan& span);

/// The label as it is stored: one line (CR and LF become spaces), never empty.
std::string clean_label(std::string label);

std::string format_provisional(const std::vector<Timestamp>& provisional);
std::vector<Timestamp> parse_provisional(const std::string& text);
std::string format_generated(const std::vector<GeneratedSpan>& spans);
/// A line that does not parse (another tool's, or damaged) reads as a span
/// over all time: a generated mark is never dropped because it is unreadable.
std::vector<GeneratedSpan> parse_generated(const std::string& text);

/// ", KV_METADATA {...}" to append to a COPY's options ("" without marks).
std::string kv_metadata_option(const PartitionMarks& marks);

/// The marks of the files `paths`, by path (files without marks are absent).
/// Reads only the footers. Fails naming the file set when one cannot be read.
Expected<std::map<std::string, PartitionMarks>> read_marks(duck::Connection& con,
                                                           const std::vector<std::string>& paths);

}  // namespace quant::lake
