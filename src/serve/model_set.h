#pragma once
/// The signal service's models: the gate chain of `[[serve.gates]]`, loaded
/// together into one immutable `ModelSet` and swapped atomically on reload.
///
/// A request takes the current set once (`ModelHost::current`) and uses it to
/// the end, so a reload in the middle of a request changes nothing for it: no
/// request fails and none mixes versions. Each gate holds one Gatekeeper per
/// worker thread (ONNX Runtime sessions with reused buffers are not shared
/// between threads); worker `i` only ever touches instance `i`.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/gate_rule.h"
#include "model/gatekeeper.h"

namespace quant::serve {

/// One configured gate: a model directory, or a registry entry resolved at every load.
struct GateSpec {
  std::string name;
  std::string dir;
  std::string registry;  ///< MLflow file-store root; used when dir is empty
  std::string alias = "champion";
  double p_min = 0.5;  ///< the gate rule (model::judge) /infer's `pass` applies
  bool use_quantiles = true;
};

struct LoadedGate {
  std::string name;
  std::int64_t version = 0;
  std::string source;                 ///< the directory, or "registry:<root>/<name>@<alias>"
  std::string dir;                    ///< where the files were read
  std::string manifest_sha256;        ///< of manifest.json's bytes
  model::GateRule rule;               ///< p_min and use_quantiles from the GateSpec
  std::vector<std::string> features;  ///< manifest order
  std::vector<std::string> outputs;
  std::string loaded_at;                 ///< ISO-8601 UTC
  std::vector<std::size_t> union_index;  ///< column → position in ModelSet::all_names
  std::vector<char> reads;               ///< by position in ModelSet::all_names: 1 if this gate reads it
  std::vector<std::unique_ptr<model::Gatekeeper>> per_worker;
};

struct ModelSet {
  std::uint64_t generation = 0;
  std::vector<LoadedGate> gates;  ///< chain order
  /// Every feature some gate reads, each once (a chain request may carry exactly these).
  std::vector<std::string> all_names;
  std::size_t max_features = 0;

  const LoadedGate* find(std::string_view name) const;
};

/// Loads every gate (checking each manifest's file hashes) with `workers`
/// instances each. Fails naming the gate and the reason; nothing is half-loaded.
Expected<std::shared_ptr<ModelSet>> load_model_set(const std::vector<GateSpec>& gates, unsigned workers,
                                                   std::uint64_t generation);

class ModelHost {
 public:
  ModelHost(std::vector<GateSpec> gates, unsigned workers) : gates_(std::move(gates)), workers_(workers) {}

  /// The set in service (null before the first successful load).
  std::shared_ptr<const ModelSet> current() const { return set_.load(); }

  /// Loads everything again and swaps it in; on failure the old set stays.
  /// Reloads are serialised; requests are never blocked by one.
  Expected<std::shared_ptr<const ModelSet>> reload();

  const std::vector<GateSpec>& gates() const { return gates_; }

 private:
  std::vector<GateSpec> gates_;
  unsigned workers_;
  std::mutex reload_mutex_;
  std::uint64_t generation_ = 0;
  std::atomic<std::shared_ptr<const ModelSet>> set_;
};

}  // namespace quant::serve
