#include "stream/redis.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
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

/// Memory for the replies hiredis' reader builds: a bump allocator reset
/// after each reply has been handed out. hiredis' default builds one calloc'd
/// object (and one malloc'd string) per element: ~14 allocations per stream
/// entry, which dominated a consumer's profile. The objects keep hiredis'
/// `redisReply` layout, so reading them is unchanged.
class Arena {
 public:
  void* alloc(std::size_t n) {
    n = (n + 15) & ~std::size_t{15};
    if (used_ + n > cap_) next_chunk(n);
    char* p = base_ + used_;
    used_ += n;
    return p;
  }
  /// Everything allocated so far is dead. Chunks are kept for the next
  /// reply, up to kKeep bytes (a huge reply does not pin its memory).
  void reset() {
    std::size_t kept = 0, keep = 0;
    while (keep < chunks_.size() && kept + chunks_[keep].size <= kKeep) kept += chunks_[keep++].size;
    chunks_.resize(keep);
    current_ = 0;
    used_ = 0;
    base_ = chunks_.empty() ? nullptr : chunks_[0].data.get();
    cap_ = chunks_.empty() ? 0 : chunks_[0].size;
  }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 20;
  static constexpr std::size_t kKeep = std::size_t{16} << 20;
  struct Chunk {
    std::unique_ptr<char[]> data;
    std::size_t size;
  };
  void next_chunk(std::size_t n) {
    // The next kept chunk when it is large enough, else a new one after the current.
    std::size_t i = chunks_.empty() ? 0 : current_ + 1;
    if (i < chunks_.size() && chunks_[i].size < n) chunks_.resize(i);
    if (i >= chunks_.size()) {
      const std::size_t size = std::max(kChunk, n);
      chunks_.push_back(Chunk{std::unique_ptr<char[]>(new char[size]), size});
      i = chunks_.size() - 1;
    }
    current_ = i;
    base_ = chunks_[i].data.get();
    cap_ = chunks_[i].size;
    used_ = 0;
  }
  std::vector<Chunk> chunks_;
  std::size_t current_ = 0;
  char* base_ = nullptr;
  std::size_t used_ = 0;
  std::size_t cap_ = 0;
};

redisReply* arena_node(const redisReadTask* task, int type) {
  auto* arena = static_cast<Arena*>(task->privdata);
  auto* r = static_cast<redisReply*>(arena->alloc(sizeof(redisReply)));
  std::memset(r, 0, sizeof *r);
  r->type = type;
  if (task->parent != nullptr) static_cast<redisReply*>(task->parent->obj)->element[task->idx] = r;
  return r;
}

void* arena_string(const redisReadTask* task, char* str, size_t len) {
  redisReply* r = arena_node(task, task->type);
  auto* copy = static_cast<char*>(static_cast<Arena*>(task->privdata)->alloc(len + 1));
  std::memcpy(copy, str, len);
  copy[len] = '\0';
  r->str = copy;
  r->len = len;
  return r;
}

void* arena_array(const redisReadTask* task, int elements) {
  redisReply* r = arena_node(task, REDIS_REPLY_ARRAY);
  r->elements = static_cast<size_t>(elements);
  if (elements > 0) {
    const std::size_t bytes = static_cast<std::size_t>(elements) * sizeof(redisReply*);
    r->element = static_cast<redisReply**>(static_cast<Arena*>(task->privdata)->alloc(bytes));
    std::memset(r->element, 0, bytes);
  }
  return r;
}

void* arena_integer(const redisReadTask* task, long long value) {
  redisReply* r = arena_node(task, REDIS_REPLY_INTEGER);
  r->integer = value;
  return r;
}

void* arena_nil(const redisReadTask* task) { return arena_node(task, REDIS_REPLY_NIL); }

void arena_free(void*) {}  // the arena is reset as a whole

redisReplyObjectFunctions kArenaReplies{arena_string, arena_array, arena_integer, arena_nil, arena_free};

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

/// "$<len>\r\n" or "*<argc>\r\n".
void append_header(std::string& buf, char kind, std::size_t n) {
  char head[24];
  head[0] = kind;
  const auto [end, ec] = std::to_chars(head + 1, head + sizeof head - 2, n);
  (void)ec;
  char* p = end;
  *p++ = '\r';
  *p++ = '\n';
  buf.append(head, static_cast<std::size_t>(p - head));
}

const redisReply* raw(const void* r) { return static_cast<const redisReply*>(r); }

Reply::Type type_of(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING: return Reply::Type::String;
    case REDIS_REPLY_STATUS: return Reply::Type::Status;
    case REDIS_REPLY_ERROR: return Reply::Type::Error;
    case REDIS_REPLY_INTEGER: return Reply::Type::Integer;
    case REDIS_REPLY_ARRAY: return Reply::Type::Array;
    default: return Reply::Type::Nil;
  }
}

}  // namespace

void Batch::begin(std::size_t argc) {
  starts_.push_back(buf_.size());
  append_header(buf_, '*', argc);
}

void Batch::arg(std::string_view a) {
  append_header(buf_, '$', a.size());
  buf_.append(a);
  buf_.append("\r\n", 2);
}

void Batch::arg(std::uint64_t n) {
  char text[24];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, n);
  (void)ec;
  arg(std::string_view(text, static_cast<std::size_t>(end - text)));
}

