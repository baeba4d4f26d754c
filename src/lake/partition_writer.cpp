#include "lake/partition_writer.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "core/file_io.h"
#include "lake/bar_cache.h"
#include "lake/partition_files.h"
#include "lake/partition_marks.h"

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

PartitionWriter::PartitionWriter(const LakeShared& lake, Dataset dataset, std::string symbol, duck::Connection con,
                                 WriteOptions options)
    : lake_(lake),
      dataset_(dataset),
      options_(std::move(options)),
      schema_(schema_of(dataset)),
      symbol_(std::move(symbol)),
      con_(std::move(con)),
      builder_(column_types(schema_)) {}

Expected<duck::Appender> PartitionWriter::open_staging(bool append) {
  if (!append) {
    auto created = con_.exec("CREATE OR REPLACE TEMP TABLE new_rows (" + column_ddl(schema_) + ")",
                             "cannot create the staging table");
    if (!created) return tl::unexpected(created.error());
  }
  return duck::Appender::open(con_, "new_rows");
}

Expected<void> PartitionWriter::resequence() {
  // Rows of one timestamp keep their staging order (rowid): each block was
  // stably sorted by time, and blocks were staged in arrival order. A book
  // snapshot's rows are consecutive levels from 0, so rowid - level names it.
  std::string cols;
  for (const Column& c : schema_.columns) {
    std::string name = c.name;
    if (name == "seq") {
      name = dataset_ == Dataset::Book
                 ? "(dense_rank() OVER (PARTITION BY ts ORDER BY rowid - level) - 1)::INTEGER AS seq"
                 : "(row_number() OVER (PARTITION BY ts ORDER BY rowid) - 1)::INTEGER AS seq";
    }
    cols += (cols.empty() ? "" : ", ") + name;
  }
  // Not sorted here (a CTAS does not promise to keep an ORDER BY's order):
  // the COPY sorts.
  auto made = con_.exec("CREATE OR REPLACE TEMP TABLE new_rows_seq AS SELECT " + cols + " FROM new_rows",
                        "cannot renumber the staged rows");
  if (!made) return made;
  auto dropped = con_.exec("DROP TABLE new_rows", "cannot renumber the staged rows");
  if (!dropped) return dropped;
  return con_.exec("ALTER TABLE new_rows_seq RENAME TO new_rows", "cannot renumber the staged rows");
}

