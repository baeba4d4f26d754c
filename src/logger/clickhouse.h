#pragma once
/// A ClickHouse client over its HTTP interface (libcurl): queries, batched
/// inserts, the schema. Speaks only what ClickHouse 18.16 (Debian 12) and
/// current ClickHouse share: POST of the query text, `INSERT INTO db.t FORMAT
/// JSONEachRow` with the rows as the body, the `database` parameter, and
/// `wait_end_of_query=1` so a 200 is sent only once the insert is written.
///
/// One client = one connection (kept alive) = one thread.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant::logger {

/// Where ClickHouse is and how patiently to talk to it. The password comes
/// from the environment or a file at the app's level, never from config.
struct ClickHouseEndpoint {
  std::string url = "http://127.0.0.1:8123";  ///< scheme://host:port of the HTTP interface
  std::string user;                           ///< empty = the server's default user
  std::string password;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{30000};  ///< a whole request, the answer included
};

/// ClickHouse's answer to one request that got one.
struct Reply {
  long status = 0;   ///< HTTP status
  int code = 0;      ///< ClickHouse's error code ("Code: N" in the body), 0 when none
  std::string body;  ///< the result, or ClickHouse's message
  bool ok() const { return status == 200; }
  /// "HTTP 500, ClickHouse code 27: Cannot parse input ..." (one line).
  std::string describe() const;
};

/// Errors about the data of an insert (a value that does not parse, an
/// unknown column): sending the same rows again fails the same way. Every
/// other failure (no connection, a timeout, too many parts, memory, a table
/// that does not exist yet) may pass on a later try.
bool is_data_error(const Reply& reply);

class ClickHouseClient {
 public:
  static Expected<ClickHouseClient> create(ClickHouseEndpoint endpoint);
  ClickHouseClient(ClickHouseClient&&) noexcept;
  ClickHouseClient& operator=(ClickHouseClient&&) noexcept;
  ~ClickHouseClient();

  /// Runs `sql` (its text is the POST body) with `database` as the default
  /// database ("" = the user's). An error only when there was no answer
  /// (connection refused, timeout): it names the URL and says what curl saw.
  Expected<Reply> query(std::string_view sql, std::string_view database = "");
  /// `INSERT INTO <database>.<table> FORMAT <format>` with `rows` as the body.
  Expected<Reply> insert(std::string_view database, std::string_view table, std::string_view format,
                         std::string_view rows);
  /// GET /ping: true when the server answers "Ok.".
  bool ping();
  /// The query's result, or an error with the URL and ClickHouse's message
  /// (for callers that do not tell transient failures apart).
  Expected<std::string> query_ok(std::string_view sql, std::string_view database = "");

  const ClickHouseEndpoint& endpoint() const;

 private:
  struct Impl;
  explicit ClickHouseClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The tables of config/clickhouse/schema.sql (embedded at build time).
std::string_view schema_sql();
/// The schema's statements, comments removed, one per element.
std::vector<std::string> schema_statements(std::string_view sql);
/// CREATE DATABASE IF NOT EXISTS `database`, then each statement of `sql`
/// with it as the default database. Idempotent.
Expected<void> apply_schema(ClickHouseClient& client, std::string_view database, std::string_view sql = schema_sql());
/// A database name ClickHouse takes unquoted: [A-Za-z_][A-Za-z0-9_]*.
Expected<void> check_identifier(std::string_view what, std::string_view name);

}  // namespace quant::logger
