// Producer: XADD queued and sent as one pipeline per flush().

#include <utility>

#include "stream/redis.h"
#include "stream/stream.h"

namespace quant::stream {

using detail::Command;
using detail::Connection;
using detail::Reply;

namespace {

/// Redis's words for an explicit id at or below the stream's last one.
constexpr std::string_view kNotAboveTop = "equal or smaller than the target stream top item";

}  // namespace

struct Producer::Impl {
  Connection connection;
  std::size_t maxlen;
  std::vector<Command> queue;
  std::vector<std::string> streams;  ///< per queued command, for messages
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;
Producer::~Producer() = default;

Expected<Producer> Producer::connect(const Endpoint& endpoint, std::size_t maxlen) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  return Producer(std::make_unique<Impl>(Impl{std::move(*connection), maxlen, {}, {}}));
}

namespace {

Command xadd(std::string_view stream, std::size_t maxlen, std::string id, Fields fields) {
  // XADD needs at least one field; an empty entry is a caller's bug.
  QUANT_CHECK(!fields.empty());
  Command cmd;
  cmd.reserve(6 + 2 * fields.size());
  cmd.emplace_back("XADD");
  cmd.emplace_back(stream);
  if (maxlen > 0) {
    cmd.emplace_back("MAXLEN");
    cmd.emplace_back("~");
    cmd.push_back(std::to_string(maxlen));
  }
  cmd.push_back(std::move(id));
  for (auto& [k, v] : fields) {
    cmd.push_back(std::move(k));
    cmd.push_back(std::move(v));
  }
  return cmd;
}

}  // namespace

void Producer::add(std::string_view stream, Fields fields) {
  impl_->queue.push_back(xadd(stream, impl_->maxlen, "*", std::move(fields)));
  impl_->streams.emplace_back(stream);
}

void Producer::add(std::string_view stream, StreamId id, Fields fields) {
  impl_->queue.push_back(xadd(stream, impl_->maxlen, id.str(), std::move(fields)));
  impl_->streams.emplace_back(stream);
}

std::size_t Producer::queued() const { return impl_->queue.size(); }

Expected<std::vector<Producer::Added>> Producer::flush() {
  std::vector<Command> queue = std::move(impl_->queue);
  std::vector<std::string> streams = std::move(impl_->streams);
  impl_->queue.clear();
  impl_->streams.clear();
  std::vector<Added> added;
  if (queue.empty()) return added;
  auto replies = impl_->connection.pipeline(queue);
  if (!replies) {
    // Nothing is known about what reached the server: keep the queue, so a
    // later flush() sends it again (explicit ids make that safe).
    impl_->queue = std::move(queue);
    impl_->streams = std::move(streams);
    return tl::unexpected(replies.error());
  }
  added.reserve(replies->size());
  for (std::size_t i = 0; i < replies->size(); ++i) {
    const Reply& r = (*replies)[i];
    Added a;
    if (r.is_error() && r.str.find(kNotAboveTop) != std::string::npos) {
      a.duplicate = true;
    } else if (r.type == Reply::Type::String) {
      auto id = StreamId::parse(r.str);
      if (!id) return tl::unexpected(id.error());
      a.id = *id;
    } else {
      return tl::unexpected(detail::reply_error(impl_->connection,
                                                "XADD " + streams[i] + " (entry " + std::to_string(i + 1) + " of " +
                                                    std::to_string(replies->size()) + " in the flush)",
                                                r));
    }
    added.push_back(a);
  }
  return added;
}

Expected<std::optional<Entry>> Producer::last(std::string_view stream) {
  auto reply = impl_->connection.command(Command{"XREVRANGE", std::string(stream), "+", "-", "COUNT", "1"});
  if (!reply) return tl::unexpected(reply.error());
  if (reply->is_error())
    return tl::unexpected(detail::reply_error(impl_->connection, "XREVRANGE " + std::string(stream), *reply));
  auto entries = detail::parse_entries(stream, *reply);
  if (!entries) return tl::unexpected(entries.error());
  if (entries->empty()) return std::optional<Entry>{};
  return std::optional<Entry>{std::move(entries->front())};
}

}  // namespace quant::stream
