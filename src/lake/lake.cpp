#include "lake/lake.h"

#include <duckdb.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lake/verify.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDataFile = "data.parquet";
constexpr const char* kHiveTypes = "hive_types={'symbol': VARCHAR, 'year': INTEGER, 'month': INTEGER}";

std::string errno_text(int err) { return std::strerror(err); }

/// SQL string literal.
std::string sql_string(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

// ---------------------------------------------------------------------------
// Dataset schemas.

struct Column {
  const char* name;
  const char* sql_type;
  duckdb_type type;
};

struct Schema {
  std::vector<Column> columns;
  const char* order_key;  ///< the file's sort key
  const char* match_key;  ///< what identifies one record (book: one snapshot of several rows)
  const char* value;      ///< expression compared to detect conflicts (over one record)
  bool grouped;           ///< value aggregates rows (book)
};

const Schema& schema_of(Dataset dataset) {
  static const Schema kBars{{{"ts", "TIMESTAMP_NS", DUCKDB_TYPE_TIMESTAMP_NS},
                             {"open", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"high", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"low", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"close", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"tick_volume", "BIGINT", DUCKDB_TYPE_BIGINT},
                             {"volume", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"spread", "INTEGER", DUCKDB_TYPE_INTEGER}},
                            "ts",
                            "ts",
                            "row(open, high, low, close, tick_volume, volume, spread)",
                            false};
  static const Schema kTicks{{{"ts", "TIMESTAMP_NS", DUCKDB_TYPE_TIMESTAMP_NS},
                              {"seq", "INTEGER", DUCKDB_TYPE_INTEGER},
                              {"bid", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                              {"ask", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                              {"last", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                              {"volume", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                              {"bid_size", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                              {"ask_size", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                              {"flags", "UINTEGER", DUCKDB_TYPE_UINTEGER}},
                             "ts, seq",
                             "ts, seq",
                             "row(bid, ask, last, volume, bid_size, ask_size, flags)",
                             false};
  static const Schema kTrades{{{"ts", "TIMESTAMP_NS", DUCKDB_TYPE_TIMESTAMP_NS},
                               {"seq", "INTEGER", DUCKDB_TYPE_INTEGER},
                               {"price", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                               {"volume", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                               {"aggressor", "TINYINT", DUCKDB_TYPE_TINYINT}},
                              "ts, seq",
                              "ts, seq",
                              "row(price, volume, aggressor)",
                              false};
  static const Schema kBook{{{"ts", "TIMESTAMP_NS", DUCKDB_TYPE_TIMESTAMP_NS},
                             {"seq", "INTEGER", DUCKDB_TYPE_INTEGER},
                             {"level", "SMALLINT", DUCKDB_TYPE_SMALLINT},
                             {"bid_price", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"bid_size", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"ask_price", "DOUBLE", DUCKDB_TYPE_DOUBLE},
                             {"ask_size", "DOUBLE", DUCKDB_TYPE_DOUBLE}},
                            "ts, seq, level",
                            "ts, seq",
                            "list(row(level, bid_price, bid_size, ask_price, ask_size) ORDER BY level)",
                            true};
  switch (dataset) {
    case Dataset::Bars1m: return kBars;
    case Dataset::Ticks: return kTicks;
    case Dataset::Trades: return kTrades;
    case Dataset::Book: return kBook;
  }
  return kBars;
}

std::string column_list(const Schema& schema, const char* prefix = "") {
  std::string out;
  for (const Column& c : schema.columns) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += c.name;
  }
  return out;
}

std::string column_ddl(const Schema& schema) {
  std::string out;
  for (const Column& c : schema.columns) {
    if (!out.empty()) out += ", ";
    out += std::string(c.name) + " " + c.sql_type;
  }
  return out;
}

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

// ---------------------------------------------------------------------------
// DuckDB handles.

struct Database {
  duckdb_database db = nullptr;
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    if (db != nullptr) duckdb_close(&db);
  }
};

class Result {
 public:
  Result() = default;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result(Result&& other) noexcept : res_(other.res_), live_(std::exchange(other.live_, false)) {}
  Result& operator=(Result&& other) noexcept {
    if (this != &other) {
      reset();
      res_ = other.res_;
      live_ = std::exchange(other.live_, false);
    }
    return *this;
  }
  ~Result() { reset(); }
  void reset() {
    if (live_) duckdb_destroy_result(&res_);
    live_ = false;
  }
  duckdb_result* out() {
    reset();
    live_ = true;
    return &res_;
  }
  duckdb_result& get() { return res_; }

 private:
  duckdb_result res_{};
  bool live_ = false;
};

class Chunk {
 public:
  Chunk() = default;
  explicit Chunk(duckdb_data_chunk chunk) : chunk_(chunk) {}
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
  Chunk(Chunk&& other) noexcept : chunk_(std::exchange(other.chunk_, nullptr)) {}
  Chunk& operator=(Chunk&& other) noexcept {
    if (this != &other) {
      reset();
      chunk_ = std::exchange(other.chunk_, nullptr);
    }
    return *this;
  }
  ~Chunk() { reset(); }
  void reset() {
    if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
    chunk_ = nullptr;
  }
  explicit operator bool() const { return chunk_ != nullptr; }
  duckdb_data_chunk get() const { return chunk_; }
  std::size_t size() const { return duckdb_data_chunk_get_size(chunk_); }
  template <class T>
  const T* data(std::size_t col) const {
    return static_cast<const T*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk_, col)));
  }
  /// Validity mask of a column, nullptr when every row is valid.
  const std::uint64_t* validity(std::size_t col) const {
    return duckdb_vector_get_validity(duckdb_data_chunk_get_vector(chunk_, col));
  }

 private:
  duckdb_data_chunk chunk_ = nullptr;
};

class Prepared {
 public:
  Prepared() = default;
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  Prepared(Prepared&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Prepared& operator=(Prepared&& other) noexcept {
    if (this != &other) {
      reset();
      stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
  }
  ~Prepared() { reset(); }
  void reset() {
    if (stmt_ != nullptr) duckdb_destroy_prepare(&stmt_);
    stmt_ = nullptr;
  }
  duckdb_prepared_statement* out() {
    reset();
    return &stmt_;
  }
  duckdb_prepared_statement get() const { return stmt_; }

 private:
  duckdb_prepared_statement stmt_ = nullptr;
};

inline bool row_valid(const std::uint64_t* validity, std::size_t row) {
  return validity == nullptr || ((validity[row / 64] >> (row % 64)) & 1U) != 0;
}

std::string read_string(const Chunk& chunk, std::size_t col, std::size_t row) {
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), col)));
  duckdb_string_t& s = strings[row];
  return std::string(duckdb_string_t_data(&s), duckdb_string_t_length(s));
}

/// One DuckDB connection plus the database it keeps alive.
class Connection {
 public:
  static Expected<Connection> make(std::shared_ptr<Database> db) {
    Connection c;
    c.db_ = std::move(db);
    if (duckdb_connect(c.db_->db, &c.con_) == DuckDBError) return make_error("lake: cannot connect to DuckDB");
    return c;
  }
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& other) noexcept : db_(std::move(other.db_)), con_(std::exchange(other.con_, nullptr)) {}
  Connection& operator=(Connection&& other) noexcept {
    if (this != &other) {
      close();
      db_ = std::move(other.db_);
      con_ = std::exchange(other.con_, nullptr);
    }
    return *this;
  }
  ~Connection() { close(); }

  duckdb_connection get() const { return con_; }

  /// Runs one statement, materialising its (small) result.
  Expected<Result> query(const std::string& sql, std::string_view what) {
    Result result;
    if (duckdb_query(con_, sql.c_str(), result.out()) == DuckDBError) {
      return make_error(std::string("lake: ") + std::string(what) + ": " + duckdb_result_error(&result.get()));
    }
    return result;
  }
  Expected<void> exec(const std::string& sql, std::string_view what) {
    auto result = query(sql, what);
    if (!result) return tl::unexpected(result.error());
    return {};
  }

  /// Prepares and runs `sql` with a streaming result.
  Expected<std::pair<Prepared, Result>> stream(const std::string& sql, std::string_view what) {
    Prepared prepared;
    if (duckdb_prepare(con_, sql.c_str(), prepared.out()) == DuckDBError) {
      return make_error(std::string("lake: ") + std::string(what) + ": " + duckdb_prepare_error(prepared.get()));
    }
    Result result;
    if (duckdb_execute_prepared_streaming(prepared.get(), result.out()) == DuckDBError) {
      return make_error(std::string("lake: ") + std::string(what) + ": " + duckdb_result_error(&result.get()));
    }
    return std::make_pair(std::move(prepared), std::move(result));
  }

 private:
  void close() {
    if (con_ != nullptr) duckdb_disconnect(&con_);
    con_ = nullptr;
  }
  std::shared_ptr<Database> db_;
  duckdb_connection con_ = nullptr;
};

/// Fetches the next chunk, turning a failed fetch into an Error (a streaming
/// result reports read errors such as a corrupt file only here).
Expected<Chunk> fetch(Result& result, std::string_view what) {
  Chunk chunk(duckdb_fetch_chunk(result.get()));
  if (!chunk) {
    const char* err = duckdb_result_error(&result.get());
    if (err != nullptr && *err != '\0') return make_error(std::string("lake: ") + std::string(what) + ": " + err);
  }
  return chunk;
}

// ---------------------------------------------------------------------------
// Files.

struct PartitionFile {
  int year = 0;
  int month = 0;
  std::string symbol;
  std::string path;
};

bool parse_key(const std::string& name, std::string_view key, std::string& value) {
  if (name.size() <= key.size() + 1 || name.compare(0, key.size(), key) != 0 || name[key.size()] != '=') return false;
  value = name.substr(key.size() + 1);
  return true;
}

bool parse_int_key(const std::string& name, std::string_view key, int& value) {
  std::string text;
  if (!parse_key(name, key, text)) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string dataset_dir(const std::string& root, Dataset dataset) {
  return root + "/kind=" + std::string(dataset_name(dataset));
}

std::string partition_dir(const std::string& root, Dataset dataset, const std::string& symbol, int year, int month) {
  char ym[48];
  std::snprintf(ym, sizeof ym, "/year=%04d/month=%02d", year, month);
  return dataset_dir(root, dataset) + "/symbol=" + symbol + ym;
}

/// data.parquet files of one dataset (optionally one symbol), sorted by symbol, year, month.
Expected<std::vector<PartitionFile>> list_files(const std::string& root, Dataset dataset, const std::string& symbol) {
  std::vector<PartitionFile> files;
  std::error_code ec;
  const fs::path base = dataset_dir(root, dataset);
  if (!fs::is_directory(base, ec)) return files;
  auto dirs = [&](const fs::path& dir) -> Expected<std::vector<fs::path>> {
    std::vector<fs::path> out;
    std::error_code iter_ec;
    for (fs::directory_iterator it(dir, iter_ec), end; !iter_ec && it != end; it.increment(iter_ec)) {
      if (it->is_directory(iter_ec)) out.push_back(it->path());
    }
    if (iter_ec) return make_error("lake: cannot list " + dir.string() + ": " + iter_ec.message());
    return out;
  };
  auto symbols = dirs(base);
  if (!symbols) return tl::unexpected(symbols.error());
  for (const fs::path& sym_dir : *symbols) {
    PartitionFile file;
    if (!parse_key(sym_dir.filename().string(), "symbol", file.symbol)) continue;
    if (!symbol.empty() && file.symbol != symbol) continue;
    auto years = dirs(sym_dir);
    if (!years) return tl::unexpected(years.error());
    for (const fs::path& year_dir : *years) {
      if (!parse_int_key(year_dir.filename().string(), "year", file.year)) continue;
      auto months = dirs(year_dir);
      if (!months) return tl::unexpected(months.error());
      for (const fs::path& month_dir : *months) {
        if (!parse_int_key(month_dir.filename().string(), "month", file.month)) continue;
        const fs::path data = month_dir / kDataFile;
        if (!fs::is_regular_file(data, ec)) continue;
        file.path = data.string();
        files.push_back(file);
      }
    }
  }
  std::sort(files.begin(), files.end(), [](const PartitionFile& a, const PartitionFile& b) {
    return std::tie(a.symbol, a.year, a.month) < std::tie(b.symbol, b.year, b.month);
  });
  return files;
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

bool is_partial_name(const std::string& name) {
  constexpr std::string_view kPrefix = ".data.parquet.";
  constexpr std::string_view kSuffix = ".partial";
  return name.size() > kPrefix.size() + kSuffix.size() && name.compare(0, kPrefix.size(), kPrefix) == 0 &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

/// Deletes temporaries left by writers that died. Only called with the writer
/// lock held, so no live writer owns any of them.
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

// ---------------------------------------------------------------------------
// Writing.

/// Exclusive writer lock on <root>/.lock, released when destroyed.
class WriterLock {
 public:
  static Expected<std::unique_ptr<WriterLock>> acquire(const std::string& root) {
    const std::string path = root + "/.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return make_error("lake: cannot open lock file " + path + ": " + errno_text(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return make_error("lake: another writer holds the lock " + path +
                          " (one writer per lake at a time; wait for it to finish)");
      }
      return make_error("lake: cannot lock " + path + ": " + errno_text(err));
    }
    return std::unique_ptr<WriterLock>(new WriterLock(fd));
  }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock() { ::close(fd_); }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

/// Fills DuckDB data chunks column by column (no per-value API calls).
class ChunkBuilder {
 public:
  explicit ChunkBuilder(const Schema& schema) {
    for (const Column& c : schema.columns) types_.push_back(duckdb_create_logical_type(c.type));
    chunk_ = Chunk(duckdb_create_data_chunk(types_.data(), types_.size()));
  }
  ChunkBuilder(const ChunkBuilder&) = delete;
  ChunkBuilder& operator=(const ChunkBuilder&) = delete;
  ~ChunkBuilder() {
    chunk_.reset();
    for (auto& t : types_) duckdb_destroy_logical_type(&t);
  }
  void begin() { duckdb_data_chunk_reset(chunk_.get()); }
  template <class T>
  T* column(std::size_t col) {
    return static_cast<T*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk_.get(), col)));
  }
  /// Writable validity mask of a nullable column.
  std::uint64_t* validity(std::size_t col) {
    duckdb_vector v = duckdb_data_chunk_get_vector(chunk_.get(), col);
    duckdb_vector_ensure_validity_writable(v);
    return duckdb_vector_get_validity(v);
  }
  duckdb_data_chunk finish(std::size_t rows) {
    duckdb_data_chunk_set_size(chunk_.get(), rows);
    return chunk_.get();
  }

 private:
  std::vector<duckdb_logical_type> types_;
  Chunk chunk_;
};

