#include "registry/file_tracking.h"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <system_error>
#include <utility>

#include "registry/file_registry.h"
#include "registry/store_io.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using detail::all_digits;
using detail::kMaxClaims;
using detail::kMetaFile;
using detail::read_yaml;
using detail::scalar_or;
using detail::yaml_quote;

constexpr const char* kLockFile = ".quant-tracking.lock";
constexpr const char* kTrash = ".trash";
constexpr const char* kDefaultExperiment = "Default";
// MLflow's SourceType.LOCAL, written as `source_type` in every run's meta.yaml.
constexpr int kSourceTypeLocal = 4;

Expected<void> check_experiment_name(const std::string& name) {
  if (name.empty()) return make_error("tracking: experiment name is empty");
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      return make_error("tracking: experiment name " + yaml_quote(name) + " has a control character");
  }
  return {};
}

struct ExperimentDir {
  std::string id;
  std::string name;
  std::string lifecycle_stage;
};

/// The experiments under `parent` whose meta.yaml reads; directories without
/// one (being created, or not experiments) are skipped, as MLflow skips them.
std::vector<ExperimentDir> scan_experiments(const fs::path& parent) {
  std::vector<ExperimentDir> out;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string id = it->path().filename().string();
    if (id.empty() || id[0] == '.' || id == "models" || !it->is_directory(ec)) continue;
    const fs::path meta = it->path() / kMetaFile;
    if (!fs::is_regular_file(meta, ec)) continue;
    auto yaml = read_yaml(meta);
    if (!yaml) continue;
    out.push_back({scalar_or(*yaml, "experiment_id", id), scalar_or(*yaml, "name"),
                   scalar_or(*yaml, "lifecycle_stage", "active")});
  }
  return out;
}

/// The largest all-digit directory name under `parent`, -1 when none.
std::int64_t max_numeric_id(const fs::path& parent) {
  std::int64_t best = -1;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string id = it->path().filename().string();
    if (!all_digits(id) || id.size() > 18) continue;
    if (auto v = detail::parse_int64(id)) best = std::max(best, *v);
  }
  return best;
}

std::string experiment_meta_yaml(const std::string& id, const std::string& name, const std::string& artifact_location,
                                 std::int64_t created_ms) {
  // Keys in the order MLflow's yaml.safe_dump (sort_keys) writes them.
  const std::string t = std::to_string(created_ms);
  return "artifact_location: " + yaml_quote(artifact_location) + "\ncreation_time: " + t +
         "\nexperiment_id: " + yaml_quote(id) + "\nlast_update_time: " + t +
         "\nlifecycle_stage: active\nname: " + yaml_quote(name) + "\n";
}

/// The fields of a run's meta.yaml that change over its life.
struct RunMeta {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  std::string artifact_uri;
  std::int64_t start_time_ms = 0;
  std::optional<std::int64_t> end_time_ms;
  int status = static_cast<int>(RunStatus::Running);
};

std::string run_meta_yaml(const RunMeta& m) {
  // What MLflow's FileStore writes (_make_persisted_run_info_dict + deleted_time), keys sorted.
  return "artifact_uri: " + yaml_quote(m.artifact_uri) +
         "\ndeleted_time: null\nend_time: " + (m.end_time_ms ? std::to_string(*m.end_time_ms) : std::string("null")) +
         "\nentry_point_name: ''\nexperiment_id: " + yaml_quote(m.experiment_id) +
         "\nlifecycle_stage: active\nrun_id: " + yaml_quote(m.run_id) + "\nrun_name: " + yaml_quote(m.run_name) +
         "\nrun_uuid: " + yaml_quote(m.run_id) + "\nsource_name: ''\nsource_type: " + std::to_string(kSourceTypeLocal) +
         "\nsource_version: ''\nstart_time: " + std::to_string(m.start_time_ms) +
         "\nstatus: " + std::to_string(m.status) + "\ntags: []\nuser_id: " + yaml_quote(m.user_id) + "\n";
}

