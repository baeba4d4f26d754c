#include "metrics_setup.h"

#include <chrono>
#include <cstdio>

namespace quant::app {

Expected<CommandMetrics> start_metrics(const std::string& command, const std::optional<std::string>& flag,
                                       const std::string& configured) {
  CommandMetrics m;
  m.registry = std::make_unique<monitor::Registry>(command, kQuantVersion);
  const std::string address = flag ? *flag : configured;
  if (address.empty()) return m;
  auto exposition = monitor::Exposition::start(address, *m.registry);
  if (!exposition) return tl::unexpected(exposition.error());
  m.exposition = std::move(*exposition);
  std::fprintf(stderr, "%s: metrics at %s\n", command.c_str(), m.exposition->url().c_str());
  return m;
}

Expected<CommandMetrics> start_metrics(const GlobalOptions& global, const std::string& command,
                                       const std::optional<std::string>& flag) {
  std::string configured;
  if (!flag) {
    auto cfg = load_config(global);
    if (!cfg) return tl::unexpected(cfg.error());
    const config::MonitorSettings& m = cfg->monitor;
    configured = command == "live" ? m.live : command == "bridge" ? m.bridge : command == "logger" ? m.logger : m.bot;
  }
  return start_metrics(command, flag, configured);
}

void watch_stream_groups(monitor::Registry& registry, stream::Endpoint redis, std::vector<std::string> streams) {
  watch_stream_groups(registry, std::move(redis), [streams = std::move(streams)](const stream::Endpoint&) { return streams; });
}

void watch_stream_groups(monitor::Registry& registry, stream::Endpoint redis,
                         std::function<std::vector<std::string>(const stream::Endpoint&)> streams) {
  redis.connect_timeout = std::chrono::milliseconds(500);
  redis.reply_timeout = std::chrono::milliseconds(1000);
  redis.reconnect.give_up_after = std::chrono::milliseconds(1000);
  monitor::Counter errors =
      registry.counter("quant_stream_info_errors_total", "XINFO GROUPS calls that failed at a scrape");
  registry.on_collect([&registry, redis, streams = std::move(streams), errors] {
    auto groups = stream::group_info(redis, streams(redis));
    if (!groups) {
      errors.inc();
      return;
    }
    for (const auto& g : *groups) {
      const monitor::Labels labels{{"stream", g.stream}, {"group", g.group}};
      registry.gauge("quant_stream_pending_entries", "Entries delivered to the group and not yet acknowledged", labels)
          .set(static_cast<double>(g.pending));
      if (g.lag >= 0) {
        registry.gauge("quant_stream_lag_entries", "Entries not yet delivered to the group (XINFO GROUPS lag)", labels)
            .set(static_cast<double>(g.lag));
      }
    }
  });
}

}  // namespace quant::app
