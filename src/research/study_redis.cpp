// The Redis study storage. Keys, under p = "study:<name>:":
//   p definition      the study definition (SET NX by the first worker)
//   p next            how many trial numbers exist (0, 1, ... next-1)
//   p trial:<n>       hash: state, token, host, pid, attempt, hb (server ms), params (JSON), value
//   p steps:<n>       hash: step → reported value (cleared when the trial is re-claimed)
// Every change is one Lua script (atomic on the server). Each script is
// idempotent for its caller's token: the connection re-sends a command whose
// reply was lost in a reconnect, and the second run must answer as the first.
// The scripts build key names from the prefix, so this runs on one server,
// not a cluster.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <unistd.h>

#include "research/storage_detail.h"
#include "research/study.h"
#include "stream/redis.h"

namespace quant::research {
namespace {

using stream::detail::Command;
using stream::detail::Connection;
using stream::detail::Reply;

constexpr const char* kNow =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) ";

// ARGV: prefix, n, token, host, pid, params → 1 created (or already ours), 0 n is taken.
const std::string kCreate = std::string(kNow) +
                            "local key = ARGV[1] .. 'trial:' .. ARGV[2] "
                            "if redis.call('HGET', key, 'token') == ARGV[3] then return 1 end "
                            "local next = tonumber(redis.call('GET', ARGV[1] .. 'next') or '0') "
                            "if next ~= tonumber(ARGV[2]) then return 0 end "
                            "redis.call('SET', ARGV[1] .. 'next', next + 1) "
                            "redis.call('DEL', ARGV[1] .. 'steps:' .. ARGV[2]) "
                            "redis.call('HSET', key, 'state', 'running', 'token', ARGV[3], 'host', ARGV[4], "
                            "  'pid', ARGV[5], 'attempt', 1, 'hb', now, 'params', ARGV[6], 'value', 'nan') "
                            "return 1";

// ARGV: prefix, n, old token, new token, host, pid, stale ms, force ("1": the
// caller saw the old worker's process gone) → 1 re-claimed (or already ours), 0 not.
const std::string kReclaim = std::string(kNow) +
                             "local key = ARGV[1] .. 'trial:' .. ARGV[2] "
                             "local cur = redis.call('HMGET', key, 'token', 'state', 'hb', 'attempt') "
                             "if cur[1] == ARGV[4] then return 1 end "
                             "if cur[2] ~= 'running' or cur[1] ~= ARGV[3] then return 0 end "
                             "if ARGV[8] ~= '1' and now - tonumber(cur[3]) <= tonumber(ARGV[7]) then return 0 end "
                             "redis.call('DEL', ARGV[1] .. 'steps:' .. ARGV[2]) "
                             "redis.call('HSET', key, 'token', ARGV[4], 'host', ARGV[5], 'pid', ARGV[6], "
                             "  'attempt', tonumber(cur[4]) + 1, 'hb', now) "
                             "return 1";

// ARGV: prefix, n, token[, step, value] → 1 when the token owns the running trial.
const std::string kHeartbeat =
    std::string(kNow) +
    "local key = ARGV[1] .. 'trial:' .. ARGV[2] "
    "local cur = redis.call('HMGET', key, 'token', 'state') "
    "if cur[1] ~= ARGV[3] or cur[2] ~= 'running' then return 0 end "
    "if ARGV[4] then redis.call('HSET', ARGV[1] .. 'steps:' .. ARGV[2], ARGV[4], ARGV[5]) end "
    "redis.call('HSET', key, 'hb', now) "
    "return 1";

// ARGV: prefix, n, token, state, value → 1 finished (or already finished so by this token), 0 not ours.
const std::string kFinish =
    "local key = ARGV[1] .. 'trial:' .. ARGV[2] "
    "local cur = redis.call('HMGET', key, 'token', 'state') "
    "if cur[1] ~= ARGV[3] then return 0 end "
    "if cur[2] ~= 'running' then if cur[2] == ARGV[4] then return 1 else return 0 end end "
    "redis.call('HSET', key, 'state', ARGV[4], 'value', ARGV[5]) "
    "return 1";

std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double parse_number(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return end == text.c_str() ? std::numeric_limits<double>::quiet_NaN() : v;
}

std::map<std::string, std::string> hash_of(const Reply& reply) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) out[reply.elements[i].str] = reply.elements[i + 1].str;
  return out;
}

class RedisStorage final : public StudyStorage {
 public:
  RedisStorage(Connection connection, std::string name, StorageOptions options)
      : connection_(std::move(connection)),
        name_(std::move(name)),
        prefix_("study:" + name_ + ":"),
        options_(std::move(options)) {
    if (options_.host.empty()) options_.host = detail::this_host();
  }

