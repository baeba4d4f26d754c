#pragma once
/// The model registry's write side, MLflow-compatible: register versions,
/// move aliases, list what is there, and promote / roll back with a recorded
/// history. Two implementations behind one interface:
///
/// - the **file store** (`open_file_registry`): MLflow's `mlruns/models/`
///   layout (see file_registry.h; `resolve` there stays the read path of
///   `quant serve`). A registered version's files are *copied* into a run's
///   artifacts (`mlruns/<exp>/<run>/artifacts/model/`) and the version points
///   there, so it does not change when the source directory does;
/// - the **REST client** (`mlflow_rest.h`): `/api/2.0/mlflow/registered-models/...`
///   and `model-versions/...`; files are uploaded through the server's artifact
///   proxy (`mlflow server --serve-artifacts`).
///
/// ```
/// auto reg = registry::open_registry("");   // MLFLOW_TRACKING_URI, else ./mlruns
/// auto v = (*reg)->register_version("gatekeeper-WIN", model_dir, run->run_id());
/// (*reg)->promote("gatekeeper-WIN", *v, "champion", R"({"oos_sharpe": 1.4, "margin": 0.2, "dsr": 0.97})",
///                 "walk-forward beat the champion");
/// (*reg)->rollback("gatekeeper-WIN");    // champion back to the version before
/// ```
///
/// Promotion history. Every promote and rollback is recorded with time, from,
/// to, reason, user and the caller's decision JSON (metric values, margin,
/// DSR ...). File store: one JSON object per line in
/// `models/<name>/aliases_history/<alias>.jsonl` (MLflow ignores the folder),
/// appended and fsynced *before* the alias moves, under a per-model lock
/// (`models/<name>/.promotion.lock`). REST: the registered-model tag
/// `quant.alias_history.<alias>` holds the same lines, oldest dropped to stay
/// within 5000 characters (the smallest tag-value limit among MLflow's stores).
/// Rollback replays the history as a stack: a promote pushes the version it
/// replaced, a rollback pops; the alias goes back to the top, and the
/// rollback is recorded too. Rolling back past the first promotion fails.
///
/// Thread safety: safe to use from several threads; the file store is also
/// safe across processes (versions are claimed with mkdir, promotions locked).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "registry/tracking.h"

namespace quant::registry {

/// The alias `quant serve` loads by default.
inline constexpr const char* kChampion = "champion";

/// One registered version.
struct ModelVersionInfo {
  std::string name;
  std::int64_t version = 0;
  std::int64_t creation_timestamp_ms = 0;
  std::int64_t last_updated_timestamp_ms = 0;
  std::string current_stage;     ///< MLflow stage, "None" unless someone used stages
  std::string status;            ///< "READY"
  std::string source;            ///< URI the version was registered from
  std::string storage_location;  ///< file store: where the files are (`file://...`); REST: empty
  std::string run_id;            ///< run holding the files (may be empty for versions made elsewhere)
  std::string user_id;
  std::vector<std::string> aliases;         ///< aliases pointing here, sorted
  std::map<std::string, std::string> tags;  ///< version tags
  std::map<std::string, double> metrics;    ///< the run's metrics (latest value per key); empty without a run
};

/// One registered model.
struct RegisteredModelInfo {
  std::string name;
  std::int64_t creation_timestamp_ms = 0;
  std::int64_t last_updated_timestamp_ms = 0;
  std::string description;
  std::map<std::string, std::int64_t> aliases;  ///< alias -> version
  std::int64_t latest_version = 0;              ///< 0 when none
  std::int64_t version_count = 0;
};

/// One line of an alias's promotion history.
struct AliasChange {
  std::int64_t time_ms = 0;
  std::string time;    ///< the same instant, ISO-8601 UTC
  std::string action;  ///< "promote" or "rollback"
  std::string alias;
  std::optional<std::int64_t> from;  ///< the version before; nullopt when the alias was unset
  std::int64_t to = 0;               ///< the version after
  std::string reason;
  std::string user;
  std::string decision_json = "{}";  ///< the caller's decision (a JSON object), "{}" when none
};

/// The registry interface (file store and REST). Every method fails with an
/// error naming the model, the version or alias and the store; an unknown
/// model's error lists the models that exist.
class Registry {
 public:
  virtual ~Registry() = default;
  /// `file:///abs/mlruns` or the server's base URL.
  [[nodiscard]] virtual const std::string& uri() const = 0;

