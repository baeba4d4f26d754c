// Consumer: one consumer of a group over several streams, merged in id order.
//
// Per stream it keeps what was fetched and not yet returned (`buffer`, in id
// order), whether it is still reading this consumer's pending entries (and
// from which id), and the ids returned and not yet acknowledged
// (`delivered`). read() fetches only for streams with an empty buffer (and
// those still reading pending), then merges: it returns the lowest buffered
// entry while no stream could still hold a lower one, i.e. it stops at an
// entry above the last fetched id of a stream whose buffer ran dry and whose
// fetch in this call did not show it exhausted (a fetch cut at `count`, a
// pending read, or no fetch this call). That is the header's hold-back rule.

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "stream/redis.h"
#include "stream/stream.h"

namespace quant::stream {

using detail::Command;
using detail::Connection;
using detail::Reply;

namespace {

struct StreamState {
  std::string key;
  std::map<StreamId, Entry> buffer;
  bool reading_pending = true;
  StreamId pending_cursor;  ///< pending entries above this come next
  bool known_exhausted = false;
  bool fetched_any = false;
  StreamId last_fetched;
  std::set<StreamId> delivered;
};

}  // namespace

struct Consumer::Impl {
  Connection connection;
  std::string group;
  std::string name;
  std::string start;
  std::vector<StreamState> streams;
  std::uint64_t generation = 0;
  std::uint64_t recreations = 0;  ///< groups recreated after NOGROUP

  /// Every stream goes back to reading its pending entries from the start:
  /// after a reconnect (a `>` read whose reply was lost left entries pending
  /// that this object never saw) and after a claim (claimed entries are pending).
  void reread_pending() {
    for (auto& s : streams) {
      s.reading_pending = true;
      s.pending_cursor = StreamId{};
    }
  }

  void check_generation() {
    if (connection.generation() != generation) {
      generation = connection.generation();
      reread_pending();
    }
  }

  /// XGROUP CREATE on every stream; a group that exists is left alone.
  /// `recreate`: after NOGROUP (the server lost the group: a restart without
  /// persistence, or someone destroyed it) each stream starts after the last
  /// id this object fetched from it, else at "0" — never "$", which would skip
  /// what was added between the loss and now. Entries other consumers of the
  /// group had processed may come again (at-least-once, as after any crash).
  Expected<void> create_groups(bool recreate) {
    std::vector<Command> cmds;
    for (const auto& s : streams) {
      std::string from = start;
      if (recreate) from = s.fetched_any ? s.last_fetched.str() : "0";
      cmds.push_back(Command{"XGROUP", "CREATE", s.key, group, from, "MKSTREAM"});
    }
    auto replies = connection.pipeline(cmds);
    if (!replies) return tl::unexpected(replies.error());
    for (std::size_t i = 0; i < replies->size(); ++i) {
      const Reply& r = (*replies)[i];
      if (r.is_error() && !r.error_is("BUSYGROUP"))
        return tl::unexpected(detail::reply_error(connection, "XGROUP CREATE " + streams[i].key + " " + group, r));
    }
    if (recreate) {
      ++recreations;
      reread_pending();
    }
    return {};
  }

  /// Runs commands; a NOGROUP reply recreates the groups and runs them again (once).
  Expected<std::vector<Reply>> run(const std::vector<Command>& cmds, std::chrono::milliseconds block) {
    for (int attempt = 0;; ++attempt) {
      auto replies = connection.pipeline(cmds, block);
      if (!replies) return replies;
      check_generation();
      const bool nogroup =
          std::any_of(replies->begin(), replies->end(), [](const Reply& r) { return r.error_is("NOGROUP"); });
      if (!nogroup || attempt > 0) return replies;
      if (auto created = create_groups(true); !created) return tl::unexpected(created.error());
    }
  }

  Command xreadgroup(std::size_t count, std::chrono::milliseconds block, const std::vector<std::size_t>& which,
                     bool pending) const {
    Command cmd{"XREADGROUP", "GROUP", group, name, "COUNT", std::to_string(count)};
    if (block.count() > 0) {
      cmd.emplace_back("BLOCK");
      cmd.push_back(std::to_string(block.count()));
    }
    cmd.emplace_back("STREAMS");
    for (std::size_t i : which) cmd.push_back(streams[i].key);
    for (std::size_t i : which) cmd.push_back(pending ? streams[i].pending_cursor.str() : std::string(">"));
    return cmd;
  }

