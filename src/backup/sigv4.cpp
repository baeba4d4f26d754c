#include "backup/sigv4.h"

#include <cctype>
#include <vector>

#include "core/sha256.h"
#include "core/url.h"

namespace quant::backup {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Trimmed, with runs of spaces folded to one (the canonical header value).
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (const char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

Signature sign_v4(const SignedRequest& request, const Credentials& credentials, std::string_view region,
                  std::string_view service, std::string_view amz_date) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) headers[lower(name)] = canonical_value(value);
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : request.query) query[percent_encode(name, false)] = percent_encode(value, false);

  Signature s;
  std::string canonical_query, canonical_headers;
  for (const auto& [name, value] : query) canonical_query += (canonical_query.empty() ? "" : "&") + name + "=" + value;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    s.signed_headers += (s.signed_headers.empty() ? "" : ";") + name;
  }
  s.canonical_request = request.method + "\n" + (request.path.empty() ? "/" : request.path) + "\n" + canonical_query +
                        "\n" + canonical_headers + "\n" + s.signed_headers + "\n" + request.payload_sha256;
  const std::string date(amz_date.substr(0, 8));
  const std::string scope = date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  s.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" + sha256_hex(s.canonical_request);
  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  s.signature = to_hex(hmac_sha256(key, s.string_to_sign));
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                    ",SignedHeaders=" + s.signed_headers + ",Signature=" + s.signature;
  return s;
}

}  // namespace quant::backup
