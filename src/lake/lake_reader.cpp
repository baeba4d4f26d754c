// The read path: partition statistics, bars, trades and book snapshots
// streamed file by file into batches, and the verify pass over a symbol's
// bars, ticks and trades.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include <sys/stat.h>

#include "lake/bar_cache.h"
#include "lake/bar_stream.h"
#include "lake/duckdb_connection.h"
#include "lake/lake_impl.h"
#include "lake/partition_files.h"
#include "lake/partition_marks.h"
#include "lake/schema.h"
#include "lake/verify.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;
using duck::row_valid;

/// Streams chosen columns of several files one file at a time, in order,
/// optionally only the rows matching `where` (an SQL condition).
class FileChunks {
 public:
  FileChunks(duck::Connection con, std::vector<std::string> paths, std::string select, std::string where = "")
      : con_(std::move(con)), paths_(std::move(paths)), select_(std::move(select)), where_(std::move(where)) {}

  /// The next non-empty chunk, or an empty Chunk at the end.
  Expected<duck::Chunk> next() {
    for (;;) {
      if (!open_) {
        if (next_file_ == paths_.size()) return duck::Chunk();
        const std::string& path = paths_[next_file_++];
        auto started = con_.stream("SELECT " + select_ + " FROM read_parquet(" + sql_string(path) +
                                       ", hive_partitioning=false)" + (where_.empty() ? "" : " WHERE " + where_),
                                   "cannot read " + path);
        if (!started) return tl::unexpected(started.error());
        result_ = std::move(*started);
        open_ = true;
      }
      auto chunk = result_.fetch("reading " + paths_[next_file_ - 1]);
      if (!chunk) return chunk;
      if (*chunk && chunk->size() > 0) return chunk;
      if (!*chunk) {
        result_.reset();
        open_ = false;
      }
    }
  }

 private:
  duck::Connection con_;
  std::vector<std::string> paths_;
  std::string select_;
  std::string where_;
  std::size_t next_file_ = 0;
  bool open_ = false;
  duck::Result result_;
};

/// The row position in a FileChunks stream, shared by the bar, trade and book
/// streams: `chunk()` is the chunk holding the next unread row (`offset` in
/// it), or nullptr once every file is read.
class RowCursor {
 public:
  explicit RowCursor(FileChunks files) : files_(std::move(files)) {}

  Expected<const duck::Chunk*> chunk() {
    while (!done_ && (!chunk_ || offset == chunk_.size())) {
      auto next = files_.next();
      if (!next) return tl::unexpected(next.error());
      if (!*next) {
        done_ = true;
        break;
      }
      chunk_ = std::move(*next);
      offset = 0;
    }
    return done_ ? nullptr : &chunk_;
  }

  std::size_t offset = 0;  ///< the next unread row of `chunk()`

 private:
  FileChunks files_;
  duck::Chunk chunk_;
  bool done_ = false;
};

template <class T>
T value_or_zero(const T* data, const std::uint64_t* validity, std::size_t row) {
  return row_valid(validity, row) ? data[row] : T{};
}

/// Bars of several partition files, one file at a time: from the file's bar
/// cache when it has a valid one, else decoded from Parquet by DuckDB (and the
/// cache built on the way when every row is valid). Strict streams (the
/// engine's) fail on a row without a usable price, naming file and row;
/// lenient ones (verify's) read NULL as 0 so the checks can report it.
class BarStreamImpl final : public BarStream {
 public:
  BarStreamImpl(std::shared_ptr<duck::Database> db, std::vector<std::string> paths, Timestamp from, Timestamp to,
                std::size_t batch_rows, bool strict, bool use_cache)
      : db_(std::move(db)),
        paths_(std::move(paths)),
        from_ns_(to_epoch_ns(from)),
        to_ns_(to_epoch_ns(to)),
        batch_rows_(std::max<std::size_t>(1, batch_rows)),
        strict_(strict),
        use_cache_(use_cache) {}

