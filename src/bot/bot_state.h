#pragma once
/// What the bot must remember across a restart so that no command runs twice
/// and no alert is lost or sent twice: a JSON file written atomically
/// (temporary file, fsync, rename, fsync of the directory).

#include <cstdint>
#include <map>
#include <string>

#include "core/error.h"

namespace quant::bot {

struct BotState {
  /// getUpdates' next offset (last update_id + 1): stored before the update's
  /// command runs, so a crash never runs a command again (at most once).
  std::int64_t offset = 0;
  /// The last exec:fills entry whose alert was delivered ("" = none): a fill
  /// delivered but not yet acknowledged when the bot died is not sent again.
  std::string last_fill_id;
  bool halt_present = false;  ///< the risk:halt flag as last announced
  std::string halt_time;      ///< its `time`: a new halt set meanwhile is a new alert
  /// Symbol → the trading day (days since 1970-01-01) of the last
  /// breaker-near alert: once per day per symbol.
  std::map<std::string, std::int64_t> breaker_near_day;
  std::map<std::string, bool> stale;  ///< symbol → a feed-stale alert is out (not yet back)
  std::int64_t summary_day = 0;      ///< the local date of the last daily summary sent
  /// Prometheus alerts announced as firing and not yet as resolved: key → alertname.
  std::map<std::string, std::string> prometheus_firing;
};

/// The state in `path`; a missing file is a fresh state. A file that does not
/// parse is an error naming it (the operator decides: never silently reset,
/// which would replay commands).
Expected<BotState> load_state(const std::string& path);
Expected<void> save_state(const std::string& path, const BotState& state);

}  // namespace quant::bot