inline void set_nullable(double* data, std::uint64_t* validity, std::size_t row, double value) {
  const bool valid = !std::isnan(value);
  data[row] = valid ? value : 0.0;
  const std::uint64_t bit = std::uint64_t{1} << (row % 64);
  if (valid) {
    validity[row / 64] |= bit;
  } else {
    validity[row / 64] &= ~bit;
  }
}

struct SeqTick {
  Tick tick;
  std::int32_t seq;
};
struct SeqTrade {
  Trade trade;
  std::int32_t seq;
};
struct SeqBook {
  const BookSnapshot* book;
  std::int32_t seq;
};

/// Writes rows [begin, end) into chunk rows [0, end - begin).
void fill(ChunkBuilder& b, const std::vector<Bar>& rows, std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* open = b.column<double>(1);
  auto* high = b.column<double>(2);
  auto* low = b.column<double>(3);
  auto* close = b.column<double>(4);
  auto* tick_volume = b.column<std::int64_t>(5);
  auto* volume = b.column<double>(6);
  auto* spread = b.column<std::int32_t>(7);
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const Bar& bar = rows[i];
    ts[r] = to_epoch_ns(bar.ts);
    open[r] = bar.open;
    high[r] = bar.high;
    low[r] = bar.low;
    close[r] = bar.close;
    tick_volume[r] = bar.tick_volume;
    volume[r] = bar.volume;
    spread[r] = bar.spread;
  }
}