  Expected<bool> next(std::vector<Bar>& batch) override {
    batch.clear();
    if (batch.capacity() < batch_rows_) batch.reserve(batch_rows_);
    while (batch.size() < batch_rows_) {
      if (!cache_ && !parquet_) {
        if (next_file_ == paths_.size()) break;
        if (auto opened = open_file(paths_[next_file_++]); !opened) return tl::unexpected(opened.error());
      }
      auto more = cache_ ? from_cache(batch) : from_parquet(batch);
      if (!more) return tl::unexpected(more.error());
    }
    return !batch.empty();
  }

 private:
  Expected<void> open_file(const std::string& path) {
    path_ = &path;
    file_row_ = 0;
    if (use_cache_) {
      cache_ = BarCacheReader::open(path);
      if (cache_) return {};
    }
    auto con = duck::Connection::make(db_);
    if (!con) return tl::unexpected(con.error());
    parquet_.emplace(std::move(*con), std::vector<std::string>{path}, column_list(schema_of(Dataset::Bars1m)));
    builder_.reset();
    all_valid_ = true;
    if (use_cache_) builder_ = BarCacheWriter::start(path);
    return {};
  }

  /// Appends the next bars of the cache in range; closes the file at its end.
  Expected<void> from_cache(std::vector<Bar>& batch) {
    auto got = cache_->read(batch, batch_rows_ - batch.size(), from_ns_, to_ns_);
    if (!got) return tl::unexpected(got.error());
    if (*got == 0) cache_.reset();
    return {};
  }

  /// Appends the rows of the current Parquet chunk in range (validated); at
  /// the end of the file, publishes the cache built from it.
  Expected<void> from_parquet(std::vector<Bar>& batch) {
    if (!chunk_ || offset_ == chunk_.size()) {
      auto next = parquet_->next();
      if (!next) return tl::unexpected(next.error());
      if (!*next) {
        if (builder_ && all_valid_) builder_->commit();
        builder_.reset();
        parquet_.reset();
        chunk_.reset();
        return {};
      }
      chunk_ = std::move(*next);
      offset_ = 0;
      if (builder_) {
        // The whole chunk goes to the cache (the range filter applies to the batch only).
        decoded_.clear();
        for (std::size_t r = 0; r < chunk_.size(); ++r) {
          auto bar = decode(r, file_row_ + static_cast<std::int64_t>(r) + 1);
          if (!bar) return tl::unexpected(bar.error());
          decoded_.push_back(*bar);
        }
        if (all_valid_) builder_->add(decoded_.data(), decoded_.size());
      }
    }
    const std::size_t end = std::min(chunk_.size(), offset_ + (batch_rows_ - batch.size()));
    for (std::size_t r = offset_; r < end; ++r) {
      Bar bar;
      if (builder_) {
        bar = decoded_[r];
      } else {
        auto decoded = decode(r, file_row_ + static_cast<std::int64_t>(r) + 1);
        if (!decoded) return tl::unexpected(decoded.error());
        bar = *decoded;
      }
      const std::int64_t ts = to_epoch_ns(bar.ts);
      if (ts >= from_ns_ && ts < to_ns_) batch.push_back(bar);
    }
    if (end == chunk_.size()) file_row_ += static_cast<std::int64_t>(chunk_.size());
    offset_ = end;
    return {};
  }

