#pragma once
/// AWS Signature Version 4 for S3 requests (header form, signed payload hash).
/// Pure: no clock, no I/O; the caller passes the request time, so the AWS
/// documentation's examples are reproducible byte for byte (sigv4_test.cpp).
///
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html:
/// canonical request (method, URI-encoded path, sorted query, lowercase sorted
/// headers, signed header list, payload hash) → string to sign
/// ("AWS4-HMAC-SHA256", time, scope, SHA-256 of the canonical request) →
/// signature = HMAC(HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
/// "aws4_request"), string to sign).

#include <map>
#include <string>
#include <string_view>

namespace quant::backup {

/// An access key pair (and a session token for temporary credentials). The
/// secret never leaves this struct except into the HMAC.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< empty unless temporary (STS) credentials
};

/// What the signature covers. Header names may have any case (they are
/// lowercased); values are trimmed and inner runs of spaces folded.
struct SignedRequest {
  std::string method;                         ///< "GET", "PUT", ...
  std::string path;                           ///< already URI-encoded path, e.g. "/bucket/objects/ab%24c"
  std::map<std::string, std::string> query;   ///< decoded names and values; encoded here
  std::map<std::string, std::string> headers; ///< must include host, x-amz-date, x-amz-content-sha256
  std::string payload_sha256;                 ///< hex SHA-256 of the body (or "UNSIGNED-PAYLOAD")
};

/// The signature and the texts it was computed from (tests compare them with
/// the AWS examples; a SignatureDoesNotMatch answer can be debugged with them).
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  ///< "host;range;x-amz-content-sha256;x-amz-date"
  std::string signature;       ///< 64 hex digits
  std::string authorization;   ///< the Authorization header value
};

/// Signs `request` at `amz_date` ("YYYYMMDDTHHMMSSZ", the x-amz-date value).
Signature sign_v4(const SignedRequest& request, const Credentials& credentials, std::string_view region,
                  std::string_view service, std::string_view amz_date);

}  // namespace quant::backup
