#pragma once
/// Internal to the stream module: one Redis connection over hiredis with
/// pipelining and reconnect-with-back-off. No hiredis type appears here; only
/// redis.cpp includes <hiredis/hiredis.h> (src/README.md, vendor table).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "stream/stream.h"

namespace quant::stream::detail {

/// A RESP2 reply, copied out of hiredis.
struct Reply {
  enum class Type { Nil, Status, Error, Integer, String, Array };
  Type type = Type::Nil;
  std::string str;  ///< String, Status, Error
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::Error; }
  bool is_nil() const { return type == Type::Nil; }
  bool is_array() const { return type == Type::Array; }
  /// True when an error reply starts with `prefix` ("NOGROUP", "BUSYGROUP").
  bool error_is(std::string_view prefix) const { return is_error() && str.rfind(prefix, 0) == 0; }
};

using Command = std::vector<std::string>;

/// One connection, used from one thread. Every call that meets a lost
/// connection (or a server still loading its data: -LOADING) reconnects with
/// exponential back-off (first_delay doubling up to max_delay) and sends again
/// the commands that had no reply, until `give_up_after` has passed since the
/// last reply; then it fails naming host:port and the last error.
class Connection {
 public:
  /// Connects, retrying under the same policy.
  static Expected<Connection> open(const Endpoint& endpoint);
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  /// Sends all commands in one write and reads one reply each (error replies
  /// are replies, not failures). `block` is added to the reply timeout, for
  /// commands that block on the server (XREADGROUP BLOCK).
  Expected<std::vector<Reply>> pipeline(const std::vector<Command>& commands,
                                        std::chrono::milliseconds block = std::chrono::milliseconds{0});
  Expected<Reply> command(Command command, std::chrono::milliseconds block = std::chrono::milliseconds{0});

  /// Counts the connections made after the first: a caller that keeps state
  /// about the server (a consumer's read position) re-checks it when it moves.
  std::uint64_t generation() const;
  /// "host:port", for messages.
  std::string where() const;

 private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// "<what> failed at host:port: <redis error>", for error replies.
Error reply_error(const Connection& connection, std::string_view what, const Reply& reply);

/// An XRANGE/XREADGROUP entry list ([[id, [f, v, ...]], ...]) → entries of `stream`.
/// Entries whose fields are nil (deleted while pending) get `deleted` set instead.
Expected<std::vector<Entry>> parse_entries(std::string_view stream, const Reply& list,
                                           std::vector<StreamId>* deleted = nullptr);

}  // namespace quant::stream::detail