  Expected<void> bind(std::string_view definition) override {
    std::lock_guard guard(mutex_);
    auto replies = connection_.pipeline(
        {{"SET", prefix_ + "definition", std::string(definition), "NX"}, {"GET", prefix_ + "definition"}});
    if (!replies) return tl::unexpected(replies.error());
    const Reply& stored = (*replies)[1];
    if (stored.is_error()) return tl::unexpected(stream::detail::reply_error(connection_, "GET definition", stored));
    if (stored.str != definition)
      return make_error("study '" + name_ + "' at " + connection_.where() +
                        " has a different definition (space, direction or seed): " + stored.str + " vs " +
                        std::string(definition));
    return {};
  }

  Expected<ClaimResult> claim(std::int64_t max_trials, const SampleFunction& sample) override {
    std::lock_guard guard(mutex_);
    const std::string token = detail::new_token(options_.host);
    const std::string pid = std::to_string(::getpid());
    // Optimistic: read, decide, then let a script confirm nothing changed
    // under us; a lost race reads again.
    for (int round = 0; round < 1000; ++round) {
      std::int64_t now = 0;
      auto history = read(&now);
      if (!history) return tl::unexpected(history.error());
      if (detail::budget_finished(*history, max_trials)) return ClaimResult{ClaimOutcome::Done, {}};
      for (const TrialRecord& trial : *history) {
        if (!detail::worker_dead(trial, now, options_, options_.host)) continue;
        const bool gone = now - trial.heartbeat_ms <= options_.stale_after.count();  // dead by pid only
        auto won = eval(kReclaim, {std::to_string(trial.number), trial.token, token, options_.host, pid,
                                   std::to_string(options_.stale_after.count()), gone ? "1" : "0"});
        if (!won) return tl::unexpected(won.error());
        if (*won != 1) continue;
        TrialRecord mine = trial;
        mine.token = token;
        mine.host = options_.host;
        mine.pid = ::getpid();
        mine.attempt = trial.attempt + 1;
        mine.heartbeat_ms = now;
        mine.intermediate.clear();
        return ClaimResult{ClaimOutcome::Claimed, std::move(mine)};
      }
      const auto created = static_cast<std::int64_t>(history->size());
      if (max_trials >= 0 && created >= max_trials) return ClaimResult{ClaimOutcome::Wait, {}};
      TrialRecord mine;
      mine.number = created;
      mine.params = sample(*history, created);
      mine.token = token;
      mine.host = options_.host;
      mine.pid = ::getpid();
      mine.heartbeat_ms = now;
      auto won = eval(kCreate,
                      {std::to_string(created), token, options_.host, pid, detail::params_to_json(mine.params).dump()});
      if (!won) return tl::unexpected(won.error());
      if (*won == 1) return ClaimResult{ClaimOutcome::Claimed, std::move(mine)};
    }
    return make_error("study '" + name_ + "' at " + connection_.where() +
                      ": claim lost 1000 races in a row (too many workers?)");
  }

  Expected<bool> heartbeat(std::int64_t number, std::string_view token) override {
    std::lock_guard guard(mutex_);
    auto r = eval(kHeartbeat, {std::to_string(number), std::string(token)});
    if (!r) return tl::unexpected(r.error());
    return *r == 1;
  }

  Expected<bool> report(std::int64_t number, std::string_view token, std::int64_t step, double value) override {
    std::lock_guard guard(mutex_);
    auto r = eval(kHeartbeat, {std::to_string(number), std::string(token), std::to_string(step), number_text(value)});
    if (!r) return tl::unexpected(r.error());
    return *r == 1;
  }

  Expected<bool> finish(std::int64_t number, std::string_view token, TrialState state, double value) override {
    std::lock_guard guard(mutex_);
    auto r = eval(kFinish, {std::to_string(number), std::string(token), std::string(to_string(state)),
                            number_text(state == TrialState::Complete ? value : std::nan(""))});
    if (!r) return tl::unexpected(r.error());
    return *r == 1;
  }

  Expected<std::vector<TrialRecord>> trials() override {
    std::lock_guard guard(mutex_);
    return read(nullptr);
  }

 private:
  /// EVAL `script` with the prefix and `args` as ARGV → its integer reply.
  Expected<long long> eval(const std::string& script, std::vector<std::string> args) {
    Command command{"EVAL", script, "0", prefix_};
    for (auto& a : args) command.push_back(std::move(a));
    auto reply = connection_.command(std::move(command));
    if (!reply) return tl::unexpected(reply.error());
    if (reply->type != Reply::Type::Integer)
      return tl::unexpected(stream::detail::reply_error(connection_, "study script", *reply));
    return reply->integer;
  }