Expected<void> PartitionWriter::publish(const std::string& partial, const std::string& final_path,
                                        const std::string& dir, bool new_dir) {
  std::error_code ec;
  // Durable before visible: the data reaches the disk, then the rename
  // publishes it atomically, then the directory entry is made durable.
  if (auto synced = fsync_path(partial, false); !synced) {
    fs::remove(partial, ec);
    return synced;
  }
  if (::rename(partial.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    fs::remove(partial, ec);
    return make_error("lake: cannot rename " + partial + " to " + final_path + ": " + errno_text(err));
  }
  // The bar cache described the old file: never used again (its key no longer
  // matches), so it goes now rather than when the next read replaces it.
  fs::remove(bar_cache_path(final_path), ec);
  if (auto synced = fsync_path(dir, true); !synced) return synced;
  if (new_dir) {
    // New directories must be durable in their parents too.
    for (fs::path p = fs::path(dir).parent_path(); p.string().size() >= lake_.root.size(); p = p.parent_path()) {
      if (auto synced = fsync_path(p.string(), true); !synced) return synced;
      if (p.string().size() == lake_.root.size()) break;
    }
  }
  return {};
}

Expected<void> PartitionWriter::migrate_month(int year, int month) {
  const std::string month_dir = partition_dir(lake_.root, dataset_, symbol_, year, month);
  const std::string month_file = month_dir + "/" + kDataFile;
  std::error_code ec;
  if (!day_partitioned(dataset_) || !fs::is_regular_file(month_file, ec)) return {};
  // Day directories beside the month file are invisible to readers: the
  // leftovers of a migration that died before its unlink. Start over.
  for (fs::directory_iterator it(month_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory() && it->path().filename().string().rfind("day=", 0) == 0) {
      std::error_code rm_ec;
      fs::remove_all(it->path(), rm_ec);
      if (rm_ec) return make_error("lake: cannot remove " + it->path().string() + ": " + rm_ec.message());
    }
  }
  if (ec) return make_error("lake: cannot list " + month_dir + ": " + ec.message());
  PartitionMarks marks;
  auto read = read_marks(con_, {month_file});
  if (!read) return tl::unexpected(read.error());
  if (auto it = read->find(month_file); it != read->end()) marks = it->second;

  const std::string source = "read_parquet(" + sql_string(month_file) + ", hive_partitioning=false)";
  struct Day {
    std::int64_t index;         ///< days since the epoch
    Timestamp first{}, last{};  ///< its rows' span
  };
  std::vector<Day> days;
  auto listed = con_.query(
      "SELECT (epoch_ns(ts) // 86400000000000)::BIGINT AS d, epoch_ns(min(ts)), epoch_ns(max(ts)) "
      "FROM " +
          source + " WHERE ts IS NOT NULL GROUP BY d ORDER BY d",
      "cannot read the days of " + month_file);
  if (!listed) return tl::unexpected(listed.error());
  auto collected = duck::for_each_row(
      *listed, "reading the days of " + month_file, [&](const duck::Chunk& rows, std::size_t r) -> Expected<void> {
        days.push_back(Day{rows.data<std::int64_t>(0)[r], from_epoch_ns(rows.data<std::int64_t>(1)[r]),
                           from_epoch_ns(rows.data<std::int64_t>(2)[r])});
        return {};
      });
  if (!collected) return collected;
  constexpr std::int64_t kNsPerDay = 86'400'000'000'000;
  for (const Day& day : days) {
    const std::int64_t d = day.index;
    const CivilTime c = to_civil_utc(from_epoch_ns(d * kNsPerDay));
    const std::string dir =
        partition_dir(lake_.root, dataset_, symbol_, c.year, static_cast<int>(c.month), static_cast<int>(c.day));
    const bool new_dir = !fs::exists(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) return make_error("lake: cannot create " + dir + ": " + ec.message());
    // Generated spans follow their rows: clipped to the day's rows.
    PartitionMarks day_marks;
    for (const GeneratedSpan& span : marks.generated) {
      if (span.first <= day.last && span.last >= day.first) {
        day_marks.generated.push_back(
            GeneratedSpan{std::max(span.first, day.first), std::min(span.last, day.last), span.label});
      }
    }
    const std::string partial = partial_path(dir);
    auto copied =
        con_.exec("COPY (SELECT " + column_list(schema_) + " FROM " + source + " WHERE ts >= make_timestamp_ns(" +
                      std::to_string(d * kNsPerDay) + ") AND ts < make_timestamp_ns(" +
                      std::to_string((d + 1) * kNsPerDay) + ") ORDER BY " + schema_.order_key + ") TO " +
                      sql_string(partial) + copy_options() + kv_metadata_option(day_marks) + ")",
                  "cannot write " + partial);
    if (!copied) {
      fs::remove(partial, ec);
      return copied;
    }
    if (auto published = publish(partial, dir + "/" + kDataFile, dir, new_dir); !published) return published;
  }
  // The switch: from here on readers see the days.
  if (::unlink(month_file.c_str()) != 0) {
    return make_error("lake: cannot remove " + month_file + " after splitting it into days: " + errno_text(errno));
  }
  return fsync_path(month_dir, true);
}

std::string PartitionWriter::copy_options() const {
  return " (FORMAT parquet, COMPRESSION " + lake_.options.compression + ", ROW_GROUP_SIZE " +
         std::to_string(std::max<std::int64_t>(1, lake_.options.row_group_rows));
}

Expected<bool> PartitionWriter::later_partition_exists(int year, int month) const {
  auto files = list_files(lake_.root, dataset_, symbol_);
  if (!files) return tl::unexpected(files.error());
  return std::any_of(files->begin(), files->end(),
                     [&](const PartitionFile& f) { return f.year * 12 + f.month > year * 12 + month; });
}

Expected<void> PartitionWriter::commit(const PartitionKey& key, const StagedRows& staged, WriteStats& stats) {
  const int year = key.year, month = key.month;
  if (key.day > 0) {
    if (auto migrated = migrate_month(year, month); !migrated) return migrated;
  }
  if (staged.resequence) {
    if (auto renumbered = resequence(); !renumbered) return renumbered;
  }
  const std::string dir = partition_dir(lake_.root, dataset_, symbol_, year, month, key.day);
  const std::string final_path = dir + "/" + kDataFile;
  const std::string partial = partial_path(dir);
  std::error_code ec;
  const bool new_dir = !fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return make_error("lake: cannot create " + dir + ": " + ec.message());
  fs::remove(partial, ec);

  const bool exists = fs::exists(final_path, ec);
  PartitionMarks old_marks;
  if (exists) {
    auto read = read_marks(con_, {final_path});
    if (!read) return tl::unexpected(read.error());
    if (auto it = read->find(final_path); it != read->end()) old_marks = it->second;
  }
  PartitionMarks marks = old_marks;
  if (!options_.generated.empty() && staged.records > 0) {
    add_generated(marks.generated, GeneratedSpan{staged.first, staged.last, clean_label(options_.generated)});
  }
  // The write's last bar may still be forming: it is marked when it ends the
  // symbol's series (no later month; nothing later in this file, checked below).
  bool tail_ends = false;
  if (staged.tail) {
    auto later = later_partition_exists(year, month);
    if (!later) return tl::unexpected(later.error());
    tail_ends = !*later;
  }
  auto mark_tail = [&] {
    marks.provisional.push_back(*staged.tail);
    std::sort(marks.provisional.begin(), marks.provisional.end());
    marks.provisional.erase(std::unique(marks.provisional.begin(), marks.provisional.end()), marks.provisional.end());
    stats.provisional = *staged.tail;
  };

  const std::string options = copy_options();
  const std::string columns = column_list(schema_);
  std::string copy;
  if (!exists) {
    if (tail_ends) mark_tail();
    // Staged rows are already sorted and unique (the table keeps insertion
    // order), unless blocks overlapped in time.
    copy = "COPY (SELECT " + columns + " FROM new_rows" +
           (staged.resequence ? std::string(" ORDER BY ") + schema_.order_key : std::string()) + ") TO " +
           sql_string(partial) + options + kv_metadata_option(marks) + ")";
    stats.added += staged.records;
  } else {
    const std::string existing = "read_parquet(" + sql_string(final_path) + ", hive_partitioning=false)";
    // `marked(a)`: the record `a` is a bar this partition marks provisional.
    std::string provisional_list;
    for (Timestamp ts : old_marks.provisional) {
      provisional_list += (provisional_list.empty() ? "" : ", ") + std::string("make_timestamp_ns(") +
                          std::to_string(to_epoch_ns(ts)) + ")";
    }
    auto marked = [&](const char* alias) {
      return provisional_list.empty() ? std::string("FALSE") : std::string(alias) + ".ts IN (" + provisional_list + ")";
    };
    const std::string records =
        "WITH n AS (" + record_relation(schema_, "new_rows") + "), e AS (" + record_relation(schema_, existing) + ") ";
    const std::string conflict = "e.ts IS NOT NULL AND n.v IS DISTINCT FROM e.v AND NOT " + marked("n");
    const std::string join = join_on(schema_, "n", "e");
    auto counts =
        con_.query(records +
                       "SELECT count(*) FILTER (WHERE e.ts IS NULL)::BIGINT, "
                       "count(*) FILTER (WHERE e.ts IS NOT NULL AND n.v IS NOT DISTINCT FROM e.v)::BIGINT, "
                       "count(*) FILTER (WHERE " +
                       conflict +
                       ")::BIGINT, "
                       "count(*) FILTER (WHERE e.ts IS NOT NULL AND n.v IS DISTINCT FROM e.v AND " +
                       marked("n") + ")::BIGINT, (SELECT max(ts) FROM " + existing + "), min(n.ts) FILTER (WHERE " +
                       conflict + "), max(n.ts) FILTER (WHERE " + conflict + ") FROM n LEFT JOIN e ON " + join,
                   "cannot compare new rows with " + final_path);
    if (!counts) return tl::unexpected(counts.error());
    auto chunk = counts->fetch("reading merge counts");
    if (!chunk) return tl::unexpected(chunk.error());
    QUANT_CHECK(*chunk && chunk->size() == 1);
    const std::int64_t added = chunk->data<std::int64_t>(0)[0];
    const std::int64_t conflicts = chunk->data<std::int64_t>(2)[0];
    const std::int64_t completed = chunk->data<std::int64_t>(3)[0];
    const std::int64_t existing_end = duck::row_valid(chunk->validity(4), 0) ? chunk->data<std::int64_t>(4)[0]
                                                                             : std::numeric_limits<std::int64_t>::min();
    stats.added += added;
    stats.duplicates += chunk->data<std::int64_t>(1)[0];
    stats.conflicts += conflicts;
    stats.completed += completed;
    if (options_.replace) stats.replaced += conflicts;

    if (conflicts > 0) {
      // What conflicted (or was replaced): the span and the first few.
      const Timestamp first = from_epoch_ns(chunk->data<std::int64_t>(5)[0]);
      const Timestamp last = from_epoch_ns(chunk->data<std::int64_t>(6)[0]);
      const bool first_seen = stats.conflict_examples.empty();
      stats.first_conflict = first_seen ? first : std::min(stats.first_conflict, first);
      stats.last_conflict = first_seen ? last : std::max(stats.last_conflict, last);
      auto examples = con_.query(records + "SELECT n.ts FROM n JOIN e ON " + join + " WHERE " + conflict +
                                     " ORDER BY n.ts LIMIT " + std::to_string(kConflictExamples),
                                 "cannot list the conflicts with " + final_path);
      if (!examples) return tl::unexpected(examples.error());
      auto listed = duck::for_each_row(
          *examples, "reading the conflicts", [&](const duck::Chunk& rows, std::size_t r) -> Expected<void> {
            stats.conflict_examples.push_back(from_epoch_ns(rows.data<std::int64_t>(0)[r]));
            return {};
          });
      if (!listed) return listed;
      std::sort(stats.conflict_examples.begin(), stats.conflict_examples.end());
      if (stats.conflict_examples.size() > kConflictExamples) stats.conflict_examples.resize(kConflictExamples);
    }
    if (!old_marks.provisional.empty()) {
      // Marked bars this write carries are settled (completed, or confirmed
      // equal): they leave the mark, unless this write ends on one again.
      auto carried = con_.query(records +
                                    "SELECT n.ts, (e.ts IS NOT NULL AND n.v IS DISTINCT FROM e.v) FROM n "
                                    "LEFT JOIN e ON " +
                                    join + " WHERE " + marked("n") + " ORDER BY n.ts",
                                "cannot read the provisional bars of " + final_path);
      if (!carried) return tl::unexpected(carried.error());
      auto settled = duck::for_each_row(
          *carried, "reading the provisional bars", [&](const duck::Chunk& rows, std::size_t r) -> Expected<void> {
            const Timestamp ts = from_epoch_ns(rows.data<std::int64_t>(0)[r]);
            marks.provisional.erase(std::remove(marks.provisional.begin(), marks.provisional.end(), ts),
                                    marks.provisional.end());
            if (rows.data<bool>(1)[r] && stats.completed_bars.size() < kConflictExamples) {
              stats.completed_bars.push_back(ts);
            }
            return {};
          });
      if (!settled) return settled;
    }
    if (tail_ends && to_epoch_ns(*staged.tail) >= existing_end) mark_tail();
    const bool rows_change = added > 0 || completed > 0 || (options_.replace && conflicts > 0);
    if (!rows_change && marks == old_marks) return {};  // nothing new: leave the file untouched
    // New rows that win over the lake's: all of them with `replace`, else those
    // at provisional bars. The lake keeps its other rows; the rest are added.
    auto takes = [&](const char* alias) { return options_.replace ? std::string("TRUE") : marked(alias); };
    copy = "COPY (SELECT " + column_list(schema_, "e.") + " FROM " + existing +
           " e ANTI JOIN (SELECT * FROM new_rows w WHERE " + takes("w") + ") w ON " + join_on(schema_, "e", "w") +
           " UNION ALL SELECT " + column_list(schema_, "n.") + " FROM new_rows n WHERE " + takes("n") +
           " UNION ALL SELECT " + column_list(schema_, "n.") + " FROM new_rows n ANTI JOIN " + existing + " e ON " +
           join + " WHERE NOT " + takes("n") + " ORDER BY " + schema_.order_key + ") TO " + sql_string(partial) +
           options + kv_metadata_option(marks) + ")";
  }
  auto copied = con_.exec(copy, "cannot write " + partial);
  if (!copied) {
    fs::remove(partial, ec);
    return copied;
  }
  if (auto published = publish(partial, final_path, dir, new_dir); !published) return published;
  ++stats.partitions_written;
  return {};
}

}  // namespace quant::lake
