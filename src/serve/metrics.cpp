#include "serve/metrics.h"

namespace quant::serve {

std::string_view endpoint_label(Endpoint e) {
  switch (e) {
    case Endpoint::Infer: return "/infer";
    case Endpoint::Order: return "/order";
    case Endpoint::Health: return "/health";
    case Endpoint::Ready: return "/ready";
    case Endpoint::Models: return "/models";
    case Endpoint::Metrics: return "/metrics";
    case Endpoint::AdminReload: return "/admin/reload";
    case Endpoint::Other: return "other";
    case Endpoint::Transport: return "transport";
  }
  return "other";
}

namespace {
constexpr const char* kRequests = "quant_serve_requests_total";
constexpr const char* kRequestsHelp = "HTTP answers by endpoint and status";
constexpr const char* kInference = "quant_serve_inference_duration_seconds";
constexpr const char* kInferenceHelp = "Model evaluation time per request, by model";
constexpr const char* kModelInfo = "quant_serve_model_info";
constexpr const char* kModelInfoHelp = "Loaded models: 1 per model, version and manifest hash";
}  // namespace

Metrics::Metrics(monitor::Registry& registry)
    : registry_(registry), counters_(new std::atomic<const monitor::Counter*>[kEndpointCount * kStatuses]) {
  for (std::size_t i = 0; i < kEndpointCount * kStatuses; ++i) counters_[i].store(nullptr);
  // The /infer objective's buckets (p99 < 2 ms): monitor::fast_buckets, as
  // quant live's gate histogram.
  for (std::size_t e = 0; e < kEndpointCount; ++e) {
    duration_by_endpoint_[e] = registry_.histogram(
        "quant_serve_request_duration_seconds", "Time from a parsed request to its serialized answer",
        monitor::fast_buckets(), {{"endpoint", std::string(endpoint_label(static_cast<Endpoint>(e)))}});
  }
  for (const char* result : {"ok", "failed"}) {
    reloads_[result[0] == 'o' ? 0 : 1] =
        registry_.counter("quant_serve_reloads_total", "Model reloads by result", {{"result", result}});
  }
  for (const risk::Decision d : {risk::Decision::Accepted, risk::Decision::Resized, risk::Decision::Rejected}) {
    orders_[static_cast<std::size_t>(d)] =
        registry_.counter("quant_serve_orders_total", "Orders by risk decision", {{"decision", risk::to_string(d)}});
  }
  generation_ = registry_.gauge("quant_serve_model_generation",
                                "Generation of the loaded model set (1 after start-up, +1 per reload)");
}

const monitor::Counter& Metrics::counter_for(Endpoint endpoint, int status) {
  if (status < 100 || status >= 100 + kStatuses) status = 500;
  auto& slot = counters_[static_cast<std::size_t>(endpoint) * kStatuses + static_cast<std::size_t>(status - 100)];
  if (const auto* c = slot.load(std::memory_order_acquire)) return *c;
  std::lock_guard lock(mutex_);
  if (const auto* c = slot.load(std::memory_order_acquire)) return *c;
  const auto& c = counter_store_.emplace_back(registry_.counter(
      kRequests, kRequestsHelp, {{"endpoint", std::string(endpoint_label(endpoint))}, {"status", std::to_string(status)}}));
  slot.store(&c, std::memory_order_release);
  return c;
}

void Metrics::record_request(Endpoint endpoint, int status, double seconds) {
  counter_for(endpoint, status).inc();
  duration_by_endpoint_[static_cast<std::size_t>(endpoint)].observe(seconds);
}

void Metrics::record_transport(int status) { counter_for(Endpoint::Transport, status).inc(); }

void Metrics::record_inference(std::string_view model, double seconds) {
  const std::size_t seen = models_seen_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < seen; ++i) {
    const ModelHistogram* m = inference_by_model_[i].load(std::memory_order_acquire);
    if (m->name == model) {
      m->histogram.observe(seconds);
      return;
    }
  }
  monitor::Histogram h;
  {
    std::lock_guard lock(mutex_);
    const std::size_t n = models_seen_.load(std::memory_order_relaxed);
    bool found = false;
    for (std::size_t i = 0; i < n && !found; ++i) {
      if (model_histograms_[i]->name == model) {
        h = model_histograms_[i]->histogram;
        found = true;
      }
    }
    if (!found) {
      h = registry_.histogram(kInference, kInferenceHelp, monitor::fast_buckets(), {{"model", std::string(model)}});
      if (n < kMaxModels) {  // beyond that (never with a configured chain) lookups take this slow path
        model_histograms_.push_back(std::make_unique<ModelHistogram>(ModelHistogram{std::string(model), h}));
        inference_by_model_[n].store(model_histograms_.back().get(), std::memory_order_release);
        models_seen_.store(n + 1, std::memory_order_release);
      }
    }
  }
  h.observe(seconds);
}

void Metrics::record_reload(bool ok) { reloads_[ok ? 0 : 1].inc(); }

void Metrics::record_order(risk::Decision decision) { orders_[static_cast<std::size_t>(decision)].inc(); }

void Metrics::set_models(const std::vector<GateInfo>& gates, std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  for (const auto& g : info_series_) registry_.remove(g);
  info_series_.clear();
  for (const auto& g : gates) {
    const monitor::Gauge gauge = registry_.gauge(
        kModelInfo, kModelInfoHelp,
        {{"model", g.model}, {"version", std::to_string(g.version)}, {"manifest_sha256", g.manifest_sha256}});
    gauge.set(1);
    info_series_.push_back(gauge);
  }
  generation_.set(static_cast<double>(generation));
}

}  // namespace quant::serve