  /// Entries of one XREADGROUP reply, by stream index. A nil reply (BLOCK timed out) is empty.
  Expected<std::map<std::size_t, std::vector<Entry>>> parse_read(const Reply& reply,
                                                                 std::vector<std::pair<std::size_t, StreamId>>& gone) {
    std::map<std::size_t, std::vector<Entry>> out;
    if (reply.is_nil()) return out;
    if (!reply.is_array()) return tl::unexpected(detail::reply_error(connection, "XREADGROUP", reply));
    for (const Reply& per_stream : reply.elements) {
      if (!per_stream.is_array() || per_stream.elements.size() != 2)
        return tl::unexpected(detail::reply_error(connection, "XREADGROUP", reply));
      const std::string& key = per_stream.elements[0].str;
      const auto it = std::find_if(streams.begin(), streams.end(), [&](const StreamState& s) { return s.key == key; });
      if (it == streams.end()) continue;
      const auto index = static_cast<std::size_t>(it - streams.begin());
      std::vector<StreamId> deleted;
      auto entries = detail::parse_entries(key, per_stream.elements[1], &deleted);
      if (!entries) return tl::unexpected(entries.error());
      for (const StreamId& id : deleted) gone.emplace_back(index, id);
      out[index] = std::move(*entries);
    }
    return out;
  }

  /// Pending entries whose data was trimmed away cannot be processed by anyone:
  /// acknowledged so they leave the group's pending list (XAUTOCLAIM does the same).
  Expected<void> ack_gone(const std::vector<std::pair<std::size_t, StreamId>>& gone) {
    if (gone.empty()) return {};
    std::vector<Command> cmds;
    for (const auto& [i, id] : gone) cmds.push_back(Command{"XACK", streams[i].key, group, id.str()});
    auto replies = connection.pipeline(cmds);
    if (!replies) return tl::unexpected(replies.error());
    return {};
  }

  void take(std::size_t index, std::vector<Entry> entries, bool pending, std::size_t count) {
    StreamState& s = streams[index];
    const std::size_t got = entries.size();
    for (Entry& e : entries) {
      if (pending) s.pending_cursor = std::max(s.pending_cursor, e.id);
      if (!s.fetched_any || s.last_fetched < e.id) s.last_fetched = e.id;
      s.fetched_any = true;
      if (s.delivered.count(e.id) != 0) continue;
      s.buffer.emplace(e.id, std::move(e));
    }
    if (pending) {
      // Fewer than asked: no more pending; the next fetch is `>`, so the stream is not known exhausted yet.
      if (got < count) s.reading_pending = false;
    } else {
      s.known_exhausted = got < count;
    }
  }

  /// One fetch; true when it was a `>` read of every stream (blocking when
  /// `block` > 0): if the merge then returns nothing, there is nothing.
  Expected<bool> fetch(std::size_t count, std::chrono::milliseconds block) {
    std::vector<std::size_t> pending, fresh;
    bool any_buffered = false;
    for (std::size_t i = 0; i < streams.size(); ++i) {
      streams[i].known_exhausted = false;
      if (streams[i].reading_pending)
        pending.push_back(i);
      else if (streams[i].buffer.empty())
        fresh.push_back(i);
      if (!streams[i].buffer.empty()) any_buffered = true;
    }
    const bool final_read = pending.empty() && !any_buffered;
    const bool blocking = final_read && block.count() > 0;
    std::vector<Command> cmds;
    if (!pending.empty()) cmds.push_back(xreadgroup(count, std::chrono::milliseconds{0}, pending, true));
    if (!fresh.empty())
      cmds.push_back(xreadgroup(count, blocking ? block : std::chrono::milliseconds{0}, fresh, false));
    if (cmds.empty()) return false;
    const std::uint64_t before = connection.generation();
    const std::uint64_t recreated_before = recreations;
    auto replies = run(cmds, blocking ? block : std::chrono::milliseconds{0});
    if (!replies) return tl::unexpected(replies.error());
    // Reconnected (or the group recreated) inside the call: the replies were
    // asked with positions that no longer hold; read pending again first.
    if (connection.generation() != before || recreations != recreated_before) return false;
    std::vector<std::pair<std::size_t, StreamId>> gone;
    std::size_t r = 0;
    for (const bool is_pending : {true, false}) {
      const auto& which = is_pending ? pending : fresh;
      if (which.empty()) continue;
      const Reply& reply = (*replies)[r++];
      if (reply.is_error()) return tl::unexpected(detail::reply_error(connection, "XREADGROUP " + group, reply));
      auto parsed = parse_read(reply, gone);
      if (!parsed) return tl::unexpected(parsed.error());
      for (std::size_t i : which) {
        auto it = parsed->find(i);
        take(i, it == parsed->end() ? std::vector<Entry>{} : std::move(it->second), is_pending, count);
      }
    }
    if (auto acked = ack_gone(gone); !acked) return tl::unexpected(acked.error());
    return final_read;
  }