  /// Registers the model in `model_dir` (must hold manifest.json) as the next
  /// free version of `name` (creating the model when new) and returns the
  /// number. Its files (every regular file at the top level of `model_dir`:
  /// manifest.json, the ONNX files and what sits beside them) are copied into
  /// run `run_id`'s artifacts under `model/` (`model-2`, ... when taken);
  /// with `run_id` empty a run "register <name>" is made in the Default
  /// experiment to hold them. Race-safe: concurrent registrations get
  /// distinct versions. `tags` become version tags.
  virtual Expected<std::int64_t> register_version(const std::string& name, const std::string& model_dir,
                                                  const std::string& run_id = "", const Tags& tags = {}) = 0;
  /// Points `alias` at `version` (which must exist). Not recorded in the
  /// history: use promote for decisions.
  virtual Expected<void> set_alias(const std::string& name, const std::string& alias, std::int64_t version) = 0;
  /// Removes `alias`; fails when it does not exist.
  virtual Expected<void> delete_alias(const std::string& name, const std::string& alias) = 0;
  /// The version `alias` points at.
  virtual Expected<ModelVersionInfo> get_alias(const std::string& name, const std::string& alias) = 0;
  /// Version `version` of `name`.
  virtual Expected<ModelVersionInfo> get_version(const std::string& name, std::int64_t version) = 0;
  /// Every registered model, sorted by name.
  virtual Expected<std::vector<RegisteredModelInfo>> list_models() = 0;
  /// One model.
  virtual Expected<RegisteredModelInfo> get_model(const std::string& name) = 0;
  /// The versions of `name` (deleted ones left out), by version number.
  virtual Expected<std::vector<ModelVersionInfo>> list_versions(const std::string& name) = 0;
  /// The recorded promotions and rollbacks of `alias`, oldest first.
  virtual Expected<std::vector<AliasChange>> alias_history(const std::string& name, const std::string& alias) = 0;

  /// Points `alias` at `version` as a recorded decision: `decision_json` (a
  /// JSON object: metric values, margin, DSR ...) and `reason` are stored
  /// with the time, the user and the version replaced. Fails when the version
  /// does not exist or is not READY, when the alias already points there, or
  /// when `decision_json` is not a JSON object. Returns the record.
  virtual Expected<AliasChange> promote(const std::string& name, std::int64_t version,
                                        const std::string& alias = kChampion, const std::string& decision_json = "{}",
                                        const std::string& reason = "") = 0;
  /// Points `alias` back at the version it had before its last promotion
  /// (see the history above) and records that. Fails when there is none.
  virtual Expected<AliasChange> rollback(const std::string& name, const std::string& alias = kChampion,
                                         const std::string& reason = "") = 0;
};

/// The registry `options.uri` names: REST for http(s), else the file store.
Expected<std::unique_ptr<Registry>> open_registry(const TrackingOptions& options);
/// `open_registry(tracking_options_from_environment(uri_or_empty))`.
Expected<std::unique_ptr<Registry>> open_registry(const std::string& uri_or_empty = "");
/// The file-store registry at `root` (created when absent).
Expected<std::unique_ptr<Registry>> open_file_registry(const std::string& root, const TrackingOptions& options = {});

namespace detail {

/// The record of one alias move at `time_ms` by `user` (`time` is its
/// iso_utc_ms): what every registry writes to the history and returns from
/// promote and rollback. `action` is "promote" or "rollback"; `decision_json`
/// is already normalised (normalise_decision).
AliasChange make_alias_change(std::int64_t time_ms, const std::string& user, const std::string& action,
                              const std::string& alias, std::optional<std::int64_t> from, std::int64_t to,
                              const std::string& reason, const std::string& decision_json);
/// Whether `alias` of model `name` may move to `version`, now at `current`:
/// the version must be READY (`status`) and the alias must not already point
/// there. The error message names the model, version and alias.
Expected<void> check_promotion(const std::string& name, std::int64_t version, const std::string& status,
                               const std::string& alias, std::optional<std::int64_t> current);
/// One history line as JSON (no newline); `from` null when unset.
std::string alias_change_json(const AliasChange& change);
/// Parses a line of alias_change_json; `origin` names it in errors.
Expected<AliasChange> parse_alias_change(const std::string& line, const std::string& origin);
/// Where a rollback of an alias with `history` goes: replays promotes (push
/// the replaced version) and rollbacks (pop); fails, naming the alias, when
/// the stack is empty or its top is "unset".
Expected<std::int64_t> rollback_target(const std::vector<AliasChange>& history, const std::string& alias);
/// Checks `decision_json` is a JSON object and returns it compacted ("{}" for empty text).
Expected<std::string> normalise_decision(const std::string& decision_json);
/// ISO-8601 UTC with three fraction digits ("2025-11-26T00:10:00.000Z") of `ms` since the epoch.
std::string iso_utc_ms(std::int64_t ms);

}  // namespace detail

}  // namespace quant::registry