void fill(ChunkBuilder& b, const std::vector<SeqTick>& rows, std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* seq = b.column<std::int32_t>(1);
  double* values[6];
  std::uint64_t* valid[6];
  for (std::size_t c = 0; c < 6; ++c) {
    values[c] = b.column<double>(c + 2);
    valid[c] = b.validity(c + 2);
  }
  auto* flags = b.column<std::uint32_t>(8);
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const Tick& t = rows[i].tick;
    ts[r] = to_epoch_ns(t.ts);
    seq[r] = rows[i].seq;
    set_nullable(values[0], valid[0], r, t.bid);
    set_nullable(values[1], valid[1], r, t.ask);
    set_nullable(values[2], valid[2], r, t.last);
    set_nullable(values[3], valid[3], r, t.volume);
    set_nullable(values[4], valid[4], r, t.bid_size);
    set_nullable(values[5], valid[5], r, t.ask_size);
    flags[r] = t.flags;
  }
}

void fill(ChunkBuilder& b, const std::vector<SeqTrade>& rows, std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* seq = b.column<std::int32_t>(1);
  auto* price = b.column<double>(2);
  auto* volume = b.column<double>(3);
  auto* aggressor = b.column<std::int8_t>(4);
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const Trade& t = rows[i].trade;
    ts[r] = to_epoch_ns(t.ts);
    seq[r] = rows[i].seq;
    price[r] = t.price;
    volume[r] = t.volume;
    aggressor[r] = static_cast<std::int8_t>(t.aggressor);
  }
}

/// One book row: snapshot `index` of the sorted input, `level`.
struct BookRow {
  std::uint32_t index;
  std::int16_t level;
};

void fill(ChunkBuilder& b, const std::vector<SeqBook>& books, const std::vector<BookRow>& rows, std::size_t begin,
          std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* seq = b.column<std::int32_t>(1);
  auto* level = b.column<std::int16_t>(2);
  double* values[4];
  std::uint64_t* valid[4];
  for (std::size_t c = 0; c < 4; ++c) {
    values[c] = b.column<double>(c + 3);
    valid[c] = b.validity(c + 3);
  }
  constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const SeqBook& snap = books[rows[i].index];
    const auto lv = static_cast<std::size_t>(rows[i].level);
    ts[r] = to_epoch_ns(snap.book->ts);
    seq[r] = snap.seq;
    level[r] = rows[i].level;
    const bool has_bid = lv < snap.book->bids.size();
    const bool has_ask = lv < snap.book->asks.size();
    set_nullable(values[0], valid[0], r, has_bid ? snap.book->bids[lv].price : kNull);
    set_nullable(values[1], valid[1], r, has_bid ? snap.book->bids[lv].size : kNull);
    set_nullable(values[2], valid[2], r, has_ask ? snap.book->asks[lv].price : kNull);
    set_nullable(values[3], valid[3], r, has_ask ? snap.book->asks[lv].size : kNull);
  }
}

