#pragma once
/// Writing records into the lake: `Lake::writer()` hands out a `LakeWriter`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "core/time.h"

namespace quant::lake {

/// How a writer merges into partitions that already hold data, and what it
/// marks in the partitions it writes (Parquet key-value metadata, written in
/// the same atomic rename as the rows; see docs/contracts/lake.md).
struct WriteOptions {
  /// A key already in the lake with other values: false keeps the lake's row
  /// (a conflict), true writes the new row over it (counted in `replaced`).
  bool replace = false;
  /// Bars only: the last bar written may still be forming (an MT5 export's
  /// last row, the last minute aggregated from ticks or trades). When it ends
  /// the symbol's series it is marked provisional; a later write carrying that
  /// timestamp completes it (`completed`) instead of conflicting with it.
  bool provisional_tail = false;
  /// Non-empty: the records are generated, not real market data. Every
  /// partition this writer writes is marked with this one-line label
  /// ("quant generate seed=42 days=120") and the span written; merges keep the mark.
  std::string generated;
};

/// At most this many conflicting (and completed) timestamps are kept as examples.
inline constexpr std::size_t kConflictExamples = 5;

/// Counts of one write (one flush of one writer).
struct WriteStats {
  std::int64_t received = 0;    ///< records handed to the writer
  std::int64_t added = 0;       ///< new keys written
  std::int64_t duplicates = 0;  ///< keys already present (or repeated in the input) with equal values
  /// Keys already present with different values (or repeated in the input with
  /// different values: the first one is kept). Without `replace` the lake's row
  /// was kept; with it, the lake's conflicts were `replaced`.
  std::int64_t conflicts = 0;
  std::int64_t replaced = 0;   ///< conflicts with the lake where the new row won (WriteOptions::replace)
  std::int64_t completed = 0;  ///< provisional bars replaced by their new version (not conflicts)
  std::int64_t partitions_written = 0;
  /// Conflicts with rows already in the lake (not repeats inside the input): the
  /// first kConflictExamples timestamps, in time order, and the span they cover.
  std::vector<Timestamp> conflict_examples;
  Timestamp first_conflict{}, last_conflict{};  ///< valid when conflict_examples is not empty
  std::vector<Timestamp> completed_bars;        ///< the first kConflictExamples completed bars
  /// The bar this write left marked provisional (it ends the series), if any.
  std::optional<Timestamp> provisional;
};

/// Buffers records of one dataset and symbol and writes them partition by
/// partition (bars: UTC months; ticks, trades, book: UTC days). Records may
/// come in any order; a partition is written once the input moves past it.
/// Memory: one partition's records, or with LakeOptions::memory_budget_bytes
/// at most a quarter of the budget (larger days go to DuckDB block by block,
/// whatever the input's order). Nothing is visible before `flush()` (or an automatic partition flush)
/// renames the file into place. Ticks, trades and book snapshots that share a
/// timestamp get `seq` 0, 1, 2 ... in arrival order within one partition
/// write; the same input therefore gets the same seqs and deduplicates. (A
/// partition revisited after it was written, i.e. input out of time order,
/// numbers from 0 again.) Not thread-safe.
class LakeWriter {
 public:
  virtual ~LakeWriter() = default;
  virtual void add(const Bar& bar) = 0;
  virtual void add(const Tick& tick) = 0;
  virtual void add(const Trade& trade) = 0;
  virtual void add(const BookSnapshot& book) = 0;
  /// Writes everything still buffered and returns the totals since the writer
  /// was made. A writer destroyed without flush() discards its buffer (an
  /// aborted import writes nothing more).
  virtual Expected<WriteStats> flush() = 0;
  /// An error from an automatic partition flush inside add(), if any; once set, add() ignores records.
  virtual const std::optional<Error>& error() const = 0;
};

}  // namespace quant::lake