  std::vector<Entry> merge(std::size_t count) {
    std::vector<Entry> out;
    while (out.size() < count) {
      StreamState* lowest = nullptr;
      for (auto& s : streams)
        if (!s.buffer.empty() && (lowest == nullptr || s.buffer.begin()->first < lowest->buffer.begin()->first))
          lowest = &s;
      if (lowest == nullptr) break;
      const StreamId next = lowest->buffer.begin()->first;
      const bool held = std::any_of(streams.begin(), streams.end(), [&](const StreamState& s) {
        return s.buffer.empty() && !s.known_exhausted && (!s.fetched_any || s.last_fetched < next);
      });
      if (held) break;
      auto node = lowest->buffer.extract(lowest->buffer.begin());
      lowest->delivered.insert(next);
      out.push_back(std::move(node.mapped()));
    }
    return out;
  }
};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&&) noexcept = default;
Consumer::~Consumer() = default;

Expected<Consumer> Consumer::connect(const Endpoint& endpoint, std::string group, std::string consumer,
                                     std::vector<std::string> streams, std::string_view start) {
  if (streams.empty()) return make_error("stream consumer " + consumer + " of group " + group + ": no streams");
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto impl = std::make_unique<Impl>(
      Impl{std::move(*connection), std::move(group), std::move(consumer), std::string(start), {}, 0});
  impl->generation = impl->connection.generation();
  for (auto& key : streams) {
    StreamState s;
    s.key = std::move(key);
    impl->streams.push_back(std::move(s));
  }
  if (auto created = impl->create_groups(false); !created) return tl::unexpected(created.error());
  return Consumer(std::move(impl));
}

Expected<std::vector<Entry>> Consumer::read(std::size_t count, std::chrono::milliseconds block) {
  QUANT_CHECK(count > 0);
  Impl& m = *impl_;
  m.check_generation();
  for (;;) {
    auto final_read = m.fetch(count, block);
    if (!final_read) return tl::unexpected(final_read.error());
    std::vector<Entry> out = m.merge(count);
    // Otherwise pending just ran out, a fetch was cut, or the connection moved: fetch again.
    if (!out.empty() || *final_read) return out;
  }
}

Expected<void> Consumer::ack(const std::vector<Entry>& entries) {
  std::map<std::string, std::vector<StreamId>> by_stream;
  for (const Entry& e : entries) by_stream[e.stream].push_back(e.id);
  for (const auto& [stream, ids] : by_stream)
    if (auto done = ack(stream, ids); !done) return done;
  return {};
}

Expected<void> Consumer::ack(std::string_view stream, const std::vector<StreamId>& ids) {
  if (ids.empty()) return {};
  Command cmd{"XACK", std::string(stream), impl_->group};
  for (const StreamId& id : ids) cmd.push_back(id.str());
  auto replies = impl_->run({cmd}, std::chrono::milliseconds{0});
  if (!replies) return tl::unexpected(replies.error());
  const Reply& r = replies->front();
  if (r.is_error()) return tl::unexpected(detail::reply_error(impl_->connection, "XACK " + std::string(stream), r));
  for (auto& s : impl_->streams)
    if (s.key == stream)
      for (const StreamId& id : ids) s.delivered.erase(id);
  return {};
}

Expected<std::size_t> Consumer::claim_stale(std::chrono::milliseconds min_idle, std::size_t count) {
  Impl& m = *impl_;
  std::size_t claimed = 0;
  for (std::size_t i = 0; i < m.streams.size() && claimed < count; ++i) {
    std::string cursor = "0-0";
    do {
      auto replies = m.run({Command{"XAUTOCLAIM", m.streams[i].key, m.group, m.name, std::to_string(min_idle.count()),
                                    cursor, "COUNT", std::to_string(count - claimed)}},
                           std::chrono::milliseconds{0});
      if (!replies) return tl::unexpected(replies.error());
      const Reply& r = replies->front();
      if (!r.is_array() || r.elements.size() < 2)
        return tl::unexpected(detail::reply_error(m.connection, "XAUTOCLAIM " + m.streams[i].key, r));
      cursor = r.elements[0].str;
      claimed += r.elements[1].elements.size();
    } while (cursor != "0-0" && claimed < count);
  }
  // Claimed entries are now this consumer's pending ones; read() returns them next.
  if (claimed > 0) m.reread_pending();
  return claimed;
}

Expected<std::int64_t> Consumer::pending() {
  Impl& m = *impl_;
  std::vector<Command> cmds;
  for (const auto& s : m.streams) cmds.push_back(Command{"XPENDING", s.key, m.group});
  auto replies = m.run(cmds, std::chrono::milliseconds{0});
  if (!replies) return tl::unexpected(replies.error());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < replies->size(); ++i) {
    const Reply& r = (*replies)[i];
    if (!r.is_array() || r.elements.empty() || r.elements[0].type != Reply::Type::Integer)
      return tl::unexpected(detail::reply_error(m.connection, "XPENDING " + m.streams[i].key, r));
    total += r.elements[0].integer;
  }
  return total;
}

}  // namespace quant::stream
