#include "serve/http_server.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace quant::serve {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

using BeastRequest = http::request<http::string_body>;

HttpRequest to_request(const BeastRequest& req, unsigned worker) {
  HttpRequest r;
  switch (req.method()) {
    case http::verb::get: r.method = Method::Get; break;
    case http::verb::post: r.method = Method::Post; break;
    default: r.method = Method::Other; break;
  }
  const auto method_text = req.method_string();
  r.method_text = std::string_view(method_text.data(), method_text.size());
  const auto target = req.target();
  std::string_view path(target.data(), target.size());
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  r.path = path;
  r.body = req.body();
  const auto auth = req[http::field::authorization];
  r.authorization = std::string_view(auth.data(), auth.size());
  const auto ctype = req[http::field::content_type];
  r.content_type = std::string_view(ctype.data(), ctype.size());
  r.worker = worker;
  return r;
}

/// A request whose body length is ambiguous cannot be answered on a connection
/// that stays open (request smuggling, RFC 9112 §6.3): only `chunked` alone is
/// accepted as a transfer coding, never together with Content-Length.
std::string framing_problem(const BeastRequest& req) {
  const auto te = req.find(http::field::transfer_encoding);
  if (te == req.end()) return {};
  if (!beast::iequals(te->value(), "chunked") || req.count(http::field::transfer_encoding) > 1) {
    return "unsupported Transfer-Encoding (only chunked)";
  }
  if (req.find(http::field::content_length) != req.end()) return "both Transfer-Encoding and Content-Length";
  return {};
}

/// The transport's own answer to a parse error (0: not an answer, e.g. the client left).
int status_for(error_code ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  return 400;
}

struct Shared {
  ServerOptions options;
  Handler handler;
  TransportHook hook;
  std::atomic<bool> draining{false};  ///< begin_drain was called: finish what arrived, then close
  std::atomic<std::size_t> open{0};   ///< sessions alive (connections not yet closed and released)
};

class Session;

/// One event loop, its listening socket, and its connections' deadlines.
/// Timeouts are checked by one periodic sweep per worker instead of a timer
/// per connection: re-arming a kernel timer three times per request (wait,
/// read, write) costs more than answering it.
struct Worker {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer backoff{io};
  asio::steady_timer sweep{io};
  std::vector<std::weak_ptr<Session>> sessions;
  std::thread thread;
};

using Clock = std::chrono::steady_clock;

