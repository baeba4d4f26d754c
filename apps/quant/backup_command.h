#pragma once
/// `quant lake backup`, `quant lake restore`, `quant lake backups`
/// (docs/backup.md): the wiring between options, configuration
/// ([lake.backup]), the environment's credentials and src/backup.

#include <cstdint>
#include <string>

#include "app_context.h"

namespace quant::app {

/// Where a backup goes or comes from, and how to reach it.
struct BackupStoreArgs {
  std::string destination;  ///< --to / --from; empty = [lake.backup] to
  std::string endpoint;     ///< --endpoint; empty = [lake.backup] endpoint
  std::string region;       ///< --region; empty = [lake.backup] region
  std::int64_t limit_rate = 0;  ///< --limit-rate bytes per second for uploads (0 = none)
  bool json = false;
};

struct LakeBackupArgs {
  BackupStoreArgs store;
  bool dry_run = false;
  bool rehash = false;  ///< hash every file again (ignore <lake>/.backup-cache.json)
};

struct LakeRestoreArgs {
  BackupStoreArgs store;
  std::string target;    ///< --to; empty = the lake in force (--lake or [lake] dir)
  std::string manifest;  ///< --manifest; empty = the latest
  bool force = false;
  bool dry_run = false;
};

int run_lake_backup(const GlobalOptions& global, const LakeBackupArgs& args);
int run_lake_restore(const GlobalOptions& global, const LakeRestoreArgs& args);
int run_lake_backups(const GlobalOptions& global, const BackupStoreArgs& args);

}  // namespace quant::app
