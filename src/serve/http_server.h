#pragma once
/// An HTTP/1.1 server with keep-alive: one thread per worker, each with its own
/// event loop and its own listening socket on the same port (SO_REUSEPORT, so
/// the kernel spreads connections over the workers and a request never hops
/// threads). Boost.Beast/Asio stay inside http_server.cpp; handlers see plain
/// `HttpRequest`/`HttpResponse` values.
///
/// One server per port: SO_REUSEPORT would let a second process join the
/// port's group and take half of the connections, so `start` first binds the
/// port exclusively (without SO_REUSEPORT: fails while any socket listens on
/// it, ours or another program's) and only then binds the workers' sockets.
/// Two servers starting together cannot both pass that check: the
/// probe-then-bind sequence runs under a per-user, per-port lock (an abstract
/// Unix socket, released by the kernel when the process ends).
///
/// What the transport answers by itself, before any handler runs:
/// - 400 for a malformed request line or headers (then closes);
/// - 413 when Content-Length or the chunked body exceeds `max_body_bytes`;
/// - 431 when the headers exceed 8 KiB;
/// - 408 when a started request has not arrived completely within
///   `request_timeout` (slow clients), then closes;
/// - `Expect: 100-continue` gets its interim 100 before the body is read.
/// Idle keep-alive connections close after `idle_timeout`; a client that does
/// not read its response within `request_timeout` is disconnected.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace quant::serve {

enum class Method : std::uint8_t { Get, Post, Other };

/// One request, valid for the duration of the handler call.
struct HttpRequest {
  Method method = Method::Other;
  std::string_view method_text;  ///< as sent, e.g. "PUT"
  std::string_view path;         ///< target without the query string
  std::string_view body;
  std::string_view authorization;  ///< the Authorization header, empty when absent
  std::string_view content_type;
  unsigned worker = 0;  ///< index of the worker thread handling it, < workers
};

struct HttpResponse {
  int status = 200;
  std::string body;
  const char* content_type = "application/json";
  std::string allow;              ///< sets `Allow` (405)
  bool www_authenticate = false;  ///< sets `WWW-Authenticate: Bearer` (401)
};

using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
/// Told about every answer the transport gives by itself (400, 408, 413, 431).
using TransportHook = std::function<void(int status)>;

struct ServerOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0 = any free port (see HttpServer::port)
  unsigned workers = 1;
  std::size_t max_body_bytes = 65536;
  std::size_t max_header_bytes = 8192;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};
  /// After handling something, a worker polls this long before sleeping
  /// (0 = always sleep in the kernel). Lower latency, some CPU after each burst.
  std::chrono::microseconds busy_poll{0};
};

class HttpServer {
 public:
  /// Binds and starts the workers. The handler is called concurrently from
  /// the worker threads. Fails when the address cannot be bound; a port that
  /// something else listens on (another quant serve or any program) fails with
  /// "serve: <bind>:<port> is already in use (another quant serve?)".
  static Expected<std::unique_ptr<HttpServer>> start(const ServerOptions& options, Handler handler,
                                                     TransportHook hook = {});
  virtual ~HttpServer() = default;

  /// The bound port (the chosen one when options.port was 0).
  virtual std::uint16_t port() const = 0;
  virtual unsigned workers() const = 0;
  /// Stops accepting, closes connections and joins the workers. Idempotent.
  virtual void stop() = 0;

  /// Begins a graceful stop and returns at once: the listening sockets are
  /// shut down (new connections are refused from here on), idle keep-alive
  /// connections are closed, and connections with a request in progress
  /// (arriving, being handled or being written) finish it; its answer carries
  /// `Connection: close` and the connection then closes. The transport's
  /// timeouts still apply. Idempotent; thread-safe.
  virtual void begin_drain() = 0;
  /// Connections still open (0 after `begin_drain`: every request answered).
  virtual std::size_t open_connections() const = 0;
  /// `begin_drain`, waits until no connection is open or `timeout` passed,
  /// then `stop`. Returns the connections that were still open (cut).
  std::size_t drain(std::chrono::milliseconds timeout);
};

/// Runs `bytes` through the server's HTTP parser with `options`' limits, as a
/// connection receiving them would, and calls `handler` for every complete
/// request in them (pipelined ones too). Returns the status the transport
/// answers by itself for the first request it refuses (400, 413, 431), or 0.
/// For the fuzz target and tests: the same parser code as the sockets.
int parse_requests(std::string_view bytes, const ServerOptions& options, const Handler& handler);

}  // namespace quant::serve
