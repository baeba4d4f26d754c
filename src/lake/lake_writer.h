#pragma once
/// Writing records into the lake: `Lake::writer()` hands out a `LakeWriter`.

#include <cstdint>
#include <optional>

#include "core/error.h"
#include "core/market_data.h"

namespace quant::lake {

/// Counts of one write (one flush of one writer).
struct WriteStats {
  std::int64_t received = 0;    ///< records handed to the writer
  std::int64_t added = 0;       ///< new keys written
  std::int64_t duplicates = 0;  ///< keys already present (or repeated in the input) with equal values
  std::int64_t conflicts = 0;   ///< keys already present with different values: the lake's row was kept
  std::int64_t partitions_written = 0;
};

/// Buffers records of one dataset and symbol and writes them partition by
/// partition. Records may come in any order; memory stays bounded for
/// time-ordered input (a partition is written once the input has moved past
/// it). Nothing is visible before `flush()` (or an automatic partition flush)
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