  /// Row `r` of the current chunk (row `file_row` of the file, from 1).
  Expected<Bar> decode(std::size_t r, std::int64_t file_row) {
    static constexpr const char* kNames[] = {"ts", "open", "high", "low", "close", "tick_volume", "volume", "spread"};
    Bar bar;
    const bool ts_valid = row_valid(chunk_.validity(0), r);
    bar.ts = from_epoch_ns(ts_valid ? chunk_.data<std::int64_t>(0)[r] : 0);
    double* prices[] = {&bar.open, &bar.high, &bar.low, &bar.close};
    const char* bad = ts_valid ? nullptr : "is NULL";
    std::size_t bad_col = 0;
    for (std::size_t c = 1; c <= 4; ++c) {
      const bool valid = row_valid(chunk_.validity(c), r);
      const double v = valid ? chunk_.data<double>(c)[r] : 0.0;
      *prices[c - 1] = v;
      if (bad == nullptr && (!valid || !(v > 0) || !std::isfinite(v))) {
        bad = !valid ? "is NULL" : "is not a positive price";
        bad_col = c;
      }
    }
    bar.tick_volume = value_or_zero(chunk_.data<std::int64_t>(5), chunk_.validity(5), r);
    bar.volume = value_or_zero(chunk_.data<double>(6), chunk_.validity(6), r);
    bar.spread = value_or_zero(chunk_.data<std::int32_t>(7), chunk_.validity(7), r);
    if (bad != nullptr) {
      all_valid_ = false;
      if (strict_) {
        std::string value;
        if (bad_col > 0 && row_valid(chunk_.validity(bad_col), r)) value = " (" + std::to_string(*prices[bad_col - 1]) + ")";
        return make_error("lake: " + *path_ + ": row " + std::to_string(file_row) +
                          (ts_valid ? " (" + format_utc(bar.ts) + ")" : std::string()) + ": " + kNames[bad_col] + " " +
                          bad + value +
                          ". The file was not written by quant ingest, or was changed since: fix that row, or remove "
                          "the file and import the source again with quant ingest");
      }
    }
    return bar;
  }

  std::shared_ptr<duck::Database> db_;
  std::vector<std::string> paths_;
  std::int64_t from_ns_, to_ns_;
  std::size_t batch_rows_;
  bool strict_, use_cache_;
  std::size_t next_file_ = 0;
  const std::string* path_ = nullptr;
  std::int64_t file_row_ = 0;  // rows of the current file before chunk_
  std::optional<BarCacheReader> cache_;
  std::optional<FileChunks> parquet_;
  std::optional<BarCacheWriter> builder_;
  bool all_valid_ = true;
  duck::Chunk chunk_;
  std::size_t offset_ = 0;
  std::vector<Bar> decoded_;
};

/// The data files of `dataset` and `symbol` whose month (or day) overlaps [from, to), in time order.
Expected<std::vector<std::string>> files_overlapping(const std::string& root, Dataset dataset,
                                                     const std::string& symbol, Timestamp from, Timestamp to) {
  if (auto ok = validate_symbol(symbol); !ok) return tl::unexpected(ok.error());
  auto files = list_files(root, dataset, symbol);
  if (!files) return tl::unexpected(files.error());
  std::vector<std::string> paths;
  for (const PartitionFile& f : *files) {
    if (overlaps(f, from, to)) paths.push_back(f.path);
  }
  return paths;
}

/// `from <= ts < to` in SQL (an open end adds no condition), so DuckDB skips
/// row groups outside the range by their statistics.
std::string ts_range_condition(Timestamp from, Timestamp to) {
  std::string where;
  if (from != Timestamp::min()) where = "ts >= make_timestamp_ns(" + std::to_string(to_epoch_ns(from)) + ")";
  if (to != Timestamp::max()) {
    where +=
        (where.empty() ? "" : " AND ") + std::string("ts < make_timestamp_ns(") + std::to_string(to_epoch_ns(to)) + ")";
  }
  return where;
}

class TradeStreamImpl final : public TradeStream {
 public:
  TradeStreamImpl(FileChunks files, std::size_t batch_rows)
      : rows_(std::move(files)), batch_rows_(std::max<std::size_t>(1, batch_rows)) {}

  Expected<bool> next(std::vector<Trade>& batch) override {
    batch.clear();
    if (batch.capacity() < batch_rows_) batch.reserve(batch_rows_);
    while (batch.size() < batch_rows_) {
      auto current = rows_.chunk();
      if (!current) return tl::unexpected(current.error());
      if (*current == nullptr) break;
      const duck::Chunk& chunk = **current;
      const auto* ts = chunk.data<std::int64_t>(0);
      const auto* price = chunk.data<double>(1);
      const auto* volume = chunk.data<double>(2);
      const auto* aggressor = chunk.data<std::int8_t>(3);
      const std::size_t end = std::min(chunk.size(), rows_.offset + (batch_rows_ - batch.size()));
      for (std::size_t r = rows_.offset; r < end; ++r) {
        Trade& t = batch.emplace_back();
        t.ts = from_epoch_ns(ts[r]);
        t.price = value_or_zero(price, chunk.validity(1), r);
        t.volume = value_or_zero(volume, chunk.validity(2), r);
        const std::int8_t a = value_or_zero(aggressor, chunk.validity(3), r);
        t.aggressor = a > 0 ? Aggressor::Buy : a < 0 ? Aggressor::Sell : Aggressor::Unknown;
      }
      rows_.offset = end;
    }
    return !batch.empty();
  }

