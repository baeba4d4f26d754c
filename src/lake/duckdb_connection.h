#pragma once
/// The DuckDB C API behind move-only RAII handles. Internal to src/lake (not
/// part of the module's public API): `duckdb_connection.cpp` is the only file
/// that includes duckdb.h, and this header names no DuckDB type, so the rest of
/// the lake talks SQL and reads column vectors without seeing the vendor API.
///
/// Errors are `Error`s whose message is "lake: <what>: <DuckDB's message>".
/// Thread safety: a `Database` may be shared between threads; a `Connection`
/// and everything made from it (results, chunks, appenders) is used by one
/// thread at a time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "lake/parquet_stream.h"

namespace quant::lake::duck {

/// The physical column types the lake writes.
enum class ColumnType { TimestampNs, Double, BigInt, Integer, UInteger, TinyInt, SmallInt };

/// Rows per DuckDB vector: a chunk holds at most this many rows.
std::size_t vector_size();

/// True when bit `row` of a validity mask is set; a null mask means every row is valid.
inline bool row_valid(const std::uint64_t* validity, std::size_t row) {
  return validity == nullptr || ((validity[row / 64] >> (row % 64)) & 1U) != 0;
}

/// An in-memory DuckDB instance. Closed when the last Connection made from it
/// and the last owner are gone.
class Database {
 public:
  /// Starts DuckDB with `threads` (0 = DuckDB's default), `memory_limit`
  /// (e.g. "2GB", empty = default), where it spills beyond that
  /// (`temp_directory`, created when first needed; empty = DuckDB's default)
  /// and automatic extension installs off.
  /// Fails naming the bad setting or with DuckDB's start-up message.
  static Expected<std::shared_ptr<Database>> open(int threads, const std::string& memory_limit,
                                                  const std::string& temp_directory = "");
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

 private:
  friend class Connection;
  Database() = default;
  void* handle_ = nullptr;
};

/// One data chunk of a result (or a chunk being built): up to vector_size()
/// rows, column-major. Owns the chunk; movable, not copyable.
class Chunk {
 public:
  Chunk() = default;
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
  Chunk(Chunk&& other) noexcept;
  Chunk& operator=(Chunk&& other) noexcept;
  ~Chunk();
  void reset();
  /// False for the empty Chunk that marks the end of a result.
  explicit operator bool() const { return handle_ != nullptr; }
  std::size_t size() const;
  /// The values of column `col`, typed as stored (TIMESTAMP_NS as int64 ns, DOUBLE as double ...).
  template <class T>
  const T* data(std::size_t col) const {
    return static_cast<const T*>(column_data(col));
  }
  /// Validity mask of a column, nullptr when every row is valid (see row_valid).
  const std::uint64_t* validity(std::size_t col) const;
  /// A VARCHAR value.
  std::string string(std::size_t col, std::size_t row) const;

 private:
  friend class Result;
  friend class ChunkBuilder;
  friend class Appender;
  explicit Chunk(void* handle) : handle_(handle) {}
  void* column_data(std::size_t col) const;
  void* handle_ = nullptr;
};

/// A query result, materialised or streaming (then it also owns its prepared
/// statement). Movable, not copyable; an empty Result holds nothing.
class Result {
 public:
  Result();
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  ~Result();
  /// Destroys the result, then its prepared statement.
  void reset();

  /// The next chunk, or an empty Chunk at the end. A streaming result reports
  /// read errors (a corrupt or vanished file) only here: "lake: <what>: ...".
  Expected<Chunk> fetch(std::string_view what);
  std::size_t column_count() const;
  std::string column_name(std::size_t col) const;
  /// Text of the non-NULL value at (`col`, `row`) of a chunk of this result:
  /// VARCHAR as is, BOOLEAN as true/false, integers and floating point in
  /// shortest round-trip form. Other types are an error that asks for a SELECT.
  Expected<void> render(const Chunk& chunk, std::size_t col, std::size_t row, std::string& out);

