#pragma once
// `quant bot`: the Telegram bot (src/bot, docs/telegram.md).

#include <optional>
#include <string>

#include "app_context.h"

namespace quant::app {

struct BotArgs {
  std::string redis = "127.0.0.1:6379";  ///< host:port
  std::string token_file;                ///< overrides [telegram] token_file and token_env
  std::string api_url;                   ///< overrides [telegram] api_url
  std::string state_file;                ///< overrides [telegram] state_file
  int rounds = 0;                        ///< stop after this many rounds (0 = until SIGINT/SIGTERM)
  std::optional<std::string> metrics;    ///< --metrics HOST:PORT ("" = off); unset = [monitor] bot
};

/// Runs until SIGINT/SIGTERM (exit 0). Exit 1 on a bad configuration, no
/// token, Redis unreachable at start, or a state file that cannot be written.
int run_bot_command(const GlobalOptions& global, const BotArgs& args);

}  // namespace quant::app
