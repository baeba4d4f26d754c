#include "bridge_command.h"

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <thread>

#include <pthread.h>

#include "execution/bridge_service.h"
#include "metrics_setup.h"

namespace quant::app {

int run_bridge(const GlobalOptions& global, const BridgeArgs& args) {
  auto listen = parse_host_port("--listen", args.listen, 0);
  if (!listen) return fail("bridge: " + listen.error().message);
  auto redis = parse_host_port("--redis", args.redis, 1);
  if (!redis) return fail("bridge: " + redis.error().message);
  if (args.heartbeat_ms <= 0 || args.peer_timeout_ms <= args.heartbeat_ms)
    return fail("bridge: --heartbeat-ms must be > 0 and --peer-timeout-ms larger than it");
  if (args.consumer.empty()) return fail("bridge: --consumer must not be empty");

  execution::bridge::BridgeServiceConfig config;
  config.listen_host = listen->host;
  config.listen_port = listen->port;
  config.redis.host = redis->host;
  config.redis.port = redis->port;
  config.consumer = args.consumer;
  config.heartbeat_interval = std::chrono::milliseconds(args.heartbeat_ms);
  config.peer_timeout = std::chrono::milliseconds(args.peer_timeout_ms);
  auto metrics = start_metrics(global, "bridge", args.metrics);
  if (!metrics) return fail("bridge: " + metrics.error().message);
  config.metrics = metrics->registry.get();
  // exec:orders and every engine's own order stream, as registered at the scrape.
  watch_stream_groups(*metrics->registry, config.redis, [](const stream::Endpoint& hub) {
    std::vector<std::string> streams{std::string(stream::kOrders)};
    if (auto more = stream::order_streams(hub)) {
      for (auto& s : *more)
        if (s != stream::kOrders) streams.push_back(std::move(s));
    }
    return streams;
  });

  // Signals are taken synchronously by this thread (sigwait below); the
  // service's thread, started after, inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto service = execution::bridge::BridgeService::create(config);
  if (!service) return fail(service.error().message);

  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  Expected<void> outcome;
  std::thread worker([&] {
    outcome = (*service)->run(stop);
    finished = true;  // the wait below notices within 200 ms
  });

  // Wait for a signal, or for the service to end by itself.
  const char* stopped_by = nullptr;
  while (!finished) {
    const timespec tick{0, 200'000'000};  // 200 ms
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      stopped_by = sig == SIGINT ? "SIGINT" : "SIGTERM";
      break;
    }
  }
  if (stopped_by != nullptr) std::fprintf(stderr, "bridge: %s: stopping\n", stopped_by);
  stop = true;
  worker.join();
  if (!outcome) return fail("bridge: " + outcome.error().message);
  return 0;
}

}  // namespace quant::app
