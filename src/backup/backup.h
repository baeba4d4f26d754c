#pragma once
/// Lake backup and restore over an `ObjectStore` (S3-compatible bucket or a
/// directory). Incremental by content: a backup hashes the lake's files (a
/// size + mtime + ctime + inode cache skips unchanged ones), uploads only the objects
/// the store does not hold yet, and writes its manifest last, so an
/// interrupted backup never leaves a manifest naming a missing object and a
/// rerun uploads only what is missing. A restore checks every file's SHA-256
/// in a staging directory before anything is moved into the target.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/manifest.h"
#include "backup/object_store.h"
#include "core/error.h"

namespace quant::backup {

/// A long step's progress: `what` ("hash", "upload", "download"), units done
/// of total (bytes).
using StepProgress = std::function<void(std::string_view what, std::int64_t done, std::int64_t total)>;

/// The local hash cache, `<lake>/.backup-cache.json`.
inline constexpr const char* kHashCacheName = ".backup-cache.json";

struct ScanStats {
  std::int64_t hashed_files = 0, hashed_bytes = 0;  ///< read and hashed this time
  std::int64_t cached_files = 0;                    ///< taken from the cache (same size, mtime, ctime, inode)
};

/// Every regular file under `root` except names starting with '.' (locks,
/// temporaries, derived caches such as `.bars.cache`), sorted by path, with
/// its SHA-256. `use_cache` trusts the cache for a file whose size, mtime,
/// ctime and inode are unchanged and whose ctime was at least 2 s older than
/// the cache when it was written (ctime moves on every write and cannot be set
/// back, and a write in the same clock tick is never missed);
/// the cache is rewritten afterwards (silently skipped if the lake is read-only).
Expected<std::vector<ManifestFile>> scan_lake(const std::string& root, bool use_cache, const StepProgress& progress,
                                              ScanStats* stats);

struct BackupOptions {
  std::string lake_root;
  std::string tool;        ///< recorded in the manifest
  bool dry_run = false;    ///< hash and list, upload nothing
  bool use_cache = true;   ///< false: hash every file again
};

struct BackupResult {
  std::string manifest_key;  ///< empty when nothing changed (no new manifest) or dry run
  std::string latest_key;    ///< the previous manifest, when the lake is unchanged since it
  std::int64_t files = 0, bytes = 0;                     ///< the lake
  std::int64_t uploaded_objects = 0, uploaded_bytes = 0;  ///< objects sent (or to send, dry run)
  std::int64_t skipped_files = 0;                        ///< files whose object the store already held
  ScanStats scan;
};

Expected<BackupResult> run_backup(ObjectStore& store, const BackupOptions& options, const StepProgress& progress);

/// One manifest in a store.
struct BackupEntry {
  std::string name;  ///< "20261207T093000.123Z" (the key without manifests/ and .json)
  std::string created;
  std::int64_t files = 0, bytes = 0;
};

/// Every manifest, oldest first (read, so `files` and `bytes` are real).
Expected<std::vector<BackupEntry>> list_backups(ObjectStore& store);

/// The manifest named `name` (a name from list_backups, with or without
/// ".json" or "manifests/"), or the latest when `name` is empty; `key` gets
/// its key.
Expected<Manifest> load_manifest(ObjectStore& store, const std::string& name, std::string* key);

struct RestoreOptions {
  std::string target;    ///< the lake directory to restore into
  std::string manifest;  ///< empty = the latest
  bool force = false;    ///< restore into a non-empty directory (files of the backup replaced, others kept)
  bool dry_run = false;  ///< check the manifest and the target, download nothing
};

struct RestoreResult {
  std::string manifest_key;
  std::int64_t files = 0, bytes = 0;
  std::int64_t downloaded_objects = 0, downloaded_bytes = 0;
};

/// Downloads every object of the manifest into a staging directory beside
/// the target, checks each SHA-256 and size, then moves the files into place
/// (a whole new directory by one rename when the target is absent or empty).
/// A corrupt or missing object fails naming the lake file, and the target is
/// left as it was. A non-empty target is refused unless `force`.
Expected<RestoreResult> run_restore(ObjectStore& store, const RestoreOptions& options, const StepProgress& progress);

}  // namespace quant::backup
