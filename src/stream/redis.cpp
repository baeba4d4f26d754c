#include "stream/redis.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <thread>
#include <utility>

#include <hiredis/hiredis.h>
#include <pthread.h>

namespace quant::stream::detail {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

timeval to_timeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = Reply::Type::String; break;
    case REDIS_REPLY_STATUS: out.type = Reply::Type::Status; break;
    case REDIS_REPLY_ERROR: out.type = Reply::Type::Error; break;
    case REDIS_REPLY_INTEGER: out.type = Reply::Type::Integer; break;
    case REDIS_REPLY_ARRAY: out.type = Reply::Type::Array; break;
    default: out.type = Reply::Type::Nil; break;
  }
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    out.str.assign(r->str, r->len);
  if (r->type == REDIS_REPLY_INTEGER) out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  }
  return out;
}

/// hiredis 0.14 writes with write(2): a peer that has gone away raises SIGPIPE,
/// whose default action kills the process. A library must not change the
/// process's signal disposition, so the signal is blocked in this thread for
/// the duration of a call and a SIGPIPE it caused is consumed before unblocking.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

}  // namespace

struct Connection::Impl {
  Endpoint endpoint;
  ContextPtr context;
  std::uint64_t connections = 0;
  std::string last_error;

  std::string where() const { return endpoint.host + ":" + std::to_string(endpoint.port); }

  /// One attempt; on failure `last_error` says why.
  bool try_connect() {
    context.reset();
    ContextPtr c(redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, to_timeval(endpoint.connect_timeout)));
    if (c == nullptr) {
      last_error = "cannot allocate a connection";
      return false;
    }
    if (c->err != 0) {
      last_error = c->errstr;
      return false;
    }
    context = std::move(c);
    ++connections;
    return true;
  }

  /// Waits before the next attempt; false once the policy's time is up.
  bool back_off(Clock::time_point failing_since, milliseconds& delay) {
    const auto waited = Clock::now() - failing_since;
    const auto limit = endpoint.reconnect.give_up_after;
    if (waited >= limit) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(limit - waited);
    std::this_thread::sleep_for(std::min(delay, left));
    delay = std::min(delay * 2, endpoint.reconnect.max_delay);
    return true;
  }

  Error gave_up(Clock::time_point failing_since) const {
    const auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - failing_since).count();
    return Error{"redis " + where() + ": " + last_error + " (gave up after " + std::to_string(ms) +
                 " ms of reconnecting; is redis-server running there?)"};
  }

  Expected<std::vector<Reply>> run(const std::vector<Command>& commands, milliseconds block) {
    SigpipeGuard guard;
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    std::optional<Clock::time_point> failing_since;
    milliseconds delay = endpoint.reconnect.first_delay;
    auto failed = [&](std::string why) {
      last_error = std::move(why);
      context.reset();
      if (!failing_since) failing_since = Clock::now();
    };
    while (replies.size() < commands.size()) {
      if (failing_since && !back_off(*failing_since, delay)) return tl::unexpected(gave_up(*failing_since));
      if (!context && !try_connect()) {
        if (!failing_since) failing_since = Clock::now();
        continue;
      }
      redisSetTimeout(context.get(), to_timeval(endpoint.reply_timeout + block));
      const std::size_t first = replies.size();
      bool ok = true;
      for (std::size_t i = first; i < commands.size(); ++i) {
        const Command& cmd = commands[i];
        std::vector<const char*> argv;
        std::vector<size_t> lens;
        argv.reserve(cmd.size());
        lens.reserve(cmd.size());
        for (const auto& a : cmd) {
          argv.push_back(a.data());
          lens.push_back(a.size());
        }
        if (redisAppendCommandArgv(context.get(), static_cast<int>(argv.size()), argv.data(), lens.data()) !=
            REDIS_OK) {
          failed(context->errstr);
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      for (std::size_t i = first; i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(context.get(), &raw) != REDIS_OK || raw == nullptr) {
          const bool timed_out = context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
          failed(timed_out ? std::string("no reply within the reply timeout") : std::string(context->errstr));
          ok = false;
          break;
        }
        std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(raw));
        Reply r = convert(reply.get());
        // A restarted server answers -LOADING until its AOF is read back: wait as for a lost connection.
        if (r.error_is("LOADING")) {
          failed(r.str);
          ok = false;
          break;
        }
        replies.push_back(std::move(r));
        failing_since.reset();
        delay = endpoint.reconnect.first_delay;
      }
    }
    return replies;
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Expected<Connection> Connection::open(const Endpoint& endpoint) {
  auto impl = std::make_unique<Impl>();
  impl->endpoint = endpoint;
  // PING proves the server answers (and is done loading) before the first real command.
  auto pong = impl->run({Command{"PING"}}, milliseconds{0});
  if (!pong) return tl::unexpected(pong.error());
  impl->connections = 1;
  return Connection(std::move(impl));
}

Expected<std::vector<Reply>> Connection::pipeline(const std::vector<Command>& commands, milliseconds block) {
  return impl_->run(commands, block);
}

Expected<Reply> Connection::command(Command command, milliseconds block) {
  std::vector<Command> one;
  one.push_back(std::move(command));
  auto replies = impl_->run(one, block);
  if (!replies) return tl::unexpected(replies.error());
  return std::move(replies->front());
}

std::uint64_t Connection::generation() const { return impl_->connections; }
std::string Connection::where() const { return impl_->where(); }

}  // namespace quant::stream::detail