std::pair<int, int> year_month(Timestamp ts) {
  const CivilTime c = to_civil_utc(ts);
  return {c.year, static_cast<int>(c.month)};
}

struct LakeShared {
  std::string root;
  LakeOptions options;
  std::shared_ptr<Database> db;
  /// The lock held by this Lake's live writers: writers of one Lake (e.g. ticks
  /// and the bars aggregated from them) share it; other Lakes and processes wait.
  std::weak_ptr<WriterLock> writer_lock;
};

/// Writes one partition: the new rows (sorted, unique keys) go to a TEMP table,
/// then to the partition file, merged with what it already holds.
class PartitionWriter {
 public:
  PartitionWriter(const LakeShared& lake, Dataset dataset, std::string symbol, Connection con)
      : lake_(lake), dataset_(dataset), schema_(schema_of(dataset)), symbol_(std::move(symbol)), con_(std::move(con)),
        builder_(schema_) {}

  /// Appends rows to the (fresh) staging table through data chunks.
  template <class Fill>
  Expected<void> stage(std::size_t rows, Fill&& fill_rows) {
    auto created = con_.exec("CREATE OR REPLACE TEMP TABLE new_rows (" + column_ddl(schema_) + ")",
                             "cannot create the staging table");
    if (!created) return created;
    duckdb_appender appender = nullptr;
    if (duckdb_appender_create_ext(con_.get(), "temp", "main", "new_rows", &appender) == DuckDBError) {
      std::string msg = appender != nullptr ? duckdb_appender_error(appender) : "unknown error";
      duckdb_appender_destroy(&appender);
      return make_error("lake: cannot create an appender: " + msg);
    }
    const std::size_t step = duckdb_vector_size();
    std::string failure;
    for (std::size_t begin = 0; begin < rows && failure.empty(); begin += step) {
      const std::size_t end = std::min(rows, begin + step);
      builder_.begin();
      fill_rows(builder_, begin, end);
      if (duckdb_append_data_chunk(appender, builder_.finish(end - begin)) == DuckDBError) {
        failure = duckdb_appender_error(appender);
      }
    }
    if (failure.empty() && duckdb_appender_close(appender) == DuckDBError) failure = duckdb_appender_error(appender);
    duckdb_appender_destroy(&appender);
    if (!failure.empty()) return make_error("lake: appending rows failed: " + failure);
    return {};
  }

  /// Merges the staged rows into partition (year, month).
  Expected<void> commit(int year, int month, std::int64_t staged_records, WriteStats& stats) {
    const std::string dir = partition_dir(lake_.root, dataset_, symbol_, year, month);
    const std::string final_path = dir + "/" + kDataFile;
    const std::string partial = dir + "/.data.parquet." + std::to_string(::getpid()) + ".partial";
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
      auto chunk = fetch(*counts, "reading merge counts");
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

 private:
  const LakeShared& lake_;
  Dataset dataset_;
  const Schema& schema_;
  std::string symbol_;
  Connection con_;
  ChunkBuilder builder_;
};

template <class Record>
class WriterImpl final : public LakeWriter {
 public:
  WriterImpl(std::shared_ptr<const LakeShared> lake, Dataset dataset, std::string symbol, Connection con,
             std::shared_ptr<WriterLock> lock)
      : lake_(std::move(lake)), dataset_(dataset), lock_(std::move(lock)),
        partition_(*lake_, dataset, std::move(symbol), std::move(con)) {}

  void add(const Bar& bar) override { push(bar); }
  void add(const Tick& tick) override { push(tick); }
  void add(const Trade& trade) override { push(trade); }
  void add(const BookSnapshot& book) override { push(book); }

  Expected<WriteStats> flush() override {
    if (error_) return tl::unexpected(*error_);
    while (!buffers_.empty()) {
      auto it = buffers_.begin();
      if (auto written = write(it->first, it->second); !written) {
        error_ = written.error();
        return tl::unexpected(*error_);
      }
      buffers_.erase(it);
    }
    return stats_;
  }

  const std::optional<Error>& error() const override { return error_; }

 private:
  template <class T>
  void push(const T& record) {
    if (error_) return;
    if constexpr (!std::is_same_v<T, Record>) {
      error_ = Error{"lake: a " + std::string(dataset_name(dataset_)) + " writer cannot take this kind of record"};
      return;
    } else {
      ++stats_.received;
      // Fast path: still inside the current month (most records of ordered input).
      if (current_buffer_ != nullptr && record.ts >= current_begin_ && record.ts < current_end_) {
        current_buffer_->push_back(record);
        return;
      }
      const auto [year, month] = year_month(record.ts);
      const int key = year * 12 + (month - 1);
      // Time-ordered input leaves a partition for good: write it out now so
      // memory holds one month at a time.
      if (current_ && *current_ != key) {
        auto prev = buffers_.find(*current_);
        if (prev != buffers_.end() && !prev->second.empty()) {
          if (auto written = write(prev->first, prev->second); !written) {
            error_ = written.error();
            return;
          }
          buffers_.erase(prev);
        }
      }
      current_ = key;
      current_buffer_ = &buffers_[key];
      if (current_buffer_->capacity() == 0) {
        if (spare_.capacity() > 0) current_buffer_->swap(spare_);
        current_buffer_->reserve(last_partition_rows_ + last_partition_rows_ / 8);
      }
      current_begin_ = month_start(year, month);
      current_end_ = month == 12 ? month_start(year + 1, 1) : month_start(year, month + 1);
      current_buffer_->push_back(record);
    }
  }

  static Timestamp month_start(int year, int month) {
    LocalTime t;
    QUANT_CHECK(make_local_time(year, month, 1, 0, 0, 0, 0, t));
    return Timestamp(t.time_since_epoch());
  }

