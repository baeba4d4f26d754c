#pragma once
/// Internal to research: what the journal/memory storage (study.cpp) and the
/// Redis storage (study_redis.cpp) share.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "research/study.h"

namespace quant::research::detail {

/// ms since the Unix epoch by the system clock.
std::int64_t system_now_ms();
/// gethostname(), or "unknown-host".
std::string this_host();
/// True when a process `pid` exists on this host (kill(pid, 0)).
bool process_alive(std::int64_t pid);
/// A token unique to one attempt: host, pid, a per-process random salt, a counter.
std::string new_token(const std::string& host);
/// True when `trial` is Running and its worker is dead: heartbeat older than
/// options.stale_after at `now_ms`, or (check_pid) a process of this `host`
/// other than this one that no longer exists.
bool worker_dead(const TrialRecord& trial, std::int64_t now_ms, const StorageOptions& options, const std::string& host);
/// True when `max_trials` >= 0 and at least that many trials are finished.
bool budget_finished(const std::vector<TrialRecord>& trials, std::int64_t max_trials);
nlohmann::json params_to_json(const Params& params);
Expected<Params> params_from_json(const nlohmann::json& j);

}  // namespace quant::research::detail
