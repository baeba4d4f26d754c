#pragma once
// `quant bridge`: the platform side of the MT5 bridge (docs/contracts/bridge.md)
// — listens for one terminal (the Expert Advisor mt5/QuantBridge.mq5, or
// `quant replay`) and moves its market data and execution reports into Redis,
// and exec:orders out to it. SIGTERM/SIGINT stop it cleanly.

#include <optional>
#include <string>

#include "app_context.h"

namespace quant::app {

struct BridgeArgs {
  std::string listen = "127.0.0.1:5555";  ///< host:port the terminal connects to (port 0 = any)
  std::string redis = "127.0.0.1:6379";   ///< host:port of the stream hub
  std::string consumer = "bridge-1";      ///< consumer name in the group `bridge` on the order streams
  std::optional<std::string> metrics;  ///< --metrics HOST:PORT ("" = off); unset = [monitor]
  int heartbeat_ms = 1000;
  int peer_timeout_ms = 5000;
};

/// Exit 0 after a clean stop, 1 on bad options or when Redis is lost for good.
int run_bridge(const GlobalOptions& global, const BridgeArgs& args);

}  // namespace quant::app
