#include "backup/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/sha256.h"

namespace quant::backup {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kRacyWindowNs = 2'000'000'000;

struct CacheEntry {
  std::int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
  std::uint64_t inode = 0;
  std::string sha256;
};

std::map<std::string, CacheEntry> read_cache(const fs::path& file) {
  std::map<std::string, CacheEntry> out;
  std::ifstream in(file);
  if (!in) return out;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != 2 || !j.contains("files")) return out;
  for (const auto& [path, e] : j["files"].items()) {
    if (!e.is_array() || e.size() != 5 || !e[4].is_string()) continue;
    out[path] = CacheEntry{e[0].get<std::int64_t>(), e[1].get<std::int64_t>(), e[2].get<std::int64_t>(),
                           e[3].get<std::uint64_t>(), e[4].get<std::string>()};
  }
  return out;
}

void write_cache(const fs::path& file, const std::map<std::string, CacheEntry>& entries) {
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [path, e] : entries) {
    // ctime changes on every write and cannot be set back (unlike mtime,
    // which touch and tar restore), but a second write within the clock's
    // resolution could keep it: only entries whose ctime is comfortably
    // older than now are remembered.
    if (e.ctime_ns > now_ns - kRacyWindowNs) continue;
    files[path] = {e.size, e.mtime_ns, e.ctime_ns, e.inode, e.sha256};
  }
  // A read-only lake: no cache, every run hashes.
  (void)write_file_atomic(file, nlohmann::json{{"version", 2}, {"files", files}}.dump(), file.parent_path());
}

std::string utc_now(bool compact) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, compact ? "%Y%m%dT%H%M%S" : "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

bool hidden(const fs::path& relative) {
  for (const auto& part : relative) {
    const std::string s = part.string();
    if (!s.empty() && s.front() == '.') return true;
  }
  return false;
}

std::string manifest_name(const std::string& key) {
  std::string name = key;
  if (name.rfind("manifests/", 0) == 0) name.erase(0, 10);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) name.resize(name.size() - 5);
  return name;
}

}  // namespace

Expected<std::vector<ManifestFile>> scan_lake(const std::string& root, bool use_cache, const StepProgress& progress,
                                              ScanStats* stats) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return make_error("lake " + root + " is not a directory");
  struct Found {
    std::string path;
    fs::path full;
    struct stat st {};
  };
  std::vector<Found> found;
  std::int64_t total = 0;
  // Relative paths by text, not fs::relative (a realpath per file, and a
  // symlinked file would be named by its target, maybe outside the lake).
  const fs::path base = fs::path(root).lexically_normal();
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::path rel = it->path().lexically_relative(base);
    if (hidden(rel)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    Found f;
    f.path = rel.generic_string();
    f.full = it->path();
    if (::stat(f.full.c_str(), &f.st) != 0) return make_error("cannot stat " + f.full.string());
    total += f.st.st_size;
    found.push_back(std::move(f));
  }
  if (ec) return make_error("cannot list lake " + root + ": " + ec.message());
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.path < b.path; });

  const fs::path cache_file = fs::path(root) / kHashCacheName;
  std::map<std::string, CacheEntry> cache = use_cache ? read_cache(cache_file) : std::map<std::string, CacheEntry>{};
  std::map<std::string, CacheEntry> next;
  std::vector<ManifestFile> out;
  std::int64_t done = 0;
  ScanStats local;
  for (const Found& f : found) {
    CacheEntry e{static_cast<std::int64_t>(f.st.st_size),
                 static_cast<std::int64_t>(f.st.st_mtim.tv_sec) * 1'000'000'000 + f.st.st_mtim.tv_nsec,
                 static_cast<std::int64_t>(f.st.st_ctim.tv_sec) * 1'000'000'000 + f.st.st_ctim.tv_nsec,
                 static_cast<std::uint64_t>(f.st.st_ino), ""};
    const auto hit = cache.find(f.path);
    if (hit != cache.end() && hit->second.size == e.size && hit->second.mtime_ns == e.mtime_ns &&
        hit->second.ctime_ns == e.ctime_ns && hit->second.inode == e.inode) {
      e.sha256 = hit->second.sha256;
      ++local.cached_files;
    } else {
      auto sha = sha256_file_hex(f.full.string());
      if (!sha) return tl::unexpected(sha.error());
      e.sha256 = *sha;
      ++local.hashed_files;
      local.hashed_bytes += e.size;
    }
    done += e.size;
    if (progress) progress("hash", done, total);
    out.push_back({f.path, e.size, e.sha256});
    next[f.path] = e;
  }
  write_cache(cache_file, next);
  if (stats != nullptr) *stats = local;
  return out;
}

Expected<std::vector<BackupEntry>> list_backups(ObjectStore& store) {
  auto keys = store.list("manifests/");
  if (!keys) return tl::unexpected(keys.error());
  std::vector<BackupEntry> out;
  for (const auto& info : *keys) {
    if (info.key.size() < 5 || info.key.compare(info.key.size() - 5, 5, ".json") != 0) continue;
    auto text = store.get_bytes(info.key);
    if (!text) return tl::unexpected(text.error());
    auto m = parse_manifest(*text, info.key);
    if (!m) return tl::unexpected(m.error());
    out.push_back({manifest_name(info.key), m->created, static_cast<std::int64_t>(m->files.size()), m->bytes()});
  }
  return out;
}