Expected<MetricPoint> parse_metric_line(std::string_view line, const fs::path& file, std::size_t line_no) {
  const auto fail = [&](const std::string& what) {
    return make_error(file.string() + ":" + std::to_string(line_no) + ": " + what);
  };
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos < line.size()) {
    const auto space = line.find(' ', pos);
    const auto part = line.substr(pos, space == std::string_view::npos ? std::string_view::npos : space - pos);
    if (!part.empty()) parts.push_back(part);
    if (space == std::string_view::npos) break;
    pos = space + 1;
  }
  if (parts.size() != 2 && parts.size() != 3) return fail("expected '<timestamp_ms> <value> [<step>]'");
  MetricPoint p;
  const auto ts = detail::parse_int64(parts[0]);
  if (!ts) return fail("timestamp '" + std::string(parts[0]) + "' is not an integer");
  p.timestamp_ms = *ts;
  const auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), p.value);
  if (ec != std::errc{} || end != parts[1].data() + parts[1].size()) {
    return fail("value '" + std::string(parts[1]) + "' is not a number");
  }
  if (parts.size() == 3) {
    const auto step = detail::parse_int64(parts[2]);
    if (!step) return fail("step '" + std::string(parts[2]) + "' is not an integer");
    p.step = *step;
  }
  return p;
}

Expected<std::vector<MetricPoint>> read_metric_file(const fs::path& file) {
  auto text = detail::read_text(file);
  if (!text) return tl::unexpected(text.error());
  std::vector<MetricPoint> out;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < text->size()) {
    const auto eol = text->find('\n', pos);
    const std::string_view line =
        detail::trim(std::string_view(*text).substr(pos, eol == std::string::npos ? std::string::npos : eol - pos));
    pos = eol == std::string::npos ? text->size() : eol + 1;
    ++line_no;
    if (line.empty()) continue;
    auto point = parse_metric_line(line, file, line_no);
    if (!point) return tl::unexpected(point.error());
    out.push_back(*point);
  }
  return out;
}

/// MLflow reports max((step, timestamp, value)) as a metric's value.
bool later(const MetricPoint& a, const MetricPoint& b) {
  if (a.step != b.step) return a.step > b.step;
  if (a.timestamp_ms != b.timestamp_ms) return a.timestamp_ms > b.timestamp_ms;
  return a.value > b.value;
}

class FileRun final : public Run {
 public:
  FileRun(fs::path dir, RunMeta meta, std::function<std::int64_t()> clock)
      : dir_(std::move(dir)), meta_(std::move(meta)), clock_(std::move(clock)) {}
  FileRun(const FileRun&) = delete;
  FileRun& operator=(const FileRun&) = delete;

  ~FileRun() override {
    // A destructor may not throw; what ending the run would report is lost here by design.
    try {
      if (!ended_) (void)end(RunStatus::Failed);
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to report to from a destructor
    }
  }

  [[nodiscard]] const std::string& run_id() const override { return meta_.run_id; }
  [[nodiscard]] const std::string& experiment_id() const override { return meta_.experiment_id; }
  [[nodiscard]] const std::string& artifact_uri() const override { return meta_.artifact_uri; }

  Expected<void> log_metric(const std::string& key, double value, std::int64_t step,
                            std::optional<std::int64_t> timestamp_ms) override {
    if (auto ok = detail::check_key(key, "metric"); !ok) return fail(ok.error().message);
    const fs::path file = dir_ / "metrics" / key;
    const std::string line = std::to_string(timestamp_ms.value_or(clock_())) + " " +
                             detail::format_metric_value(value) + " " + std::to_string(step) + "\n";
    std::lock_guard lock(mutex_);
    if (auto ok = detail::make_directories(file.parent_path()); !ok) return fail(ok.error().message);
    // One write on an O_APPEND descriptor: concurrent loggers never split a
    // line. Not fsynced: a metric point is not worth a disk flush each.
    if (auto ok = append_line(file, line); !ok) return fail(ok.error().message);
    return {};
  }

  Expected<void> set_tag(const std::string& key, const std::string& value) override {
    if (auto ok = detail::check_key(key, "tag"); !ok) return fail(ok.error().message);
    std::lock_guard lock(mutex_);
    if (auto ok = write_key_file("tags", key, value); !ok) return ok;
    if (key == "mlflow.runName" && value != meta_.run_name) {
      // MLflow keeps run_name in meta.yaml in step with the tag.
      meta_.run_name = value;
      return write_meta();
    }
    return {};
  }