  Expected<void> write(int key, std::vector<Record>& records) {
    const int year = key >= 0 ? key / 12 : -((-key + 11) / 12);
    const int month = key - year * 12 + 1;
    // A buffer being written is never appended to again through the cached pointer.
    if (current_buffer_ == &records) current_buffer_ = nullptr;
    last_partition_rows_ = records.size();
    auto by_time = [](const Record& a, const Record& b) { return a.ts < b.ts; };
    if (!std::is_sorted(records.begin(), records.end(), by_time)) {
      std::stable_sort(records.begin(), records.end(), by_time);
    }
    Expected<void> staged;
    std::int64_t staged_records = 0;
    if constexpr (std::is_same_v<Record, Bar>) {
      // Repeated timestamps inside the input: the first one wins.
      std::vector<Bar> unique;
      unique.reserve(records.size());
      for (const Bar& bar : records) {
        if (!unique.empty() && unique.back().ts == bar.ts) {
          ++(unique.back() == bar ? stats_.duplicates : stats_.conflicts);
          continue;
        }
        unique.push_back(bar);
      }
      staged_records = static_cast<std::int64_t>(unique.size());
      staged = partition_.stage(unique.size(),
                                [&](ChunkBuilder& b, std::size_t begin, std::size_t end) { fill(b, unique, begin, end); });
    } else if constexpr (std::is_same_v<Record, BookSnapshot>) {
      std::vector<SeqBook> books;
      std::vector<BookRow> rows;
      books.reserve(records.size());
      for (std::size_t i = 0; i < records.size(); ++i) {
        const BookSnapshot& b = records[i];
        const std::int32_t seq = (i > 0 && records[i - 1].ts == b.ts) ? books.back().seq + 1 : 0;
        books.push_back(SeqBook{&b, seq});
        // An empty snapshot keeps one all-NULL level so that it is not lost.
        const std::size_t levels = std::max<std::size_t>(1, std::max(b.bids.size(), b.asks.size()));
        for (std::size_t lv = 0; lv < levels && lv <= 32767; ++lv) {
          rows.push_back(BookRow{static_cast<std::uint32_t>(i), static_cast<std::int16_t>(lv)});
        }
      }
      staged_records = static_cast<std::int64_t>(books.size());
      staged = partition_.stage(
          rows.size(), [&](ChunkBuilder& b, std::size_t begin, std::size_t end) { fill(b, books, rows, begin, end); });
    } else {
      using Row = std::conditional_t<std::is_same_v<Record, Tick>, SeqTick, SeqTrade>;
      std::vector<Row> rows;
      rows.reserve(records.size());
      for (std::size_t i = 0; i < records.size(); ++i) {
        const std::int32_t seq = (i > 0 && records[i - 1].ts == records[i].ts) ? rows.back().seq + 1 : 0;
        rows.push_back(Row{records[i], seq});
      }
      staged_records = static_cast<std::int64_t>(rows.size());
      staged = partition_.stage(rows.size(),
                                [&](ChunkBuilder& b, std::size_t begin, std::size_t end) { fill(b, rows, begin, end); });
    }
    if (!staged) return staged;
    records.clear();
    // Keep the storage for the next month: fresh pages cost a fault each.
    if (records.capacity() > spare_.capacity()) spare_.swap(records);
    records.shrink_to_fit();
    return partition_.commit(year, month, staged_records, stats_);
  }

  std::shared_ptr<const LakeShared> lake_;
  Dataset dataset_;
  std::shared_ptr<WriterLock> lock_;
  PartitionWriter partition_;
  std::map<int, std::vector<Record>> buffers_;
  std::optional<int> current_;
  std::vector<Record>* current_buffer_ = nullptr;  ///< buffers_[*current_], valid until it is written
  Timestamp current_begin_{}, current_end_{};      ///< the UTC month of current_
  std::size_t last_partition_rows_ = 0;            ///< capacity hint for the next month
  std::vector<Record> spare_;                      ///< storage of the last written month, reused
  WriteStats stats_;
  std::optional<Error> error_;
};

// ---------------------------------------------------------------------------
// Reading.

/// Streams chosen columns of several files one file at a time, in order.
class FileChunks {
 public:
  FileChunks(Connection con, std::vector<std::string> paths, std::string select)
      : con_(std::move(con)), paths_(std::move(paths)), select_(std::move(select)) {}

  /// The next non-empty chunk, or an empty Chunk at the end.
  Expected<Chunk> next() {
    for (;;) {
      if (!open_) {
        if (next_file_ == paths_.size()) return Chunk();
        const std::string& path = paths_[next_file_++];
        auto started = con_.stream("SELECT " + select_ + " FROM read_parquet(" + sql_string(path) +
                                       ", hive_partitioning=false)",
                                   "cannot read " + path);
        if (!started) return tl::unexpected(started.error());
        prepared_ = std::move(started->first);
        result_ = std::move(started->second);
        open_ = true;
      }
      auto chunk = fetch(result_, "reading " + paths_[next_file_ - 1]);
      if (!chunk) return chunk;
      if (*chunk && chunk->size() > 0) return chunk;
      if (!*chunk) {
        result_.reset();
        prepared_.reset();
        open_ = false;
      }
    }
  }

 private:
  Connection con_;
  std::vector<std::string> paths_;
  std::string select_;
  std::size_t next_file_ = 0;
  bool open_ = false;
  Prepared prepared_;
  Result result_;
};

template <class T>
T value_or_zero(const T* data, const std::uint64_t* validity, std::size_t row) {
  return row_valid(validity, row) ? data[row] : T{};
}

class BarStreamImpl final : public BarStream {
 public:
  BarStreamImpl(FileChunks files, Timestamp from, Timestamp to, std::size_t batch_rows)
      : files_(std::move(files)), from_(from), to_(to), batch_rows_(std::max<std::size_t>(1, batch_rows)) {}

