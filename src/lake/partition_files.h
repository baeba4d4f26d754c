#pragma once
/// Where partitions live on disk: their directories and the listing of their
/// data files. Internal to src/lake.
///
///   bars_1m:             <root>/kind=bars_1m/symbol=<SYM>/year=<YYYY>/month=<MM>/data.parquet
///   ticks, trades, book: <root>/kind=<dataset>/symbol=<SYM>/year=<YYYY>/month=<MM>/day=<DD>/data.parquet
///
/// A ticks/trades/book month may still be one file `month=<MM>/data.parquet`
/// (lakes written before day partitions). While such a file exists it is the
/// month's only data: `day=` directories beside it are ignored (they are a
/// migration in progress, see PartitionWriter), so the writer switches a month
/// from the old file to its days by one unlink.

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "lake/lake.h"

namespace quant::lake {

/// The one file of a partition; readers open nothing else.
inline constexpr const char* kDataFile = "data.parquet";

/// True for the datasets partitioned by UTC day (ticks, trades, book); bars_1m is monthly.
bool day_partitioned(Dataset dataset);

/// DuckDB's spill directory under the lake root (temporary files while a
/// write exceeds its memory limit; never matched by the partition listing).
inline constexpr const char* kSpillDir = ".tmp";

/// One data file found on disk.
struct PartitionFile {
  int year = 0;
  int month = 0;
  /// 1..31 for a day partition; 0 for a whole month (bars_1m, or a
  /// ticks/trades/book month written before day partitions).
  int day = 0;
  std::string symbol;
  std::string path;
};

/// <root>/kind=<dataset>
std::string dataset_dir(const std::string& root, Dataset dataset);

/// <root>/kind=<dataset>/symbol=<symbol>/year=YYYY/month=MM[/day=DD] (day 0: the month directory)
std::string partition_dir(const std::string& root, Dataset dataset, const std::string& symbol, int year, int month,
                          int day = 0);

/// data.parquet files of one dataset (one symbol, or all when `symbol` is
/// empty), sorted by symbol, year, month, day. A dataset without a directory
/// has none; directories that do not parse as key=value are skipped. Fails
/// when a directory cannot be listed.
Expected<std::vector<PartitionFile>> list_files(const std::string& root, Dataset dataset, const std::string& symbol);

/// True when the file's span (its UTC month, or its UTC day) overlaps [from, to).
bool overlaps(const PartitionFile& file, Timestamp from, Timestamp to);

/// [start, end) of a UTC day (day > 0) or month (day == 0).
std::pair<Timestamp, Timestamp> partition_span(int year, int month, int day);

}  // namespace quant::lake