  Expected<void> log_artifact(const std::string& local_path, const std::string& artifact_subdir) override {
    if (auto ok = detail::check_artifact_path(artifact_subdir); !ok) return fail(ok.error().message);
    const fs::path from(local_path);
    const fs::path into = dir_ / "artifacts" / artifact_subdir;
    std::error_code ec;
    std::lock_guard lock(mutex_);
    if (fs::is_regular_file(from, ec)) {
      if (auto ok = detail::make_directories(into); !ok) return fail(ok.error().message);
      if (auto ok = detail::copy_file_atomic(from, into / from.filename()); !ok) return fail(ok.error().message);
      return {};
    }
    if (!fs::is_directory(from, ec)) return fail("artifact " + local_path + " is neither a file nor a directory");
    if (auto ok = detail::make_directories(into); !ok) return fail(ok.error().message);
    for (fs::recursive_directory_iterator it(from, fs::directory_options::follow_directory_symlink, ec), end;
         !ec && it != end; it.increment(ec)) {
      const fs::path target = into / it->path().lexically_relative(from);
      if (it->is_directory(ec)) {
        if (auto ok = detail::make_directories(target); !ok) return fail(ok.error().message);
      } else if (it->is_regular_file(ec)) {
        if (auto ok = detail::make_directories(target.parent_path()); !ok) return fail(ok.error().message);
        if (auto ok = detail::copy_file_atomic(it->path(), target); !ok) return fail(ok.error().message);
      }
    }
    if (ec) return fail(local_path + ": cannot list: " + ec.message());
    return {};
  }

  Expected<void> flush() override { return {}; }

  Expected<void> end(RunStatus status) override {
    std::lock_guard lock(mutex_);
    meta_.status = static_cast<int>(status);
    meta_.end_time_ms = clock_();
    ended_ = true;
    return write_meta();
  }

 protected:
  Expected<void> write_param(const std::string& key, const std::string& value) override {
    if (auto ok = detail::check_key(key, "param"); !ok) return fail(ok.error().message);
    std::lock_guard lock(mutex_);
    const fs::path file = dir_ / "params" / key;
    std::error_code ec;
    if (fs::exists(file, ec)) {
      auto held = detail::read_text(file);
      if (!held) return fail(held.error().message);
      if (*held == value) return {};
      return fail("param '" + key + "' was already logged as '" + *held + "'; params cannot change (new value '" +
                  value + "')");
    }
    return write_key_file("params", key, value);
  }

 private:
  Expected<void> fail(const std::string& what) const {
    return make_error("tracking: run " + meta_.run_id + ": " + what);
  }

  static Expected<void> append_line(const fs::path& file, const std::string& line) {
    return detail::append_durably(file, line);
  }

  /// params/<key> or tags/<key>, written atomically. The temporary file lives
  /// in the run directory, not in params/ or tags/, where MLflow would read a
  /// crash's leftover as a key.
  Expected<void> write_key_file(const char* folder, const std::string& key, const std::string& value) {
    const fs::path file = dir_ / folder / key;
    if (auto ok = detail::make_directories(file.parent_path()); !ok) return fail(ok.error().message);
    if (auto ok = detail::write_file_atomic(file, value, dir_); !ok) return fail(ok.error().message);
    return {};
  }

  Expected<void> write_meta() {
    if (auto ok = detail::write_file_atomic(dir_ / kMetaFile, run_meta_yaml(meta_), dir_); !ok) {
      return fail(ok.error().message);
    }
    return {};
  }

  fs::path dir_;
  RunMeta meta_;
  std::function<std::int64_t()> clock_;
  std::mutex mutex_;
  bool ended_ = false;
};

}  // namespace

FileTracker::FileTracker(std::string root, TrackingOptions options)
    : root_(std::move(root)), uri_(detail::file_uri(root_)), options_(std::move(options)) {}

std::int64_t FileTracker::now_ms() const { return options_.clock_ms ? options_.clock_ms() : detail::system_now_ms(); }

