#include "registry/registry.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "registry/mlflow_rest.h"

namespace quant::registry {

Expected<std::unique_ptr<Registry>> open_registry(const TrackingOptions& options) {
  auto where = parse_tracking_uri(options.uri);
  if (!where) return tl::unexpected(where.error());
  if (where->rest) return open_rest_registry(options);
  return open_file_registry(where->root, options);
}

Expected<std::unique_ptr<Registry>> open_registry(const std::string& uri_or_empty) {
  return open_registry(tracking_options_from_environment(uri_or_empty));
}

namespace detail {

std::string iso_utc_ms(std::int64_t ms) {
  // Always three fraction digits, so history lines line up (format_utc trims zeros).
  const std::int64_t seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const std::int64_t fraction = ms - seconds * 1000;
  std::string text = format_utc(Timestamp(std::chrono::duration_cast<Duration>(std::chrono::seconds(seconds))));
  if (!text.empty() && text.back() == 'Z') text.pop_back();
  const std::string digits = std::to_string(fraction);
  return text + "." + std::string(3 - digits.size(), '0') + digits + "Z";
}

AliasChange make_alias_change(std::int64_t time_ms, const std::string& user, const std::string& action,
                              const std::string& alias, std::optional<std::int64_t> from, std::int64_t to,
                              const std::string& reason, const std::string& decision_json) {
  AliasChange c;
  c.time_ms = time_ms;
  c.time = iso_utc_ms(time_ms);
  c.action = action;
  c.alias = alias;
  c.from = from;
  c.to = to;
  c.reason = reason;
  c.user = user;
  c.decision_json = decision_json;
  return c;
}

Expected<void> check_promotion(const std::string& name, std::int64_t version, const std::string& status,
                               const std::string& alias, std::optional<std::int64_t> current) {
  if (status != "READY") {
    return make_error("version " + std::to_string(version) + " of '" + name + "' is " + status + ", not READY");
  }
  if (current == version) {
    return make_error("alias '" + alias + "' of '" + name + "' already points at version " + std::to_string(version) +
                      " (nothing to promote)");
  }
  return {};
}

std::string alias_change_json(const AliasChange& c) {
  nlohmann::json j;
  j["time"] = c.time;
  j["time_ms"] = c.time_ms;
  j["action"] = c.action;
  j["alias"] = c.alias;
  j["from"] = c.from ? nlohmann::json(*c.from) : nlohmann::json(nullptr);
  j["to"] = c.to;
  j["reason"] = c.reason;
  j["user"] = c.user;
  // normalise_decision checked it; a broken one (written by hand) is kept as text.
  j["decision"] = nlohmann::json::parse(c.decision_json, nullptr, false);
  if (j["decision"].is_discarded()) j["decision"] = c.decision_json;
  return j.dump();
}

Expected<AliasChange> parse_alias_change(const std::string& line, const std::string& origin) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(origin + ": not a JSON object");
  const auto fail = [&](const std::string& what) { return make_error(origin + ": " + what); };
  AliasChange c;
  try {
    c.time = j.value("time", "");
    c.time_ms = j.value("time_ms", std::int64_t{0});
    c.action = j.at("action").get<std::string>();
    c.alias = j.value("alias", "");
    if (j.contains("from") && !j.at("from").is_null()) c.from = j.at("from").get<std::int64_t>();
    c.to = j.at("to").get<std::int64_t>();
    c.reason = j.value("reason", "");
    c.user = j.value("user", "");
    c.decision_json = j.contains("decision") ? j.at("decision").dump() : "{}";
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("bad history entry: ") + e.what());
  }
  if (c.action != "promote" && c.action != "rollback") return fail("action '" + c.action + "' is not promote/rollback");
  return c;
}

Expected<std::int64_t> rollback_target(const std::vector<AliasChange>& history, const std::string& alias) {
  std::vector<std::optional<std::int64_t>> stack;
  for (const auto& c : history) {
    if (c.action == "promote") {
      stack.push_back(c.from);
    } else if (!stack.empty()) {
      stack.pop_back();
    }
  }
  if (stack.empty()) {
    return make_error("no promotion of alias '" + alias +
                      "' left to roll back (history: " + std::to_string(history.size()) + " entries)");
  }
  if (!stack.back()) {
    return make_error("the last promotion of alias '" + alias +
                      "' set it for the first time: there is no earlier version to roll back to");
  }
  return *stack.back();
}

Expected<std::string> normalise_decision(const std::string& decision_json) {
  if (decision_json.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("{}");
  const auto j = nlohmann::json::parse(decision_json, nullptr, false);
  if (j.is_discarded()) return make_error("decision is not valid JSON: " + decision_json.substr(0, 200));
  if (!j.is_object()) return make_error("decision must be a JSON object, e.g. {\"oos_sharpe\": 1.2, \"dsr\": 0.96}");
  return j.dump();
}

}  // namespace detail

}  // namespace quant::registry