Expected<Manifest> load_manifest(ObjectStore& store, const std::string& name, std::string* key) {
  std::string chosen;
  if (name.empty()) {
    auto keys = store.list("manifests/");
    if (!keys) return tl::unexpected(keys.error());
    for (const auto& info : *keys)
      if (info.key.size() > 5 && info.key.compare(info.key.size() - 5, 5, ".json") == 0) chosen = info.key;
    if (chosen.empty()) return make_error("no backup in " + store.describe() + " (no manifests/*.json)");
  } else {
    chosen = "manifests/" + manifest_name(name) + ".json";
  }
  auto text = store.get_bytes(chosen);
  if (!text) {
    if (!name.empty()) {
      return make_error("no backup named " + manifest_name(name) + " in " + store.describe() +
                        " (quant lake backups --from DEST lists them): " + text.error().message);
    }
    return tl::unexpected(text.error());
  }
  if (key != nullptr) *key = chosen;
  return parse_manifest(*text, chosen);
}

Expected<BackupResult> run_backup(ObjectStore& store, const BackupOptions& options, const StepProgress& progress) {
  BackupResult r;
  auto files = scan_lake(options.lake_root, options.use_cache, progress, &r.scan);
  if (!files) return tl::unexpected(files.error());
  r.files = static_cast<std::int64_t>(files->size());
  for (const auto& f : *files) r.bytes += f.size;

  auto present = store.list("objects/");
  if (!present) return tl::unexpected(present.error());
  std::map<std::string, std::int64_t> have;
  for (const auto& info : *present) have[info.key] = info.size;

  // One upload per distinct content; an object of the wrong size (which a
  // complete upload never leaves) is sent again.
  std::vector<const ManifestFile*> uploads;
  std::set<std::string> queued;
  std::int64_t upload_bytes = 0;
  for (const auto& f : *files) {
    const std::string key = object_key(f.sha256);
    const auto it = have.find(key);
    if (it != have.end() && it->second == f.size) {
      ++r.skipped_files;
      continue;
    }
    if (!queued.insert(key).second) {
      ++r.skipped_files;
      continue;
    }
    uploads.push_back(&f);
    upload_bytes += f.size;
  }
  r.uploaded_objects = static_cast<std::int64_t>(uploads.size());
  r.uploaded_bytes = upload_bytes;

  Manifest m;
  m.created = utc_now(false);
  m.tool = options.tool;
  m.lake = fs::absolute(options.lake_root).lexically_normal().string();
  m.files = *files;

  // The lake unchanged since the latest backup (and all its objects there):
  // nothing to upload and no new manifest to keep.
  std::string latest_key;
  if (uploads.empty()) {
    auto latest = load_manifest(store, "", &latest_key);
    if (latest && latest->files == m.files) {
      r.latest_key = latest_key;
      return r;
    }
  }
  if (options.dry_run) return r;

  std::int64_t sent = 0;
  for (const ManifestFile* f : uploads) {
    const std::string full = (fs::path(options.lake_root) / f->path).string();
    auto put = store.put_file(object_key(f->sha256), full, f->sha256, [&](std::int64_t bytes) {
      if (progress) progress("upload", sent + bytes, upload_bytes);
    });
    if (!put) return make_error("uploading " + f->path + ": " + put.error().message);
    sent += f->size;
    if (progress) progress("upload", sent, upload_bytes);
  }
  // The manifest last: it only ever names objects already stored. Its name must
  // sort after every earlier one (the latest backup is the last key listed): a
  // backup within the same millisecond as the previous one waits for the next.
  auto names = store.list("manifests/");
  if (!names) return make_error("listing the manifests: " + names.error().message);
  std::string last;
  for (const auto& info : *names) last = std::max(last, info.key);
  r.manifest_key = "manifests/" + utc_now(true) + ".json";
  for (int waited_ms = 0; r.manifest_key <= last; ++waited_ms) {
    if (waited_ms > 2000) {
      return make_error("the clock is behind the latest backup " + last +
                        ": a new manifest would not sort after it (fix the system time)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    r.manifest_key = "manifests/" + utc_now(true) + ".json";
  }
  auto put = store.put_bytes(r.manifest_key, manifest_json(m));
  if (!put) return make_error("writing the manifest: " + put.error().message);
  return r;
}

namespace {

bool empty_or_absent(const fs::path& dir, std::error_code& ec) {
  if (!fs::exists(dir, ec)) return true;
  if (!fs::is_directory(dir, ec)) return false;
  return fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

/// Removes the staging directory on every way out.
struct Staging {
  fs::path dir;
  ~Staging() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

}  // namespace

Expected<RestoreResult> run_restore(ObjectStore& store, const RestoreOptions& options, const StepProgress& progress) {
  RestoreResult r;
  if (options.target.empty()) return make_error("restore: no target directory (--to LAKE_DIR)");
  auto m = load_manifest(store, options.manifest, &r.manifest_key);
  if (!m) return tl::unexpected(m.error());
  r.files = static_cast<std::int64_t>(m->files.size());
  r.bytes = m->bytes();

  std::error_code ec;
  fs::path target = fs::absolute(options.target, ec).lexically_normal();
  // "/srv/lake/" normalises to itself, whose parent is the target: the staging
  // directory would land inside it.
  if (!target.has_filename()) target = target.parent_path();
  const bool fresh = empty_or_absent(target, ec);
  if (fs::exists(target, ec) && !fs::is_directory(target, ec)) {
    return make_error("restore: " + target.string() + " exists and is not a directory");
  }
  if (!fresh && !options.force) {
    return make_error("restore: " + target.string() +
                      " is not empty: restore into a new directory, or pass --force to replace the backup's files "
                      "there (other files are kept)");
  }
  std::map<std::string, const ManifestFile*> objects;
  for (const auto& f : m->files) objects.emplace(f.sha256, &f);
  for (const auto& [sha, f] : objects) r.downloaded_bytes += f->size;
  r.downloaded_objects = static_cast<std::int64_t>(objects.size());
  if (options.dry_run) return r;

  const fs::path parent = target.parent_path();
  fs::create_directories(parent, ec);
  if (ec) return make_error("restore: cannot create " + parent.string() + ": " + ec.message());
  Staging staging;
  staging.dir = parent / ("." + target.filename().string() + ".restore-" + std::to_string(::getpid()));
  fs::remove_all(staging.dir, ec);
  const fs::path blobs = staging.dir / "objects", tree = staging.dir / "tree";
  fs::create_directories(blobs, ec);
  fs::create_directories(tree, ec);
  if (ec) return make_error("restore: cannot create " + staging.dir.string() + ": " + ec.message());

  // 1. Every object, checked, before anything moves.
  std::int64_t done = 0;
  for (const auto& [sha, f] : objects) {
    const fs::path blob = blobs / sha;
    auto got = store.get_file(object_key(sha), blob.string(), [&](std::int64_t bytes) {
      if (progress) progress("download", done + bytes, r.downloaded_bytes);
    });
    if (!got) {
      return make_error("restore: " + f->path + " (object " + object_key(sha) + "): " + got.error().message +
                        "; nothing was written to " + target.string());
    }
    auto hash = sha256_file_hex(blob.string());
    if (!hash) return make_error("restore: " + hash.error().message);
    const auto size = static_cast<std::int64_t>(fs::file_size(blob, ec));
    if (*hash != sha || size != f->size) {
      return make_error("restore: " + f->path + " is corrupt in " + store.describe() + " (object " + object_key(sha) +
                        ": SHA-256 " + *hash + ", " + std::to_string(size) + " bytes; the manifest says " + sha +
                        ", " + std::to_string(f->size) + " bytes); nothing was written to " + target.string());
    }
    if (auto synced = fsync_path(blob, false); !synced) return make_error("restore: " + synced.error().message);
    done += f->size;
    if (progress) progress("download", done, r.downloaded_bytes);
  }
  // 2. The lake's tree in the staging directory (a copy where content repeats).
  std::map<std::string, fs::path> placed;  // sha → its first file in the tree
  for (const auto& f : m->files) {
    const fs::path to = tree / f.path;
    fs::create_directories(to.parent_path(), ec);
    if (ec) return make_error("restore: cannot create " + to.parent_path().string() + ": " + ec.message());
    const auto first = placed.find(f.sha256);
    if (first == placed.end()) {
      fs::rename(blobs / f.sha256, to, ec);
      placed.emplace(f.sha256, to);
    } else {
      fs::copy_file(first->second, to, fs::copy_options::overwrite_existing, ec);
      if (!ec) {
        if (auto synced = fsync_path(to, false); !synced) return make_error("restore: " + synced.error().message);
      }
    }
    if (ec) return make_error("restore: cannot write " + to.string() + ": " + ec.message());
  }
  fs::remove_all(blobs, ec);
  // 3. Into place; then every directory that gained a name is synced, so a
  // restore reported done survives a power cut.
  std::set<fs::path> dirs;
  for (const auto& f : m->files) dirs.insert((target / f.path).parent_path());
  if (fresh) {
    if (fs::exists(target, ec)) fs::remove(target, ec);  // an empty directory
    fs::rename(tree, target, ec);
    if (ec) return make_error("restore: cannot move the restored lake to " + target.string() + ": " + ec.message());
    dirs.insert(parent);
  } else {
    for (const auto& f : m->files) {
      const fs::path to = target / f.path;
      fs::create_directories(to.parent_path(), ec);
      if (!ec) fs::rename(tree / f.path, to, ec);
      if (ec) return make_error("restore: cannot move " + f.path + " into " + target.string() + ": " + ec.message());
    }
  }
  for (const auto& dir : dirs) {
    if (auto synced = fsync_path(dir, true); !synced) return make_error("restore: " + synced.error().message);
  }
  return r;
}

}  // namespace quant::backup