Expected<std::unique_ptr<FileTracker>> FileTracker::open(const std::string& root, TrackingOptions options) {
  if (root.empty()) return make_error("tracking: the store directory is empty");
  const fs::path dir = detail::normal_absolute(root);
  if (auto ok = detail::make_directories(dir / kTrash); !ok) return make_error("tracking: " + ok.error().message);
  std::unique_ptr<FileTracker> tracker(new FileTracker(dir.string(), std::move(options)));
  std::error_code ec;
  if (!fs::is_regular_file(dir / "0" / kMetaFile, ec)) {
    auto lock = detail::FileLock::acquire(dir / kLockFile);
    if (!lock) return make_error("tracking: " + lock.error().message);
    if (!fs::is_regular_file(dir / "0" / kMetaFile, ec)) {
      const fs::path zero = dir / "0";
      if (auto ok = detail::make_directories(zero); !ok) return make_error("tracking: " + ok.error().message);
      const std::string meta = experiment_meta_yaml("0", kDefaultExperiment, detail::file_uri(zero), tracker->now_ms());
      if (auto ok = detail::write_file_atomic(zero / kMetaFile, meta, zero); !ok) {
        return make_error("tracking: " + ok.error().message);
      }
    }
  }
  return tracker;
}

Expected<std::string> FileTracker::experiment_id(const std::string& name) {
  if (auto ok = check_experiment_name(name); !ok) return tl::unexpected(ok.error());
  const fs::path root(root_);
  const auto find = [&]() -> Expected<std::optional<std::string>> {
    for (const auto& e : scan_experiments(root)) {
      if (e.name == name && e.lifecycle_stage == "active") return std::optional<std::string>(e.id);
    }
    for (const auto& e : scan_experiments(root / kTrash)) {
      if (e.name == name) {
        return make_error("tracking: experiment '" + name + "' (id " + e.id + ") exists in deleted state in " +
                          (root / kTrash).string() + "; restore it, or delete it there for good, to reuse the name");
      }
    }
    return std::optional<std::string>();
  };
  auto found = find();
  if (!found) return tl::unexpected(found.error());
  if (*found) return **found;

  // Look-up and creation are two steps: the lock makes them one for every
  // process using this store, so a name gets one experiment.
  auto lock = detail::FileLock::acquire(root / kLockFile);
  if (!lock) return make_error("tracking: " + lock.error().message);
  found = find();
  if (!found) return tl::unexpected(found.error());
  if (*found) return **found;
  std::int64_t id = std::max(max_numeric_id(root), max_numeric_id(root / kTrash)) + 1;
  for (int attempt = 0; attempt < kMaxClaims; ++attempt, ++id) {
    const fs::path dir = root / std::to_string(id);
    std::error_code ec;
    // mkdir claims the id also against writers that do not take the lock.
    if (!fs::create_directory(dir, ec)) {
      if (ec) return make_error("tracking: " + dir.string() + ": cannot create directory: " + ec.message());
      continue;
    }
    const std::string meta = experiment_meta_yaml(std::to_string(id), name, detail::file_uri(dir), now_ms());
    if (auto ok = detail::write_file_atomic(dir / kMetaFile, meta, dir); !ok) {
      return make_error("tracking: " + ok.error().message);
    }
    return std::to_string(id);
  }
  return make_error("tracking: " + root_ + ": no free experiment id after " + std::to_string(kMaxClaims) + " tries");
}

Expected<std::unique_ptr<Run>> FileTracker::start_run(const std::string& experiment_name, const std::string& run_name,
                                                      const Tags& tags) {
  Tags all;
  std::string name = run_name;
  if (auto it = tags.find("mlflow.runName"); it != tags.end()) {
    if (!name.empty() && name != it->second) {
      return make_error("tracking: run name '" + name + "' and tag mlflow.runName '" + it->second +
                        "' differ (MLflow refuses both)");
    }
    name = it->second;
  }
  for (const auto& [key, value] : tags) {
    if (auto ok = detail::check_key(key, "tag"); !ok) return make_error("tracking: " + ok.error().message);
  }
  auto exp = experiment_id(experiment_name);
  if (!exp) return tl::unexpected(exp.error());

  RunMeta meta;
  meta.run_id = detail::new_uuid_hex();
  meta.experiment_id = *exp;
  meta.run_name = name.empty() ? "run-" + meta.run_id.substr(0, 8) : name;
  meta.user_id = options_.user;
  meta.start_time_ms = now_ms();
  const fs::path dir = fs::path(root_) / *exp / meta.run_id;
  meta.artifact_uri = detail::file_uri(dir / "artifacts");

  all["mlflow.user"] = options_.user;
  if (!options_.source_name.empty()) all["mlflow.source.name"] = options_.source_name;
  all["mlflow.source.type"] = "LOCAL";
  for (const auto& [key, value] : tags) all[key] = value;
  all["mlflow.runName"] = meta.run_name;

  std::error_code ec;
  if (!fs::create_directory(dir, ec)) {
    return make_error("tracking: " + dir.string() + ": cannot create the run directory" +
                      (ec ? ": " + ec.message() : std::string(" (it exists)")));
  }
  for (const char* sub : {"metrics", "params", "artifacts", "tags"}) {
    if (auto ok = detail::make_directories(dir / sub); !ok) return make_error("tracking: " + ok.error().message);
  }
  for (const auto& [key, value] : all) {
    const fs::path file = dir / "tags" / key;
    if (auto ok = detail::make_directories(file.parent_path()); !ok)
      return make_error("tracking: " + ok.error().message);
    if (auto ok = detail::write_file_atomic(file, value, dir); !ok)
      return make_error("tracking: " + ok.error().message);
  }
  // meta.yaml last: until it exists MLflow (and read_run) skip the directory.
  if (auto ok = detail::write_file_atomic(dir / kMetaFile, run_meta_yaml(meta), dir); !ok) {
    return make_error("tracking: " + ok.error().message);
  }
  std::function<std::int64_t()> clock = options_.clock_ms;
  if (!clock) clock = detail::system_now_ms;
  return std::unique_ptr<Run>(new FileRun(dir, std::move(meta), std::move(clock)));
}