  Expected<bool> next(std::vector<Bar>& batch) override {
    batch.clear();
    if (batch.capacity() < batch_rows_) batch.reserve(batch_rows_);
    while (batch.size() < batch_rows_) {
      if (!chunk_ || offset_ == chunk_.size()) {
        if (done_) break;
        auto chunk = files_.next();
        if (!chunk) return tl::unexpected(chunk.error());
        if (!*chunk) {
          done_ = true;
          break;
        }
        chunk_ = std::move(*chunk);
        offset_ = 0;
      }
      const std::size_t size = chunk_.size();
      const auto* ts = chunk_.data<std::int64_t>(0);
      const auto* open = chunk_.data<double>(1);
      const auto* high = chunk_.data<double>(2);
      const auto* low = chunk_.data<double>(3);
      const auto* close = chunk_.data<double>(4);
      const auto* tick_volume = chunk_.data<std::int64_t>(5);
      const auto* volume = chunk_.data<double>(6);
      const auto* spread = chunk_.data<std::int32_t>(7);
      bool any_null = false;
      for (std::size_t c = 0; c < 8; ++c) any_null = any_null || chunk_.validity(c) != nullptr;
      const std::int64_t from = to_epoch_ns(from_), to = to_epoch_ns(to_);
      const std::size_t end = std::min(size, offset_ + (batch_rows_ - batch.size()));
      for (std::size_t r = offset_; r < end; ++r) {
        if (ts[r] < from || ts[r] >= to) continue;
        Bar& bar = batch.emplace_back();
        bar.ts = from_epoch_ns(ts[r]);
        if (!any_null) {
          bar.open = open[r];
          bar.high = high[r];
          bar.low = low[r];
          bar.close = close[r];
          bar.tick_volume = tick_volume[r];
          bar.volume = volume[r];
          bar.spread = spread[r];
        } else {
          // Files written by other tools may hold NULLs: read them as 0.
          bar.open = value_or_zero(open, chunk_.validity(1), r);
          bar.high = value_or_zero(high, chunk_.validity(2), r);
          bar.low = value_or_zero(low, chunk_.validity(3), r);
          bar.close = value_or_zero(close, chunk_.validity(4), r);
          bar.tick_volume = value_or_zero(tick_volume, chunk_.validity(5), r);
          bar.volume = value_or_zero(volume, chunk_.validity(6), r);
          bar.spread = value_or_zero(spread, chunk_.validity(7), r);
        }
      }
      offset_ = end;
    }
    return !batch.empty();
  }

 private:
  FileChunks files_;
  Timestamp from_, to_;
  std::size_t batch_rows_;
  Chunk chunk_;
  std::size_t offset_ = 0;
  bool done_ = false;
};

std::int64_t month_start_ns(int year, int month) {
  return days_from_civil(year, static_cast<unsigned>(month), 1) * 86'400'000'000'000;
}

/// CSV field per RFC 4180.
void write_csv_field(std::ostream& out, const char* data, std::size_t size) {
  const std::string_view text(data, size);
  if (size == 0) {
    out << "\"\"";  // an empty string, as opposed to NULL (nothing)
    return;
  }
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.write(data, static_cast<std::streamsize>(size));
    return;
  }
  out << '"';
  for (char c : text) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

class LakeImpl final : public Lake {
 public:
  LakeImpl(std::shared_ptr<LakeShared> shared, Connection con) : shared_(std::move(shared)), con_(std::move(con)) {}

  const std::string& root() const override { return shared_->root; }

  Expected<std::unique_ptr<LakeWriter>> writer(Dataset dataset, const std::string& symbol) override {
    if (auto ok = validate_symbol(symbol); !ok) return tl::unexpected(ok.error());
    std::shared_ptr<WriterLock> held = shared_->writer_lock.lock();
    if (!held) {
      auto acquired = WriterLock::acquire(shared_->root);
      if (!acquired) return tl::unexpected(acquired.error());
      held = std::move(*acquired);
      shared_->writer_lock = held;
      // First writer under this lock: every temporary in the lake is stale.
      if (auto cleaned = remove_stale_partials(shared_->root); !cleaned) return tl::unexpected(cleaned.error());
    }
    Expected<std::shared_ptr<WriterLock>> lock = held;
    auto con = Connection::make(shared_->db);
    if (!con) return tl::unexpected(con.error());
    switch (dataset) {
      case Dataset::Bars1m:
        return std::make_unique<WriterImpl<Bar>>(shared_, dataset, symbol, std::move(*con), std::move(*lock));
      case Dataset::Ticks:
        return std::make_unique<WriterImpl<Tick>>(shared_, dataset, symbol, std::move(*con), std::move(*lock));
      case Dataset::Trades:
        return std::make_unique<WriterImpl<Trade>>(shared_, dataset, symbol, std::move(*con), std::move(*lock));
      case Dataset::Book:
        return std::make_unique<WriterImpl<BookSnapshot>>(shared_, dataset, symbol, std::move(*con), std::move(*lock));
    }
    return make_error("lake: unknown dataset");
  }

  Expected<std::vector<PartitionInfo>> partitions(std::optional<Dataset> dataset, const std::string& symbol) override {
    std::vector<PartitionInfo> out;
    for (Dataset d : {Dataset::Bars1m, Dataset::Ticks, Dataset::Trades, Dataset::Book}) {
      if (dataset && *dataset != d) continue;
      auto files = list_files(shared_->root, d, symbol);
      if (!files) return tl::unexpected(files.error());
      if (files->empty()) continue;
      std::string list;
      std::map<std::string, std::size_t> index;
      for (const PartitionFile& f : *files) {
        list += (list.empty() ? "" : ", ") + sql_string(f.path);
        index[f.path] = out.size();
        PartitionInfo info;
        info.dataset = d;
        info.symbol = f.symbol;
        info.year = f.year;
        info.month = f.month;
        info.path = f.path;
        std::error_code ec;
        info.bytes = static_cast<std::int64_t>(fs::file_size(f.path, ec));
        if (ec) return make_error("lake: cannot stat " + f.path + ": " + ec.message());
        out.push_back(std::move(info));
      }
      // Book files hold several rows per snapshot: rows counts rows.
      auto result = con_.stream("SELECT filename, count(*)::BIGINT, min(ts), max(ts) FROM read_parquet([" + list +
                                    "], hive_partitioning=false, filename=true) GROUP BY filename",
                                "cannot read partition statistics");
      if (!result) return tl::unexpected(result.error());
      for (;;) {
        auto chunk = fetch(result->second, "reading partition statistics");
        if (!chunk) return tl::unexpected(chunk.error());
        if (!*chunk) break;
        for (std::size_t r = 0; r < chunk->size(); ++r) {
          auto it = index.find(read_string(*chunk, 0, r));
          if (it == index.end()) continue;
          PartitionInfo& info = out[it->second];
          info.rows = chunk->data<std::int64_t>(1)[r];
          info.first_ts = from_epoch_ns(value_or_zero(chunk->data<std::int64_t>(2), chunk->validity(2), r));
          info.last_ts = from_epoch_ns(value_or_zero(chunk->data<std::int64_t>(3), chunk->validity(3), r));
        }
      }
    }
    return out;
  }

