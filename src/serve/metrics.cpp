#include "serve/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "monitor/metrics.h"

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
// The /infer objective's buckets (p99 < 2 ms), one definition with quant live's
// gate histogram: monitor::fast_buckets.
prometheus::Histogram::BucketBoundaries latency_buckets() { return monitor::fast_buckets(); }
}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      counters_(new std::atomic<prometheus::Counter*>[kEndpointCount * kStatuses]) {
  requests_ = &prometheus::BuildCounter()
                   .Name("quant_serve_requests_total")
                   .Help("HTTP answers by endpoint and status")
                   .Register(*registry_);
  durations_ = &prometheus::BuildHistogram()
                    .Name("quant_serve_request_duration_seconds")
                    .Help("Time from a parsed request to its serialized answer")
                    .Register(*registry_);
  inference_ = &prometheus::BuildHistogram()
                    .Name("quant_serve_inference_duration_seconds")
                    .Help("Model evaluation time per request, by model")
                    .Register(*registry_);
  model_info_ = &prometheus::BuildGauge()
                     .Name("quant_serve_model_info")
                     .Help("Loaded models: 1 per model, version and manifest hash")
                     .Register(*registry_);
  reloads_ = &prometheus::BuildCounter()
                  .Name("quant_serve_reloads_total")
                  .Help("Model reloads by result")
                  .Register(*registry_);
  orders_ =
      &prometheus::BuildCounter().Name("quant_serve_orders_total").Help("Orders by risk decision").Register(*registry_);
  generation_ = &prometheus::BuildGauge()
                     .Name("quant_serve_model_generation")
                     .Help("Generation of the loaded model set (1 after start-up, +1 per reload)")
                     .Register(*registry_)
                     .Add({});
  for (std::size_t i = 0; i < kEndpointCount * kStatuses; ++i) counters_[i].store(nullptr);
  for (std::size_t e = 0; e < kEndpointCount; ++e) {
    duration_by_endpoint_[e] =
        &durations_->Add({{"endpoint", std::string(endpoint_label(static_cast<Endpoint>(e)))}}, latency_buckets());
  }
}

Metrics::~Metrics() = default;

prometheus::Counter& Metrics::counter_for(Endpoint endpoint, int status) {
  if (status < 100 || status >= 100 + kStatuses) status = 500;
  auto& slot = counters_[static_cast<std::size_t>(endpoint) * kStatuses + static_cast<std::size_t>(status - 100)];
  if (auto* c = slot.load(std::memory_order_acquire)) return *c;
  std::lock_guard lock(mutex_);
  if (auto* c = slot.load(std::memory_order_acquire)) return *c;
  auto* c = &requests_->Add({{"endpoint", std::string(endpoint_label(endpoint))}, {"status", std::to_string(status)}});
  slot.store(c, std::memory_order_release);
  return *c;
}

void Metrics::record_request(Endpoint endpoint, int status, double seconds) {
  counter_for(endpoint, status).Increment();
  duration_by_endpoint_[static_cast<std::size_t>(endpoint)]->Observe(seconds);
}

void Metrics::record_transport(int status) { counter_for(Endpoint::Transport, status).Increment(); }

void Metrics::record_inference(std::string_view model, double seconds) {
  const std::size_t seen = models_seen_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < seen; ++i) {
    const ModelHistogram* m = inference_by_model_[i].load(std::memory_order_acquire);
    if (m->name == model) {
      m->histogram->Observe(seconds);
      return;
    }
  }
  prometheus::Histogram* h = nullptr;
  {
    std::lock_guard lock(mutex_);
    const std::size_t n = models_seen_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < n && h == nullptr; ++i) {
      if (model_histograms_[i]->name == model) h = model_histograms_[i]->histogram;
    }
    if (h == nullptr) {
      h = &inference_->Add({{"model", std::string(model)}}, latency_buckets());
      if (n < kMaxModels) {  // beyond that (never with a configured chain) lookups take this slow path
        model_histograms_.push_back(std::make_unique<ModelHistogram>(ModelHistogram{std::string(model), h}));
        inference_by_model_[n].store(model_histograms_.back().get(), std::memory_order_release);
        models_seen_.store(n + 1, std::memory_order_release);
      }
    }
  }
  h->Observe(seconds);
}

void Metrics::record_reload(bool ok) { reloads_->Add({{"result", ok ? "ok" : "failed"}}).Increment(); }

void Metrics::record_order(std::string_view decision) {
  orders_->Add({{"decision", std::string(decision)}}).Increment();
}

void Metrics::set_models(const std::vector<GateInfo>& gates, std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  for (auto* g : info_series_) model_info_->Remove(g);
  info_series_.clear();
  for (const auto& g : gates) {
    auto& gauge = model_info_->Add(
        {{"model", g.model}, {"version", std::to_string(g.version)}, {"manifest_sha256", g.manifest_sha256}});
    gauge.Set(1);
    info_series_.push_back(&gauge);
  }
  generation_->Set(static_cast<double>(generation));
}

std::string Metrics::render() const {
  std::string text = prometheus::TextSerializer().Serialize(registry_->Collect());
  if (more_) text += more_();
  return text;
}

}  // namespace quant::serve
