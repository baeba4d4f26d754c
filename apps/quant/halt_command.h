#pragma once
// `quant halt --status | --set --reason TEXT | --clear`: the risk:halt flag in Redis.

#include <string>

#include "app_context.h"

namespace quant::app {

struct HaltArgs {
  bool status = false;
  bool set = false;
  bool clear = false;
  std::string reason;
  double equity = 0;
  std::string by = "operator";
  std::string redis = "127.0.0.1:6379";  ///< host:port
  double wait_s = 3;                     ///< how long to keep reconnecting before failing
};

/// Exit 0 when the request was carried out (for --status: whether halted or not,
/// printed), 1 on a bad request or when Redis cannot be reached.
int run_halt(const GlobalOptions& global, const HaltArgs& args);

}  // namespace quant::app