/// One connection: requests are read and answered one after another (HTTP/1.1
/// without pipelining overlap), all on the worker thread that accepted it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& shared, unsigned worker)
      : socket_(std::move(socket)), shared_(shared), worker_(worker) {
    shared_.open.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() { shared_.open.fetch_sub(1, std::memory_order_relaxed); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start(Worker& worker) {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    worker.sessions.push_back(weak_from_this());
    wait_for_request();
  }

  /// Called by the worker's sweep: acts on a passed deadline. Returns false
  /// once the connection is closed (the sweep forgets it).
  bool check_deadline(Clock::time_point now) {
    if (!socket_.is_open()) return false;
    if (now < deadline_) return true;
    error_code ignored;
    if (phase_ == Phase::Request) {
      // A request in progress gets its 408 (on_error sees timed_out_).
      timed_out_ = true;
      deadline_ = now + shared_.options.request_timeout;
      phase_ = Phase::Write;
      socket_.cancel(ignored);
      return true;
    }
    // Idle keep-alive, or a client that does not read its answer: close.
    socket_.close(ignored);
    return false;
  }

  /// Closes the connection whatever it is doing (the worker threads have stopped).
  void abort() { close(); }

  /// Draining (on the worker thread): a connection waiting for its next
  /// request closes now, unless that request's bytes have already arrived
  /// (they are answered, with `Connection: close`).
  void close_if_idle() {
    if (socket_.is_open() && phase_ == Phase::Idle && !request_waiting()) close();
  }

 private:
  /// Keep-alive: the next request may come much later; wait for its first byte
  /// under the idle timeout, then give the whole request the request timeout.
  void wait_for_request() {
    if (buffer_.size() > 0) return read_header();
    if (shared_.draining.load(std::memory_order_relaxed) && !request_waiting()) return close();
    arm(shared_.options.idle_timeout, Phase::Idle);
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->close();
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(shared_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.max_header_bytes));
    arm(shared_.options.request_timeout, Phase::Request);
    http::async_read_header(socket_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->on_error(ec);
      // Beast counts its limit only over bytes read after the parser started;
      // the first bytes of a request were read before (keep-alive wait).
      if (n > self->shared_.options.max_header_bytes) return self->reject(431, "headers too large");
      self->after_header();
    });
  }

  void after_header() {
    const auto& req = parser_->get();
    if (auto problem = framing_problem(req); !problem.empty()) return reject(400, problem);
    const auto expect = req[http::field::expect];
    if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](error_code ec, std::size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->on_error(ec);
      self->on_request();
    });
  }

  void on_error(error_code ec) {
    if (timed_out_) return reject(408, "request not received within the time limit");
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == http::error::partial_message) return close();
    const int status = status_for(ec);
    if (status == 413)
      return reject(413, "body larger than " + std::to_string(shared_.options.max_body_bytes) + " bytes");
    if (status == 431) return reject(431, "headers too large");
    reject(400, "malformed HTTP request: " + ec.message());
  }

  /// Answers without a handler and closes: the stream is not in a state to
  /// read another request from.
  void reject(int status, const std::string& message) {
    if (shared_.hook) shared_.hook(status);
    response_ = {};
    response_.result(static_cast<unsigned>(status));
    response_.version(11);
    response_.set(http::field::content_type, "application/json");
    response_.set(http::field::connection, "close");
    response_.body() = "{\"error\":\"" + message + "\"}";
    response_.prepare_payload();
    response_.keep_alive(false);
    write(false);
  }

  void on_request() {
    const auto& req = parser_->get();
    const HttpRequest r = to_request(req, worker_);

    HttpResponse out;
    shared_.handler(r, out);

    // While draining, this answer is the connection's last.
    const bool keep_alive = req.keep_alive() && !shared_.draining.load(std::memory_order_relaxed);
    response_ = {};
    response_.result(static_cast<unsigned>(out.status));
    response_.version(11);
    response_.set(http::field::server, "quant-serve");
    response_.set(http::field::content_type, out.content_type);
    if (!out.allow.empty()) response_.set(http::field::allow, out.allow);
    if (out.www_authenticate) response_.set(http::field::www_authenticate, "Bearer");
    // An answer to HEAD has no body (its client would read it as the next answer).
    if (req.method() != http::verb::head) response_.body() = std::move(out.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    write(keep_alive);
  }

  void write(bool keep_alive) {
    // A client that does not read its answer is not allowed to hold the worker's socket forever.
    arm(shared_.options.request_timeout, Phase::Write);
    http::async_write(socket_, response_, [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->close();
      self->parser_.reset();
      self->wait_for_request();
    });
  }

  enum class Phase : std::uint8_t { Idle, Request, Write };

  void arm(std::chrono::milliseconds after, Phase phase) {
    if (phase_ == Phase::Write && timed_out_ && phase == Phase::Write) return;  // the 408 keeps its deadline
    phase_ = phase;
    if (phase != Phase::Write) timed_out_ = false;
    deadline_ = Clock::now() + after;
  }

  void close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  /// Bytes of a next request are buffered here or in the kernel.
  bool request_waiting() {
    if (buffer_.size() > 0) return true;
    error_code ec;
    const std::size_t n = socket_.available(ec);
    return !ec && n > 0;
  }

  tcp::socket socket_;
  Shared& shared_;
  unsigned worker_;
  beast::flat_buffer buffer_{16384};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  Phase phase_ = Phase::Idle;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timed_out_ = false;
};

/// "127.0.0.1:8080", "[::1]:8080": how messages name a listening address.
std::string host_port(const std::string& bind, std::uint16_t port) {
  const bool v6 = bind.find(':') != std::string::npos;
  return (v6 ? "[" + bind + "]" : bind) + ":" + std::to_string(port);
}

std::string in_use_message(const std::string& bind, std::uint16_t port) {
  return "serve: " + host_port(bind, port) + " is already in use (another quant serve?)";
}

/// Serialises "probe the port, then bind the workers" between the quant
/// serves of one user on one port. Without it two servers starting together
/// could both probe the free port before either binds, and then share it
/// through SO_REUSEPORT. An abstract Unix socket is the lock: binding its name
/// is atomic, it lives in the network namespace like the port itself, and the
/// kernel releases it when the process ends (no stale lock files). Only the
/// start-up sequence holds it: once the workers listen, the port itself
/// refuses the next server's probe, and a server that is draining (listeners
/// closed) does not keep its successor from starting.
class PortLock {
 public:
  PortLock() = default;
  ~PortLock() { release(); }
  PortLock(const PortLock&) = delete;
  PortLock& operator=(const PortLock&) = delete;

