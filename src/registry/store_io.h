#pragma once
/// File primitives shared by the registry's file stores (file_registry,
/// file_tracking, file_model_registry): atomic writes, fsync'd appends,
/// copies, an advisory lock, the names MLflow accepts, YAML and URI text.
/// Internal to src/registry (namespace `detail`); not a public API.
///
/// Thread safety: every function is safe to call concurrently.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/file_io.h"
#include "registry/file_registry.h"

namespace quant::registry::detail {

namespace fs = std::filesystem;

/// The metadata file of every experiment, run, model and version directory (MLflow's layout).
inline constexpr std::string_view kMetaFile = "meta.yaml";
/// The file that makes a directory a model as `quant train` writes one.
inline constexpr std::string_view kManifestFile = "manifest.json";
/// MLflow's FileStore marks a deleted version with this stage instead of removing its directory.
inline constexpr std::string_view kDeletedStage = "Deleted_Internal";
/// How many names (version numbers, experiment ids, history files) a store
/// tries to claim by creating them before it gives up.
inline constexpr int kMaxClaims = 10000;

/// `s` is not empty and every character is a decimal digit.
bool all_digits(std::string_view s);

/// strerror text of `err` (thread-safe).
std::string errno_text(int err);

/// `s` without leading and trailing blanks (space, tab, CR, LF).
std::string_view trim(std::string_view s);

/// Milliseconds since the Unix epoch from the system clock.
std::int64_t system_now_ms();

/// 32 lowercase hex digits of a random (version 4) UUID, as Python's
/// `uuid.uuid4().hex`: MLflow's run id format.
std::string new_uuid_hex();

/// The whole file; the error names the path.
Expected<std::string> read_text(const fs::path& path);

/// A flat YAML file (parse_flat_yaml); errors name the path.
Expected<FlatYaml> read_yaml(const fs::path& path);

/// The scalar at `key`, or `fallback` when it is absent, null or nested.
std::string scalar_or(const FlatYaml& yaml, const std::string& key, const std::string& fallback = "");

/// Every regular file under `dir`, recursively: key = its path relative to
/// `dir` ('/'-separated), value = its contents (how MLflow reads params/,
/// tags/ and aliases/). An absent `dir` gives an empty map.
Expected<std::map<std::string, std::string>> read_key_files(const fs::path& dir);

/// The durable writes are core's (core/file_io.h), named here as the
/// registry's code has always called them.
using quant::fsync_path;
using quant::write_file_atomic;

/// Appends `text` with one write(2) on an O_APPEND descriptor (so lines of
/// concurrent writers do not interleave) and fsyncs; creates the file.
Expected<void> append_durably(const fs::path& path, const std::string& text);

/// Copies regular file `from` to `to` through a temporary name beside `to`
/// (fsynced, renamed): `to` is either absent or complete.
Expected<void> copy_file_atomic(const fs::path& from, const fs::path& to);

/// create_directories with an error naming the directory.
Expected<void> make_directories(const fs::path& dir);

/// Absolute, lexically normal, without a trailing separator.
fs::path normal_absolute(const fs::path& p);

/// `file://` URI of an absolute path (unreserved characters and '/' kept,
/// everything else percent-encoded), as MLflow's `path_to_local_file_uri`.
std::string file_uri(const fs::path& absolute_path);

/// A location as a local path: a `file:` URI (`file:///abs`, `file:/abs`,
/// `file://localhost/abs`, percent-decoded), an absolute path, or a path
/// relative to `root`. Other schemes fail; `where` prefixes every error.
Expected<fs::path> location_path(const std::string& location, const fs::path& root, const std::string& where);

/// A YAML single-quoted scalar ('' for a quote), the form that keeps any
/// text a string for YAML readers ("123", "null", "True" ...).
std::string yaml_quote(std::string_view s);

/// `value` as Python's repr(float) would print it in the common cases
/// ("0.5", "3.0", "1e-05", "nan", "inf", "-inf"): the text MLflow writes in
/// metric files. Round-trips exactly.
std::string format_metric_value(double value);

/// A decimal integer (optional '-'), the whole of `s`; nullopt otherwise.
std::optional<std::int64_t> parse_int64(std::string_view s);

/// Registered model names become one path component: not empty, not "." or
/// "..", no '/', '\\', '%' (as MLflow) or control characters.
Expected<void> check_model_name(const std::string& name);

/// Alias names: letters, digits, '_' and '-', 1..255 characters.
Expected<void> check_alias_chars(const std::string& alias);

/// An alias a registry may set: check_alias_chars, not all digits (it would
/// read as a version number), not MLflow's reserved `latest` / `v<digits>`.
Expected<void> check_settable_alias(const std::string& alias);

/// Param, metric and tag keys as MLflow accepts them (`_validate_metric_name`):
/// letters, digits, '_', '-', '.', ' ', ':' and '/'; a normal relative path
/// (no leading or trailing '/', no empty, "." or ".." component), at most
/// 250 characters. `what` ("param", "metric", "tag") names the kind.
Expected<void> check_key(const std::string& key, std::string_view what);

/// A relative artifact path ("", "report", "a/b"): no leading '/', no "." or
/// ".." components, no control characters.
Expected<void> check_artifact_path(const std::string& path);

/// An exclusive advisory lock (flock) on a lock file, held until destruction.
/// Works between processes and between threads of one process (each lock
/// opens its own file description); released by the kernel if the process dies.
class FileLock {
 public:
  /// Blocks until the lock on `path` (created when absent) is held.
  static Expected<FileLock> acquire(const fs::path& path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace quant::registry::detail
