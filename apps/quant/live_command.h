#pragma once
// `quant live`: the live engine on the one trading kernel, between the Redis
// hub (market data and execution reports in, orders out) and its journal.

#include <optional>
#include <string>
#include <vector>

#include "app_context.h"

namespace quant::app {

struct LiveArgs {
  std::vector<std::string> symbols;
  std::string redis = "127.0.0.1:6379";
  std::string state;                       ///< the journal's directory (required)
  std::string session = "L";               ///< client order id prefix; a journal belongs to one session
  std::string bars = "terminal";           ///< "terminal" (the terminal's closed bars) or "ticks" (aggregated here)
  bool from_start = false;                 ///< a new consumer group reads the streams from their start, not from now
  std::string gate_dir;                    ///< gate with the models in this directory (else [gate] when model_gate)
  std::string infer_url;                   ///< the gate's models behind quant serve's POST /infer (else in process)
  std::string infer_model = "gatekeeper";  ///< the model name quant serve knows
  std::string consumer = "live";
  std::string group = "signal";        ///< consumer group on md:*:<SYM> and exec:fills: one per engine
  std::string orders = "exec:orders";  ///< order stream for quant bridge: exec:orders or exec:orders:<name>
  std::string orders_csv;  ///< default <state>/orders.csv
  std::string venue = "mt5";  ///< mt5: orders through the --orders stream and quant bridge; fix: over the [fix] session
  std::string fix_store;      ///< overrides [fix] store_dir
  std::string fix_connect;    ///< overrides [fix] host:port
  std::optional<std::string> metrics;  ///< --metrics HOST:PORT ("" = off); unset = [monitor]
};

int run_live_command(const GlobalOptions& global, const LiveArgs& args);

}  // namespace quant::app
