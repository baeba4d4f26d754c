#pragma once
// `quant replay`: a simulated MetaTrader 5 terminal that replays lake bars (or
// trades as ticks) to the platform over the bridge protocol and fills its
// orders with the backtest's fill simulator (src/replay).

#include <cstdint>
#include <string>

#include "app_context.h"

namespace quant::app {

struct ReplayArgs {
  std::string symbols;  ///< "WIN" or "WIN,WDO" (ties between symbols go in this order)
  std::string from, to;
  std::string connect = "127.0.0.1:5555";
  std::string mode = "bars";  ///< bars | ticks
  double speed = 0;           ///< N × real time by event time; 0 = as fast as possible
  bool lockstep = false;
  std::string state_dir;
  std::int64_t server_utc_offset_s = 0;
  std::string venue = "mt5";  ///< mt5: orders over the bridge; fix: a FIX acceptor ([fix]) takes them
  std::string fix_store;      ///< overrides <[fix] store_dir>/exchange
  int fix_port = 0;           ///< overrides [fix] port
};

int run_replay_command(const GlobalOptions& global, const ReplayArgs& args);

}  // namespace quant::app
