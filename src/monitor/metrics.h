#pragma once
/// Prometheus metrics for every long-running command, without a vendor type
/// in sight: `Registry` owns a prometheus-cpp registry (only metrics.cpp
/// includes <prometheus/...>), hands out cheap metric handles, and always
/// carries the process's health (process_cpu_seconds_total,
/// process_resident_memory_bytes, process_virtual_memory_bytes,
/// process_start_time_seconds, process_open_fds, process_max_fds read from
/// /proc/self at each scrape) and `quant_build_info{command,version}` = 1.
/// `Exposition` serves a registry on `http://ADDR:PORT/metrics`
/// (prometheus-cpp's civetweb server); `quant serve` renders it into its own
/// /metrics route instead.
///
/// Thread safety: handles may be used from any thread (atomic updates);
/// creating metrics and adding collect hooks is safe from any thread too.
/// Label values must come from a bounded set (configuration: symbols,
/// streams, tables), never from input.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace quant::monitor {

using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing counter. A default-constructed handle ignores updates.
class Counter {
 public:
  Counter() = default;
  void inc(double by = 1) const;
  double value() const;

 private:
  friend class Registry;
  explicit Counter(prometheus::Counter* c) : c_(c) {}
  prometheus::Counter* c_ = nullptr;
};

/// A value that goes up and down. A default-constructed handle ignores updates.
class Gauge {
 public:
  Gauge() = default;
  void set(double v) const;
  void inc(double by = 1) const;
  double value() const;

 private:
  friend class Registry;
  explicit Gauge(prometheus::Gauge* g) : g_(g) {}
  prometheus::Gauge* g_ = nullptr;
};

/// Observations counted into fixed buckets (cumulative `le` buckets, `_sum`, `_count`).
class Histogram {
 public:
  Histogram() = default;
  void observe(double v) const;

 private:
  friend class Registry;
  explicit Histogram(prometheus::Histogram* h) : h_(h) {}
  prometheus::Histogram* h_ = nullptr;
};

/// Bucket bounds for latencies in seconds, 100 µs … 10 s (the feed, bars, orders).
std::vector<double> latency_buckets();
/// Bucket bounds for fast calls in seconds, 25 µs … 1 s, dense around 1–5 ms
/// (the /infer objective is p99 < 2 ms: 1.5, 2 and 2.5 ms are bounds); quant
/// serve's request and inference histograms and quant live's gate time.
std::vector<double> fast_buckets();

class Registry {
 public:
  /// `command` ("live", "bridge", "logger", "serve", "bot") and `version`
  /// label quant_build_info.
  Registry(std::string command, std::string version);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The series `name{labels}`, created on first use (the same name and
  /// labels give the same series). `name` follows Prometheus conventions:
  /// unit suffix, `_total` for counters.
  Counter counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram histogram(const std::string& name, const std::string& help, const std::vector<double>& buckets,
                      const Labels& labels = {});

  /// Drops a gauge's series (e.g. an info gauge whose labels changed); the
  /// handle must not be used after.
  void remove(const Gauge& gauge);

  /// Runs before every scrape or render (on the scraping thread): for
  /// figures read from outside the process (Redis XINFO). Must be thread-safe
  /// with respect to what it reads; a hook that fails leaves the old values.
  void on_collect(std::function<void()> hook);

  /// Prometheus text exposition format 0.0.4 of everything, process metrics included.
  std::string render() const;

  const std::string& command() const { return command_; }

 private:
  friend class Exposition;
  struct Impl;
  std::string command_;
  std::shared_ptr<Impl> impl_;
};

/// An HTTP server answering GET /metrics with a registry (and nothing else).
class Exposition {
 public:
  /// `address` "HOST:PORT" (port 0 = a free one, see port()). Fails naming
  /// the address when it cannot listen. `registry` must outlive the server.
  static Expected<std::unique_ptr<Exposition>> start(const std::string& address, Registry& registry);
  ~Exposition();
  /// The port it listens on.
  std::uint16_t port() const { return port_; }
  /// "http://HOST:PORT/metrics".
  std::string url() const;

 private:
  struct Impl;
  explicit Exposition(std::unique_ptr<Impl> impl, std::string host, std::uint16_t port);
  std::unique_ptr<Impl> impl_;
  std::string host_;
  std::uint16_t port_ = 0;
};

/// The process's own figures from /proc/self (Linux), for tests and the bot.
struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  ///< Unix seconds
  double open_fds = 0;
  double max_fds = 0;
};
Expected<ProcessStats> read_process_stats();

}  // namespace quant::monitor