 private:
  RowCursor rows_;
  std::size_t batch_rows_;
};

/// Book rows (ts, seq, bid_price, bid_size, ask_price, ask_size; sorted by
/// ts, seq, level) regrouped into snapshots: the rows of one (ts, seq) are
/// one snapshot, which may straddle DuckDB chunks and is carried over in
/// `pending_` until its last row is seen.
class BookStreamImpl final : public BookStream {
 public:
  BookStreamImpl(FileChunks files, std::size_t batch_rows)
      : rows_(std::move(files)), batch_rows_(std::max<std::size_t>(1, batch_rows)) {}

  Expected<bool> next(std::vector<BookSnapshot>& batch) override {
    std::size_t used = 0;
    auto emit = [&] {
      if (used == batch.size()) batch.emplace_back();
      std::swap(batch[used], pending_);  // the old snapshot's vectors are reused for the next one
      ++used;
      pending_.bids.clear();
      pending_.asks.clear();
      has_pending_ = false;
    };
    while (used < batch_rows_) {
      auto current = rows_.chunk();
      if (!current) return tl::unexpected(current.error());
      if (*current == nullptr) {
        if (has_pending_) emit();
        break;
      }
      const duck::Chunk& chunk = **current;
      const auto* ts = chunk.data<std::int64_t>(0);
      const auto* seq = chunk.data<std::int32_t>(1);
      const auto* bid_price = chunk.data<double>(2);
      const auto* bid_size = chunk.data<double>(3);
      const auto* ask_price = chunk.data<double>(4);
      const auto* ask_size = chunk.data<double>(5);
      for (; rows_.offset < chunk.size() && used < batch_rows_; ++rows_.offset) {
        const std::size_t r = rows_.offset;
        const std::int32_t s = value_or_zero(seq, chunk.validity(1), r);
        if (has_pending_ && (ts[r] != pending_ts_ || s != pending_seq_)) emit();
        if (!has_pending_) {
          pending_.ts = from_epoch_ns(ts[r]);
          pending_ts_ = ts[r];
          pending_seq_ = s;
          has_pending_ = true;
        }
        // A NULL price marks a side with fewer levels (or the empty snapshot's placeholder row).
        if (row_valid(chunk.validity(2), r)) {
          pending_.bids.push_back({bid_price[r], value_or_zero(bid_size, chunk.validity(3), r)});
        }
        if (row_valid(chunk.validity(4), r)) {
          pending_.asks.push_back({ask_price[r], value_or_zero(ask_size, chunk.validity(5), r)});
        }
      }
    }
    batch.resize(used);
    return used > 0;
  }

 private:
  RowCursor rows_;
  std::size_t batch_rows_;
  BookSnapshot pending_;
  std::int64_t pending_ts_ = 0;
  std::int32_t pending_seq_ = 0;
  bool has_pending_ = false;
};

}  // namespace

