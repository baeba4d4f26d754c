#pragma once
/// Where partitions live on disk: their directories and the listing of their
/// data files. Internal to src/lake.
///
///   <root>/kind=<dataset>/symbol=<SYM>/year=<YYYY>/month=<MM>/data.parquet

#include <string>
#include <vector>

#include "core/error.h"
#include "core/time.h"
#include "lake/lake.h"

namespace quant::lake {

/// The one file of a partition; readers open nothing else.
inline constexpr const char* kDataFile = "data.parquet";

/// One data file found on disk.
struct PartitionFile {
  int year = 0;
  int month = 0;
  std::string symbol;
  std::string path;
};

/// <root>/kind=<dataset>
std::string dataset_dir(const std::string& root, Dataset dataset);

/// <root>/kind=<dataset>/symbol=<symbol>/year=YYYY/month=MM
std::string partition_dir(const std::string& root, Dataset dataset, const std::string& symbol, int year, int month);

/// data.parquet files of one dataset (one symbol, or all when `symbol` is
/// empty), sorted by symbol, year, month. A dataset without a directory has
/// none; directories that do not parse as key=value are skipped. Fails when a
/// directory cannot be listed.
Expected<std::vector<PartitionFile>> list_files(const std::string& root, Dataset dataset, const std::string& symbol);

/// True when the UTC month (year, month) overlaps [from, to).
bool month_overlaps(int year, int month, Timestamp from, Timestamp to);

}  // namespace quant::lake
