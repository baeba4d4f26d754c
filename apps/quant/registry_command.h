#pragma once
// `quant registry ls | show NAME [VERSION|ALIAS] | register NAME MODEL_DIR | promote NAME VERSION |
// rollback NAME`: the model registry (MLflow's file layout, or an MLflow server) from the command line.

#include <cstdint>
#include <string>
#include <vector>

#include "app_context.h"

namespace quant::app {

struct RegistryArgs {
  enum class Action { List, Show, Register, Promote, Rollback };
  Action action = Action::List;
  /// --registry: a directory, a file: URI or an MLflow server URL; empty =
  /// MLFLOW_TRACKING_URI, else ./mlruns.
  std::string registry;
  std::string name;
  std::string target;  ///< show: VERSION or ALIAS (empty = the whole model)
  std::int64_t version = 0;
  std::string alias = "champion";
  std::string reason;
  std::string decision;  ///< promote: a JSON object (metric values, margin, DSR ...)
  std::string model_dir;
  std::string run_id;
  std::vector<std::string> tags;  ///< register: KEY=VALUE
};

/// Exit 0 when done, 1 on a bad request or a registry error (printed).
int run_registry(const GlobalOptions& global, const RegistryArgs& args);

}  // namespace quant::app
