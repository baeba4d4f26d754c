#pragma once
/// Experiment tracking, MLflow-compatible: experiments hold runs; a run holds
/// params (set once), metrics (series of value, step, timestamp), tags and
/// artifacts (files). Two implementations behind one interface:
///
/// - the **file store**: MLflow's `mlruns/` layout, written directly
///   (`file_tracking.h`); MLflow's UI and client read it
///   (`mlflow ui --backend-store-uri mlruns`);
/// - the **REST client**: an MLflow tracking server's `/api/2.0/mlflow/...`
///   API (`mlflow_rest.h`), artifacts through its artifact proxy.
///
/// ```
/// auto tracker = registry::open_tracker("");          // MLFLOW_TRACKING_URI, else ./mlruns
/// if (!tracker) return fail(tracker.error().message);
/// auto run = (*tracker)->start_run("walkforward", "WIN 2024", {{"symbol", "WIN"}});
/// (*run)->log_param("fast", "9");
/// (*run)->log_metric("oos_sharpe", 1.31, /*step=*/fold);
/// (*run)->log_artifact(report_dir, "report");
/// (*run)->end(registry::RunStatus::Finished);
/// ```
///
/// Thread safety: a Tracker and a Run may be used from several threads; the
/// file store is also safe across processes (several optimiser workers may
/// create runs in one experiment at once).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "core/error.h"

namespace quant::registry {

/// Key -> value (params, tags).
using Tags = std::map<std::string, std::string>;

/// MLflow's RunStatus; the integers are what the file store writes in meta.yaml.
enum class RunStatus { Running = 1, Scheduled = 2, Finished = 3, Failed = 4, Killed = 5 };

/// "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED" (MLflow's names, used by the REST API).
const char* run_status_name(RunStatus status);

/// Where and as whom to track. Libraries take it explicitly; apps usually
/// start from `tracking_options_from_environment`.
struct TrackingOptions {
  /// `http://` / `https://` → REST client; `file:` URI or a path → file store
  /// at that path; empty → the file store at `mlruns` (relative to the cwd).
  std::string uri;
  std::string token;                                ///< REST: bearer token (MLFLOW_TRACKING_TOKEN); never logged
  std::string username;                             ///< REST: basic auth (MLFLOW_TRACKING_USERNAME), with password
  std::string password;                             ///< REST: basic auth (MLFLOW_TRACKING_PASSWORD); never logged
  std::string user = "unknown";                     ///< `mlflow.user` tag and the run's user_id
  std::string source_name;                          ///< `mlflow.source.name` tag (MLflow: sys.argv[0]); empty = not set
  std::chrono::milliseconds timeout{30000};         ///< REST: per request
  std::chrono::milliseconds connect_timeout{5000};  ///< REST: connection set-up
  /// Milliseconds since the Unix epoch for start/end times and metric
  /// timestamps; empty = the system clock (tests pass a fixed clock).
  std::function<std::int64_t()> clock_ms;
};

/// Options from MLflow's environment variables: MLFLOW_TRACKING_URI (unless
/// `uri_override` is not empty), MLFLOW_TRACKING_TOKEN,
/// MLFLOW_TRACKING_USERNAME/PASSWORD; `user` as Python's getpass.getuser()
/// (LOGNAME, USER, LNAME, USERNAME, then the password database), and
/// `source_name` = the program's argv[0], as MLflow's default run context.
/// The one place this module reads the environment, so that every command
/// that tracks resolves it the same way MLflow's own clients do.
TrackingOptions tracking_options_from_environment(const std::string& uri_override = "");

/// What a tracking URI names.
struct TrackingUri {
  bool rest = false;     ///< http(s) server
  std::string base_url;  ///< rest: the URL without a trailing '/'
  std::string root;      ///< file store: the directory (a file: URI decoded), "mlruns" when empty
};
/// Classifies `uri` (see TrackingOptions::uri). Fails on another scheme
/// (`databricks`, `sqlite:`, `postgresql:` ...: not supported here) or a
/// `file:` URI naming a remote host.
Expected<TrackingUri> parse_tracking_uri(const std::string& uri);

/// One run. Methods fail with an error naming the run, the key and (REST)
/// the URL. Logging after `end` is allowed, as in MLflow.
class Run {
 public:
  virtual ~Run() = default;
  /// 32 lowercase hex digits.
  [[nodiscard]] virtual const std::string& run_id() const = 0;
  /// Decimal text ("0" = Default).
  [[nodiscard]] virtual const std::string& experiment_id() const = 0;
  /// Where artifacts go (`file:///.../artifacts`, `mlflow-artifacts:/...`).
  [[nodiscard]] virtual const std::string& artifact_uri() const = 0;

