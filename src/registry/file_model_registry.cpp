// The file-store Registry: MLflow's mlruns/models/ layout (file_registry.h),
// with registered versions' files copied into a run's artifacts.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>

#include <unistd.h>

#include "registry/file_registry.h"
#include "registry/file_tracking.h"
#include "registry/registry.h"
#include "registry/store_io.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using detail::kDeletedStage;
using detail::kManifestFile;
using detail::kMaxClaims;
using detail::kMetaFile;
using detail::read_yaml;
using detail::scalar_or;
using detail::yaml_quote;

constexpr const char* kHistoryFolder = "aliases_history";
constexpr const char* kPromotionLock = ".promotion.lock";

std::int64_t int_or(const FlatYaml& yaml, const std::string& key, std::int64_t fallback = 0) {
  return detail::parse_int64(scalar_or(yaml, key)).value_or(fallback);
}

std::string join(const std::vector<std::string>& items, const char* none = "none") {
  if (items.empty()) return none;
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

/// version-N directory numbers under a model directory (sorted).
std::vector<std::int64_t> version_numbers(const fs::path& model_dir) {
  std::vector<std::int64_t> out;
  std::error_code ec;
  for (fs::directory_iterator it(model_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.rfind("version-", 0) != 0 || !it->is_directory(ec)) continue;
    if (auto v = detail::parse_int64(std::string_view(file).substr(8)); v && *v >= 1) out.push_back(*v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// alias -> version text, from models/<name>/aliases/.
std::map<std::string, std::int64_t> read_aliases(const fs::path& model_dir) {
  std::map<std::string, std::int64_t> out;
  auto files = detail::read_key_files(model_dir / "aliases");
  if (!files) return out;
  for (const auto& [alias, text] : *files) {
    if (auto v = detail::parse_int64(detail::trim(text))) out.emplace(alias, *v);
  }
  return out;
}

std::string version_meta_yaml(const ModelVersionInfo& v) {
  // FileModelVersion's keys as MLflow's yaml.safe_dump writes them (sorted;
  // tags live in tags/, aliases in the model's aliases/).
  const std::string created = std::to_string(v.creation_timestamp_ms);
  return "aliases: []\ncreation_timestamp: " + created + "\ncurrent_stage: None\ndescription: null\n" +
         "last_updated_timestamp: " + std::to_string(v.last_updated_timestamp_ms) + "\nname: " + yaml_quote(v.name) +
         "\nrun_id: " + yaml_quote(v.run_id) + "\nrun_link: null\nsource: " + yaml_quote(v.source) +
         "\nstatus: READY\nstatus_message: null\nstorage_location: " + yaml_quote(v.storage_location) +
         "\nuser_id: " + yaml_quote(v.user_id) + "\nversion: " + std::to_string(v.version) + "\n";
}

std::string model_meta_yaml(const std::string& name, std::int64_t created, std::int64_t updated,
                            const std::string& description) {
  return "creation_timestamp: " + std::to_string(created) + "\ndescription: " + yaml_quote(description) +
         "\nlast_updated_timestamp: " + std::to_string(updated) + "\nname: " + yaml_quote(name) + "\n";
}

class FileRegistry final : public Registry {
 public:
  FileRegistry(fs::path root, TrackingOptions options)
      : root_(std::move(root)), uri_(detail::file_uri(root_)), options_(std::move(options)) {}

  [[nodiscard]] const std::string& uri() const override { return uri_; }

  Expected<std::int64_t> register_version(const std::string& name, const std::string& model_dir,
                                          const std::string& run_id, const Tags& tags) override {
    if (auto ok = detail::check_model_name(name); !ok) return tl::unexpected(ok.error());
    for (const auto& [key, value] : tags) {
      if (auto ok = detail::check_key(key, "tag"); !ok) return fail(ok.error().message);
    }
    if (model_dir.empty()) return fail("model directory for '" + name + "' is empty");
    const fs::path source_dir = detail::normal_absolute(model_dir);
    std::error_code ec;
    if (!fs::is_directory(source_dir, ec)) return fail("model directory " + source_dir.string() + " does not exist");
    if (!fs::is_regular_file(source_dir / kManifestFile, ec)) {
      return fail("no manifest.json in " + source_dir.string() + " (write the model with quant train first)");
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(source_dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    if (ec) return fail(source_dir.string() + ": cannot list: " + ec.message());

    auto tracker = FileTracker::open(root_.string(), options_);
    if (!tracker) return tl::unexpected(tracker.error());
    std::unique_ptr<Run> own_run;
    fs::path run_dir;
    std::string run = run_id;
    if (run.empty()) {
      auto started = (*tracker)->start_run("Default", "register " + name, {{"quant.registry.model", name}});
      if (!started) return tl::unexpected(started.error());
      own_run = std::move(*started);
      run = own_run->run_id();
    }
    auto found = find_run_dir(root_.string(), run);
    if (!found) return fail(found.error().message + " (register with the run that trained the model, or none)");
    run_dir = *found;

    auto stored = copy_model(files, run_dir);
    if (!stored) return tl::unexpected(stored.error());
    const std::string location = detail::file_uri(*stored);

    const fs::path model_path = root_ / "models" / name;
    if (auto ok = detail::make_directories(model_path); !ok) return fail(ok.error().message);
    const std::int64_t now = now_ms();
    if (!fs::exists(model_path / kMetaFile, ec)) {
      if (auto ok = detail::write_file_atomic(model_path / kMetaFile, model_meta_yaml(name, now, now, ""), model_path);
          !ok) {
        return fail(ok.error().message);
      }
    }

    // The next free number, claimed with mkdir (atomic): of concurrent
    // registrations exactly one gets each number, the others try the next.
    const auto existing = version_numbers(model_path);
    std::int64_t version = existing.empty() ? 1 : existing.back() + 1;
    fs::path version_dir;
    for (int attempt = 0;; ++attempt, ++version) {
      if (attempt == kMaxClaims) return fail("no free version number for '" + name + "'");
      version_dir = model_path / ("version-" + std::to_string(version));
      if (fs::create_directory(version_dir, ec)) break;
      if (ec) return fail(version_dir.string() + ": cannot create directory: " + ec.message());
    }
    for (const auto& [key, value] : tags) {
      const fs::path file = version_dir / "tags" / key;
      if (auto ok = detail::make_directories(file.parent_path()); !ok) return fail(ok.error().message);
      if (auto ok = detail::write_file_atomic(file, value, version_dir); !ok) return fail(ok.error().message);
    }
    ModelVersionInfo v;
    v.name = name;
    v.version = version;
    v.creation_timestamp_ms = now;
    v.last_updated_timestamp_ms = now;
    v.run_id = run;
    v.source = location;
    v.storage_location = location;
    v.user_id = options_.user;
    // meta.yaml last: the version exists for readers once it does, tags included.
    if (auto ok = detail::write_file_atomic(version_dir / kMetaFile, version_meta_yaml(v), version_dir); !ok) {
      return fail(ok.error().message);
    }
    touch_model(model_path, now);
    if (own_run) {
      if (auto ok = own_run->end(RunStatus::Finished); !ok) return tl::unexpected(ok.error());
    }
    return version;
  }

  Expected<void> set_alias(const std::string& name, const std::string& alias, std::int64_t version) override {
    if (auto ok = detail::check_settable_alias(alias); !ok) return ok;
    auto v = get_version(name, version);
    if (!v) return tl::unexpected(v.error());
    return registry::set_alias(root_.string(), name, alias, version);
  }

  Expected<void> delete_alias(const std::string& name, const std::string& alias) override {
    if (auto ok = detail::check_alias_chars(alias); !ok) return ok;
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    const fs::path file = *model / "aliases" / alias;
    if (::unlink(file.c_str()) != 0) {
      if (errno == ENOENT) return fail(no_alias(name, alias, *model));
      return fail(file.string() + ": cannot remove: " + detail::errno_text(errno));
    }
    return detail::fsync_path(file.parent_path(), true);
  }

  Expected<ModelVersionInfo> get_alias(const std::string& name, const std::string& alias) override {
    if (auto ok = detail::check_alias_chars(alias); !ok) return tl::unexpected(ok.error());
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    const auto aliases = read_aliases(*model);
    const auto it = aliases.find(alias);
    if (it == aliases.end()) return fail(no_alias(name, alias, *model));
    return get_version(name, it->second);
  }

  Expected<ModelVersionInfo> get_version(const std::string& name, std::int64_t version) override {
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    auto v = read_version(*model, version);
    if (!v) return tl::unexpected(v.error());
    if (!*v) {
      std::vector<std::string> have;
      for (const auto& info : versions_of(*model)) have.push_back(std::to_string(info.version));
      return fail("model '" + name + "' has no version " + std::to_string(version) + " (versions: " + join(have) + ")");
    }
    return **v;
  }

  Expected<std::vector<RegisteredModelInfo>> list_models() override {
    std::vector<RegisteredModelInfo> out;
    for (const auto& name : model_names()) {
      auto info = get_model(name);
      if (!info) return tl::unexpected(info.error());
      out.push_back(std::move(*info));
    }
    return out;
  }

  Expected<RegisteredModelInfo> get_model(const std::string& name) override {
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    auto yaml = read_yaml(*model / kMetaFile);
    if (!yaml) return tl::unexpected(yaml.error());
    RegisteredModelInfo info;
    info.name = name;
    info.creation_timestamp_ms = int_or(*yaml, "creation_timestamp");
    info.last_updated_timestamp_ms = int_or(*yaml, "last_updated_timestamp");
    info.description = scalar_or(*yaml, "description");
    info.aliases = read_aliases(*model);
    for (const auto& v : versions_of(*model)) {
      ++info.version_count;
      info.latest_version = std::max(info.latest_version, v.version);
    }
    return info;
  }

  Expected<std::vector<ModelVersionInfo>> list_versions(const std::string& name) override {
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    std::vector<ModelVersionInfo> out;
    for (const auto n : version_numbers(*model)) {
      auto v = read_version(*model, n);
      if (!v) return tl::unexpected(v.error());
      if (*v) out.push_back(std::move(**v));
    }
    return out;
  }

  Expected<std::vector<AliasChange>> alias_history(const std::string& name, const std::string& alias) override {
    if (auto ok = detail::check_alias_chars(alias); !ok) return tl::unexpected(ok.error());
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    return read_history(history_file(*model, alias));
  }

  Expected<AliasChange> promote(const std::string& name, std::int64_t version, const std::string& alias,
                                const std::string& decision_json, const std::string& reason) override {
    if (auto ok = detail::check_settable_alias(alias); !ok) return tl::unexpected(ok.error());
    auto decision = detail::normalise_decision(decision_json);
    if (!decision) return fail("promote '" + name + "': " + decision.error().message);
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    auto lock = detail::FileLock::acquire(*model / kPromotionLock);
    if (!lock) return fail(lock.error().message);
    auto target = get_version(name, version);
    if (!target) return tl::unexpected(target.error());
    const auto aliases = read_aliases(*model);
    std::optional<std::int64_t> current;
    if (auto it = aliases.find(alias); it != aliases.end()) current = it->second;
    if (auto ok = detail::check_promotion(name, version, target->status, alias, current); !ok) {
      return fail(ok.error().message);
    }
    return record_and_move(*model, name, alias, "promote", current, version, reason, *decision);
  }

  Expected<AliasChange> rollback(const std::string& name, const std::string& alias,
                                 const std::string& reason) override {
    if (auto ok = detail::check_settable_alias(alias); !ok) return tl::unexpected(ok.error());
    auto model = require_model(name);
    if (!model) return tl::unexpected(model.error());
    auto lock = detail::FileLock::acquire(*model / kPromotionLock);
    if (!lock) return fail(lock.error().message);
    auto history = read_history(history_file(*model, alias));
    if (!history) return tl::unexpected(history.error());
    auto target = detail::rollback_target(*history, alias);
    if (!target) return fail("rollback '" + name + "': " + target.error().message);
    if (auto v = get_version(name, *target); !v) return tl::unexpected(v.error());
    const auto aliases = read_aliases(*model);
    std::optional<std::int64_t> current;
    if (auto it = aliases.find(alias); it != aliases.end()) current = it->second;
    return record_and_move(*model, name, alias, "rollback", current, *target, reason, "{}");
  }

 private:
  [[nodiscard]] std::int64_t now_ms() const {
    return options_.clock_ms ? options_.clock_ms() : detail::system_now_ms();
  }

  [[nodiscard]] tl::unexpected<Error> fail(const std::string& what) const {
    return tl::unexpected<Error>(Error{"registry " + root_.string() + ": " + what});
  }

  std::vector<std::string> model_names() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(root_ / "models", ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && fs::is_regular_file(it->path() / kMetaFile, ec)) {
        out.push_back(it->path().filename().string());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Expected<fs::path> require_model(const std::string& name) const {
    if (auto ok = detail::check_model_name(name); !ok) return tl::unexpected(ok.error());
    const fs::path dir = root_ / "models" / name;
    std::error_code ec;
    if (fs::is_regular_file(dir / kMetaFile, ec)) return dir;
    const auto names = model_names();
    return fail("no model '" + name + "' (" +
                (names.empty() ? std::string("no models are registered") : "models: " + join(names)) + ")");
  }

  static std::string no_alias(const std::string& name, const std::string& alias, const fs::path& model) {
    std::vector<std::string> have;
    for (const auto& [a, v] : read_aliases(model)) have.push_back(a + "=" + std::to_string(v));
    return "model '" + name + "' has no alias '" + alias + "' (aliases: " + join(have) + ")";
  }

  /// nullopt for a version directory without meta.yaml (being registered) or a deleted version.
  Expected<std::optional<ModelVersionInfo>> read_version(const fs::path& model, std::int64_t n) const {
    const fs::path dir = model / ("version-" + std::to_string(n));
    std::error_code ec;
    if (!fs::is_regular_file(dir / kMetaFile, ec)) return std::optional<ModelVersionInfo>();
    auto yaml = read_yaml(dir / kMetaFile);
    if (!yaml) return tl::unexpected(yaml.error());
    ModelVersionInfo v;
    v.name = scalar_or(*yaml, "name", model.filename().string());
    v.version = int_or(*yaml, "version", n);
    v.creation_timestamp_ms = int_or(*yaml, "creation_timestamp");
    v.last_updated_timestamp_ms = int_or(*yaml, "last_updated_timestamp");
    v.current_stage = scalar_or(*yaml, "current_stage", "None");
    if (v.current_stage == kDeletedStage) return std::optional<ModelVersionInfo>();
    v.status = scalar_or(*yaml, "status", "READY");
    v.source = scalar_or(*yaml, "source");
    v.storage_location = scalar_or(*yaml, "storage_location", v.source);
    v.run_id = scalar_or(*yaml, "run_id");
    v.user_id = scalar_or(*yaml, "user_id");
    for (const auto& [alias, version] : read_aliases(model)) {
      if (version == n) v.aliases.push_back(alias);
    }
    auto tags = detail::read_key_files(dir / "tags");
    if (!tags) return tl::unexpected(tags.error());
    v.tags = std::move(*tags);
    if (!v.run_id.empty()) {
      // The run may live in another store: then the version simply has no metrics here.
      if (auto run = read_run(root_.string(), v.run_id)) {
        for (const auto& [key, point] : run->metrics) v.metrics.emplace(key, point.value);
      }
    }
    return std::optional<ModelVersionInfo>(std::move(v));
  }

  std::vector<ModelVersionInfo> versions_of(const fs::path& model) const {
    std::vector<ModelVersionInfo> out;
    for (const auto n : version_numbers(model)) {
      if (auto v = read_version(model, n); v && *v) out.push_back(std::move(**v));
    }
    return out;
  }

  /// Copies `files` into <run>/artifacts/model (or model-2, ...): assembled in
  /// a temporary directory in the run directory, then renamed into place, so
  /// the artifact directory appears complete or not at all.
  Expected<fs::path> copy_model(const std::vector<fs::path>& files, const fs::path& run_dir) const {
    static std::atomic<std::uint64_t> counter{0};
    const fs::path temp =
        run_dir / (".model.tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)));
    std::error_code ec;
    fs::remove_all(temp, ec);
    if (auto ok = detail::make_directories(temp); !ok) return fail(ok.error().message);
    const auto cleanup = [&] { fs::remove_all(temp, ec); };
    for (const auto& file : files) {
      if (auto ok = detail::copy_file_atomic(file, temp / file.filename()); !ok) {
        cleanup();
        return fail(ok.error().message);
      }
    }
    const fs::path artifacts = run_dir / "artifacts";
    if (auto ok = detail::make_directories(artifacts); !ok) {
      cleanup();
      return fail(ok.error().message);
    }
    for (int k = 1; k <= kMaxClaims; ++k) {
      const fs::path dest = artifacts / (k == 1 ? std::string("model") : "model-" + std::to_string(k));
      if (fs::exists(dest, ec)) continue;
      if (::rename(temp.c_str(), dest.c_str()) == 0) {
        if (auto ok = detail::fsync_path(artifacts, true); !ok) return fail(ok.error().message);
        return dest;
      }
      if (errno != EEXIST && errno != ENOTEMPTY) {
        const int err = errno;
        cleanup();
        return fail("cannot rename " + temp.string() + " to " + dest.string() + ": " + detail::errno_text(err));
      }
    }
    cleanup();
    return fail(artifacts.string() + ": no free model artifact directory");
  }

  /// Bumps last_updated_timestamp, as MLflow does on a new version. Two
  /// writers may race here; either timestamp is right, so a lost update is harmless.
  void touch_model(const fs::path& model, std::int64_t now) const {
    auto yaml = read_yaml(model / kMetaFile);
    if (!yaml) return;
    const std::string text = model_meta_yaml(model.filename().string(), int_or(*yaml, "creation_timestamp", now), now,
                                             scalar_or(*yaml, "description"));
    (void)detail::write_file_atomic(model / kMetaFile, text, model);
  }

  static fs::path history_file(const fs::path& model, const std::string& alias) {
    return model / kHistoryFolder / (alias + ".jsonl");
  }

  static Expected<std::vector<AliasChange>> read_history(const fs::path& file) {
    std::vector<AliasChange> out;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return out;
    auto text = detail::read_text(file);
    if (!text) return tl::unexpected(text.error());
    std::size_t pos = 0;
    std::size_t line_no = 0;
    while (pos < text->size()) {
      const auto eol = text->find('\n', pos);
      const std::string line = text->substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      pos = eol == std::string::npos ? text->size() : eol + 1;
      ++line_no;
      if (detail::trim(line).empty()) continue;
      auto change = detail::parse_alias_change(line, file.string() + ":" + std::to_string(line_no));
      if (!change) return tl::unexpected(change.error());
      out.push_back(std::move(*change));
    }
    return out;
  }

  /// The history line first (fsynced), then the alias: a crash between the
  /// two leaves a record whose alias did not move, and a rollback from there
  /// returns to `from`, where the alias still is.
  Expected<AliasChange> record_and_move(const fs::path& model, const std::string& name, const std::string& alias,
                                        const std::string& action, std::optional<std::int64_t> from, std::int64_t to,
                                        const std::string& reason, const std::string& decision) {
    AliasChange c = detail::make_alias_change(now_ms(), options_.user, action, alias, from, to, reason, decision);
    const fs::path file = history_file(model, alias);
    if (auto ok = detail::make_directories(file.parent_path()); !ok) return fail(ok.error().message);
    if (auto ok = detail::append_durably(file, detail::alias_change_json(c) + "\n"); !ok)
      return fail(ok.error().message);
    if (auto ok = registry::set_alias(root_.string(), name, alias, to); !ok) return tl::unexpected(ok.error());
    return c;
  }

  fs::path root_;
  std::string uri_;
  TrackingOptions options_;
};

}  // namespace

Expected<std::unique_ptr<Registry>> open_file_registry(const std::string& root, const TrackingOptions& options) {
  if (root.empty()) return make_error("registry: the store directory is empty");
  return std::unique_ptr<Registry>(new FileRegistry(detail::normal_absolute(root), options));
}

}  // namespace quant::registry
