// Producer: XADD queued and sent as one pipeline per flush().

#include <optional>
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
  /// The queued XADDs, already formatted as RESP (no per-argument strings).
  detail::Batch queue;

  void xadd(std::string_view stream, const StreamId* id, const Fields& fields) {
    // XADD needs at least one field; an empty entry is a caller's bug.
    QUANT_CHECK(!fields.empty());
    queue.begin(3 + (maxlen > 0 ? 3 : 0) + 2 * fields.size());
    queue.arg("XADD");
    queue.arg(stream);
    if (maxlen > 0) {
      queue.arg("MAXLEN");
      queue.arg("~");
      queue.arg(static_cast<std::uint64_t>(maxlen));
    }
    if (id != nullptr)
      queue.arg(*id);
    else
      queue.arg("*");
    for (const auto& [k, v] : fields) {
      queue.arg(std::string_view(k));
      queue.arg(std::string_view(v));
    }
  }
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;
Producer::~Producer() = default;

Expected<Producer> Producer::connect(const Endpoint& endpoint, std::size_t maxlen) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  return Producer(std::make_unique<Impl>(Impl{std::move(*connection), maxlen, {}}));
}

void Producer::add(std::string_view stream, Fields fields) { impl_->xadd(stream, nullptr, fields); }

void Producer::add(std::string_view stream, StreamId id, Fields fields) { impl_->xadd(stream, &id, fields); }

std::size_t Producer::queued() const { return impl_->queue.size(); }

Expected<std::vector<Producer::Added>> Producer::flush() {
  Impl& m = *impl_;
  std::vector<Added> added;
  if (m.queue.empty()) return added;
  const std::size_t n = m.queue.size();
  added.reserve(n);
  std::optional<Error> refused;
  auto sent = m.connection.send(m.queue, std::chrono::milliseconds{0}, [&](std::size_t i, detail::ReplyView r) {
    if (refused) return;
    Added a;
    if (r.is_error() && r.str().find(kNotAboveTop) != std::string_view::npos) {
      a.duplicate = true;
    } else if (r.type() == Reply::Type::String) {
      auto id = StreamId::parse(r.str());
      if (!id) {
        refused = id.error();
        return;
      }
      a.id = *id;
    } else {
      refused = detail::reply_error(m.connection,
                                    "XADD " + std::string(m.queue.argument(i, 1)) + " (entry " + std::to_string(i + 1) +
                                        " of " + std::to_string(n) + " in the flush)",
                                    r.copy());
      return;
    }
    added.push_back(a);
  });
  // Nothing is known about what reached the server: keep the queue, so a
  // later flush() sends it again (explicit ids make that safe).
  if (!sent) return tl::unexpected(sent.error());
  m.queue.clear();
  if (refused) return tl::unexpected(*refused);
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