Expected<std::string> find_run_dir(const std::string& root, const std::string& run_id) {
  if (run_id.size() != 32 || !std::all_of(run_id.begin(), run_id.end(),
                                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return make_error("tracking: run id '" + run_id + "' is not 32 lowercase hex digits");
  }
  const fs::path dir = detail::normal_absolute(root);
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string id = it->path().filename().string();
    if (id.empty() || id[0] == '.' || id == "models") continue;
    const fs::path run = it->path() / run_id;
    if (fs::is_regular_file(run / kMetaFile, ec)) return run.string();
  }
  return make_error("tracking: no run " + run_id + " in " + dir.string());
}

Expected<RunRecord> read_run(const std::string& root, const std::string& run_id) {
  auto dir = find_run_dir(root, run_id);
  if (!dir) return tl::unexpected(dir.error());
  const fs::path run(*dir);
  auto yaml = read_yaml(run / kMetaFile);
  if (!yaml) return tl::unexpected(yaml.error());
  RunRecord out;
  out.dir = *dir;
  out.run_id = scalar_or(*yaml, "run_id");
  out.experiment_id = scalar_or(*yaml, "experiment_id");
  out.run_name = scalar_or(*yaml, "run_name");
  out.user_id = scalar_or(*yaml, "user_id");
  out.artifact_uri = scalar_or(*yaml, "artifact_uri");
  out.status = static_cast<int>(detail::parse_int64(scalar_or(*yaml, "status", "1")).value_or(1));
  out.start_time_ms = detail::parse_int64(scalar_or(*yaml, "start_time", "0")).value_or(0);
  out.end_time_ms = detail::parse_int64(scalar_or(*yaml, "end_time", "0")).value_or(0);
  auto params = detail::read_key_files(run / "params");
  if (!params) return tl::unexpected(params.error());
  out.params = std::move(*params);
  auto tags = detail::read_key_files(run / "tags");
  if (!tags) return tl::unexpected(tags.error());
  out.tags = std::move(*tags);
  std::error_code ec;
  const fs::path metrics = run / "metrics";
  if (fs::is_directory(metrics, ec)) {
    for (fs::recursive_directory_iterator it(metrics, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      auto points = read_metric_file(it->path());
      if (!points) return tl::unexpected(points.error());
      if (points->empty()) continue;
      MetricPoint best = points->front();
      for (const auto& p : *points) {
        if (later(p, best)) best = p;
      }
      out.metrics.emplace(it->path().lexically_relative(metrics).generic_string(), best);
    }
  }
  return out;
}

Expected<std::vector<MetricPoint>> read_metric_history(const std::string& root, const std::string& run_id,
                                                       const std::string& key) {
  if (auto ok = detail::check_key(key, "metric"); !ok) return make_error("tracking: " + ok.error().message);
  auto dir = find_run_dir(root, run_id);
  if (!dir) return tl::unexpected(dir.error());
  const fs::path file = fs::path(*dir) / "metrics" / key;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::vector<MetricPoint>{};
  return read_metric_file(file);
}

}  // namespace quant::registry
