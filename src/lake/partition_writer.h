#pragma once
/// Writing one partition file: staging rows in DuckDB, merging them with the
/// file's rows, and publishing the result crash-safely (temporary file, fsync,
/// rename, directory fsync). Internal to src/lake; `LakeWriter` drives it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "lake/duckdb_connection.h"
#include "lake/lake_impl.h"
#include "lake/schema.h"

namespace quant::lake {

/// The temporary a partition is written to before the rename:
/// `<dir>/.data.parquet.<pid>.partial` (never matches the readers' *.parquet globs).
std::string partial_path(const std::string& dir);

/// True for a file name made by partial_path().
bool is_partial_name(const std::string& name);

/// Deletes every temporary under `root`. Only call it with the lake's writer
/// lock held: then no live writer owns any of them, they are a dead writer's leftovers.
Expected<void> remove_stale_partials(const std::string& root);

/// Which partition: a UTC month (day 0: bars) or a UTC day (ticks, trades, book).
struct PartitionKey {
  int year = 0;
  int month = 0;
  int day = 0;
};

/// What the writer staged for one partition.
struct StagedRows {
  std::int64_t records = 0;   ///< records staged (book: snapshots, not level rows)
  Timestamp first{}, last{};  ///< their first and last timestamp
  /// The write's last bar, when this partition holds it and the writer was asked
  /// to mark a still-forming last bar (WriteOptions::provisional_tail).
  std::optional<Timestamp> tail;
  /// Staged in several blocks, a later one starting before an earlier one
  /// ended: `seq` of records sharing a timestamp across blocks must be
  /// renumbered (in staging order) and the rows sorted when written.
  bool resequence = false;
};

/// Writes partitions of one dataset and symbol: the new rows (sorted, unique
/// keys) go to the TEMP table `new_rows`, then into the partition file, merged
/// with what it already holds: rows already in the lake win, except with
/// `replace` and for bars marked provisional. Keeps the partition's marks
/// (generated spans, provisional bars) in its metadata. Not thread-safe;
/// `lake` must outlive it.
class PartitionWriter {
 public:
  PartitionWriter(const LakeShared& lake, Dataset dataset, std::string symbol, duck::Connection con,
                  WriteOptions options);

  /// Replaces (or with `append`, extends) the staging table's contents with
  /// `rows` rows: `fill_rows(builder, begin, end)` writes input rows [begin,
  /// end) into chunk rows [0, end - begin). The table lives in DuckDB, which
  /// spills it past its memory limit.
  template <class Fill>
  Expected<void> stage(bool append, std::size_t rows, Fill&& fill_rows) {
    auto appender = open_staging(append);
    if (!appender) return tl::unexpected(appender.error());
    const std::size_t step = duck::vector_size();
    for (std::size_t begin = 0; begin < rows; begin += step) {
      const std::size_t end = std::min(rows, begin + step);
      builder_.begin();
      fill_rows(builder_, begin, end);
      if (auto appended = appender->append(builder_, end - begin); !appended) return appended;
    }
    return appender->close();
  }

  /// Merges the staged rows into partition `key` and adds the outcome to
  /// `stats`. A merge that changes neither the rows nor the marks leaves the
  /// file untouched. On failure the partition is as it was. A day whose month
  /// is still one file (a lake from before day partitions) first migrates
  /// that month to day files (migrate_month).
  Expected<void> commit(const PartitionKey& key, const StagedRows& staged, WriteStats& stats);

  /// Splits the month file `<month dir>/data.parquet` of a day-partitioned
  /// dataset into day partitions with the same rows and marks (generated
  /// spans clipped to each day), each written crash-safely, then removes the
  /// month file: readers see the month file until that one unlink, then the
  /// days (list_files ignores day directories beside a month file). A
  /// migration killed half-way is redone by the next one. No month file: nothing to do.
  Expected<void> migrate_month(int year, int month);

 private:
  /// An appender on the staging table, made fresh and empty unless `append`.
  Expected<duck::Appender> open_staging(bool append);

  /// Renumbers `seq` of the staged rows by staging order among rows sharing
  /// a timestamp (StagedRows::resequence); the COPY then sorts them.
  Expected<void> resequence();

  /// fsync(partial), rename(partial, final_path), fsync(dir) and, for a new
  /// directory, its parents up to the root. Removes the partial on failure.
  Expected<void> publish(const std::string& partial, const std::string& final_path, const std::string& dir,
                         bool new_dir);

  /// " (FORMAT parquet, COMPRESSION …, ROW_GROUP_SIZE …" (the caller closes the parenthesis).
  std::string copy_options() const;

  /// True when the symbol has a partition of a month after (year, month).
  Expected<bool> later_partition_exists(int year, int month) const;

  const LakeShared& lake_;
  Dataset dataset_;
  WriteOptions options_;
  const Schema& schema_;
  std::string symbol_;
  duck::Connection con_;
  duck::ChunkBuilder builder_;
};

}  // namespace quant::lake
