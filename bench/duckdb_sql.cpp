// Peer baseline for bench/run.sh: runs SQL statements with DuckDB's C API and
// nothing else, so that DuckDB's native `read_csv → COPY (FORMAT parquet)`
// path can be timed against `quant ingest` on the same files in the same run.
// (A benchmark tool, not part of the platform: the platform's only DuckDB
// user is src/lake.)

#include <cstdio>

#include <duckdb.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: duckdb_sql 'SQL' ['SQL' ...]\n");
    return 2;
  }
  duckdb_database db;
  duckdb_connection con;
  if (duckdb_open(nullptr, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
    std::fprintf(stderr, "duckdb_sql: cannot open DuckDB\n");
    return 1;
  }
  int status = 0;
  for (int i = 1; i < argc && status == 0; ++i) {
    duckdb_result result;
    if (duckdb_query(con, argv[i], &result) != DuckDBSuccess) {
      std::fprintf(stderr, "duckdb_sql: %s\n", duckdb_result_error(&result));
      status = 1;
    } else if (duckdb_column_count(&result) > 0 && duckdb_row_count(&result) > 0) {
      char* v = duckdb_value_varchar(&result, 0, 0);
      std::printf("%s\n", v);
      duckdb_free(v);
    }
    duckdb_destroy_result(&result);
  }
  duckdb_disconnect(&con);
  duckdb_close(&db);
  return status;
}
