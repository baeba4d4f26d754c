#include "execution/bridge_socket.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace quant::execution::bridge {

namespace {

using Clock = std::chrono::steady_clock;

std::string system_error(int error) {
  std::array<char, 256> buffer{};
  // GNU strerror_r returns the message (maybe not in buffer); thread-safe, unlike strerror.
  return ::strerror_r(error, buffer.data(), buffer.size());
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void set_nodelay(int fd) {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Remaining milliseconds until `deadline` for poll(), never negative.
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1'000'000));
}

// poll() on one descriptor, retried on EINTR. Returns revents (0 = timeout), or -1 with errno.
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    return n == 0 ? 0 : p.revents;
  }
}

std::string address_text(const sockaddr* addr) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  int port = 0;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
    port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(addr);
    ::inet_ntop(AF_INET6, &in->sin6_addr, text.data(), text.size());
    port = ntohs(in->sin6_port);
  }
  return std::string(text.data()) + ":" + std::to_string(port);
}

struct AddrInfo {
  addrinfo* list = nullptr;
  AddrInfo() = default;
  AddrInfo(const AddrInfo&) = delete;
  AddrInfo& operator=(const AddrInfo&) = delete;
  ~AddrInfo() {
    if (list != nullptr) ::freeaddrinfo(list);
  }
};

Expected<void> resolve(const std::string& host, int port, bool passive, AddrInfo& out) {
  if (port < 0 || port > 65535) return make_error("port " + std::to_string(port) + " is not within [0, 65535]");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &out.list);
  if (rc != 0) return make_error("cannot resolve '" + host + "': " + ::gai_strerror(rc));
  return {};
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---- BridgeSocket ----

BridgeSocket::BridgeSocket(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {
  if (fd_ >= 0) {
    set_nonblocking(fd_);
    set_nodelay(fd_);
  }
}

BridgeSocket::BridgeSocket(BridgeSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      peer_(std::move(other.peer_)),
      reader_(std::move(other.reader_)),
      received_(other.received_),
      sent_seq_(other.sent_seq_),
      last_line_(std::move(other.last_line_)) {}

BridgeSocket& BridgeSocket::operator=(BridgeSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    peer_ = std::move(other.peer_);
    reader_ = std::move(other.reader_);
    received_ = other.received_;
    sent_seq_ = other.sent_seq_;
    last_line_ = std::move(other.last_line_);
  }
  return *this;
}

BridgeSocket::~BridgeSocket() { close(); }

void BridgeSocket::close() {
  if (fd_ >= 0) {
    (void)::close(fd_);
    fd_ = -1;
  }
}

Expected<BridgeSocket> BridgeSocket::connect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  const std::string where = host + ":" + std::to_string(port);
  AddrInfo addresses;
  if (auto r = resolve(host, port, false, addresses); !r)
    return make_error("connect " + where + ": " + r.error().message);
  const auto deadline = Clock::now() + timeout;
  std::string last_error = "no address";
  for (addrinfo* a = addresses.list; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = system_error(errno);
      continue;
    }
    BridgeSocket socket(fd, where);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return socket;
    if (errno != EINPROGRESS) {
      last_error = system_error(errno);
      continue;
    }
    const int events = wait_for(fd, POLLOUT, deadline);
    if (events == 0) {
      last_error = "timed out after " + std::to_string(timeout.count()) + " ms";
      continue;
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (events < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error == 0) return socket;
    last_error = system_error(error);
  }
  return make_error("connect " + where + ": " + last_error);
}

Expected<void> BridgeSocket::send(Body body, std::chrono::milliseconds send_timeout) {
  if (fd_ < 0) return make_error("send to " + peer_ + ": the connection is closed");
  Message message{sent_seq_ + 1, now_ms(), std::move(body)};
  std::string line = encode(message);
  if (line.size() + 1 > kMaxLine)
    return make_error("send " + std::string(type_name(message.body)) + ": the line has " +
                      std::to_string(line.size() + 1) + " bytes, more than the protocol's " + std::to_string(kMaxLine));
  line += '\n';
  // The seq is spent even when the write fails: the connection is then unusable anyway.
  ++sent_seq_;
  return send_raw(line, send_timeout);
}

