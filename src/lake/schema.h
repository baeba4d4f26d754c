#pragma once
/// Column schemas of the lake's datasets and the SQL text built from them.
/// Internal to src/lake: the writer, the reader and the query views share
/// these so that files and views never disagree on a column.

#include <string>
#include <string_view>
#include <vector>

#include "lake/duckdb_connection.h"
#include "lake/lake.h"

namespace quant::lake {

/// One stored column.
struct Column {
  const char* name;
  const char* sql_type;
  duck::ColumnType type;
};

/// The file columns of one dataset (the partition columns symbol/year/month are not stored).
struct Schema {
  std::vector<Column> columns;
  const char* order_key;  ///< the file's sort key
  const char* match_key;  ///< what identifies one record (book: one snapshot of several rows)
  const char* value;      ///< expression compared to detect conflicts (over one record)
  bool grouped;           ///< value aggregates rows (book)
};

/// The schema of `dataset` (static storage).
const Schema& schema_of(Dataset dataset);

/// The column types in file order, for a ChunkBuilder.
std::vector<duck::ColumnType> column_types(const Schema& schema);

/// "ts, open, ..." with `prefix` before each name ("n." gives "n.ts, n.open, ...").
std::string column_list(const Schema& schema, const char* prefix = "");

/// "ts TIMESTAMP_NS, open DOUBLE, ..." for CREATE TABLE.
std::string column_ddl(const Schema& schema);

/// `text` as an SQL string literal (single quotes doubled).
std::string sql_string(std::string_view text);

}  // namespace quant::lake
