#pragma once
/// Internal to the stream module: one Redis connection over hiredis with
/// pipelining and reconnect-with-back-off. No hiredis type appears here; only
/// redis.cpp includes <hiredis/hiredis.h> (src/README.md, vendor table).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
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

/// Commands formatted as RESP straight into one buffer: no per-argument
/// strings, and the whole pipeline is handed to hiredis in one append
/// (`redisAppendFormattedCommand`). A command is `begin(argc)`, then exactly
/// `argc` `arg()` calls.
class Batch {
 public:
  void begin(std::size_t argc);
  void arg(std::string_view a);
  void arg(std::uint64_t n);
  void arg(StreamId id);  ///< "<ms>-<seq>", formatted in place
  void add(const Command& command);
  std::size_t size() const { return starts_.size(); }
  bool empty() const { return starts_.empty(); }
  void clear() {
    buf_.clear();
    starts_.clear();
  }
  /// Argument `n` of command `command` (0 = the command's name), for messages.
  std::string_view argument(std::size_t command, std::size_t n) const;
  /// The bytes of commands `command` .. size()-1 (resent after a reconnect).
  std::string_view from(std::size_t command) const { return std::string_view(buf_).substr(starts_[command]); }

 private:
  std::string buf_;
  std::vector<std::size_t> starts_;  ///< offset of each command in buf_
};

/// A reply as hiredis parsed it, read in place (no copy). Valid only inside
/// the callback that received it.
class ReplyView {
 public:
  Reply::Type type() const;
  std::string_view str() const;  ///< String, Status, Error
  long long integer() const;
  std::size_t size() const;  ///< elements of an Array
  ReplyView operator[](std::size_t i) const;
  bool is_error() const { return type() == Reply::Type::Error; }
  bool is_nil() const { return type() == Reply::Type::Nil; }
  bool is_array() const { return type() == Reply::Type::Array; }
  bool error_is(std::string_view prefix) const { return is_error() && str().rfind(prefix, 0) == 0; }
  Reply copy() const;

 private:
  friend class Connection;
  explicit ReplyView(const void* reply) : reply_(reply) {}
  const void* reply_;
};

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
  Expected<std::vector<Reply>> pipeline(const Batch& batch,
                                        std::chrono::milliseconds block = std::chrono::milliseconds{0});
  Expected<Reply> command(Command command, std::chrono::milliseconds block = std::chrono::milliseconds{0});
  /// Sends the batch in one write and hands each reply, in order, to
  /// `on_reply(index, view)` without copying it. After a reconnect the
  /// commands that had no reply are sent again; replies already handed out
  /// are not repeated (a caller that keeps state checks generation()).
  Expected<void> send(const Batch& batch, std::chrono::milliseconds block,
                      const std::function<void(std::size_t, ReplyView)>& on_reply);

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
/// The same from a reply read in place, appended to `out`; `items` counts
/// every element of the list (deleted ones included).
Expected<void> parse_entries(std::string_view stream, ReplyView list, std::vector<Entry>& out,
                             std::vector<StreamId>* deleted, std::size_t* items = nullptr);

}  // namespace quant::stream::detail
