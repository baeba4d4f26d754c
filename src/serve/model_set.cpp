#include "serve/model_set.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unordered_set>

#include "core/sha256.h"
#include "core/time.h"
#include "registry/file_registry.h"

namespace quant::serve {

const LoadedGate* ModelSet::find(std::string_view name) const {
  for (const auto& g : gates) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

namespace {

std::string utc_now_iso() {
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return format_utc(Timestamp(now));
}

Expected<LoadedGate> load_gate(const GateSpec& spec, unsigned workers) {
  LoadedGate g;
  std::int64_t registry_version = 0;
  g.name = spec.name;
  g.rule = {spec.p_min, spec.use_quantiles};
  if (!spec.dir.empty()) {
    g.dir = spec.dir;
    g.source = spec.dir;
  } else {
    auto resolved = registry::resolve(spec.registry, spec.name, spec.alias);
    if (!resolved) return make_error("gate '" + spec.name + "': " + resolved.error().message);
    g.dir = resolved->dir;
    registry_version = resolved->version;
    g.source = "registry:" + spec.registry + "/" + spec.name + "@" + spec.alias;
  }
  const auto manifest_path = (std::filesystem::path(g.dir) / "manifest.json").string();
  auto bytes = model::read_file_bytes(manifest_path);
  if (!bytes) return make_error("gate '" + spec.name + "': " + bytes.error().message);
  g.manifest_sha256 = sha256_hex(*bytes);
  auto manifest = model::load_manifest(g.dir);
  if (!manifest) return make_error("gate '" + spec.name + "': " + manifest.error().message);
  // Through the registry, its version number is the model's version (what
  // promotion and requests name); a plain directory answers the manifest's.
  g.version = registry_version > 0 ? registry_version : manifest->version;
  g.features = manifest->features.names;
  for (const auto& m : manifest->models) g.outputs.push_back(m.output);
  if (std::unordered_set<std::string>(g.features.begin(), g.features.end()).size() != g.features.size()) {
    return make_error("gate '" + spec.name + "': " + manifest_path + ": a feature name appears twice");
  }
  for (unsigned w = 0; w < workers; ++w) {
    // The manifest's own schema: the service takes features by name, so any
    // schema the manifest declares is the one requests must match.
    auto gk = model::Gatekeeper::load(g.dir, manifest->features);
    if (!gk) return make_error("gate '" + spec.name + "': " + gk.error().message);
    g.per_worker.push_back(std::make_unique<model::Gatekeeper>(std::move(*gk)));
  }
  g.loaded_at = utc_now_iso();
  return g;
}

}  // namespace

Expected<std::shared_ptr<ModelSet>> load_model_set(const std::vector<GateSpec>& gates, unsigned workers,
                                                   std::uint64_t generation) {
  if (gates.empty()) return make_error("no gates configured: add a [[serve.gates]] table (or pass --models DIR)");
  auto set = std::make_shared<ModelSet>();
  set->generation = generation;
  for (const auto& spec : gates) {
    auto g = load_gate(spec, workers == 0 ? 1 : workers);
    if (!g) return tl::unexpected(g.error());
    for (const auto& f : g->features) {
      auto it = std::find(set->all_names.begin(), set->all_names.end(), f);
      g->union_index.push_back(static_cast<std::size_t>(it - set->all_names.begin()));
      if (it == set->all_names.end()) set->all_names.push_back(f);
    }
    set->max_features = std::max(set->max_features, g->features.size());
    set->gates.push_back(std::move(*g));
  }
  // Membership by position, so a request checks a name against a gate without hashing it.
  for (auto& g : set->gates) {
    g.reads.assign(set->all_names.size(), 0);
    for (const std::size_t at : g.union_index) g.reads[at] = 1;
  }
  return set;
}

Expected<std::shared_ptr<const ModelSet>> ModelHost::reload() {
  std::lock_guard lock(reload_mutex_);
  auto set = load_model_set(gates_, workers_, generation_ + 1);
  if (!set) return tl::unexpected(set.error());
  ++generation_;
  std::shared_ptr<const ModelSet> next = std::move(*set);
  set_.store(next);
  return next;
}

}  // namespace quant::serve