  Expected<std::int64_t> query_csv(std::string_view sql, std::ostream& out) override {
    if (auto views = define_views(); !views) return tl::unexpected(views.error());
    std::string text(sql);
    while (!text.empty() && (std::isspace(static_cast<unsigned char>(text.back())) != 0 || text.back() == ';')) {
      text.pop_back();
    }
    Prepared probe;
    if (duckdb_prepare(con_.get(), text.c_str(), probe.out()) == DuckDBError) {
      return make_error(std::string("lake: query failed: ") + duckdb_prepare_error(probe.get()));
    }
    const std::size_t columns = duckdb_prepared_statement_column_count(probe.get());
    std::vector<std::string> names;
    for (std::size_t c = 0; c < columns; ++c) {
      const char* name = duckdb_prepared_statement_column_name(probe.get(), c);
      names.emplace_back(name != nullptr ? name : "");
      duckdb_free(const_cast<char*>(name));
    }
    // SELECTs are wrapped to let DuckDB render every value as text (timestamps
    // as "2020-11-06 13:28:00", doubles round-trip); other statements (COPY,
    // SHOW, PRAGMA ...) run as they are.
    const bool is_select = duckdb_prepared_statement_type(probe.get()) == DUCKDB_STATEMENT_TYPE_SELECT;
    probe.reset();
    std::string run = text;
    if (is_select && columns > 0) {
      run = "SELECT ";
      for (std::size_t c = 0; c < columns; ++c) run += (c ? ", " : "") + std::string("CAST(#") + std::to_string(c + 1) + " AS VARCHAR)";
      run += " FROM (" + text + "\n) AS q";
    }
    auto result = con_.stream(run, "query failed");
    if (!result) return tl::unexpected(result.error());
    duckdb_result& res = result->second.get();
    const std::size_t result_columns = duckdb_column_count(&res);
    std::vector<duckdb_type> types;
    for (std::size_t c = 0; c < result_columns; ++c) {
      types.push_back(duckdb_column_type(&res, c));
      if (c >= names.size()) names.emplace_back(duckdb_column_name(&res, c));
    }
    for (std::size_t c = 0; c < result_columns; ++c) {
      if (c) out << ',';
      write_csv_field(out, names[c].data(), names[c].size());
    }
    out << '\n';
    std::int64_t rows = 0;
    std::string cell;
    for (;;) {
      auto chunk = fetch(result->second, "query failed");
      if (!chunk) return tl::unexpected(chunk.error());
      if (!*chunk) break;
      const std::size_t size = chunk->size();
      for (std::size_t r = 0; r < size; ++r) {
        for (std::size_t c = 0; c < result_columns; ++c) {
          if (c) out << ',';
          if (!row_valid(chunk->validity(c), r)) continue;
          if (auto rendered = render(*chunk, c, r, types[c], cell); !rendered) return tl::unexpected(rendered.error());
          write_csv_field(out, cell.data(), cell.size());
        }
        out << '\n';
      }
      rows += static_cast<std::int64_t>(size);
    }
    if (!out) return make_error("lake: writing the query result failed");
    return rows;
  }

  Expected<std::unique_ptr<BarStream>> stream_bars(const std::string& symbol, Timestamp from, Timestamp to,
                                                   std::size_t batch_rows) override {
    if (auto ok = validate_symbol(symbol); !ok) return tl::unexpected(ok.error());
    auto files = list_files(shared_->root, Dataset::Bars1m, symbol);
    if (!files) return tl::unexpected(files.error());
    std::vector<std::string> paths;
    const std::int64_t from_ns = to_epoch_ns(from), to_ns = to_epoch_ns(to);
    for (const PartitionFile& f : *files) {
      const std::int64_t start = month_start_ns(f.year, f.month);
      const std::int64_t end = f.month == 12 ? month_start_ns(f.year + 1, 1) : month_start_ns(f.year, f.month + 1);
      if (start < to_ns && end > from_ns) paths.push_back(f.path);
    }
    auto con = Connection::make(shared_->db);
    if (!con) return tl::unexpected(con.error());
    return std::make_unique<BarStreamImpl>(FileChunks(std::move(*con), std::move(paths), column_list(schema_of(Dataset::Bars1m))),
                                           from, to, batch_rows);
  }

