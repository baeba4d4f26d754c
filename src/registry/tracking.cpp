#include "registry/tracking.h"

#include <cerrno>
#include <cstdlib>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include "registry/file_tracking.h"
#include "registry/mlflow_rest.h"
#include "registry/store_io.h"

namespace quant::registry {

const char* run_status_name(RunStatus status) {
  switch (status) {
    case RunStatus::Running: return "RUNNING";
    case RunStatus::Scheduled: return "SCHEDULED";
    case RunStatus::Finished: return "FINISHED";
    case RunStatus::Failed: return "FAILED";
    case RunStatus::Killed: return "KILLED";
  }
  return "RUNNING";
}

Expected<void> Run::log_param(const std::string& key, double value) {
  // Python's str(float) is its repr: what MLflow's clients send for a float param.
  return write_param(key, detail::format_metric_value(value));
}

namespace {

std::string env(const char* name) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read-only; nothing in this process sets the environment
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

/// Python's getpass.getuser(): the first of LOGNAME, USER, LNAME, USERNAME,
/// else the password database's name for the real user id.
std::string current_user() {
  for (const char* name : {"LOGNAME", "USER", "LNAME", "USERNAME"}) {
    if (auto v = env(name); !v.empty()) return v;
  }
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr) {
    return found->pw_name;
  }
  return "unknown";
}

bool starts_with_ci(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

TrackingOptions tracking_options_from_environment(const std::string& uri_override) {
  TrackingOptions o;
  o.uri = uri_override.empty() ? env("MLFLOW_TRACKING_URI") : uri_override;
  o.token = env("MLFLOW_TRACKING_TOKEN");
  o.username = env("MLFLOW_TRACKING_USERNAME");
  o.password = env("MLFLOW_TRACKING_PASSWORD");
  o.user = current_user();
  // glibc's copy of argv[0]: MLflow's default context records sys.argv[0].
  o.source_name = program_invocation_name != nullptr ? program_invocation_name : "";
  return o;
}

Expected<TrackingUri> parse_tracking_uri(const std::string& uri) {
  TrackingUri out;
  if (uri.empty()) {
    out.root = "mlruns";
    return out;
  }
  if (starts_with_ci(uri, "http://") || starts_with_ci(uri, "https://")) {
    out.rest = true;
    out.base_url = uri;
    while (!out.base_url.empty() && out.base_url.back() == '/') out.base_url.pop_back();
    return out;
  }
  auto path = detail::location_path(uri, detail::fs::current_path(), "tracking URI '" + uri + "'");
  if (!path) {
    return make_error(path.error().message +
                      " (supported: http(s):// for an MLflow server, a file: URI or a directory for the file store)");
  }
  out.root = path->string();
  return out;
}

Expected<std::unique_ptr<Tracker>> open_tracker(const TrackingOptions& options) {
  auto where = parse_tracking_uri(options.uri);
  if (!where) return tl::unexpected(where.error());
  if (where->rest) return open_rest_tracker(options);
  auto tracker = FileTracker::open(where->root, options);
  if (!tracker) return tl::unexpected(tracker.error());
  return std::unique_ptr<Tracker>(std::move(*tracker));
}

Expected<std::unique_ptr<Tracker>> open_tracker(const std::string& uri_or_empty) {
  return open_tracker(tracking_options_from_environment(uri_or_empty));
}

}  // namespace quant::registry
