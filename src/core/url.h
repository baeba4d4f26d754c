#pragma once
/// Percent-encoding of URL parts (RFC 3986), for the HTTP clients that build
/// their own URLs: the MLflow REST client, the model registry's file URIs, the
/// ClickHouse client and the S3 store (whose Signature V4
/// canonical request needs exactly this encoding).

#include <string>
#include <string_view>

namespace quant {

/// Unreserved characters (A-Z a-z 0-9 - _ . ~) kept, every other byte as %XX
/// (uppercase hex); '/' kept when `keep_slash` (a path), encoded otherwise (a
/// query name or value, a single path segment).
std::string percent_encode(std::string_view text, bool keep_slash);

}  // namespace quant