  /// True when this process now holds the lock of `port`; false when another
  /// holds it (or the lock cannot be made: then the caller waits in vain and
  /// reports the port as busy, which is the safe side).
  bool try_acquire(std::uint16_t port) {
    release();
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    const std::string name = "quant-serve.port-lock." + std::to_string(::getuid()) + "." + std::to_string(port);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    // Abstract namespace: sun_path starts with a NUL byte; the length says where the name ends.
    std::copy(name.begin(), name.end(), addr.sun_path + 1);
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), length) != 0) {
      release();
      return false;
    }
    return true;
  }

  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

/// Binds `endpoint` without SO_REUSEPORT: fails with EADDRINUSE while any
/// socket listens on the port (SO_REUSEPORT or not, any user). SO_REUSEADDR
/// is set so that connections of a previous run in TIME_WAIT do not count.
/// Returns the socket (the caller closes it) or -errno.
int exclusive_probe(const tcp::endpoint& endpoint) {
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    const int error = errno;
    ::close(fd);
    return -error;
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t length = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

class BeastServer final : public HttpServer {
 public:
  BeastServer(const ServerOptions& options, Handler handler, TransportHook hook)
      : shared_{options, std::move(handler), std::move(hook)} {}
  ~BeastServer() override { stop(); }

  Expected<void> listen() {
    error_code ec;
    const auto address = asio::ip::make_address(shared_.options.bind, ec);
    if (ec) return make_error("serve: bind address '" + shared_.options.bind + "': " + ec.message());
    const std::string& bind = shared_.options.bind;
    std::uint16_t port = shared_.options.port;
    PortLock lock;
    if (port != 0) {
      // Another quant serve may be between its probe and its binds: wait for
      // it (microseconds normally), then probe; its listeners then refuse us.
      const auto give_up = Clock::now() + std::chrono::seconds(5);
      while (!lock.try_acquire(port)) {
        if (Clock::now() > give_up) return make_error(in_use_message(bind, port));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      const int probe = exclusive_probe(tcp::endpoint(address, port));
      if (probe == -EADDRINUSE) return make_error(in_use_message(bind, port));
      if (probe < 0) {
        return make_error("serve: cannot listen on " + host_port(bind, port) + ": " +
                          error_code(-probe, boost::system::system_category()).message());
      }
      ::close(probe);
    } else {
      // Any free port: the kernel picks one for the probe; a port whose lock
      // another quant serve holds (it is about to bind it) is skipped.
      for (int attempt = 0; port == 0; ++attempt) {
        const int probe = exclusive_probe(tcp::endpoint(address, 0));
        if (probe < 0) {
          return make_error("serve: cannot listen on " + host_port(bind, 0) + ": " +
                            error_code(-probe, boost::system::system_category()).message());
        }
        const std::uint16_t chosen = local_port(probe);
        if (chosen != 0 && lock.try_acquire(chosen)) port = chosen;
        ::close(probe);
        if (port == 0 && attempt >= 100) return make_error("serve: found no free port on " + bind);
      }
    }
    for (unsigned i = 0; i < shared_.options.workers; ++i) {
      auto w = std::make_unique<Worker>();
      const tcp::endpoint endpoint(address, port);
      w->acceptor.open(endpoint.protocol(), ec);
      if (!ec) w->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) {
        // Every worker listens on the same port; the kernel balances connections.
        const int one = 1;
        if (::setsockopt(w->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
          ec = error_code(errno, boost::system::system_category());
        }
      }
      if (!ec) w->acceptor.bind(endpoint, ec);
      if (!ec) w->acceptor.listen(asio::socket_base::max_listen_connections, ec);
      // A program that does not take our lock bound the port since the probe.
      if (ec == asio::error::address_in_use) return make_error(in_use_message(bind, port));
      if (ec) return make_error("serve: cannot listen on " + host_port(bind, port) + ": " + ec.message());
      workers_.push_back(std::move(w));
    }
    lock.release();  // from here on the listening sockets themselves keep the port
    port_ = port;
    for (unsigned i = 0; i < workers_.size(); ++i) {
      accept(i);
      sweep(i);
      workers_[i]->thread = std::thread([this, i] { run_worker(*workers_[i]); });
    }
    return {};
  }

  std::uint16_t port() const override { return port_; }
  unsigned workers() const override { return static_cast<unsigned>(workers_.size()); }

  void stop() override {
    if (stopped_.exchange(true)) return;
    for (auto& w : workers_) w->io.stop();
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
    // No thread runs a worker's loop any more: close what is still open now,
    // so that a client cut off by a drain timeout sees it at once.
    for (auto& w : workers_) {
      error_code ignored;
      w->acceptor.close(ignored);
      for (auto& weak : w->sessions) {
        if (auto session = weak.lock()) session->abort();
      }
    }
  }

  void begin_drain() override {
    if (stopped_ || shared_.draining.exchange(true)) return;
    // shutdown(2) on a listening socket takes it out of the port at once (the
    // kernel answers new connections with a reset, also those still in the
    // backlog), from this thread and even while a worker is busy in a
    // handler. Only the worker closes the descriptor (below), so it stays
    // valid here.
    for (auto& w : workers_) ::shutdown(w->acceptor.native_handle(), SHUT_RD);
    for (unsigned i = 0; i < workers_.size(); ++i) {
      asio::post(workers_[i]->io, [this, i] {
        Worker& w = *workers_[i];
        error_code ignored;
        w.acceptor.close(ignored);
        w.backoff.cancel();
        for (auto& weak : w.sessions) {
          if (auto session = weak.lock()) session->close_if_idle();
        }
      });
    }
  }

  std::size_t open_connections() const override { return shared_.open.load(std::memory_order_relaxed); }

 private:
  /// The event loop. With busy polling on, a worker that just did something
  /// keeps polling for `busy_poll` before it sleeps in the kernel: the next
  /// request of a busy connection is picked up without a wake-up (tens of
  /// microseconds on a virtual machine), at the price of that much CPU after
  /// each burst of work. Never spins while idle.
  void run_worker(Worker& w) {
    const auto spin = shared_.options.busy_poll;
    if (spin.count() <= 0) {
      w.io.run();
      return;
    }
    auto last_work = Clock::now();
    while (!w.io.stopped()) {
      if (w.io.poll_one() > 0) {
        last_work = Clock::now();
      } else if (Clock::now() - last_work >= spin) {
        w.io.run_one();  // sleeps until there is something to do
        last_work = Clock::now();
      }
    }
  }

  void accept(unsigned i) {
    Worker& w = *workers_[i];
    w.acceptor.async_accept([this, i](error_code ec, tcp::socket socket) {
      if (stopped_ || shared_.draining || ec == asio::error::operation_aborted) return;
      if (!ec) {
        std::make_shared<Session>(std::move(socket), shared_, i)->start(*workers_[i]);
        return accept(i);
      }
      // Out of file descriptors and the like: the listener is fine, but trying
      // again at once would spin; wait a little for connections to close.
      workers_[i]->backoff.expires_after(std::chrono::milliseconds(50));
      workers_[i]->backoff.async_wait([this, i](error_code wait_ec) {
        if (!wait_ec && !stopped_ && !shared_.draining) accept(i);
      });
    });
  }

  /// Every quarter of the shortest timeout (10–250 ms): a deadline is acted on
  /// at most that late.
  std::chrono::milliseconds sweep_period() const {
    const auto shortest = std::min(shared_.options.request_timeout, shared_.options.idle_timeout);
    return std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
  }

  void sweep(unsigned i) {
    Worker& w = *workers_[i];
    w.sweep.expires_after(sweep_period());
    w.sweep.async_wait([this, i](error_code ec) {
      if (ec || stopped_) return;
      Worker& worker = *workers_[i];
      const auto now = Clock::now();
      std::size_t kept = 0;
      for (std::size_t j = 0; j < worker.sessions.size(); ++j) {
        auto session = worker.sessions[j].lock();
        if (!session || !session->check_deadline(now)) continue;
        // (libstdc++'s weak_ptr move-assignment empties a self-assigned pointer)
        if (kept != j) worker.sessions[kept] = std::move(worker.sessions[j]);
        ++kept;
      }
      worker.sessions.resize(kept);
      sweep(i);
    });
  }

  Shared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

int parse_requests(std::string_view bytes, const ServerOptions& options, const Handler& handler) {
  while (!bytes.empty()) {
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < bytes.size()) {
      const std::size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      if (ec == http::error::need_more) break;  // truncated: a connection would wait for more
      if (ec) return status_for(ec);
      if (n == 0) break;
      used += n;
    }
    if (!parser.is_done()) {
      // End of input: a body delimited by the end of the stream completes here.
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return 0;
    }
    HttpResponse response;
    handler(to_request(parser.get(), 0), response);
    bytes.remove_prefix(used);
  }
  return 0;
}

std::size_t HttpServer::drain(std::chrono::milliseconds timeout) {
  begin_drain();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::size_t cut = open_connections();
  stop();
  return cut;
}

Expected<std::unique_ptr<HttpServer>> HttpServer::start(const ServerOptions& options, Handler handler,
                                                        TransportHook hook) {
  ServerOptions o = options;
  if (o.workers == 0) o.workers = 1;
  auto server = std::make_unique<BeastServer>(o, std::move(handler), std::move(hook));
  if (auto ok = server->listen(); !ok) return tl::unexpected(ok.error());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace quant::serve
