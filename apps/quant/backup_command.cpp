#include "backup_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "backup/backup.h"
#include "version.h"

namespace quant::app {
namespace {

std::string tool_version() { return std::string("quant ") + kQuantVersion; }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string megabytes(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

Expected<std::unique_ptr<backup::ObjectStore>> open_store(const config::AppConfig& cfg, const BackupStoreArgs& args,
                                                          const char* option) {
  const std::string text = !args.destination.empty() ? args.destination : cfg.lake.backup.to;
  if (text.empty()) {
    return make_error(std::string("no backup destination: give ") + option +
                      " s3://BUCKET/PREFIX or a directory, or set [lake.backup] to");
  }
  auto dest = backup::parse_destination(text);
  if (!dest) return tl::unexpected(dest.error());
  if (!dest->s3) return backup::open_dir_store(dest->path);
  backup::S3Options o;
  o.bucket = dest->bucket;
  o.prefix = dest->prefix;
  o.endpoint = !args.endpoint.empty() ? args.endpoint : cfg.lake.backup.endpoint;
  // As the AWS tools: the flag, then AWS_REGION / AWS_DEFAULT_REGION, then the config.
  o.region = !args.region.empty()                ? args.region
             : !env("AWS_REGION").empty()         ? env("AWS_REGION")
             : !env("AWS_DEFAULT_REGION").empty() ? env("AWS_DEFAULT_REGION")
                                                  : cfg.lake.backup.region;
  o.credentials = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  o.max_bytes_per_second = args.limit_rate;
  // Paging of ListObjectsV2 on a small store (the tests): not an everyday option.
  if (const std::string page = env("QUANT_S3_LIST_PAGE_SIZE"); !page.empty()) o.list_page_size = std::atoi(page.c_str());
  if (o.list_page_size < 1 || o.list_page_size > 1000) return make_error("QUANT_S3_LIST_PAGE_SIZE: 1 to 1000");
  return backup::open_s3_store(std::move(o));
}

int fail_json(bool json, const std::string& message) {
  if (json) std::printf("%s\n", nlohmann::ordered_json{{"status", "error"}, {"error", message}}.dump().c_str());
  return fail(message);
}

/// Progress on a terminal: "[backup] upload (kB) 12300/40000 (31%)".
backup::StepProgress step_progress(Progress& progress) {
  return [&progress](std::string_view what, std::int64_t done, std::int64_t total) {
    progress.step(std::string(what) + " (kB)", done / 1000, total / 1000);
  };
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int run_lake_backup(const GlobalOptions& global, const LakeBackupArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  auto cfg = load_config(global);
  if (!cfg) return fail_json(args.store.json, cfg.error().message);
  const std::string root = lake_dir(global, *cfg);
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    return fail_json(args.store.json, "lake " + root + " does not exist: nothing to back up (--lake DIR or [lake] dir)");
  }
  auto store = open_store(*cfg, args.store, "--to");
  if (!store) return fail_json(args.store.json, store.error().message);
  Progress progress("backup", global.quiet || isatty(STDERR_FILENO) == 0);
  backup::BackupOptions o;
  o.lake_root = root;
  o.tool = tool_version();
  o.dry_run = args.dry_run;
  o.use_cache = !args.rehash;
  auto r = backup::run_backup(**store, o, step_progress(progress));
  progress.finish();
  if (!r) return fail_json(args.store.json, "backup of " + root + " to " + (*store)->describe() + ": " + r.error().message);
  const double secs = seconds_since(start);
  if (args.store.json) {
    std::printf("%s\n", nlohmann::ordered_json{{"status", args.dry_run ? "dry_run" : "ok"},
                                               {"lake", root},
                                               {"destination", (*store)->describe()},
                                               {"manifest", r->manifest_key},
                                               {"unchanged_since", r->latest_key},
                                               {"files", r->files},
                                               {"bytes", r->bytes},
                                               {"uploaded_files", r->uploaded_objects},
                                               {"uploaded_bytes", r->uploaded_bytes},
                                               {"skipped_files", r->skipped_files},
                                               {"hashed_files", r->scan.hashed_files},
                                               {"cached_hashes", r->scan.cached_files},
                                               {"seconds", secs}}
                                .dump()
                                .c_str());
    return 0;
  }
  std::printf("%s %lld files (%s), skipped %lld unchanged; lake %s: %lld files (%s), %lld hashed, %lld from the cache\n",
              args.dry_run ? "would upload" : "uploaded", static_cast<long long>(r->uploaded_objects),
              megabytes(r->uploaded_bytes).c_str(), static_cast<long long>(r->skipped_files), root.c_str(),
              static_cast<long long>(r->files), megabytes(r->bytes).c_str(),
              static_cast<long long>(r->scan.hashed_files), static_cast<long long>(r->scan.cached_files));
  if (!r->manifest_key.empty()) {
    std::printf("manifest %s in %s (%.1f s)\n", r->manifest_key.c_str(), (*store)->describe().c_str(), secs);
  } else if (!r->latest_key.empty()) {
    std::printf("unchanged since %s in %s: no new manifest (%.1f s)\n", r->latest_key.c_str(),
                (*store)->describe().c_str(), secs);
  } else {
    std::printf("dry run: nothing was uploaded to %s\n", (*store)->describe().c_str());
  }
  return 0;
}

int run_lake_restore(const GlobalOptions& global, const LakeRestoreArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  auto cfg = load_config(global);
  if (!cfg) return fail_json(args.store.json, cfg.error().message);
  auto store = open_store(*cfg, args.store, "--from");
  if (!store) return fail_json(args.store.json, store.error().message);
  backup::RestoreOptions o;
  o.target = !args.target.empty() ? args.target : lake_dir(global, *cfg);
  o.manifest = args.manifest;
  o.force = args.force;
  o.dry_run = args.dry_run;
  Progress progress("restore", global.quiet || isatty(STDERR_FILENO) == 0);
  auto r = backup::run_restore(**store, o, step_progress(progress));
  progress.finish();
  if (!r) return fail_json(args.store.json, r.error().message);
  const double secs = seconds_since(start);
  if (args.store.json) {
    std::printf("%s\n", nlohmann::ordered_json{{"status", args.dry_run ? "dry_run" : "ok"},
                                               {"manifest", r->manifest_key},
                                               {"target", o.target},
                                               {"files", r->files},
                                               {"bytes", r->bytes},
                                               {"downloaded_objects", r->downloaded_objects},
                                               {"downloaded_bytes", r->downloaded_bytes},
                                               {"seconds", secs}}
                                .dump()
                                .c_str());
    return 0;
  }
  std::printf("%s %lld files (%s) of %s from %s into %s, every SHA-256 checked%s (%.1f s)\n",
              args.dry_run ? "would restore" : "restored", static_cast<long long>(r->files),
              megabytes(r->bytes).c_str(), r->manifest_key.c_str(), (*store)->describe().c_str(), o.target.c_str(),
              args.dry_run ? " on download" : "", secs);
  return 0;
}

int run_lake_backups(const GlobalOptions& global, const BackupStoreArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail_json(args.json, cfg.error().message);
  auto store = open_store(*cfg, args, "--from");
  if (!store) return fail_json(args.json, store.error().message);
  auto list = backup::list_backups(**store);
  if (!list) return fail_json(args.json, list.error().message);
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& b : *list)
      out.push_back({{"name", b.name}, {"created", b.created}, {"files", b.files}, {"bytes", b.bytes}});
    std::printf("%s\n", nlohmann::ordered_json{{"destination", (*store)->describe()}, {"backups", out}}.dump(2).c_str());
    return 0;
  }
  if (list->empty()) {
    std::printf("no backups in %s\n", (*store)->describe().c_str());
    return 0;
  }
  std::printf("%-22s %-26s %8s %12s\n", "name", "created (UTC)", "files", "size");
  for (const auto& b : *list) {
    std::printf("%-22s %-26s %8lld %12s\n", b.name.c_str(), b.created.c_str(), static_cast<long long>(b.files),
                megabytes(b.bytes).c_str());
  }
  return 0;
}

}  // namespace quant::app
