#pragma once
/// A backup's manifest: every lake file's relative path, size and SHA-256, the
/// time the backup was taken and the tool that took it. Stored as JSON under
/// `manifests/<UTC time>.json`; the file bodies are the objects
/// `objects/<sha256>` (content-addressed: an unchanged, renamed or duplicated
/// file costs no upload).
///
/// {"format": "quant-lake-backup/1", "created": "2026-12-07T09:30:00.123Z",
///  "tool": "quant 0.1.0", "lake": "/srv/lake", "file_count": 2, "bytes": 123,
///  "files": [{"path": "bars_1m/symbol=WIN/year=2021/month=1/data.parquet",
///             "size": 100, "sha256": "..."}, ...]}

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant::backup {

inline constexpr const char* kManifestFormat = "quant-lake-backup/1";

struct ManifestFile {
  std::string path;  ///< relative to the lake root, '/'-separated
  std::int64_t size = 0;
  std::string sha256;  ///< 64 lowercase hex digits
  friend bool operator==(const ManifestFile&, const ManifestFile&) = default;
};

struct Manifest {
  std::string created;  ///< ISO 8601 UTC with milliseconds
  std::string tool;     ///< "quant 0.1.0"
  std::string lake;     ///< the lake directory backed up (for the reader only)
  std::vector<ManifestFile> files;  ///< sorted by path
  [[nodiscard]] std::int64_t bytes() const;
};

/// The object key of a file body.
std::string object_key(std::string_view sha256);

std::string manifest_json(const Manifest& manifest);

/// Parses and checks a manifest: the format, every path relative without
/// "." or ".." parts, every hash 64 hex digits, sizes not negative. Errors
/// name `where` (the manifest's key) and the entry.
Expected<Manifest> parse_manifest(std::string_view text, const std::string& where);

}  // namespace quant::backup
