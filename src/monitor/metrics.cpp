#include "monitor/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace quant::monitor {

void Counter::inc(double by) const {
  if (c_ != nullptr) c_->Increment(by);
}
double Counter::value() const { return c_ != nullptr ? c_->Value() : 0.0; }
void Gauge::set(double v) const {
  if (g_ != nullptr) g_->Set(v);
}
void Gauge::inc(double by) const {
  if (g_ != nullptr) g_->Increment(by);
}
double Gauge::value() const { return g_ != nullptr ? g_->Value() : 0.0; }
void Histogram::observe(double v) const {
  if (h_ != nullptr) h_->Observe(v);
}

std::vector<double> latency_buckets() {
  return {100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10};
}
std::vector<double> fast_buckets() {
  return {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 750e-6, 1e-3, 1.5e-3, 2e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 250e-3, 1};
}

Expected<ProcessStats> read_process_stats() {
  ProcessStats s;
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return make_error("monitor: /proc/self/stat is unreadable");
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  // f[0] is field 3 (state) of proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (f.size() < 22) return make_error("monitor: /proc/self/stat has " + std::to_string(f.size()) + " fields");
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  s.virtual_bytes = std::stod(f[20]);
  s.resident_bytes = std::stod(f[21]) * page;
  double boot = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  s.start_time_seconds = boot + std::stod(f[19]) / ticks;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') s.open_fds += 1;
    }
    closedir(d);
    s.open_fds -= 1;  // the directory stream's own descriptor
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) s.max_fds = static_cast<double>(limit.rlim_cur);
  return s;
}

namespace {

prometheus::MetricFamily single(const std::string& name, const std::string& help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family.metric.push_back(m);
  return family;
}

}  // namespace

/// The registry, its hooks and the process figures, as one Collectable (what
/// the exposition serves and render() prints).
struct Registry::Impl final : prometheus::Collectable {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  mutable std::mutex mutex;  // hooks and the family maps
  std::vector<std::function<void()>> hooks;
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges;
  std::map<std::string, prometheus::Family<prometheus::Histogram>*> histograms;

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<std::function<void()>> run;
    {
      std::lock_guard lock(mutex);
      run = hooks;
    }
    for (const auto& hook : run) hook();
    auto families = registry->Collect();
    if (auto p = read_process_stats()) {
      using prometheus::MetricType;
      families.push_back(single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                                MetricType::Counter, p->cpu_seconds));
      families.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.",
                                MetricType::Gauge, p->resident_bytes));
      families.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
                                p->virtual_bytes));
      families.push_back(single("process_start_time_seconds",
                                "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                                p->start_time_seconds));
      families.push_back(
          single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, p->open_fds));
      families.push_back(
          single("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, p->max_fds));
    }
    return families;
  }
};

namespace {
std::map<std::string, std::string> label_map(const Labels& labels) { return {labels.begin(), labels.end()}; }
}  // namespace

Registry::Registry(std::string command, std::string version)
    : command_(std::move(command)), impl_(std::make_shared<Impl>()) {
  gauge("quant_build_info", "The running quant command and its version (always 1)",
        {{"command", command_}, {"version", std::move(version)}})
      .set(1);
}

Registry::~Registry() = default;

Counter Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(impl_->mutex);
  auto& family = impl_->counters[name];
  if (family == nullptr) family = &prometheus::BuildCounter().Name(name).Help(help).Register(*impl_->registry);
  return Counter(&family->Add(label_map(labels)));
}

Gauge Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(impl_->mutex);
  auto& family = impl_->gauges[name];
  if (family == nullptr) family = &prometheus::BuildGauge().Name(name).Help(help).Register(*impl_->registry);
  return Gauge(&family->Add(label_map(labels)));
}

Histogram Registry::histogram(const std::string& name, const std::string& help, const std::vector<double>& buckets,
                              const Labels& labels) {
  std::lock_guard lock(impl_->mutex);
  auto& family = impl_->histograms[name];
  if (family == nullptr) family = &prometheus::BuildHistogram().Name(name).Help(help).Register(*impl_->registry);
  return Histogram(&family->Add(label_map(labels), prometheus::Histogram::BucketBoundaries(buckets)));
}

void Registry::remove(const Gauge& gauge) {
  if (gauge.g_ == nullptr) return;
  std::lock_guard lock(impl_->mutex);
  // Family::Remove erases the series it holds and ignores one it does not.
  for (auto& [name, family] : impl_->gauges) family->Remove(gauge.g_);
}

void Registry::on_collect(std::function<void()> hook) {
  std::lock_guard lock(impl_->mutex);
  impl_->hooks.push_back(std::move(hook));
}

std::string Registry::render() const { return prometheus::TextSerializer().Serialize(impl_->Collect()); }

struct Exposition::Impl {
  std::unique_ptr<prometheus::Exposer> exposer;
};

Expected<std::unique_ptr<Exposition>> Exposition::start(const std::string& address, Registry& registry) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return make_error("metrics: '" + address + "' is not HOST:PORT (e.g. 127.0.0.1:9101; port 0 = any free one)");
  const std::string host = address.substr(0, colon);
  auto impl = std::make_unique<Impl>();
  try {
    // One thread: Prometheus scrapes one request at a time per target.
    impl->exposer = std::make_unique<prometheus::Exposer>(address, 1);
    impl->exposer->RegisterCollectable(registry.impl_, "/metrics");
  } catch (const std::exception& e) {
    return make_error("metrics: cannot listen on " + address + ": " + e.what());
  }
  const auto ports = impl->exposer->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0) return make_error("metrics: no listening port on " + address);
  return std::unique_ptr<Exposition>(
      new Exposition(std::move(impl), host, static_cast<std::uint16_t>(ports.front())));
}

Exposition::Exposition(std::unique_ptr<Impl> impl, std::string host, std::uint16_t port)
    : impl_(std::move(impl)), host_(std::move(host)), port_(port) {}

Exposition::~Exposition() = default;

std::string Exposition::url() const { return "http://" + host_ + ":" + std::to_string(port_) + "/metrics"; }

}  // namespace quant::monitor
