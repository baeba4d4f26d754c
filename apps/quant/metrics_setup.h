#pragma once
// Prometheus metrics for a long-running command: one registry per process
// (process health and quant_build_info always in it), served on
// `--metrics HOST:PORT` or the [monitor] key of the command; docs/monitoring.md.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app_context.h"
#include "config/config.h"
#include "core/error.h"
#include "monitor/metrics.h"
#include "stream/stream.h"
#include "version.h"

namespace quant::app {


struct CommandMetrics {
  std::unique_ptr<monitor::Registry> registry;
  std::unique_ptr<monitor::Exposition> exposition;  ///< null when not served
};

/// `flag`: --metrics as given (nullopt = not given: `configured` applies, the
/// [monitor] key; "" = off). Prints "<command>: metrics at http://HOST:PORT/metrics"
/// on stderr when served (tests read the port from it with port 0).
Expected<CommandMetrics> start_metrics(const std::string& command, const std::optional<std::string>& flag,
                                       const std::string& configured);

/// The same with the [monitor] key named `command` ("live", "bridge",
/// "logger", "bot") of the configuration, read only when --metrics is not given.
Expected<CommandMetrics> start_metrics(const GlobalOptions& global, const std::string& command,
                                       const std::optional<std::string>& flag);

/// quant_stream_pending_entries and quant_stream_lag_entries {stream, group}
/// of every consumer group on `streams`, read with XINFO GROUPS at each scrape
/// (a short-lived connection that gives up after 1 s: a scrape must not hang
/// on a dead Redis; quant_stream_info_errors_total counts failures).
void watch_stream_groups(monitor::Registry& registry, stream::Endpoint redis, std::vector<std::string> streams);
/// The same, the streams found at each scrape by `streams` (given the
/// scrape's short-lived endpoint): e.g. the order streams engines registered.
void watch_stream_groups(monitor::Registry& registry, stream::Endpoint redis,
                         std::function<std::vector<std::string>(const stream::Endpoint&)> streams);

}  // namespace quant::app
