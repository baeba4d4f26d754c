// Keys, stream ids, entry parsing, XRANGE and the risk:halt flag.

#include "stream/stream.h"

#include <charconv>
#include <system_error>

#include "stream/redis.h"

namespace quant::stream {

using detail::Command;
using detail::Connection;
using detail::Reply;
using detail::ReplyView;

std::string tick_key(std::string_view symbol) { return "md:tick:" + std::string(symbol); }
std::string book_key(std::string_view symbol) { return "md:book:" + std::string(symbol); }
std::string bar_key(std::string_view symbol) { return "md:bar1m:" + std::string(symbol); }
std::string signal_key(std::string_view symbol) { return "sig:" + std::string(symbol); }

namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Expected<StreamId> StreamId::parse(std::string_view text) {
  StreamId id;
  const auto dash = text.find('-');
  const std::string_view ms = text.substr(0, dash);
  const bool ok = dash == std::string_view::npos ? parse_u64(ms, id.ms)
                                                 : parse_u64(ms, id.ms) && parse_u64(text.substr(dash + 1), id.seq);
  if (!ok) return make_error("stream id '" + std::string(text) + "' is not <ms>-<seq> (two unsigned 64-bit numbers)");
  return id;
}

std::string StreamId::str() const { return std::to_string(ms) + "-" + std::to_string(seq); }

std::string_view Entry::field(std::string_view name) const {
  for (const auto& [k, v] : fields)
    if (k == name) return v;
  return {};
}

std::optional<std::int64_t> Entry::integer(std::string_view name) const {
  const std::string_view v = field(name);
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

namespace detail {

Error reply_error(const Connection& connection, std::string_view what, const Reply& reply) {
  std::string text = reply.is_error() ? reply.str : "an unexpected reply";
  return Error{std::string(what) + " failed at redis " + connection.where() + ": " + text};
}

Expected<std::vector<Entry>> parse_entries(std::string_view stream, const Reply& list, std::vector<StreamId>* deleted) {
  std::vector<Entry> entries;
  if (list.is_nil()) return entries;
  if (!list.is_array()) return make_error("stream " + std::string(stream) + ": an entry list is not an array");
  entries.reserve(list.elements.size());
  for (const Reply& item : list.elements) {
    if (!item.is_array() || item.elements.size() != 2 || item.elements[0].type != Reply::Type::String)
      return make_error("stream " + std::string(stream) + ": an entry is not [id, fields]");
    auto id = StreamId::parse(item.elements[0].str);
    if (!id) return tl::unexpected(id.error());
    const Reply& fields = item.elements[1];
    if (fields.is_nil()) {
      // Pending, but deleted (trimmed) from the stream since it was delivered.
      if (deleted != nullptr) deleted->push_back(*id);
      continue;
    }
    if (!fields.is_array() || fields.elements.size() % 2 != 0)
      return make_error("stream " + std::string(stream) + " entry " + id->str() + ": fields are not pairs");
    Entry e;
    e.stream = std::string(stream);
    e.id = *id;
    e.fields.reserve(fields.elements.size() / 2);
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2)
      e.fields.emplace_back(fields.elements[i].str, fields.elements[i + 1].str);
    entries.push_back(std::move(e));
  }
  return entries;
}

Expected<void> parse_entries(std::string_view stream, ReplyView list, std::vector<Entry>& out,
                             std::vector<StreamId>* deleted, std::size_t* items) {
  if (items != nullptr) *items = 0;
  if (list.is_nil()) return {};
  if (!list.is_array()) return make_error("stream " + std::string(stream) + ": an entry list is not an array");
  const std::size_t n = list.size();
  if (items != nullptr) *items = n;
  out.reserve(out.size() + n);
  for (std::size_t k = 0; k < n; ++k) {
    const ReplyView item = list[k];
    if (!item.is_array() || item.size() != 2 || item[0].type() != Reply::Type::String)
      return make_error("stream " + std::string(stream) + ": an entry is not [id, fields]");
    auto id = StreamId::parse(item[0].str());
    if (!id) return tl::unexpected(id.error());
    const ReplyView fields = item[1];
    if (fields.is_nil()) {
      // Pending, but deleted (trimmed) from the stream since it was delivered.
      if (deleted != nullptr) deleted->push_back(*id);
      continue;
    }
    const std::size_t nf = fields.size();
    if (!fields.is_array() || nf % 2 != 0)
      return make_error("stream " + std::string(stream) + " entry " + id->str() + ": fields are not pairs");
    Entry& e = out.emplace_back();
    e.stream.assign(stream);
    e.id = *id;
    e.fields.reserve(nf / 2);
    for (std::size_t i = 0; i + 1 < nf; i += 2) e.fields.emplace_back(fields[i].str(), fields[i + 1].str());
  }
  return {};
}

}  // namespace detail

Expected<std::vector<Entry>> read_range(const Endpoint& endpoint, std::string_view stream, std::string_view from,
                                        std::string_view to, std::size_t count) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  Command cmd{"XRANGE", std::string(stream), std::string(from), std::string(to)};
  if (count > 0) {
    cmd.emplace_back("COUNT");
    cmd.push_back(std::to_string(count));
  }
  auto reply = connection->command(std::move(cmd));
  if (!reply) return tl::unexpected(reply.error());
  if (reply->is_error())
    return tl::unexpected(detail::reply_error(*connection, "XRANGE " + std::string(stream), *reply));
  return detail::parse_entries(stream, *reply);
}

