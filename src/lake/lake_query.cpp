// SQL over the lake: the views bars_1m, ticks, trades, book over the Parquet
// files, and query results written as CSV.
#include <cctype>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lake/duckdb_connection.h"
#include "lake/lake_impl.h"
#include "lake/partition_files.h"
#include "lake/schema.h"

namespace quant::lake {
namespace {

constexpr const char* kHiveTypes = "hive_types={'symbol': VARCHAR, 'year': INTEGER, 'month': INTEGER}";
constexpr const char* kHiveTypesDay =
    "hive_types={'symbol': VARCHAR, 'year': INTEGER, 'month': INTEGER, 'day': INTEGER}";

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

}  // namespace

Expected<std::int64_t> LakeImpl::query_csv(std::string_view sql, std::ostream& out) {
  if (auto views = define_views(); !views) return tl::unexpected(views.error());
  std::string text(sql);
  while (!text.empty() && (std::isspace(static_cast<unsigned char>(text.back())) != 0 || text.back() == ';')) {
    text.pop_back();
  }
  auto shape = con_.describe(text, "query failed");
  if (!shape) return tl::unexpected(shape.error());
  std::vector<std::string> names = std::move(shape->column_names);
  const std::size_t columns = names.size();
  // SELECTs are wrapped to let DuckDB render every value as text (timestamps
  // as "2020-11-06 13:28:00", doubles round-trip); other statements (COPY,
  // SHOW, PRAGMA ...) run as they are.
  std::string run = text;
  if (shape->is_select && columns > 0) {
    run = "SELECT ";
    for (std::size_t c = 0; c < columns; ++c)
      run += (c ? ", " : "") + std::string("CAST(#") + std::to_string(c + 1) + " AS VARCHAR)";
    run += " FROM (" + text + "\n) AS q";
  }
  auto result = con_.stream(run, "query failed");
  if (!result) return tl::unexpected(result.error());
  const std::size_t result_columns = result->column_count();
  for (std::size_t c = names.size(); c < result_columns; ++c) names.push_back(result->column_name(c));
  for (std::size_t c = 0; c < result_columns; ++c) {
    if (c) out << ',';
    write_csv_field(out, names[c].data(), names[c].size());
  }
  out << '\n';
  std::int64_t rows = 0;
  std::string cell;
  for (;;) {
    auto chunk = result->fetch("query failed");
    if (!chunk) return tl::unexpected(chunk.error());
    if (!*chunk) break;
    const std::size_t size = chunk->size();
    for (std::size_t r = 0; r < size; ++r) {
      for (std::size_t c = 0; c < result_columns; ++c) {
        if (c) out << ',';
        if (!duck::row_valid(chunk->validity(c), r)) continue;
        if (auto rendered = result->render(*chunk, c, r, cell); !rendered) return tl::unexpected(rendered.error());
        write_csv_field(out, cell.data(), cell.size());
      }
      out << '\n';
    }
    rows += static_cast<std::int64_t>(size);
  }
  if (!out) return make_error("lake: writing the query result failed");
  return rows;
}

Expected<void> LakeImpl::define_views() {
  for (Dataset d : {Dataset::Bars1m, Dataset::Ticks, Dataset::Trades, Dataset::Book}) {
    const Schema& schema = schema_of(d);
    const std::string name(dataset_name(d));
    auto files = list_files(shared_->root, d, "");
    if (!files) return tl::unexpected(files.error());
    // The exact files of the listing (not a glob): a month still being split
    // into days shows its month file only, never both. Ticks, trades and book
    // get a `day` column; their months from before day partitions take it from ts.
    const bool daily = day_partitioned(d);
    std::string day_files, month_files;
    for (const PartitionFile& f : *files) {
      std::string& list = f.day > 0 ? day_files : month_files;
      list += (list.empty() ? "" : ", ") + sql_string(f.path);
    }
    std::string body;
    auto select = [&](const std::string& list, bool has_day) {
      return "SELECT symbol, " + column_list(schema) + ", year, month" +
             (daily ? (has_day ? std::string(", day") : std::string(", day(ts)::INTEGER AS day")) : std::string()) +
             " FROM read_parquet([" + list + "], hive_partitioning=true, " + (has_day ? kHiveTypesDay : kHiveTypes) +
             ")";
    };
    if (!day_files.empty()) body = select(day_files, true);
    if (!month_files.empty()) body += (body.empty() ? "" : " UNION ALL ") + select(month_files, false);
    if (body.empty()) {
      body = "SELECT NULL::VARCHAR AS symbol";
      for (const Column& c : schema.columns) body += std::string(", NULL::") + c.sql_type + " AS " + c.name;
      body += ", NULL::INTEGER AS year, NULL::INTEGER AS month";
      if (daily) body += ", NULL::INTEGER AS day";
      body += " WHERE false";
    }
    if (auto made = con_.exec("CREATE OR REPLACE TEMP VIEW " + name + " AS " + body, "cannot define view " + name);
        !made) {
      return made;
    }
  }
  return {};
}

}  // namespace quant::lake