  Expected<VerifyReport> verify(const std::string& symbol, const InstrumentSpec* spec) override {
    auto verifier = SeriesVerifier::make(symbol, spec);
    if (!verifier) return tl::unexpected(verifier.error());
    auto bars = stream_bars(symbol, Timestamp::min(), Timestamp::max(), 8192);
    if (!bars) return tl::unexpected(bars.error());
    std::vector<Bar> batch;
    for (;;) {
      auto more = (*bars)->next(batch);
      if (!more) return tl::unexpected(more.error());
      if (!*more) break;
      for (const Bar& bar : batch) verifier->add_bar(bar);
    }
    for (Dataset d : {Dataset::Ticks, Dataset::Trades}) {
      auto files = list_files(shared_->root, d, symbol);
      if (!files) return tl::unexpected(files.error());
      if (files->empty()) continue;
      std::vector<std::string> paths;
      for (const PartitionFile& f : *files) paths.push_back(f.path);
      auto con = Connection::make(shared_->db);
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
    return verifier->finish();
  }

 private:
  Expected<void> define_views() {
    for (Dataset d : {Dataset::Bars1m, Dataset::Ticks, Dataset::Trades, Dataset::Book}) {
      const Schema& schema = schema_of(d);
      const std::string name(dataset_name(d));
      auto files = list_files(shared_->root, d, "");
      if (!files) return tl::unexpected(files.error());
      std::string body;
      if (!files->empty()) {
        body = "SELECT symbol, " + column_list(schema) + ", year, month FROM read_parquet(" +
               sql_string(dataset_dir(shared_->root, d) + "/*/*/*/*.parquet") + ", hive_partitioning=true, " + kHiveTypes +
               ")";
      } else {
        body = "SELECT NULL::VARCHAR AS symbol";
        for (const Column& c : schema.columns) body += std::string(", NULL::") + c.sql_type + " AS " + c.name;
        body += ", NULL::INTEGER AS year, NULL::INTEGER AS month WHERE false";
      }
      if (auto made = con_.exec("CREATE OR REPLACE TEMP VIEW " + name + " AS " + body, "cannot define view " + name);
          !made) {
        return made;
      }
    }
    return {};
  }

  /// Text of one non-NULL value of a non-wrapped statement.
  static Expected<void> render(const Chunk& chunk, std::size_t col, std::size_t row, duckdb_type type, std::string& out) {
    char buf[64];
    auto integer = [&](auto v) {
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
      out.assign(buf, ptr);
    };
    switch (type) {
      case DUCKDB_TYPE_VARCHAR: out = read_string(chunk, col, row); return {};
      case DUCKDB_TYPE_BOOLEAN: out = chunk.data<bool>(col)[row] ? "true" : "false"; return {};
      case DUCKDB_TYPE_TINYINT: integer(chunk.data<std::int8_t>(col)[row]); return {};
      case DUCKDB_TYPE_SMALLINT: integer(chunk.data<std::int16_t>(col)[row]); return {};
      case DUCKDB_TYPE_INTEGER: integer(chunk.data<std::int32_t>(col)[row]); return {};
      case DUCKDB_TYPE_BIGINT: integer(chunk.data<std::int64_t>(col)[row]); return {};
      case DUCKDB_TYPE_UTINYINT: integer(chunk.data<std::uint8_t>(col)[row]); return {};
      case DUCKDB_TYPE_USMALLINT: integer(chunk.data<std::uint16_t>(col)[row]); return {};
      case DUCKDB_TYPE_UINTEGER: integer(chunk.data<std::uint32_t>(col)[row]); return {};
      case DUCKDB_TYPE_UBIGINT: integer(chunk.data<std::uint64_t>(col)[row]); return {};
      case DUCKDB_TYPE_DOUBLE: {
        auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, chunk.data<double>(col)[row]);
        out.assign(buf, ptr);
        return {};
      }
      case DUCKDB_TYPE_FLOAT: {
        auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, chunk.data<float>(col)[row]);
        out.assign(buf, ptr);
        return {};
      }
      default:
        return make_error("lake: query_csv cannot render column " + std::to_string(col + 1) +
                          " of a non-SELECT statement (type " + std::to_string(static_cast<int>(type)) +
                          "); wrap it in a SELECT");
    }
  }

  std::shared_ptr<LakeShared> shared_;
  Connection con_;
};

}  // namespace

std::string_view dataset_name(Dataset dataset) {
  switch (dataset) {
    case Dataset::Bars1m: return "bars_1m";
    case Dataset::Ticks: return "ticks";
    case Dataset::Trades: return "trades";
    case Dataset::Book: return "book";
  }
  return "unknown";
}

Expected<Dataset> parse_dataset(std::string_view name) {
  for (Dataset d : {Dataset::Bars1m, Dataset::Ticks, Dataset::Trades, Dataset::Book}) {
    if (dataset_name(d) == name) return d;
  }
  return make_error("unknown dataset '" + std::string(name) + "' (expected bars_1m, ticks, trades or book)");
}

Expected<void> validate_symbol(std::string_view symbol) {
  if (symbol.empty()) return make_error("empty symbol");
  if (symbol.size() > 64) return make_error("symbol '" + std::string(symbol) + "' is longer than 64 characters");
  if (symbol == "." || symbol == "..") return make_error("symbol '" + std::string(symbol) + "' is not a valid name");
  for (char c : symbol) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '$';
    if (!ok) {
      return make_error("symbol '" + std::string(symbol) + "' has the character '" + std::string(1, c) +
                        "': only letters, digits and . _ - $ are allowed");
    }
  }
  return {};
}

Expected<std::unique_ptr<Lake>> Lake::open(const std::string& root, bool create, LakeOptions options) {
  std::error_code ec;
  if (!fs::exists(root, ec)) {
    if (!create) return make_error("lake: root " + root + " does not exist (create it with the create option)");
    fs::create_directories(root, ec);
    if (ec) return make_error("lake: cannot create " + root + ": " + ec.message());
  }
  if (!fs::is_directory(root, ec)) return make_error("lake: root " + root + " is not a directory");
  auto shared = std::make_shared<LakeShared>();
  shared->root = fs::absolute(root, ec).lexically_normal().string();
  while (shared->root.size() > 1 && shared->root.back() == '/') shared->root.pop_back();
  shared->options = options;
  shared->db = std::make_shared<Database>();

  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) return make_error("lake: cannot create a DuckDB config");
  std::string failure;
  auto set = [&](const char* name, const std::string& value) {
    if (failure.empty() && duckdb_set_config(config, name, value.c_str()) == DuckDBError) {
      failure = std::string("lake: bad DuckDB setting ") + name + "=" + value;
    }
  };
  if (options.threads > 0) set("threads", std::to_string(options.threads));
  if (!options.memory_limit.empty()) set("memory_limit", options.memory_limit);
  set("autoinstall_known_extensions", "false");
  if (!failure.empty()) {
    duckdb_destroy_config(&config);
    return make_error(failure);
  }
  char* open_error = nullptr;
  const duckdb_state state = duckdb_open_ext(nullptr, &shared->db->db, config, &open_error);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    std::string msg = open_error != nullptr ? open_error : "unknown error";
    duckdb_free(open_error);
    return make_error("lake: cannot start DuckDB: " + msg);
  }
  auto con = Connection::make(shared->db);
  if (!con) return tl::unexpected(con.error());
  return std::unique_ptr<Lake>(new LakeImpl(std::move(shared), std::move(*con)));
}

}  // namespace quant::lake