namespace {

std::string equity_text(double equity) {
  char text[64];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, equity);
  QUANT_CHECK(ec == std::errc());
  return std::string(text, end);
}

/// A halt from HGETALL's flat array of names and values; none when empty.
Expected<std::optional<Halt>> halt_of(const Connection& connection, const Reply& reply) {
  if (reply.elements.empty()) return std::optional<Halt>{};
  Halt halt;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const std::string& key = reply.elements[i].str;
    const std::string& value = reply.elements[i + 1].str;
    if (key == "reason") halt.reason = value;
    if (key == "time") halt.time = value;
    if (key == "by") halt.by = value;
    if (key == "equity") {
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), halt.equity);
      if (ec != std::errc() || end != value.data() + value.size())
        return make_error("risk:halt at redis " + connection.where() + ": equity '" + value + "' is not a number");
    }
  }
  return std::optional<Halt>{std::move(halt)};
}

}  // namespace

Expected<void> set_halt(const Endpoint& endpoint, const Halt& halt) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto reply = connection->command(Command{"HSET", std::string(kHalt), "reason", halt.reason, "time", halt.time,
                                           "equity", equity_text(halt.equity), "by", halt.by});
  if (!reply) return tl::unexpected(reply.error());
  if (reply->is_error()) return tl::unexpected(detail::reply_error(*connection, "HSET risk:halt", *reply));
  return {};
}

Expected<std::optional<Halt>> set_halt_if_absent(const Endpoint& endpoint, const Halt& halt) {
  static constexpr const char* kScript =
      "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGETALL', KEYS[1]) end\n"
      "redis.call('HSET', KEYS[1], 'reason', ARGV[1], 'time', ARGV[2], 'equity', ARGV[3], 'by', ARGV[4])\n"
      "return {}";
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto reply = connection->command(
      Command{"EVAL", kScript, "1", std::string(kHalt), halt.reason, halt.time, equity_text(halt.equity), halt.by});
  if (!reply) return tl::unexpected(reply.error());
  if (!reply->is_array()) return tl::unexpected(detail::reply_error(*connection, "EVAL (set risk:halt if absent)", *reply));
  return halt_of(*connection, *reply);
}

Expected<std::optional<Halt>> read_halt(const Endpoint& endpoint) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto reply = connection->command(Command{"HGETALL", std::string(kHalt)});
  if (!reply) return tl::unexpected(reply.error());
  if (!reply->is_array()) return tl::unexpected(detail::reply_error(*connection, "HGETALL risk:halt", *reply));
  return halt_of(*connection, *reply);
}

Expected<std::vector<GroupInfo>> group_info(const Endpoint& endpoint, const std::vector<std::string>& streams) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  std::vector<Command> commands;
  for (const auto& s : streams) commands.push_back(Command{"XINFO", "GROUPS", s});
  auto replies = connection->pipeline(commands);
  if (!replies) return tl::unexpected(replies.error());
  std::vector<GroupInfo> out;
  for (std::size_t i = 0; i < replies->size(); ++i) {
    const Reply& reply = (*replies)[i];
    if (reply.is_error()) {
      if (reply.str.find("no such key") != std::string::npos) continue;  // not created yet
      return tl::unexpected(detail::reply_error(*connection, "XINFO GROUPS " + streams[i], reply));
    }
    for (const Reply& group : reply.elements) {
      GroupInfo g;
      g.stream = streams[i];
      for (std::size_t k = 0; k + 1 < group.elements.size(); k += 2) {
        const std::string& key = group.elements[k].str;
        const Reply& value = group.elements[k + 1];
        if (key == "name") g.group = value.str;
        if (key == "consumers") g.consumers = value.integer;
        if (key == "pending") g.pending = value.integer;
        if (key == "lag") g.lag = value.type == Reply::Type::Integer ? value.integer : -1;
      }
      out.push_back(std::move(g));
    }
  }
  return out;
}

Expected<bool> clear_halt(const Endpoint& endpoint) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto reply = connection->command(Command{"DEL", std::string(kHalt)});
  if (!reply) return tl::unexpected(reply.error());
  if (reply->type != Reply::Type::Integer)
    return tl::unexpected(detail::reply_error(*connection, "DEL risk:halt", *reply));
  return reply->integer > 0;
}

}  // namespace quant::stream
