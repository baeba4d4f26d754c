#pragma once
/// A small HTTP client over libcurl: one request at a time on one easy handle
/// (its connection is kept alive between requests), plain bodies or
/// multipart/form-data, the status and body of every answer. Errors (no
/// answer: refused, timed out, TLS) say what curl saw and never contain the
/// request's URL, so a caller whose URL holds a secret (the Telegram Bot API's
/// /bot<token>/) can report them as they are.
///
/// One client = one thread.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant::http {

/// One field of a multipart/form-data body: a plain value, or a file (its
/// bytes in `value`, a `filename` and a `content_type`).
struct FormPart {
  std::string name;
  std::string value;
  std::string filename;      ///< non-empty: sent as a file
  std::string content_type;  ///< with a file, e.g. "image/png"
};

struct Request {
  std::string url;
  /// "" = GET without a body (and parts), POST with one; or any other
  /// method ("POST" with an empty body, "PUT", "PATCH", "DELETE"), sent with `body`.
  std::string method;
  /// The body, with `content_type`; or `form` as multipart/form-data.
  std::string body;
  std::string content_type = "application/json";
  std::vector<FormPart> form;
  std::vector<std::string> headers;  ///< extra "Name: value" lines
  std::string user;                  ///< non-empty: HTTP basic authentication with `password`
  std::string password;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};  ///< the whole exchange, the answer included
};

/// An answer: any HTTP status.
struct Response {
  long status = 0;
  std::string body;
};

class Client {
 public:
  /// `user_agent` names the caller ("quant-bot/1").
  static Expected<Client> create(std::string user_agent);
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  /// Sends `request`; an error only when no HTTP answer came (the message is
  /// curl's, with host and port but never the URL's path or query).
  Expected<Response> perform(const Request& request);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quant::http