  /// Every trial (finished ones from the cache: they never change), and the
  /// server's time in ms when `now` is given.
  Expected<std::vector<TrialRecord>> read(std::int64_t* now) {
    auto head = connection_.pipeline({{"GET", prefix_ + "next"}, {"TIME"}});
    if (!head) return tl::unexpected(head.error());
    const Reply& next_reply = (*head)[0];
    const Reply& time_reply = (*head)[1];
    if (next_reply.is_error()) return tl::unexpected(stream::detail::reply_error(connection_, "GET next", next_reply));
    if (!time_reply.is_array() || time_reply.elements.size() != 2)
      return tl::unexpected(stream::detail::reply_error(connection_, "TIME", time_reply));
    if (now != nullptr)
      *now = std::stoll(time_reply.elements[0].str) * 1000 + std::stoll(time_reply.elements[1].str) / 1000;
    const std::int64_t next = next_reply.is_nil() ? 0 : std::stoll(next_reply.str);

    std::vector<std::int64_t> wanted;
    std::vector<Command> commands;
    for (std::int64_t n = 0; n < next; ++n) {
      if (finished_.count(n) != 0) continue;
      wanted.push_back(n);
      commands.push_back({"HGETALL", prefix_ + "trial:" + std::to_string(n)});
      commands.push_back({"HGETALL", prefix_ + "steps:" + std::to_string(n)});
    }
    std::map<std::int64_t, TrialRecord> fresh;
    if (!commands.empty()) {
      auto replies = connection_.pipeline(commands);
      if (!replies) return tl::unexpected(replies.error());
      for (std::size_t i = 0; i < wanted.size(); ++i) {
        const Reply& trial_reply = (*replies)[2 * i];
        const Reply& steps_reply = (*replies)[2 * i + 1];
        if (trial_reply.is_error())
          return tl::unexpected(stream::detail::reply_error(connection_, "HGETALL", trial_reply));
        auto record = parse(wanted[i], hash_of(trial_reply), hash_of(steps_reply));
        if (!record) return tl::unexpected(record.error());
        fresh[wanted[i]] = std::move(*record);
      }
    }
    std::vector<TrialRecord> out;
    out.reserve(static_cast<std::size_t>(next));
    for (std::int64_t n = 0; n < next; ++n) {
      if (auto it = finished_.find(n); it != finished_.end()) {
        out.push_back(it->second);
        continue;
      }
      TrialRecord& record = fresh[n];
      if (record.finished()) finished_[n] = record;
      out.push_back(std::move(record));
    }
    return out;
  }

  Expected<TrialRecord> parse(std::int64_t number, const std::map<std::string, std::string>& h,
                              const std::map<std::string, std::string>& steps) const {
    const std::string where = "study '" + name_ + "' at " + connection_.where() + ": trial " + std::to_string(number);
    const auto field = [&](const char* name) -> const std::string* {
      const auto it = h.find(name);
      return it == h.end() ? nullptr : &it->second;
    };
    TrialRecord record;
    record.number = number;
    const std::string* state = field("state");
    const std::string* params = field("params");
    const std::string* token = field("token");
    if (state == nullptr || params == nullptr || token == nullptr)
      return make_error(where + " is missing or incomplete");
    auto parsed_state = parse_trial_state(*state);
    if (!parsed_state) return make_error(where + ": " + parsed_state.error().message);
    record.state = *parsed_state;
    const nlohmann::json j = nlohmann::json::parse(*params, nullptr, false);
    auto parsed_params = detail::params_from_json(j);
    if (!parsed_params) return make_error(where + ": " + parsed_params.error().message);
    record.params = std::move(*parsed_params);
    record.token = *token;
    if (const std::string* v = field("host")) record.host = *v;
    if (const std::string* v = field("pid")) record.pid = std::atoll(v->c_str());
    if (const std::string* v = field("attempt")) record.attempt = std::atoll(v->c_str());
    if (const std::string* v = field("hb")) record.heartbeat_ms = std::atoll(v->c_str());
    if (const std::string* v = field("value")) record.value = parse_number(*v);
    for (const auto& [step, value] : steps) record.intermediate[std::atoll(step.c_str())] = parse_number(value);
    return record;
  }

  std::mutex mutex_;
  Connection connection_;
  std::string name_;
  std::string prefix_;
  StorageOptions options_;
  std::map<std::int64_t, TrialRecord> finished_;
};

}  // namespace

Expected<std::shared_ptr<StudyStorage>> open_redis_storage(const stream::Endpoint& endpoint,
                                                           std::string_view study_name, StorageOptions options) {
  if (study_name.empty()) return make_error("study storage: empty study name");
  auto connection = Connection::open(endpoint);
  if (!connection) return tl::unexpected(connection.error());
  return std::shared_ptr<StudyStorage>(
      std::make_shared<RedisStorage>(std::move(*connection), std::string(study_name), std::move(options)));
}

}  // namespace quant::research
