// The hub's registry for several live engines: the set of order streams the
// bridge reads, and leases (who trades a symbol, reads with a group, writes
// an order stream). Each call opens its own connection: they are rare
// (start-up, a renewal every few seconds).

#include <algorithm>
#include <string>
#include <vector>

#include "stream/redis.h"
#include "stream/stream.h"

namespace quant::stream {

using detail::Command;
using detail::Connection;
using detail::Reply;

Expected<void> register_order_stream(const Endpoint& endpoint, std::string_view stream, std::string_view group) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto replies =
      connection->pipeline({Command{"XGROUP", "CREATE", std::string(stream), std::string(group), "0", "MKSTREAM"},
                            Command{"SADD", std::string(kOrderStreams), std::string(stream)}});
  if (!replies) return tl::unexpected(replies.error());
  const Reply& created = (*replies)[0];
  if (created.is_error() && !created.error_is("BUSYGROUP"))
    return tl::unexpected(
        detail::reply_error(*connection, "XGROUP CREATE " + std::string(stream) + " " + std::string(group), created));
  if ((*replies)[1].is_error())
    return tl::unexpected(detail::reply_error(*connection, "SADD " + std::string(kOrderStreams), (*replies)[1]));
  return {};
}

Expected<std::vector<std::string>> order_streams(const Endpoint& endpoint) {
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto reply = connection->command(Command{"SMEMBERS", std::string(kOrderStreams)});
  if (!reply) return tl::unexpected(reply.error());
  if (!reply->is_array())
    return tl::unexpected(detail::reply_error(*connection, "SMEMBERS " + std::string(kOrderStreams), *reply));
  std::vector<std::string> out;
  for (const Reply& r : reply->elements) out.push_back(r.str);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// KEYS: the leases; ARGV[1] owner, ARGV[2] ttl in ms. All or none.
constexpr const char* kClaimScript = R"lua(
local owners = {}
local free = true
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v and v ~= ARGV[1] then free = false end
  owners[i] = v or ARGV[1]
end
if free then
  for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) end
end
return owners
)lua";

constexpr const char* kReleaseScript = R"lua(
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 0
)lua";

Command eval(const char* script, const std::vector<std::string>& keys, std::vector<std::string> args) {
  Command cmd{"EVAL", script, std::to_string(keys.size())};
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  return cmd;
}

}  // namespace

Expected<std::vector<std::string>> claim(const Endpoint& endpoint, const std::vector<std::string>& keys,
                                         std::string_view owner, std::chrono::milliseconds ttl) {
  if (keys.empty()) return std::vector<std::string>{};
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto reply = connection->command(eval(kClaimScript, keys, {std::string(owner), std::to_string(ttl.count())}));
  if (!reply) return tl::unexpected(reply.error());
  if (!reply->is_array() || reply->elements.size() != keys.size())
    return tl::unexpected(detail::reply_error(*connection, "EVAL (claim " + keys.front() + " ...)", *reply));
  std::vector<std::string> owners;
  for (const Reply& r : reply->elements) owners.push_back(r.str);
  return owners;
}

Expected<void> release(const Endpoint& endpoint, const std::vector<std::string>& keys, std::string_view owner) {
  if (keys.empty()) return {};
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  auto reply = connection->command(eval(kReleaseScript, keys, {std::string(owner)}));
  if (!reply) return tl::unexpected(reply.error());
  if (reply->is_error())
    return tl::unexpected(detail::reply_error(*connection, "EVAL (release " + keys.front() + " ...)", *reply));
  return {};
}

}  // namespace quant::stream
