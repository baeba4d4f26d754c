#pragma once
// `quant serve`: the signal service (docs/contracts/serve_api.md) — /infer
// over the configured gate chain, /order through the risk engine to the paper
// venue, health, readiness, models, metrics and hot reload.

#include <string>

#include "app_context.h"

namespace quant::app {

struct ServeArgs {
  std::string bind;
  int port = -1;           ///< -1 = the config's
  int workers = -1;        ///< -1 = the config's
  std::string models_dir;  ///< --models: the first gate's directory
  std::string token_file;
  std::string port_file;  ///< written with the bound port once listening
};

int run_serve(const GlobalOptions& global, const ServeArgs& args);

}  // namespace quant::app
