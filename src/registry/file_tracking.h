#pragma once
/// Tracking in MLflow's file-store layout (MLflow's FileStore, which its UI
/// and client read), written directly:
///
/// ```
/// <root>/.trash/                        deleted experiments (created, as MLflow does)
/// <root>/0/meta.yaml                    the Default experiment, created with the store
/// <root>/<exp_id>/meta.yaml             artifact_location, creation_time (ms), experiment_id ('3'),
///                                       last_update_time, lifecycle_stage (active), name
/// <root>/<exp_id>/<run_id>/meta.yaml    artifact_uri, deleted_time, end_time, entry_point_name,
///                                       experiment_id, lifecycle_stage, run_id, run_name, run_uuid,
///                                       source_name, source_type (4), source_version, start_time,
///                                       status (1 running, 3 finished, 4 failed, 5 killed), tags ([]),
///                                       user_id
/// <root>/<exp_id>/<run_id>/params/<key>    the value, no newline
/// <root>/<exp_id>/<run_id>/metrics/<key>   lines "<timestamp_ms> <value> <step>"
/// <root>/<exp_id>/<run_id>/tags/<key>      the value, no newline
/// <root>/<exp_id>/<run_id>/artifacts/      logged files
/// ```
///
/// Experiment ids: "0" is Default; a new experiment gets the largest numeric
/// id in the store (the trash included) + 1, as MLflow 1.x's FileStore did
/// (MLflow 2.x draws random 18-digit ids instead; both read back the same).
/// Run ids are uuid4 hex. Keys with '/' become subdirectories, as in MLflow.
///
/// Concurrency: an experiment is created under an exclusive lock on
/// `<root>/.quant-tracking.lock` (a file; MLflow only lists directories), so
/// processes starting runs in a new experiment at once agree on one id; the
/// id directory itself is claimed with mkdir. meta.yaml files are written to
/// a temporary name and renamed, and a run's meta.yaml comes last, so a
/// reader never sees a half-written one nor a run without its tags (MLflow
/// skips a run directory without meta.yaml).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "registry/tracking.h"

namespace quant::registry {

/// One point of a metric series.
struct MetricPoint {
  std::int64_t timestamp_ms = 0;
  double value = 0;
  std::int64_t step = 0;
};

/// A run as the file store holds it (for reading back: tests, the registry).
struct RunRecord {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  std::string artifact_uri;
  std::string dir;  ///< absolute run directory
  int status = 1;   ///< RunStatus as an integer
  std::int64_t start_time_ms = 0;
  std::int64_t end_time_ms = 0;  ///< 0 while running (meta.yaml: null)
  Tags params;
  Tags tags;
  /// Per key, the point MLflow reports as the metric's value: the largest
  /// (step, timestamp, value).
  std::map<std::string, MetricPoint> metrics;
};

class FileTracker final : public Tracker {
 public:
  /// Opens (creating when absent) the store at `root`, with the Default
  /// experiment "0" and `.trash`, as MLflow's FileStore does on first use.
  static Expected<std::unique_ptr<FileTracker>> open(const std::string& root, TrackingOptions options);

  [[nodiscard]] const std::string& uri() const override { return uri_; }
  /// Absolute store directory.
  [[nodiscard]] const std::string& root() const { return root_; }
  Expected<std::string> experiment_id(const std::string& name) override;
  Expected<std::unique_ptr<Run>> start_run(const std::string& experiment_name, const std::string& run_name = "",
                                           const Tags& tags = {}) override;

 private:
  FileTracker(std::string root, TrackingOptions options);
  [[nodiscard]] std::int64_t now_ms() const;

  std::string root_;
  std::string uri_;
  TrackingOptions options_;
};

/// The directory of run `run_id` in the store at `root` (any experiment);
/// fails naming the store when there is none.
Expected<std::string> find_run_dir(const std::string& root, const std::string& run_id);

/// Reads run `run_id` back: meta.yaml, params, tags, metrics.
Expected<RunRecord> read_run(const std::string& root, const std::string& run_id);

/// Every point of metric `key` of run `run_id`, in file order.
Expected<std::vector<MetricPoint>> read_metric_history(const std::string& root, const std::string& run_id,
                                                       const std::string& key);

}  // namespace quant::registry
