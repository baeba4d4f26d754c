#pragma once
/// The model registry in MLflow's file-store layout (below): the offline path
/// for finding which model directory a registry alias or version names, plus
/// the writers tests and the later registry step (promotion, REST client) use
/// to produce the same layout.
///
/// ```
/// <root>/models/<name>/meta.yaml               name, creation_timestamp, ...
/// <root>/models/<name>/aliases/<alias>         the version number, as text
/// <root>/models/<name>/version-<N>/meta.yaml   name, version, creation_timestamp,
///                                              current_stage, status, source,
///                                              run_id, storage_location
/// ```
///
/// `<root>` is MLflow's tracking directory (`mlruns/`). Only flat `key: value`
/// lines of scalars are read from meta.yaml (no YAML library): lists, maps and
/// block scalars are recognised and skipped, and are an error only when a key
/// this module needs holds one.
///
/// Thread safety: every function is safe to call concurrently. A reader never
/// sees a half-written file: each file is written to a temporary name beside
/// it, flushed to disk and renamed over the final name.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/error.h"

namespace quant::registry {

/// What an alias or version of a registered model resolved to.
struct ResolvedModel {
  std::string name;      ///< registered model name
  std::int64_t version;  ///< registry version number, >= 1
  std::string alias;     ///< the alias that was resolved; empty when a version number was given
  std::string dir;       ///< absolute, lexically normal directory holding manifest.json
};

/// Finds the model directory of `name` at `alias_or_version` in the registry
/// under `root`. `alias_or_version` is a decimal version (e.g. "3") or an
/// alias name (e.g. "champion"; letters, digits, '_' and '-').
///
/// Reads `models/<name>/meta.yaml` (must exist), the alias file (its
/// whitespace-trimmed text is the version), then `version-<N>/meta.yaml`,
/// whose `name` and `version` must match, whose `status` (when present) must
/// be READY and whose `current_stage` must not be MLflow's `Deleted_Internal`.
/// The model lives at `storage_location` (or `source` when that is absent or
/// null): a `file:` URI (`file:///abs`, `file:/abs`, `file://localhost/abs`,
/// percent-decoded), an absolute path, or a path relative to `root`; that
/// directory must exist and contain `manifest.json`. Other URI schemes
/// (`s3://`, `runs:/`, `models:/`, ...) need the REST client and fail here.
///
/// Fails with a message naming the file and what is wrong: unknown model,
/// missing alias file (listing the aliases that exist), alias file not holding
/// a version number, missing meta.yaml, missing or non-scalar key, mismatching
/// name/version, status not READY, deleted version, unsupported location,
/// directory absent, no manifest.json.
Expected<ResolvedModel> resolve(const std::string& root, const std::string& name, const std::string& alias_or_version);

/// Registers `model_dir` (which must contain manifest.json) as version
/// `version` (>= 1) of `name`: creates `models/<name>/meta.yaml` when absent
/// and writes `version-<N>/meta.yaml` with name, version, creation_timestamp,
/// last_updated_timestamp, current_stage None, status READY, run_id '' and
/// `source` = `storage_location` = the absolute `file://` URI of `model_dir`.
/// `creation_timestamp_ms` is milliseconds since the Unix epoch; omitted means
/// the system clock (pass it for byte-identical output in tests).
///
/// Versions are immutable: fails when `version-<N>` already exists (creating
/// that directory is the atomic claim, so two writers cannot both register N),
/// and on an invalid name, version < 1, a missing manifest.json or I/O errors
/// (naming the path).
Expected<void> write_version(const std::string& root, const std::string& name, std::int64_t version,
                             const std::string& model_dir,
                             std::optional<std::int64_t> creation_timestamp_ms = std::nullopt);

/// Points `alias` of `name` at `version`, which must already be registered
/// (its meta.yaml exists). The alias file is replaced atomically, so a
/// concurrent `resolve` sees the old or the new version, never a partial file.
/// Fails on an invalid alias (allowed: letters, digits, '_' and '-'; not all
/// digits, which would read as a version; not MLflow's reserved `latest` or
/// `v<digits>`), an unregistered version or I/O errors.
Expected<void> set_alias(const std::string& root, const std::string& name, const std::string& alias,
                         std::int64_t version);

/// The top-level keys of a flat YAML mapping as meta.yaml files hold them.
struct FlatYaml {
  std::map<std::string, std::string> scalars;  ///< key -> value, quotes removed, escapes applied
  std::set<std::string> nulls;                 ///< `key:`, `key: null`, `key: ~`
  std::set<std::string> nested;                ///< lists, maps, flow collections, block scalars (not read)
};

/// Parses the flat `key: value` lines of a YAML mapping: plain scalars (a
/// trailing ` # comment` removed), 'single-quoted' ('' is a quote) and
/// "double-quoted" (\\ \" \n \t \/ escapes) values; blank lines, comments and
/// `---` / `...` markers are skipped; indented or `- ` lines belong to the key
/// above them, which is then `nested`. Fails, naming `origin` and the line
/// number, on a top-level line that is not `key: value`, an unterminated
/// quote, text after a closing quote, or a duplicate key.
Expected<FlatYaml> parse_flat_yaml(std::string_view text, const std::string& origin);

}  // namespace quant::registry