Expected<std::vector<PartitionInfo>> LakeImpl::partitions(std::optional<Dataset> dataset, const std::string& symbol) {
  std::vector<PartitionInfo> out;
  for (Dataset d : {Dataset::Bars1m, Dataset::Ticks, Dataset::Trades, Dataset::Book}) {
    if (dataset && *dataset != d) continue;
    auto files = list_files(shared_->root, d, symbol);
    if (!files) return tl::unexpected(files.error());
    if (files->empty()) continue;
    // Footers already read by this Lake are not read again while the file is
    // the same (a rewrite is a rename: a new inode): a poll every second costs
    // a directory walk and a stat per partition, plus the footers of what changed.
    std::string list;
    std::vector<std::string> fresh;
    std::map<std::string, FileIdentity> fresh_ids;
    std::map<std::string, std::size_t> index;
    for (const PartitionFile& f : *files) {
      struct stat st {};
      if (::stat(f.path.c_str(), &st) != 0) {
        return make_error("lake: cannot stat " + f.path + ": " + std::generic_category().message(errno));
      }
      const FileIdentity id{static_cast<std::int64_t>(st.st_size),
                            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                            static_cast<std::uint64_t>(st.st_ino)};
      if (auto hit = footer_cache_.find(f.path); hit != footer_cache_.end() && hit->second.first == id) {
        out.push_back(hit->second.second);
        continue;
      }
      list += (list.empty() ? "" : ", ") + sql_string(f.path);
      index[f.path] = out.size();
      fresh.push_back(f.path);
      PartitionInfo info;
      info.dataset = d;
      info.symbol = f.symbol;
      info.year = f.year;
      info.month = f.month;
      info.day = f.day;
      info.path = f.path;
      info.bytes = id.bytes;
      out.push_back(std::move(info));
      fresh_ids[f.path] = id;
    }
    if (fresh.empty()) continue;
    std::map<std::string, std::size_t> positions = index;
    // Book files hold several rows per snapshot: rows counts rows. Rows and
    // the time range come from the files' footers (row-group statistics of
    // ts); only files without statistics (written by other tools) are scanned.
    auto read_stats = [&](const std::string& sql) -> Expected<void> {
      auto result = con_.query(sql, "cannot read partition statistics");
      if (!result) return tl::unexpected(result.error());
      return duck::for_each_row(*result, "reading partition statistics",
                                [&](const duck::Chunk& chunk, std::size_t r) -> Expected<void> {
                                  auto it = index.find(chunk.string(0, r));
                                  if (it == index.end()) return {};
                                  if (!row_valid(chunk.validity(2), r) || !row_valid(chunk.validity(3), r)) {
                                    return {};  // no statistics
                                  }
                                  PartitionInfo& info = out[it->second];
                                  info.rows = chunk.data<std::int64_t>(1)[r];
                                  info.first_ts = from_epoch_ns(chunk.data<std::int64_t>(2)[r]);
                                  info.last_ts = from_epoch_ns(chunk.data<std::int64_t>(3)[r]);
                                  index.erase(it);
                                  return {};
                                });
    };
    if (auto ok = read_stats("SELECT file_name, sum(row_group_num_rows)::BIGINT, "
                             "min(stats_min_value::TIMESTAMP_NS), max(stats_max_value::TIMESTAMP_NS) "
                             "FROM parquet_metadata([" + list + "]) WHERE path_in_schema = 'ts' GROUP BY file_name");
        !ok) {
      return tl::unexpected(ok.error());
    }
    if (!index.empty()) {
      std::string rest;
      for (const auto& [path, at] : index) rest += (rest.empty() ? "" : ", ") + sql_string(path);
      if (auto ok = read_stats("SELECT filename, count(*)::BIGINT, min(ts), max(ts) FROM read_parquet([" + rest +
                               "], hive_partitioning=false, filename=true) GROUP BY filename");
          !ok) {
        return tl::unexpected(ok.error());
      }
    }
    // The partitions' marks (generated spans, provisional bars), from the footers.
    auto marks = read_marks(con_, fresh);
    if (!marks) return tl::unexpected(marks.error());
    for (const auto& [path, at] : positions) {
      if (auto it = marks->find(path); it != marks->end()) {
        out[at].generated = std::move(it->second.generated);
        out[at].provisional = std::move(it->second.provisional);
      }
      footer_cache_[path] = {fresh_ids.at(path), out[at]};
    }
  }
  return out;
}

Expected<std::unique_ptr<BarStream>> LakeImpl::stream_bars(const std::string& symbol, Timestamp from, Timestamp to,
                                                           std::size_t batch_rows) {
  auto paths = files_overlapping(shared_->root, Dataset::Bars1m, symbol, from, to);
  if (!paths) return tl::unexpected(paths.error());
  return std::make_unique<BarStreamImpl>(shared_->db, std::move(*paths), from, to, batch_rows, /*strict=*/true,
                                         /*use_cache=*/true);
}

