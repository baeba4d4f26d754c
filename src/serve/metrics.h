#pragma once
/// The signal service's Prometheus metrics, on the command's
/// monitor::Registry (so one /metrics route carries them with the process's
/// health and quant_build_info; no vendor type here):
///
/// - `quant_serve_requests_total{endpoint,status}` — every answer, including
///   the transport's own 400/408/413/431 (endpoint "transport");
/// - `quant_serve_request_duration_seconds{endpoint}` — handler time;
/// - `quant_serve_inference_duration_seconds{model}` — model time per request;
/// - `quant_serve_model_info{model,version,manifest_sha256}` = 1 for the
///   loaded set, `quant_serve_model_generation` — the set's generation;
/// - `quant_serve_reloads_total{result}`, `quant_serve_orders_total{decision}`.
/// The endpoint label is one of a fixed list, so a scan of random paths
/// cannot grow the series. Recording is lock-free after a series' first use.

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/metrics.h"
#include "risk/risk_engine.h"

namespace quant::serve {

enum class Endpoint : std::uint8_t { Infer, Order, Health, Ready, Models, Metrics, AdminReload, Other, Transport };
inline constexpr std::size_t kEndpointCount = 9;
std::string_view endpoint_label(Endpoint e);

struct GateInfo {
  std::string model;
  std::int64_t version = 0;
  std::string manifest_sha256;
};

class Metrics {
 public:
  /// `registry` must outlive this.
  explicit Metrics(monitor::Registry& registry);

  void record_request(Endpoint endpoint, int status, double seconds);
  void record_transport(int status);
  void record_inference(std::string_view model, double seconds);
  void record_reload(bool ok);
  void record_order(risk::Decision decision);
  /// Replaces the model info series with the loaded set's.
  void set_models(const std::vector<GateInfo>& gates, std::uint64_t generation);

  /// Prometheus text exposition format 0.0.4 of the whole registry.
  std::string render() const { return registry_.render(); }

 private:
  const monitor::Counter& counter_for(Endpoint endpoint, int status);

  monitor::Registry& registry_;
  std::array<monitor::Histogram, kEndpointCount> duration_by_endpoint_{};
  std::array<monitor::Counter, 2> reloads_{};  ///< ok, failed
  std::array<monitor::Counter, 3> orders_{};   ///< by risk::Decision
  monitor::Gauge generation_;
  // (endpoint, status 100..599) → counter, created on first use under the mutex.
  static constexpr int kStatuses = 500;
  std::unique_ptr<std::atomic<const monitor::Counter*>[]> counters_;
  std::deque<monitor::Counter> counter_store_;  ///< stable addresses for counters_
  mutable std::mutex mutex_;
  // Model name → its inference histogram: appended under the mutex, read
  // without it (requests on every worker look it up).
  struct ModelHistogram {
    std::string name;
    monitor::Histogram histogram;
  };
  static constexpr std::size_t kMaxModels = 64;
  std::array<std::atomic<const ModelHistogram*>, kMaxModels> inference_by_model_{};
  std::atomic<std::size_t> models_seen_{0};
  std::vector<std::unique_ptr<ModelHistogram>> model_histograms_;
  std::vector<monitor::Gauge> info_series_;
};

}  // namespace quant::serve
