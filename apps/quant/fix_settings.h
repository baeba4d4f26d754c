#pragma once
// `[fix]` (config/quant.toml) → the FIX session settings of `quant live
// --venue fix` (the platform, initiator) and `quant replay --venue fix` (the
// simulated exchange, acceptor, comp ids swapped).

#include <string>

#include "app_context.h"
#include "fix/fix_session.h"

namespace quant::app {

/// `exchange` = the acceptor's side. `store_dir` overrides [fix] store_dir
/// (the exchange's default is <store_dir>/exchange); `port` > 0 overrides
/// [fix] port. The dictionary, when relative, is found beside the
/// configuration file; an unreadable one is an error naming it.
Expected<fix::SessionSettings> fix_session_settings(const GlobalOptions& global, const config::FixSettings& cfg,
                                                    bool exchange, const std::string& store_dir, int port);

}  // namespace quant::app