Expected<std::unique_ptr<TradeStream>> LakeImpl::stream_trades(const std::string& symbol, Timestamp from, Timestamp to,
                                                               std::size_t batch_rows) {
  auto paths = files_overlapping(shared_->root, Dataset::Trades, symbol, from, to);
  if (!paths) return tl::unexpected(paths.error());
  auto con = duck::Connection::make(shared_->db);
  if (!con) return tl::unexpected(con.error());
  return std::make_unique<TradeStreamImpl>(
      FileChunks(std::move(*con), std::move(*paths), "ts, price, volume, aggressor", ts_range_condition(from, to)),
      batch_rows);
}

Expected<std::unique_ptr<BookStream>> LakeImpl::stream_book(const std::string& symbol, Timestamp from, Timestamp to,
                                                            std::size_t batch_rows) {
  auto paths = files_overlapping(shared_->root, Dataset::Book, symbol, from, to);
  if (!paths) return tl::unexpected(paths.error());
  auto con = duck::Connection::make(shared_->db);
  if (!con) return tl::unexpected(con.error());
  return std::make_unique<BookStreamImpl>(
      FileChunks(std::move(*con), std::move(*paths), "ts, seq, bid_price, bid_size, ask_price, ask_size",
                 ts_range_condition(from, to)),
      batch_rows);
}

Expected<VerifyReport> LakeImpl::verify(const std::string& symbol, const InstrumentSpec* spec,
                                        const VerifyProgress& progress) {
  auto verifier = SeriesVerifier::make(symbol, spec);
  if (!verifier) return tl::unexpected(verifier.error());
  std::int64_t total = 0;
  if (progress) {
    auto parts = partitions(Dataset::Bars1m, symbol);
    if (!parts) return tl::unexpected(parts.error());
    for (const PartitionInfo& p : *parts) total += p.rows;
  }
  // Lenient (NULL prices read as 0 and reported by the checks) and from
  // Parquet itself, never the cache: verify checks what the lake holds.
  auto bar_files = files_overlapping(shared_->root, Dataset::Bars1m, symbol, Timestamp::min(), Timestamp::max());
  if (!bar_files) return tl::unexpected(bar_files.error());
  BarStreamImpl bars(shared_->db, std::move(*bar_files), Timestamp::min(), Timestamp::max(), 8192,
                     /*strict=*/false, /*use_cache=*/false);
  std::vector<Bar> batch;
  std::int64_t done = 0;
  for (;;) {
    auto more = bars.next(batch);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    for (const Bar& bar : batch) verifier->add_bar(bar);
    done += static_cast<std::int64_t>(batch.size());
    if (progress) progress(done, total);
  }
  auto generated = generated_bars(symbol, Timestamp::min(), Timestamp::max());
  if (!generated) return tl::unexpected(generated.error());
  for (Dataset d : {Dataset::Ticks, Dataset::Trades}) {
    auto files = list_files(shared_->root, d, symbol);
    if (!files) return tl::unexpected(files.error());
    if (files->empty()) continue;
    std::vector<std::string> paths;
    for (const PartitionFile& f : *files) paths.push_back(f.path);
    auto con = duck::Connection::make(shared_->db);
    if (!con) return tl::unexpected(con.error());
    const bool ticks = d == Dataset::Ticks;
    ticks ? verifier->begin_ticks() : verifier->begin_trades();
    FileChunks chunks(std::move(*con), std::move(paths), ticks ? "ts, bid, ask, last" : "ts, price");
    constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
    for (;;) {
      auto chunk = chunks.next();
      if (!chunk) return tl::unexpected(chunk.error());
      if (!*chunk) break;
      const auto* ts = chunk->data<std::int64_t>(0);
      for (std::size_t r = 0; r < chunk->size(); ++r) {
        auto price = [&](std::size_t col) {
          return row_valid(chunk->validity(col), r) ? chunk->data<double>(col)[r] : kNan;
        };
        if (ticks) {
          verifier->add_tick(from_epoch_ns(ts[r]), price(1), price(2), price(3));
        } else {
          verifier->add_trade(from_epoch_ns(ts[r]), price(1));
        }
      }
    }
  }
  VerifyReport report = verifier->finish();
  report.generated = std::move(*generated);
  return report;
}

}  // namespace quant::lake
