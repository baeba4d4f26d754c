#include "lake/duckdb_connection.h"

#include <charconv>
#include <utility>

#include <duckdb.h>

namespace quant::lake::duck {
namespace {

// The handles are stored as void* so that the header needs no DuckDB type;
// these turn them back into what they are.
duckdb_database as_database(void* p) { return static_cast<duckdb_database>(p); }
duckdb_connection as_connection(void* p) { return static_cast<duckdb_connection>(p); }
duckdb_data_chunk as_chunk(void* p) { return static_cast<duckdb_data_chunk>(p); }
duckdb_appender as_appender(void* p) { return static_cast<duckdb_appender>(p); }

duckdb_type to_duckdb(ColumnType type) {
  switch (type) {
    case ColumnType::TimestampNs: return DUCKDB_TYPE_TIMESTAMP_NS;
    case ColumnType::Double: return DUCKDB_TYPE_DOUBLE;
    case ColumnType::BigInt: return DUCKDB_TYPE_BIGINT;
    case ColumnType::Integer: return DUCKDB_TYPE_INTEGER;
    case ColumnType::UInteger: return DUCKDB_TYPE_UINTEGER;
    case ColumnType::TinyInt: return DUCKDB_TYPE_TINYINT;
    case ColumnType::SmallInt: return DUCKDB_TYPE_SMALLINT;
  }
  return DUCKDB_TYPE_INVALID;
}

std::string failure(std::string_view what, const char* message) {
  return std::string("lake: ") + std::string(what) + ": " + message;
}

/// What a registered row source's callbacks see (its extra info).
struct RowSource {
  std::vector<SourceColumn> columns;
  SourceFill fill;
  std::vector<std::int64_t*> pointers;
};

void source_bind(duckdb_bind_info info) {
  const auto* source = static_cast<const RowSource*>(duckdb_bind_get_extra_info(info));
  for (const SourceColumn& c : source->columns) {
    duckdb_logical_type type = nullptr;
    switch (c.type) {
      case ParquetColumn::Type::TimestampNs: type = duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_NS); break;
      case ParquetColumn::Type::BigInt: type = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT); break;
      case ParquetColumn::Type::Decimal:
        type = duckdb_create_decimal_type(18, static_cast<std::uint8_t>(c.scale));
        break;
    }
    duckdb_bind_add_result_column(info, c.name.c_str(), type);
    duckdb_destroy_logical_type(&type);
  }
}

void source_init(duckdb_init_info info) { duckdb_init_set_max_threads(info, 1); }

void source_function(duckdb_function_info info, duckdb_data_chunk output) {
  auto* source = static_cast<RowSource*>(duckdb_function_get_extra_info(info));
  source->pointers.resize(source->columns.size());
  for (std::size_t c = 0; c < source->columns.size(); ++c) {
    source->pointers[c] = static_cast<std::int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, c)));
  }
  auto rows = source->fill(source->pointers.data(), duckdb_vector_size());
  if (!rows) {
    duckdb_function_set_error(info, rows.error().message.c_str());
    duckdb_data_chunk_set_size(output, 0);
    return;
  }
  duckdb_data_chunk_set_size(output, *rows);
}

}  // namespace

std::size_t vector_size() { return duckdb_vector_size(); }

// ---------------------------------------------------------------------------
// Database

Expected<std::shared_ptr<Database>> Database::open(int threads, const std::string& memory_limit,
                                                   const std::string& temp_directory) {
  std::shared_ptr<Database> db(new Database());
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) return make_error("lake: cannot create a DuckDB config");
  std::string failed;
  auto set = [&](const char* name, const std::string& value) {
    if (failed.empty() && duckdb_set_config(config, name, value.c_str()) == DuckDBError) {
      failed = std::string("lake: bad DuckDB setting ") + name + "=" + value;
    }
  };
  if (threads > 0) set("threads", std::to_string(threads));
  if (!memory_limit.empty()) set("memory_limit", memory_limit);
  if (!temp_directory.empty()) set("temp_directory", temp_directory);
  set("autoinstall_known_extensions", "false");
  if (!failed.empty()) {
    duckdb_destroy_config(&config);
    return make_error(failed);
  }
  char* open_error = nullptr;
  duckdb_database handle = nullptr;
  const duckdb_state state = duckdb_open_ext(nullptr, &handle, config, &open_error);
  db->handle_ = handle;
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    std::string msg = open_error != nullptr ? open_error : "unknown error";
    duckdb_free(open_error);
    return make_error("lake: cannot start DuckDB: " + msg);
  }
  return db;
}