 private:
  friend class Connection;
  struct State;
  std::unique_ptr<State> state_;
};

/// Calls `on_row(chunk, row)` for every row of `result`, chunk by chunk, and
/// stops at the first error (of a fetch, or one `on_row` returns).
template <class OnRow>
Expected<void> for_each_row(Result& result, std::string_view what, OnRow&& on_row) {
  for (;;) {
    auto chunk = result.fetch(what);
    if (!chunk) return tl::unexpected(chunk.error());
    if (!*chunk) return {};
    for (std::size_t r = 0; r < chunk->size(); ++r) {
      if (Expected<void> ok = on_row(*chunk, r); !ok) return ok;
    }
  }
}

/// Column names of a statement and whether it is a SELECT, known before it runs.
struct StatementShape {
  std::vector<std::string> column_names;
  bool is_select = false;
};

/// A column of a C++ row source: int64 values as a timestamp (ns since the
/// epoch, UTC), a BIGINT, or a DECIMAL(18, scale) (the value times 10^scale);
/// the columns `ParquetStreamWriter` takes.
using SourceColumn = ParquetColumn;

/// Fills the next rows of a row source: writes up to `capacity` rows into
/// `columns[c][0 .. n)` and returns n; 0 ends the table. An error ends the
/// query with that message. Called on the thread running the query.
using SourceFill = std::function<Expected<std::size_t>(std::int64_t* const* columns, std::size_t capacity)>;

/// One DuckDB connection plus the database it keeps alive.
class Connection {
 public:
  /// Fails with "lake: cannot connect to DuckDB".
  static Expected<Connection> make(std::shared_ptr<Database> db);
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  ~Connection();

  /// Runs one statement, materialising its (small) result.
  Expected<Result> query(const std::string& sql, std::string_view what);
  /// Runs one statement and drops its result.
  Expected<void> exec(const std::string& sql, std::string_view what);
  /// Prepares and runs `sql` with a streaming result (memory: one chunk at a time).
  Expected<Result> stream(const std::string& sql, std::string_view what);
  /// Prepares `sql` without running it.
  Expected<StatementShape> describe(const std::string& sql, std::string_view what);
  /// Registers the table function `name()` in the database: its rows come
  /// from `fill`, in order, on one thread (e.g. `COPY (SELECT * FROM name())
  /// TO 'f.parquet'` streams C++ rows into Parquet in bounded memory).
  Expected<void> register_source(const std::string& name, std::vector<SourceColumn> columns, SourceFill fill);

 private:
  friend class Appender;
  void close();
  std::shared_ptr<Database> db_;
  void* handle_ = nullptr;
};

/// Fills a data chunk column by column (no per-value API calls) for an Appender.
class ChunkBuilder {
 public:
  explicit ChunkBuilder(const std::vector<ColumnType>& types);
  ChunkBuilder(const ChunkBuilder&) = delete;
  ChunkBuilder& operator=(const ChunkBuilder&) = delete;
  ~ChunkBuilder();
  /// Starts a new chunk (previous contents dropped).
  void begin();
  /// Writable values of column `col` (vector_size() slots).
  template <class T>
  T* column(std::size_t col) {
    return static_cast<T*>(chunk_.column_data(col));
  }
  /// Writable validity mask of a nullable column (all rows valid until cleared).
  std::uint64_t* validity(std::size_t col);

 private:
  friend class Appender;
  std::vector<void*> types_;
  Chunk chunk_;
};

/// Bulk insert into a table through data chunks. Destroying an appender
/// flushes what close() did not.
class Appender {
 public:
  /// An appender on the TEMP table `table`. Fails with "lake: cannot create an appender: ...".
  static Expected<Appender> open(Connection& con, const std::string& table);
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  Appender(Appender&& other) noexcept;
  Appender& operator=(Appender&& other) = delete;
  ~Appender();
  /// Appends the first `rows` rows of the builder's chunk. Fails with "lake: appending rows failed: ...".
  Expected<void> append(ChunkBuilder& chunk, std::size_t rows);
  /// Flushes and closes. Fails with "lake: appending rows failed: ...".
  Expected<void> close();

 private:
  explicit Appender(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

}  // namespace quant::lake::duck
