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
//
// Cost per entry is kept flat in the number of streams: replies are parsed in
// place from hiredis' reply (no intermediate copy), buffers are deques filled
// in id order, the merge is a binary heap over the streams' first entries
// with the hold-back bound kept incrementally (a stream's buffer only runs
// dry during a merge, so the bound only falls), and ack() sends one XACK per
// stream in a single round trip.

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "stream/redis.h"
#include "stream/stream.h"

namespace quant::stream {

using detail::Batch;
using detail::Command;
using detail::Connection;
using detail::Reply;
using detail::ReplyView;

namespace {

struct StreamState {
  std::string key;
  std::deque<Entry> buffer;  ///< in id order, no duplicates
  bool reading_pending = true;
  StreamId pending_cursor;  ///< pending entries above this come next
  bool known_exhausted = false;
  bool fetched_any = false;
  StreamId last_fetched;
  std::set<StreamId> delivered;
};

/// One stream's part of an XREADGROUP reply.
struct Fetched {
  std::size_t index = 0;
  std::vector<Entry> entries;
  std::size_t items = 0;  ///< entries in the reply, deleted ones included (compared with COUNT)
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
  std::unordered_map<std::string_view, std::size_t> index;  ///< key -> position in `streams`

  void build_index() {
    index.clear();
    for (std::size_t i = 0; i < streams.size(); ++i) index.emplace(streams[i].key, i);
  }

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
  Expected<std::vector<Reply>> run(const Batch& cmds, std::chrono::milliseconds block) {
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

  Expected<std::vector<Reply>> run(const std::vector<Command>& cmds, std::chrono::milliseconds block) {
    Batch batch;
    for (const Command& c : cmds) batch.add(c);
    return run(batch, block);
  }

  void xreadgroup(Batch& batch, std::size_t count, std::chrono::milliseconds block,
                  const std::vector<std::size_t>& which, bool pending) const {
    batch.begin(7 + (block.count() > 0 ? 2 : 0) + 2 * which.size());
    batch.arg("XREADGROUP");
    batch.arg("GROUP");
    batch.arg(group);
    batch.arg(name);
    batch.arg("COUNT");
    batch.arg(static_cast<std::uint64_t>(count));
    if (block.count() > 0) {
      batch.arg("BLOCK");
      batch.arg(static_cast<std::uint64_t>(block.count()));
    }
    batch.arg("STREAMS");
    for (std::size_t i : which) batch.arg(std::string_view(streams[i].key));
    for (std::size_t i : which) {
      if (pending)
        batch.arg(streams[i].pending_cursor);
      else
        batch.arg(std::string_view(">"));
    }
  }

  /// Entries of one XREADGROUP reply, by stream, read in place. A nil reply (BLOCK timed out) is empty.
  Expected<void> parse_read(ReplyView reply, std::vector<Fetched>& out,
                            std::vector<std::pair<std::size_t, StreamId>>& gone) {
    if (reply.is_nil()) return {};
    if (!reply.is_array()) return tl::unexpected(detail::reply_error(connection, "XREADGROUP", reply.copy()));
    std::vector<StreamId> deleted;
    for (std::size_t k = 0; k < reply.size(); ++k) {
      const ReplyView per_stream = reply[k];
      if (!per_stream.is_array() || per_stream.size() != 2)
        return tl::unexpected(detail::reply_error(connection, "XREADGROUP", reply.copy()));
      const auto it = index.find(per_stream[0].str());
      if (it == index.end()) continue;
      Fetched& f = out.emplace_back();
      f.index = it->second;
      deleted.clear();
      if (auto parsed = detail::parse_entries(streams[f.index].key, per_stream[1], f.entries, &deleted, &f.items);
          !parsed)
        return tl::unexpected(parsed.error());
      for (const StreamId& id : deleted) gone.emplace_back(f.index, id);
    }
    return {};
  }

  /// Pending entries whose data was trimmed away cannot be processed by anyone:
  /// acknowledged so they leave the group's pending list (XAUTOCLAIM does the same).
  Expected<void> ack_gone(const std::vector<std::pair<std::size_t, StreamId>>& gone) {
    if (gone.empty()) return {};
    Batch cmds;
    for (const auto& [i, id] : gone) {
      cmds.begin(4);
      cmds.arg("XACK");
      cmds.arg(std::string_view(streams[i].key));
      cmds.arg(group);
      cmds.arg(id);
    }
    auto replies = connection.pipeline(cmds);
    if (!replies) return tl::unexpected(replies.error());
    return {};
  }

  void take(std::size_t which, std::vector<Entry>& entries, std::size_t items, const std::vector<StreamId>& gone_ids,
            bool pending, std::size_t count) {
    StreamState& s = streams[which];
    auto note = [&](const StreamId& id) {
      if (pending) s.pending_cursor = std::max(s.pending_cursor, id);
      if (!s.fetched_any || s.last_fetched < id) s.last_fetched = id;
      s.fetched_any = true;
    };
    for (const StreamId& id : gone_ids) note(id);
    std::vector<Entry> behind;  // ids at or below the buffer's last: only after a pending re-read
    for (Entry& e : entries) {
      note(e.id);
      if (pending && s.delivered.count(e.id) != 0) continue;
      if (s.buffer.empty() || s.buffer.back().id < e.id)
        s.buffer.push_back(std::move(e));
      else
        behind.push_back(std::move(e));
    }
    for (Entry& e : behind) {
      const auto at = std::lower_bound(s.buffer.begin(), s.buffer.end(), e.id,
                                       [](const Entry& b, const StreamId& id) { return b.id < id; });
      if (at != s.buffer.end() && at->id == e.id) continue;  // already buffered
      s.buffer.insert(at, std::move(e));
    }
    if (pending) {
      // Fewer than asked: no more pending; the next fetch is `>`, so the stream is not known exhausted yet.
      if (items < count) s.reading_pending = false;
    } else {
      s.known_exhausted = items < count;
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
    Batch cmds;
    if (!pending.empty()) xreadgroup(cmds, count, std::chrono::milliseconds{0}, pending, true);
    if (!fresh.empty()) xreadgroup(cmds, count, blocking ? block : std::chrono::milliseconds{0}, fresh, false);
    if (cmds.empty()) return false;
    const std::uint64_t before = connection.generation();
    // Parsed in place as the replies arrive; applied only once the call is
    // known to have kept its connection and its group.
    std::vector<Fetched> got[2];
    std::vector<std::pair<std::size_t, StreamId>> gone;
    bool nogroup = false;
    std::optional<Error> failure;
    auto sent = connection.send(cmds, blocking ? block : std::chrono::milliseconds{0},
                                [&](std::size_t r, ReplyView reply) {
                                  if (failure || nogroup) return;
                                  if (reply.error_is("NOGROUP")) {
                                    nogroup = true;
                                    return;
                                  }
                                  if (reply.is_error()) {
                                    failure = detail::reply_error(connection, "XREADGROUP " + group, reply.copy());
                                    return;
                                  }
                                  const std::size_t slot = (r == 0 && !pending.empty()) ? 0 : 1;
                                  if (auto parsed = parse_read(reply, got[slot], gone); !parsed)
                                    failure = parsed.error();
                                });
    if (!sent) return tl::unexpected(sent.error());
    // Reconnected inside the call: the replies were asked with positions
    // that no longer hold; read pending again first.
    if (connection.generation() != before) {
      check_generation();
      return false;
    }
    if (nogroup) {
      if (auto created = create_groups(true); !created) return tl::unexpected(created.error());
      return false;
    }
    if (failure) return tl::unexpected(*failure);
    std::vector<StreamId> gone_ids;
    for (const int slot : {0, 1}) {
      const auto& which = slot == 0 ? pending : fresh;
      if (which.empty()) continue;
      std::vector<Fetched*> by_index(streams.size(), nullptr);
      for (Fetched& f : got[slot]) by_index[f.index] = &f;
      std::vector<Entry> none;
      for (std::size_t i : which) {
        gone_ids.clear();
        for (const auto& [gi, id] : gone)
          if (gi == i && slot == 0) gone_ids.push_back(id);
        Fetched* f = by_index[i];
        take(i, f != nullptr ? f->entries : none, f != nullptr ? f->items : 0, gone_ids, slot == 0, count);
      }
    }
    if (auto acked = ack_gone(gone); !acked) return tl::unexpected(acked.error());
    return final_read;
  }

  std::vector<Entry> merge(std::size_t count) {
    std::vector<Entry> out;
    // The hold-back bound: the lowest last fetched id of a stream that ran
    // dry without being known exhausted (held == every entry waits when such
    // a stream never fetched anything). An entry above it waits.
    bool hold_all = false;
    std::optional<StreamId> bound;
    auto dry = [&](const StreamState& s) {
      if (s.known_exhausted) return;
      if (!s.fetched_any)
        hold_all = true;
      else if (!bound || s.last_fetched < *bound)
        bound = s.last_fetched;
    };
    using Head = std::pair<StreamId, std::size_t>;
    std::vector<Head> heap;
    heap.reserve(streams.size());
    std::size_t buffered = 0;
    for (std::size_t i = 0; i < streams.size(); ++i) {
      if (streams[i].buffer.empty()) {
        dry(streams[i]);
      } else {
        heap.emplace_back(streams[i].buffer.front().id, i);
        buffered += streams[i].buffer.size();
      }
    }
    const auto later = std::greater<Head>{};
    std::make_heap(heap.begin(), heap.end(), later);
    out.reserve(std::min(count, buffered));
    while (out.size() < count && !heap.empty() && !hold_all) {
      const auto [next, i] = heap.front();
      if (bound && *bound < next) break;
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
      StreamState& s = streams[i];
      out.push_back(std::move(s.buffer.front()));
      s.buffer.pop_front();
      s.delivered.insert(s.delivered.end(), next);
      if (s.buffer.empty()) {
        dry(s);
      } else {
        heap.emplace_back(s.buffer.front().id, i);
        std::push_heap(heap.begin(), heap.end(), later);
      }
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
      Impl{std::move(*connection), std::move(group), std::move(consumer), std::string(start), {}, 0, 0, {}});
  impl->generation = impl->connection.generation();
  for (auto& key : streams) {
    StreamState s;
    s.key = std::move(key);
    impl->streams.push_back(std::move(s));
  }
  impl->build_index();
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
  if (entries.empty()) return {};
  Impl& m = *impl_;
  // One XACK per stream (it takes many ids), all in one round trip.
  std::vector<std::vector<StreamId>> ids(m.streams.size());
  std::vector<std::pair<std::string_view, std::vector<StreamId>>> others;  // streams not read by this object
  for (const Entry& e : entries) {
    if (const auto it = m.index.find(e.stream); it != m.index.end()) {
      ids[it->second].push_back(e.id);
      continue;
    }
    auto o = std::find_if(others.begin(), others.end(), [&](const auto& p) { return p.first == e.stream; });
    if (o == others.end()) o = others.insert(others.end(), {e.stream, {}});
    o->second.push_back(e.id);
  }
  Batch cmds;
  std::vector<std::string_view> keys;
  auto xack = [&](std::string_view key, const std::vector<StreamId>& list) {
    cmds.begin(3 + list.size());
    cmds.arg("XACK");
    cmds.arg(key);
    cmds.arg(m.group);
    for (const StreamId& id : list) cmds.arg(id);
    keys.push_back(key);
  };
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!ids[i].empty()) xack(m.streams[i].key, ids[i]);
  for (const auto& [key, list] : others) xack(key, list);
  auto replies = m.run(cmds, std::chrono::milliseconds{0});
  if (!replies) return tl::unexpected(replies.error());
  for (std::size_t r = 0; r < replies->size(); ++r)
    if ((*replies)[r].is_error())
      return tl::unexpected(detail::reply_error(m.connection, "XACK " + std::string(keys[r]), (*replies)[r]));
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (const StreamId& id : ids[i]) m.streams[i].delivered.erase(id);
  return {};
}

Expected<void> Consumer::ack(std::string_view stream, const std::vector<StreamId>& ids) {
  if (ids.empty()) return {};
  Batch cmd;
  cmd.begin(3 + ids.size());
  cmd.arg("XACK");
  cmd.arg(stream);
  cmd.arg(impl_->group);
  for (const StreamId& id : ids) cmd.arg(id);
  auto replies = impl_->run(cmd, std::chrono::milliseconds{0});
  if (!replies) return tl::unexpected(replies.error());
  const Reply& r = replies->front();
  if (r.is_error()) return tl::unexpected(detail::reply_error(impl_->connection, "XACK " + std::string(stream), r));
  if (const auto it = impl_->index.find(stream); it != impl_->index.end())
    for (const StreamId& id : ids) impl_->streams[it->second].delivered.erase(id);
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