void Batch::arg(StreamId id) {
  char text[48];
  auto r = std::to_chars(text, text + 20, id.ms);
  *r.ptr++ = '-';
  r = std::to_chars(r.ptr, text + sizeof text, id.seq);
  arg(std::string_view(text, static_cast<std::size_t>(r.ptr - text)));
}

std::string_view Batch::argument(std::size_t command, std::size_t n) const {
  const std::string_view all(buf_);
  std::size_t at = all.find("\r\n", starts_[command]) + 2;  // after "*<argc>"
  for (std::size_t k = 0;; ++k) {
    const std::size_t eol = all.find("\r\n", at);
    std::size_t len = 0;
    std::from_chars(all.data() + at + 1, all.data() + eol, len);
    if (k == n) return all.substr(eol + 2, len);
    at = eol + 2 + len + 2;
  }
}

void Batch::add(const Command& command) {
  begin(command.size());
  for (const auto& a : command) arg(std::string_view(a));
}

Reply::Type ReplyView::type() const { return type_of(raw(reply_)); }
std::string_view ReplyView::str() const {
  const redisReply* r = raw(reply_);
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    return {r->str, r->len};
  return {};
}
long long ReplyView::integer() const { return raw(reply_)->type == REDIS_REPLY_INTEGER ? raw(reply_)->integer : 0; }
std::size_t ReplyView::size() const { return raw(reply_)->type == REDIS_REPLY_ARRAY ? raw(reply_)->elements : 0; }
ReplyView ReplyView::operator[](std::size_t i) const { return ReplyView(raw(reply_)->element[i]); }
Reply ReplyView::copy() const { return convert(raw(reply_)); }

struct Connection::Impl {
  Endpoint endpoint;
  Arena arena;  ///< before `context`: outlives the reader that writes into it
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
    c->reader->fn = &kArenaReplies;
    c->reader->privdata = &arena;
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

  /// The pipeline loop: sends `batch` (again from the first command without a
  /// reply after a reconnect) and hands each reply to `on_reply`.
  Expected<void> run(const Batch& batch, milliseconds block,
                     const std::function<void(std::size_t, ReplyView)>& on_reply) {
    SigpipeGuard guard;
    std::size_t answered = 0;
    std::optional<Clock::time_point> failing_since;
    milliseconds delay = endpoint.reconnect.first_delay;
    auto failed = [&](std::string why) {
      last_error = std::move(why);
      context.reset();
      if (!failing_since) failing_since = Clock::now();
    };
    while (answered < batch.size()) {
      if (failing_since && !back_off(*failing_since, delay)) return tl::unexpected(gave_up(*failing_since));
      if (!context && !try_connect()) {
        if (!failing_since) failing_since = Clock::now();
        continue;
      }
      redisSetTimeout(context.get(), to_timeval(endpoint.reply_timeout + block));
      arena.reset();
      const std::string_view bytes = batch.from(answered);
      if (redisAppendFormattedCommand(context.get(), bytes.data(), bytes.size()) != REDIS_OK) {
        failed(context->errstr);
        continue;
      }
      while (answered < batch.size()) {
        void* raw_reply = nullptr;
        if (redisGetReply(context.get(), &raw_reply) != REDIS_OK || raw_reply == nullptr) {
          const bool timed_out = context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
          failed(timed_out ? std::string("no reply within the reply timeout") : std::string(context->errstr));
          break;
        }
        const auto* reply = static_cast<const redisReply*>(raw_reply);
        // A restarted server answers -LOADING until its AOF is read back: wait as for a lost connection.
        if (reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str, reply->len).rfind("LOADING", 0) == 0) {
          failed(std::string(reply->str, reply->len));
          break;
        }
        on_reply(answered, ReplyView(reply));
        arena.reset();
        ++answered;
        failing_since.reset();
        delay = endpoint.reconnect.first_delay;
      }
    }
    return {};
  }

  Expected<std::vector<Reply>> copy_all(const Batch& batch, milliseconds block) {
    std::vector<Reply> replies;
    replies.reserve(batch.size());
    auto done = run(batch, block, [&](std::size_t, ReplyView r) { replies.push_back(r.copy()); });
    if (!done) return tl::unexpected(done.error());
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
  Batch ping;
  ping.add(Command{"PING"});
  auto pong = impl->copy_all(ping, milliseconds{0});
  if (!pong) return tl::unexpected(pong.error());
  impl->connections = 1;
  return Connection(std::move(impl));
}

Expected<std::vector<Reply>> Connection::pipeline(const std::vector<Command>& commands, milliseconds block) {
  Batch batch;
  for (const Command& c : commands) batch.add(c);
  return impl_->copy_all(batch, block);
}

Expected<std::vector<Reply>> Connection::pipeline(const Batch& batch, milliseconds block) {
  return impl_->copy_all(batch, block);
}

Expected<Reply> Connection::command(Command command, milliseconds block) {
  Batch one;
  one.add(command);
  auto replies = impl_->copy_all(one, block);
  if (!replies) return tl::unexpected(replies.error());
  return std::move(replies->front());
}

Expected<void> Connection::send(const Batch& batch, milliseconds block,
                                const std::function<void(std::size_t, ReplyView)>& on_reply) {
  return impl_->run(batch, block, on_reply);
}

std::uint64_t Connection::generation() const { return impl_->connections; }
std::string Connection::where() const { return impl_->where(); }

}  // namespace quant::stream::detail
