#include "logger_command.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "logger/logger.h"
#include "logger/rows.h"
#include "metrics_setup.h"

namespace quant::app {

namespace {

volatile std::sig_atomic_t g_logger_stop = 0;
volatile std::sig_atomic_t g_logger_signal = 0;
extern "C" void on_logger_signal(int sig) {
  g_logger_stop = 1;
  g_logger_signal = sig;
}

std::string rows_text(const logger::LoggerStats& s) {
  std::string out;
  for (std::size_t t = 0; t < logger::kTableCount; ++t) {
    out += (t > 0 ? ", " : "") + std::string(logger::table_name(static_cast<logger::Table>(t))) + " " +
           std::to_string(s.rows[t]);
  }
  return out;
}

std::string lag_text(const logger::LagHistogram& lag) {
  if (lag.count() == 0) return "lag: no producer times";
  char buf[160];
  std::snprintf(buf, sizeof buf, "lag p50 %.1f ms, p99 %.1f ms, max %.1f ms (%lld rows)",
                static_cast<double>(lag.quantile(0.5)) / 1000, static_cast<double>(lag.quantile(0.99)) / 1000,
                static_cast<double>(lag.max()) / 1000, static_cast<long long>(lag.count()));
  return buf;
}

}  // namespace

int run_logger_command(const GlobalOptions& global, const LoggerArgs& args) {
  auto redis = parse_host_port("--redis", args.redis, 1);
  if (!redis) return fail("logger: " + redis.error().message);
  if (args.batch_rows == 0) return fail("logger: --batch-rows must be > 0");
  if (args.batch_ms <= 0) return fail("logger: --batch-ms must be > 0");
  if (args.timeout_ms <= 0) return fail("logger: --timeout-ms must be > 0");
  if (auto ok = logger::check_identifier("--database", args.database); !ok)
    return fail("logger: " + ok.error().message);

  logger::LoggerConfig c;
  c.redis.host = redis->host;
  c.redis.port = redis->port;
  c.clickhouse.url = args.clickhouse;
  c.clickhouse.user = args.user;
  if (const char* password = std::getenv("CLICKHOUSE_PASSWORD")) c.clickhouse.password = password;  // never logged
  c.clickhouse.timeout = std::chrono::milliseconds(args.timeout_ms);
  c.database = args.database;
  c.symbols = args.symbols;
  if (c.symbols.empty()) {
    auto config = load_config(global);
    if (!config) return fail("logger: " + config.error().message);
    for (const auto& [symbol, spec] : config->instruments.all()) c.symbols.push_back(symbol);
    if (c.symbols.empty()) {
      return fail(
          "logger: no --symbols, and the configuration has no [instruments.*] (" +
          (locate_config(global).path.empty() ? std::string("no configuration found") : locate_config(global).path) +
          ")");
    }
  }
  auto metrics = start_metrics(global, "logger", args.metrics);
  if (!metrics) return fail("logger: " + metrics.error().message);
  c.metrics = metrics->registry.get();
  watch_stream_groups(*metrics->registry, c.redis, logger::logged_streams(c.symbols));
  c.group = args.group;
  c.consumer = args.consumer;
  c.start_id = std::string(args.from_now ? "$" : "0");
  c.batch_rows = args.batch_rows;
  c.batch_interval = std::chrono::milliseconds(args.batch_ms);
  c.apply_schema = args.apply_schema;
  c.exit_when_idle = args.drain;
  c.should_stop = [] { return g_logger_stop != 0; };
  c.log = [quiet = global.quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
  };
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  std::int64_t last_rows = 0;
  c.on_batch = [&](const logger::LoggerStats& s) {
    const auto now = std::chrono::steady_clock::now();
    if (global.quiet || now - last < std::chrono::duration<double>(args.progress_s)) return;
    std::int64_t rows = 0;
    for (auto r : s.rows) rows += r;
    const double seconds = std::chrono::duration<double>(now - last).count();
    std::fprintf(stderr, "logger: %s; %lld batches, %.0f rows/s; %s\n", rows_text(s).c_str(),
                 static_cast<long long>(s.batches), static_cast<double>(rows - last_rows) / seconds,
                 lag_text(s.lag).c_str());
    last = now;
    last_rows = rows;
  };
  if (std::signal(SIGINT, on_logger_signal) == SIG_ERR || std::signal(SIGTERM, on_logger_signal) == SIG_ERR)
    return fail("logger: cannot install the SIGINT/SIGTERM handlers");

  auto stats = logger::run_logger(c);
  if (!stats) return fail(stats.error().message);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::int64_t rows = 0;
  for (auto r : stats->rows) rows += r;
  std::printf(
      "logger: %s after %.1f s: %lld entries acknowledged in %lld batches; rows %s (%.0f rows/s); "
      "%lld skipped (not trades: order acks, positions); %lld inserts retried; %s\n",
      g_logger_signal == SIGINT    ? "stopped by SIGINT"
      : g_logger_signal == SIGTERM ? "stopped by SIGTERM"
                                   : "drained",
      seconds, static_cast<long long>(stats->entries), static_cast<long long>(stats->batches),
      rows_text(*stats).c_str(), static_cast<double>(rows) / std::max(seconds, 1e-9),
      static_cast<long long>(stats->skipped), static_cast<long long>(stats->failed_inserts),
      lag_text(stats->lag).c_str());
  return 0;
}

}  // namespace quant::app