  /// Params are immutable: logging a key again with another value fails
  /// (the same value is fine). Numbers are written as Python's str() would
  /// ("9", "0.25").
  Expected<void> log_param(const std::string& key, const std::string& value) { return write_param(key, value); }
  Expected<void> log_param(const std::string& key, const char* value) { return write_param(key, value); }
  Expected<void> log_param(const std::string& key, double value);
  template <class Integer, std::enable_if_t<std::is_integral_v<Integer>, int> = 0>
  Expected<void> log_param(const std::string& key, Integer value) {
    return write_param(key, std::to_string(value));
  }
  /// Appends one point of metric `key`; `timestamp_ms` omitted = the clock.
  /// NaN and ±inf are allowed (MLflow stores them).
  virtual Expected<void> log_metric(const std::string& key, double value, std::int64_t step = 0,
                                    std::optional<std::int64_t> timestamp_ms = std::nullopt) = 0;
  /// Sets (or replaces) a tag.
  virtual Expected<void> set_tag(const std::string& key, const std::string& value) = 0;
  /// A file → `artifacts/<artifact_subdir>/<file name>`; a directory → its
  /// contents, recursively, under `artifacts/<artifact_subdir>/` (MLflow's
  /// log_artifact / log_artifacts). `artifact_subdir` is relative ("" = the
  /// artifact root).
  virtual Expected<void> log_artifact(const std::string& local_path, const std::string& artifact_subdir = "") = 0;
  /// Sends what is buffered (REST batches params and metrics; the file store
  /// writes at once and has nothing to flush).
  virtual Expected<void> flush() = 0;
  /// Flushes, then records the end: status and end time. A Run destroyed
  /// without `end` ends itself as Failed (errors then are dropped).
  virtual Expected<void> end(RunStatus status = RunStatus::Finished) = 0;

 protected:
  /// log_param's implementation: one key, its value as text.
  virtual Expected<void> write_param(const std::string& key, const std::string& value) = 0;
};

class Tracker {
 public:
  virtual ~Tracker() = default;
  /// `file:///abs/mlruns` or the server's base URL.
  [[nodiscard]] virtual const std::string& uri() const = 0;
  /// The id of the active experiment named `name`, created when absent.
  /// Race-safe: concurrent callers (threads or processes) get one experiment.
  virtual Expected<std::string> experiment_id(const std::string& name) = 0;
  /// Starts a run in experiment `experiment_name` (created when absent).
  /// `run_name` empty = a generated name. Sets MLflow's default tags
  /// `mlflow.runName`, `mlflow.user`, `mlflow.source.name` (when known),
  /// `mlflow.source.type` = LOCAL, then `tags` (which may override them).
  virtual Expected<std::unique_ptr<Run>> start_run(const std::string& experiment_name, const std::string& run_name = "",
                                                   const Tags& tags = {}) = 0;
};

/// The tracker `options.uri` names: REST for http(s), else the file store.
Expected<std::unique_ptr<Tracker>> open_tracker(const TrackingOptions& options);
/// `open_tracker(tracking_options_from_environment(uri_or_empty))`.
Expected<std::unique_ptr<Tracker>> open_tracker(const std::string& uri_or_empty = "");

}  // namespace quant::registry