Expected<void> BridgeSocket::send_raw(std::string_view bytes, std::chrono::milliseconds send_timeout) {
  if (fd_ < 0) return make_error("send to " + peer_ + ": the connection is closed");
  const auto deadline = Clock::now() + send_timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int events = wait_for(fd_, POLLOUT, deadline);
      if (events == 0)
        return make_error("send to " + peer_ + ": the peer took no bytes for " + std::to_string(send_timeout.count()) +
                          " ms");
      if (events < 0) return make_error("send to " + peer_ + ": " + system_error(errno));
      continue;
    }
    return make_error("send to " + peer_ + ": " + system_error(n < 0 ? errno : EPIPE));
  }
  return {};
}

Expected<std::optional<Message>> BridgeSocket::receive(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return make_error("receive from " + peer_ + ": the connection is closed");
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto line = reader_.next()) {
      last_line_ = std::move(*line);
      auto message = decode(last_line_);
      if (!message) {
        const std::string quoted = last_line_.size() > 120 ? last_line_.substr(0, 120) + "..." : last_line_;
        return make_error("from " + peer_ + ": " + message.error().message + " in line '" + quoted + "'");
      }
      if (auto seq = received_.check(message->seq); !seq)
        return make_error("from " + peer_ + ": " + seq.error().message);
      return std::optional<Message>(std::move(*message));
    }
    std::array<char, 64 * 1024> buffer;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled by recv
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      if (auto fed = reader_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n))); !fed)
        return make_error("from " + peer_ + ": " + fed.error().message);
      continue;
    }
    if (n == 0) return make_error("from " + peer_ + ": the peer closed the connection");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return make_error("receive from " + peer_ + ": " + system_error(errno));
    const int events = wait_for(fd_, POLLIN, deadline);
    if (events == 0) return std::optional<Message>();
    if (events < 0) return make_error("receive from " + peer_ + ": " + system_error(errno));
    // POLLIN, POLLHUP or POLLERR: the next recv() says which.
  }
}

// ---- BridgeListener ----

BridgeListener::BridgeListener(BridgeListener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(other.port_) {}

BridgeListener& BridgeListener::operator=(BridgeListener&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    port_ = other.port_;
  }
  return *this;
}

BridgeListener::~BridgeListener() { close(); }

void BridgeListener::close() {
  if (fd_ >= 0) {
    (void)::close(fd_);
    fd_ = -1;
  }
}

Expected<BridgeListener> BridgeListener::listen(const std::string& host, int port) {
  const std::string where = host + ":" + std::to_string(port);
  AddrInfo addresses;
  if (auto r = resolve(host, port, true, addresses); !r)
    return make_error("listen " + where + ": " + r.error().message);
  std::string last_error = "no address";
  for (addrinfo* a = addresses.list; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = system_error(errno);
      continue;
    }
    // A restarted bridge rebinds at once instead of waiting out TIME_WAIT.
    const int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 4) != 0) {
      last_error = system_error(errno);
      (void)::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
      last_error = system_error(errno);
      (void)::close(fd);
      continue;
    }
    const auto* addr = reinterpret_cast<const sockaddr*>(&bound);
    const int bound_port = addr->sa_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port)
                                                       : ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
    return BridgeListener(fd, bound_port);
  }
  return make_error("listen " + where + ": " + last_error);
}

Expected<std::optional<BridgeSocket>> BridgeListener::accept(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return make_error("accept: the listener is closed");
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return std::optional<BridgeSocket>(BridgeSocket(fd, address_text(reinterpret_cast<sockaddr*>(&peer))));
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return make_error("accept on port " + std::to_string(port_) + ": " + system_error(errno));
    const int events = wait_for(fd_, POLLIN, deadline);
    if (events == 0) return std::optional<BridgeSocket>();
    if (events < 0) return make_error("accept on port " + std::to_string(port_) + ": " + system_error(errno));
  }
}

}  // namespace quant::execution::bridge