Database::~Database() {
  if (handle_ == nullptr) return;
  duckdb_database db = as_database(handle_);
  duckdb_close(&db);
}

// ---------------------------------------------------------------------------
// Chunk

Chunk::Chunk(Chunk&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Chunk& Chunk::operator=(Chunk&& other) noexcept {
  if (this != &other) {
    reset();
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Chunk::~Chunk() { reset(); }

void Chunk::reset() {
  if (handle_ == nullptr) return;
  duckdb_data_chunk chunk = as_chunk(handle_);
  duckdb_destroy_data_chunk(&chunk);
  handle_ = nullptr;
}

std::size_t Chunk::size() const { return duckdb_data_chunk_get_size(as_chunk(handle_)); }

void* Chunk::column_data(std::size_t col) const {
  return duckdb_vector_get_data(duckdb_data_chunk_get_vector(as_chunk(handle_), col));
}

const std::uint64_t* Chunk::validity(std::size_t col) const {
  return duckdb_vector_get_validity(duckdb_data_chunk_get_vector(as_chunk(handle_), col));
}

std::string Chunk::string(std::size_t col, std::size_t row) const {
  auto* strings = static_cast<duckdb_string_t*>(column_data(col));
  duckdb_string_t& s = strings[row];
  return std::string(duckdb_string_t_data(&s), duckdb_string_t_length(s));
}

// ---------------------------------------------------------------------------
// Result

struct Result::State {
  duckdb_prepared_statement prepared = nullptr;
  duckdb_result result{};
  bool live = false;               ///< `result` must be destroyed (even after a failed query)
  std::vector<duckdb_type> types;  ///< column types, read on the first render()

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (live) duckdb_destroy_result(&result);
    if (prepared != nullptr) duckdb_destroy_prepare(&prepared);
  }
};

Result::Result() = default;
Result::Result(Result&& other) noexcept = default;
Result& Result::operator=(Result&& other) noexcept = default;
Result::~Result() = default;

void Result::reset() { state_.reset(); }

Expected<Chunk> Result::fetch(std::string_view what) {
  Chunk chunk(duckdb_fetch_chunk(state_->result));
  if (!chunk) {
    const char* err = duckdb_result_error(&state_->result);
    if (err != nullptr && *err != '\0') return make_error(failure(what, err));
  }
  return chunk;
}

std::size_t Result::column_count() const { return duckdb_column_count(&state_->result); }

std::string Result::column_name(std::size_t col) const {
  const char* name = duckdb_column_name(&state_->result, col);
  return name != nullptr ? name : "";
}

Expected<void> Result::render(const Chunk& chunk, std::size_t col, std::size_t row, std::string& out) {
  if (state_->types.empty()) {
    for (std::size_t c = 0; c < column_count(); ++c) state_->types.push_back(duckdb_column_type(&state_->result, c));
  }
  const duckdb_type type = state_->types[col];
  char buf[64];
  auto integer = [&](auto v) {
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.assign(buf, ptr);
  };
  switch (type) {
    case DUCKDB_TYPE_VARCHAR: out = chunk.string(col, row); return {};
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

// ---------------------------------------------------------------------------
// Connection

Expected<Connection> Connection::make(std::shared_ptr<Database> db) {
  Connection c;
  c.db_ = std::move(db);
  duckdb_connection con = nullptr;
  if (duckdb_connect(as_database(c.db_->handle_), &con) == DuckDBError) {
    return make_error("lake: cannot connect to DuckDB");
  }
  c.handle_ = con;
  return c;
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::move(other.db_)), handle_(std::exchange(other.handle_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::move(other.db_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Connection::~Connection() { close(); }

void Connection::close() {
  if (handle_ == nullptr) return;
  duckdb_connection con = as_connection(handle_);
  duckdb_disconnect(&con);
  handle_ = nullptr;
}

Expected<Result> Connection::query(const std::string& sql, std::string_view what) {
  Result result;
  result.state_ = std::make_unique<Result::State>();
  result.state_->live = true;
  if (duckdb_query(as_connection(handle_), sql.c_str(), &result.state_->result) == DuckDBError) {
    return make_error(failure(what, duckdb_result_error(&result.state_->result)));
  }
  return result;
}

Expected<void> Connection::exec(const std::string& sql, std::string_view what) {
  auto result = query(sql, what);
  if (!result) return tl::unexpected(result.error());
  return {};
}

Expected<Result> Connection::stream(const std::string& sql, std::string_view what) {
  Result result;
  result.state_ = std::make_unique<Result::State>();
  Result::State& s = *result.state_;
  if (duckdb_prepare(as_connection(handle_), sql.c_str(), &s.prepared) == DuckDBError) {
    return make_error(failure(what, duckdb_prepare_error(s.prepared)));
  }
  s.live = true;
  if (duckdb_execute_prepared_streaming(s.prepared, &s.result) == DuckDBError) {
    return make_error(failure(what, duckdb_result_error(&s.result)));
  }
  return result;
}

Expected<void> Connection::register_source(const std::string& name, std::vector<SourceColumn> columns,
                                           SourceFill fill) {
  auto* source = new RowSource{std::move(columns), std::move(fill), {}};
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, name.c_str());
  duckdb_table_function_set_extra_info(function, source, [](void* p) { delete static_cast<RowSource*>(p); });
  duckdb_table_function_set_bind(function, source_bind);
  duckdb_table_function_set_init(function, source_init);
  duckdb_table_function_set_function(function, source_function);
  const duckdb_state state = duckdb_register_table_function(as_connection(handle_), function);
  duckdb_destroy_table_function(&function);
  if (state == DuckDBError) return make_error("lake: cannot register the table function " + name);
  return {};
}

Expected<StatementShape> Connection::describe(const std::string& sql, std::string_view what) {
  duckdb_prepared_statement probe = nullptr;
  if (duckdb_prepare(as_connection(handle_), sql.c_str(), &probe) == DuckDBError) {
    std::string message = failure(what, duckdb_prepare_error(probe));
    duckdb_destroy_prepare(&probe);
    return make_error(std::move(message));
  }
  StatementShape shape;
  const std::size_t columns = duckdb_prepared_statement_column_count(probe);
  for (std::size_t c = 0; c < columns; ++c) {
    const char* name = duckdb_prepared_statement_column_name(probe, c);
    shape.column_names.emplace_back(name != nullptr ? name : "");
    duckdb_free(const_cast<char*>(name));
  }
  shape.is_select = duckdb_prepared_statement_type(probe) == DUCKDB_STATEMENT_TYPE_SELECT;
  duckdb_destroy_prepare(&probe);
  return shape;
}

// ---------------------------------------------------------------------------
// ChunkBuilder and Appender

ChunkBuilder::ChunkBuilder(const std::vector<ColumnType>& types) {
  std::vector<duckdb_logical_type> logical;
  logical.reserve(types.size());
  for (ColumnType t : types) logical.push_back(duckdb_create_logical_type(to_duckdb(t)));
  types_.assign(logical.begin(), logical.end());
  chunk_ = Chunk(duckdb_create_data_chunk(logical.data(), logical.size()));
}

ChunkBuilder::~ChunkBuilder() {
  chunk_.reset();
  for (void* t : types_) {
    auto type = static_cast<duckdb_logical_type>(t);
    duckdb_destroy_logical_type(&type);
  }
}

void ChunkBuilder::begin() { duckdb_data_chunk_reset(as_chunk(chunk_.handle_)); }

std::uint64_t* ChunkBuilder::validity(std::size_t col) {
  duckdb_vector v = duckdb_data_chunk_get_vector(as_chunk(chunk_.handle_), col);
  duckdb_vector_ensure_validity_writable(v);
  return duckdb_vector_get_validity(v);
}

Expected<Appender> Appender::open(Connection& con, const std::string& table) {
  duckdb_appender appender = nullptr;
  if (duckdb_appender_create_ext(as_connection(con.handle_), "temp", "main", table.c_str(), &appender) == DuckDBError) {
    std::string msg = appender != nullptr ? duckdb_appender_error(appender) : "unknown error";
    duckdb_appender_destroy(&appender);
    return make_error("lake: cannot create an appender: " + msg);
  }
  return Appender(appender);
}

Appender::Appender(Appender&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Appender::~Appender() {
  if (handle_ == nullptr) return;
  duckdb_appender appender = as_appender(handle_);
  duckdb_appender_destroy(&appender);
}

Expected<void> Appender::append(ChunkBuilder& chunk, std::size_t rows) {
  duckdb_data_chunk data = as_chunk(chunk.chunk_.handle_);
  duckdb_data_chunk_set_size(data, rows);
  if (duckdb_append_data_chunk(as_appender(handle_), data) == DuckDBError) {
    return make_error(std::string("lake: appending rows failed: ") + duckdb_appender_error(as_appender(handle_)));
  }
  return {};
}

Expected<void> Appender::close() {
  if (duckdb_appender_close(as_appender(handle_)) == DuckDBError) {
    return make_error(std::string("lake: appending rows failed: ") + duckdb_appender_error(as_appender(handle_)));
  }
  return {};
}

}  // namespace quant::lake::duck
