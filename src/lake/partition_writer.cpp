#include "lake/partition_writer.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "lake/partition_files.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::generic_category().message(err); }

/// One comparable record per key: `SELECT <key>, <value> AS v FROM <source>`.
std::string record_relation(const Schema& schema, const std::string& source) {
  std::string sql = std::string("SELECT ") + schema.match_key + ", " + schema.value + " AS v FROM " + source;
  if (schema.grouped) sql += std::string(" GROUP BY ") + schema.match_key;
  return sql;
}

std::string join_on(const Schema& schema, const char* left, const char* right) {
  std::string key = schema.match_key;
  std::string out;
  std::size_t start = 0;
  while (start < key.size()) {
    std::size_t end = key.find(',', start);
    if (end == std::string::npos) end = key.size();
    std::string col = key.substr(start, end - start);
    col.erase(0, col.find_first_not_of(' '));
    if (!out.empty()) out += " AND ";
    out += std::string(left) + "." + col + " = " + right + "." + col;
    start = end + 1;
  }
  return out;
}

Expected<void> fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return make_error("lake: cannot open " + path + " to fsync: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return make_error("lake: fsync " + path + ": " + errno_text(err));
  return {};
}

}  // namespace

std::string partial_path(const std::string& dir) {
  return dir + "/.data.parquet." + std::to_string(::getpid()) + ".partial";
}

bool is_partial_name(const std::string& name) {
  constexpr std::string_view kPrefix = ".data.parquet.";
  constexpr std::string_view kSuffix = ".partial";
  return name.size() > kPrefix.size() + kSuffix.size() && name.compare(0, kPrefix.size(), kPrefix) == 0 &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

Expected<void> remove_stale_partials(const std::string& root) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || !is_partial_name(it->path().filename().string())) continue;
    std::error_code rm_ec;
    fs::remove(it->path(), rm_ec);
    if (rm_ec) return make_error("lake: cannot remove stale " + it->path().string() + ": " + rm_ec.message());
  }
  if (ec) return make_error("lake: cannot scan " + root + " for stale temporaries: " + ec.message());
  return {};
}

PartitionWriter::PartitionWriter(const LakeShared& lake, Dataset dataset, std::string symbol, duck::Connection con)
    : lake_(lake),
      dataset_(dataset),
      schema_(schema_of(dataset)),
      symbol_(std::move(symbol)),
      con_(std::move(con)),
      builder_(column_types(schema_)) {}

Expected<duck::Appender> PartitionWriter::open_staging() {
  auto created = con_.exec("CREATE OR REPLACE TEMP TABLE new_rows (" + column_ddl(schema_) + ")",
                           "cannot create the staging table");
  if (!created) return tl::unexpected(created.error());
  return duck::Appender::open(con_, "new_rows");
}

Expected<void> PartitionWriter::commit(int year, int month, std::int64_t staged_records, WriteStats& stats) {
  const std::string dir = partition_dir(lake_.root, dataset_, symbol_, year, month);
  const std::string final_path = dir + "/" + kDataFile;
  const std::string partial = partial_path(dir);
  std::error_code ec;
  const bool new_dir = !fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return make_error("lake: cannot create " + dir + ": " + ec.message());
  fs::remove(partial, ec);

  const std::string options = " (FORMAT parquet, COMPRESSION " + lake_.options.compression + ", ROW_GROUP_SIZE " +
                              std::to_string(std::max<std::int64_t>(1, lake_.options.row_group_rows)) + ")";
  const std::string columns = column_list(schema_);
  std::string copy;
  if (!fs::exists(final_path, ec)) {
    // Staged rows are already sorted and unique; the table keeps insertion order.
    copy = "COPY (SELECT " + columns + " FROM new_rows) TO " + sql_string(partial) + options;
    stats.added += staged_records;
  } else {
    const std::string existing = "read_parquet(" + sql_string(final_path) + ", hive_partitioning=false)";
    auto counts = con_.query("WITH n AS (" + record_relation(schema_, "new_rows") + "), e AS (" +
                                 record_relation(schema_, existing) +
                                 ") SELECT count(*) FILTER (WHERE e.ts IS NULL)::BIGINT, "
                                 "count(*) FILTER (WHERE e.ts IS NOT NULL AND n.v IS NOT DISTINCT FROM e.v)::BIGINT, "
                                 "count(*) FILTER (WHERE e.ts IS NOT NULL AND n.v IS DISTINCT FROM e.v)::BIGINT "
                                 "FROM n LEFT JOIN e ON " +
                                 join_on(schema_, "n", "e"),
                             "cannot compare new rows with " + final_path);
    if (!counts) return tl::unexpected(counts.error());
    auto chunk = counts->fetch("reading merge counts");
    if (!chunk) return tl::unexpected(chunk.error());
    QUANT_CHECK(*chunk && chunk->size() == 1);
    const std::int64_t added = chunk->data<std::int64_t>(0)[0];
    stats.added += added;
    stats.duplicates += chunk->data<std::int64_t>(1)[0];
    stats.conflicts += chunk->data<std::int64_t>(2)[0];
    if (added == 0) return {};  // nothing new: leave the file untouched
    copy = "COPY (SELECT " + columns + " FROM " + existing + " UNION ALL SELECT " + column_list(schema_, "n.") +
           " FROM new_rows n ANTI JOIN " + existing + " e ON " + join_on(schema_, "n", "e") + " ORDER BY " +
           schema_.order_key + ") TO " + sql_string(partial) + options;
  }
  auto copied = con_.exec(copy, "cannot write " + partial);
  if (!copied) {
    fs::remove(partial, ec);
    return copied;
  }
  // Durable before visible: the data reaches the disk, then the rename
  // publishes it atomically, then the directory entry is made durable.
  if (auto synced = fsync_path(partial, false); !synced) return synced;
  if (::rename(partial.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    fs::remove(partial, ec);
    return make_error("lake: cannot rename " + partial + " to " + final_path + ": " + errno_text(err));
  }
  if (auto synced = fsync_path(dir, true); !synced) return synced;
  if (new_dir) {
    // New directories must be durable in their parents too.
    for (fs::path p = fs::path(dir).parent_path(); p.string().size() >= lake_.root.size(); p = p.parent_path()) {
      if (auto synced = fsync_path(p.string(), true); !synced) return synced;
      if (p.string().size() == lake_.root.size()) break;
    }
  }
  ++stats.partitions_written;
  return {};
}

}  // namespace quant::lake
