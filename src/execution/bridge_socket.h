#pragma once
/// The MT5 bridge's transport (docs/contracts/bridge.md): one TCP connection
/// carrying newline-delimited bridge messages, over plain POSIX sockets
/// (blocking semantics through poll() with timeouts; no Boost here, its
/// headers stay in src/serve). The platform listens (`BridgeListener`), the
/// terminal connects (`BridgeSocket::connect`, used by `quant replay` and tests).
///
/// A `BridgeSocket` owns its descriptor (RAII, movable, not copyable) and
/// numbers what it sends (seq 1, 2, 3 ... per connection) and checks what it
/// receives the same way. Not thread-safe: one thread per socket.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "execution/bridge_protocol.h"

namespace quant::execution::bridge {

class BridgeSocket {
 public:
  /// Connects to host:port (a name or a numeric address) within `timeout`.
  /// Fails naming the address and the system's reason.
  static Expected<BridgeSocket> connect(const std::string& host, int port, std::chrono::milliseconds timeout);
  /// Takes ownership of a connected stream socket (as accept() returns it).
  explicit BridgeSocket(int fd, std::string peer = {});

  BridgeSocket(BridgeSocket&& other) noexcept;
  BridgeSocket& operator=(BridgeSocket&& other) noexcept;
  BridgeSocket(const BridgeSocket&) = delete;
  BridgeSocket& operator=(const BridgeSocket&) = delete;
  ~BridgeSocket();

  /// Numbers the body with the next seq and t_ms = now (system clock, Unix ms),
  /// encodes it and writes the whole line. Fails when the peer is gone or does
  /// not take the bytes within `send_timeout` (a stuck peer never blocks us for ever).
  Expected<void> send(Body body, std::chrono::milliseconds send_timeout = std::chrono::seconds(5));
  /// Writes bytes as they are (no seq, no newline added): for tests and tools
  /// that must play a broken peer.
  Expected<void> send_raw(std::string_view bytes, std::chrono::milliseconds send_timeout = std::chrono::seconds(5));

  /// The next message, waiting up to `timeout`; nullopt when none arrived in
  /// time. Errors (the connection should then be closed): the peer closed it,
  /// a line longer than kMaxLine, a line that does not decode (the error names
  /// the field and quotes the start of the line), a seq gap or repeat.
  Expected<std::optional<Message>> receive(std::chrono::milliseconds timeout);
  /// The line (without '\n') of the message receive() returned last, exactly
  /// as it arrived: what the bridge service publishes.
  const std::string& last_line() const { return last_line_; }

  /// The last seq sent and received on this connection.
  std::int64_t sent_seq() const { return sent_seq_; }
  std::int64_t received_seq() const { return received_.last(); }
  /// Whether the last receive() failed on a seq gap or repeat.
  SeqFault seq_fault() const { return received_.fault(); }

  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  /// "host:port" of the other end, for log lines.
  const std::string& peer() const { return peer_; }
  /// Closes the descriptor (idempotent).
  void close();

 private:
  int fd_ = -1;
  std::string peer_;
  LineReader reader_;
  SeqTracker received_;
  std::int64_t sent_seq_ = 0;
  std::string last_line_;
};

class BridgeListener {
 public:
  /// Binds and listens on host:port (port 0 = any free port, see port()).
  static Expected<BridgeListener> listen(const std::string& host, int port);

  BridgeListener(BridgeListener&& other) noexcept;
  BridgeListener& operator=(BridgeListener&& other) noexcept;
  BridgeListener(const BridgeListener&) = delete;
  BridgeListener& operator=(const BridgeListener&) = delete;
  ~BridgeListener();

  /// The port actually bound.
  int port() const { return port_; }
  int fd() const { return fd_; }
  /// The next connection, waiting up to `timeout`; nullopt when none came.
  Expected<std::optional<BridgeSocket>> accept(std::chrono::milliseconds timeout);
  void close();

 private:
  BridgeListener(int fd, int port) : fd_(fd), port_(port) {}
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace quant::execution::bridge
