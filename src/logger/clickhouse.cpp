// ClickHouse's HTTP interface over quant::http (libcurl). One http::Client per
// client: its connection is kept alive between requests, which matters for
// many small batches.

#include "logger/clickhouse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "core/url.h"
#include "http/http_client.h"
#include "logger/schema_sql.h"

namespace quant::logger {

namespace {

/// "Code: 27, e.displayText() = ..." → 27 (0 when the body has no code).
int code_of(std::string_view body) {
  const auto at = body.find("Code: ");
  if (at == std::string_view::npos) return 0;
  int code = 0;
  const char* begin = body.data() + at + 6;
  std::from_chars(begin, body.data() + body.size(), code);
  return code;
}

std::string one_line(std::string_view text, std::size_t max = 600) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c == '\n' || c == '\r') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (text.size() > max) out += " ...";
  return out;
}

}  // namespace

std::string Reply::describe() const {
  std::string s = "HTTP " + std::to_string(status);
  if (code != 0) s += ", ClickHouse code " + std::to_string(code);
  if (!body.empty()) s += ": " + one_line(body);
  return s;
}

bool is_data_error(const Reply& reply) {
  // Stable error codes (ErrorCodes.cpp, the same numbers in 18.16 and now):
  // the rows themselves are at fault, so a retry would fail the same way.
  static constexpr int kDataCodes[] = {
      6,    // CANNOT_PARSE_TEXT
      16,   // NO_SUCH_COLUMN_IN_TABLE
      26,   // CANNOT_PARSE_QUOTED_STRING
      27,   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
      32,   // ATTEMPT_TO_READ_AFTER_EOF
      33,   // CANNOT_READ_ALL_DATA
      38,   // CANNOT_PARSE_DATE
      41,   // CANNOT_PARSE_DATETIME
      53,   // TYPE_MISMATCH
      69,   // ARGUMENT_OUT_OF_BOUND
      70,   // CANNOT_CONVERT_TYPE
      72,   // CANNOT_PARSE_NUMBER
      117,  // INCORRECT_DATA (e.g. an unknown field in JSONEachRow)
      131,  // TOO_LARGE_STRING_SIZE
      349,  // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  };
  if (reply.ok()) return false;
  return std::find(std::begin(kDataCodes), std::end(kDataCodes), reply.code) != std::end(kDataCodes);
}

struct ClickHouseClient::Impl {
  ClickHouseEndpoint endpoint;
  http::Client client;

  /// POST `body` to `url` (GET when `get`); an error only when no answer came.
  Expected<Reply> perform(const std::string& url, std::string_view body, bool get) {
    http::Request request;
    request.url = url;
    request.connect_timeout = endpoint.connect_timeout;
    request.timeout = endpoint.timeout;
    request.user = endpoint.user;
    request.password = endpoint.password;
    if (!get) {
      request.body = std::string(body);
      request.content_type = "text/plain; charset=UTF-8";
      request.method = "POST";  // also with no body: the query is in the URL
    }
    auto answer = client.perform(request);
    if (!answer) {
      return make_error("ClickHouse at " + endpoint.url + ": " + answer.error().message +
                        " (is clickhouse-server running there?)");
    }
    Reply reply;
    reply.status = answer->status;
    reply.body = std::move(answer->body);
    if (!reply.ok()) reply.code = code_of(reply.body);
    return reply;
  }

  std::string url(std::string_view query, std::string_view database) const {
    std::string u = endpoint.url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    u += "/?wait_end_of_query=1";
    if (!database.empty()) u += "&database=" + percent_encode(database, false);
    if (!query.empty()) u += "&query=" + percent_encode(query, false);
    return u;
  }
};

ClickHouseClient::ClickHouseClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClickHouseClient::ClickHouseClient(ClickHouseClient&&) noexcept = default;
ClickHouseClient& ClickHouseClient::operator=(ClickHouseClient&&) noexcept = default;
ClickHouseClient::~ClickHouseClient() = default;

Expected<ClickHouseClient> ClickHouseClient::create(ClickHouseEndpoint endpoint) {
  if (endpoint.url.rfind("http://", 0) != 0 && endpoint.url.rfind("https://", 0) != 0)
    return make_error("ClickHouse URL '" + endpoint.url + "' must start with http:// or https://");
  auto client = http::Client::create("quant-logger/1");
  if (!client) return make_error("ClickHouse client: " + client.error().message);
  return ClickHouseClient(std::make_unique<Impl>(Impl{std::move(endpoint), std::move(*client)}));
}

const ClickHouseEndpoint& ClickHouseClient::endpoint() const { return impl_->endpoint; }

Expected<Reply> ClickHouseClient::query(std::string_view sql, std::string_view database) {
  return impl_->perform(impl_->url("", database), sql, false);
}

Expected<Reply> ClickHouseClient::insert(std::string_view database, std::string_view table, std::string_view format,
                                         std::string_view rows) {
  const std::string q =
      "INSERT INTO " + std::string(database) + "." + std::string(table) + " FORMAT " + std::string(format);
  return impl_->perform(impl_->url(q, ""), rows, false);
}

bool ClickHouseClient::ping() {
  std::string u = impl_->endpoint.url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  auto r = impl_->perform(u + "/ping", "", true);
  return r && r->ok() && r->body.rfind("Ok.", 0) == 0;
}

Expected<std::string> ClickHouseClient::query_ok(std::string_view sql, std::string_view database) {
  auto r = query(sql, database);
  if (!r) return tl::unexpected(r.error());
  if (!r->ok()) return make_error("ClickHouse at " + impl_->endpoint.url + ": " + r->describe());
  return std::move(r->body);
}

std::string_view schema_sql() { return kSchemaSql; }

std::vector<std::string> schema_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::string current;
  std::size_t i = 0;
  bool in_string = false;
  while (i < sql.size()) {
    const char c = sql[i];
    if (!in_string && c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;  // a comment to the end of the line
      continue;
    }
    if (c == '\'') in_string = !in_string;
    if (!in_string && c == ';') {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
    ++i;
  }
  out.push_back(current);
  std::vector<std::string> statements;
  for (auto& s : out) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;
    const auto last = s.find_last_not_of(" \t\r\n");
    statements.push_back(s.substr(first, last - first + 1));
  }
  return statements;
}

Expected<void> check_identifier(std::string_view what, std::string_view name) {
  const bool ok = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_') &&
                  std::all_of(name.begin(), name.end(),
                              [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
  if (!ok) return make_error(std::string(what) + " '" + std::string(name) + "' must match [A-Za-z_][A-Za-z0-9_]*");
  return {};
}

Expected<void> apply_schema(ClickHouseClient& client, std::string_view database, std::string_view sql) {
  if (auto ok = check_identifier("database", database); !ok) return ok;
  if (auto r = client.query_ok("CREATE DATABASE IF NOT EXISTS " + std::string(database)); !r)
    return tl::unexpected(r.error());
  for (const auto& statement : schema_statements(sql)) {
    if (auto r = client.query_ok(statement, database); !r) {
      return make_error("applying the schema to database " + std::string(database) + ": " + r.error().message);
    }
  }
  return {};
}

}  // namespace quant::logger
