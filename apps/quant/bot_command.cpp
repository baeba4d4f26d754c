#include "bot_command.h"

#include "metrics_setup.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "bot/bot.h"
#include "bot/bot_metrics.h"
#include "bot/telegram_api.h"
#include "core/secret.h"
#include "core/time.h"
#include "stream/stream.h"

namespace quant::app {

namespace {

volatile std::sig_atomic_t g_bot_stop = 0;
extern "C" void on_bot_signal(int) { g_bot_stop = 1; }

void log_line(const std::string& line) {
  const auto now = std::chrono::time_point_cast<Duration>(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
  std::fprintf(stderr, "%s %s\n", format_utc(now).c_str(), line.c_str());
  std::fflush(stderr);
}

/// The token: --token-file, else [telegram] token_file, else the variable token_env names.
Expected<std::string> read_token(const BotArgs& args, const config::TelegramSettings& t) {
  auto token = read_secret(t.token_env, !args.token_file.empty() ? args.token_file : t.token_file);
  if (!token) return make_error("bot: " + token.error().message);
  if (!*token) {
    return make_error("bot: no Telegram token: set the environment variable " + t.token_env +
                      " or pass --token-file FILE (docs/telegram.md: BotFather gives the token)");
  }
  return **token;
}

}  // namespace

int run_bot_command(const GlobalOptions& global, const BotArgs& args) {
  auto config = load_config(global);
  if (!config) return fail(config.error().message);
  const config::TelegramSettings& t = config->telegram;
  const std::string where = locate_config(global).path.empty() ? "the configuration" : locate_config(global).path;
  if (t.chat_ids.empty()) {
    return fail("bot: [telegram] chat_ids is empty in " + where +
                ": list the chats allowed to command the bot and to get its alerts (docs/telegram.md tells how to "
                "find a chat's id)");
  }
  if (args.rounds < 0) return fail("bot: --rounds must be >= 0");
  auto hp = parse_host_port("--redis", args.redis);
  if (!hp) return fail("bot: " + hp.error().message);
  stream::Endpoint endpoint;
  endpoint.host = hp->host;
  endpoint.port = hp->port;
  // A Redis outage must not hold the bot (its answers, its other alerts) for long.
  endpoint.reconnect.give_up_after = std::chrono::milliseconds(5000);

  bot::BotConfig bc;
  bc.chat_ids = t.chat_ids;
  for (const auto& symbol : t.symbols) {
    auto spec = find_instrument(global, *config, symbol, "bot: [telegram] symbols");
    if (!spec) return fail(spec.error().message);
    bc.instruments.push_back(**spec);
  }
  bc.breaker_near_fraction = t.breaker_near_fraction;
  bc.stale_seconds = t.stale_seconds;
  bc.summary_time = t.summary_time;
  bc.time_zone = t.time_zone;
  bc.state_file = args.state_file.empty() ? t.state_file : args.state_file;
  bc.group = t.group;
  bc.fill_alerts = t.fill_alerts;
  bc.prometheus_url = t.prometheus_url;
  while (!bc.prometheus_url.empty() && bc.prometheus_url.back() == '/') bc.prometheus_url.pop_back();
  bc.prometheus_skip = t.prometheus_skip;

  auto token = read_token(args, t);
  if (!token) return fail(token.error().message);
  bot::ApiConfig api;
  api.base_url = args.api_url.empty() ? t.api_url : args.api_url;
  api.token = *token;
  api.poll_timeout = std::chrono::seconds(t.poll_seconds);
  api.should_stop = [] { return g_bot_stop != 0; };
  const std::string secret = *token;
  auto log = [secret](const std::string& line) { log_line(bot::redact(line, secret)); };

  auto served = start_metrics("bot", args.metrics, config->monitor.bot);
  if (!served) return fail(served.error().message);
  bot::BotMetrics metrics(*served->registry);
  auto telegram = bot::TelegramApi::create(api, &metrics, log);
  if (!telegram) return fail(bot::redact(telegram.error().message, secret));
  auto bot = bot::Bot::create(bc, std::move(*telegram), endpoint, metrics, nullptr, log);
  if (!bot) return fail(bot::redact(bot.error().message, secret));

  if (std::signal(SIGINT, on_bot_signal) == SIG_ERR || std::signal(SIGTERM, on_bot_signal) == SIG_ERR)
    return fail("bot: cannot install the SIGINT/SIGTERM handlers");
  std::string chats;
  for (auto id : bc.chat_ids) chats += (chats.empty() ? "" : ", ") + std::to_string(id);
  std::string symbols;
  for (const auto& s : t.symbols) symbols += (symbols.empty() ? "" : ", ") + s;
  log("bot: started: Bot API " + api.base_url + ", chats " + chats + ", watching " +
      (symbols.empty() ? std::string("no symbols") : symbols) + ", Redis " + args.redis + ", state " + bc.state_file);
  int rounds = 0;
  while (g_bot_stop == 0 && (args.rounds == 0 || rounds < args.rounds)) {
    if (auto ok = (*bot)->step(); !ok) return fail(bot::redact(ok.error().message, secret));
    ++rounds;
  }
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "bot: stopped after %d rounds; %.0f commands, %.0f ignored updates, %.0f API errors", rounds,
                metrics.commands("status") + metrics.commands("pnl") + metrics.commands("positions") +
                    metrics.commands("halt") + metrics.commands("resume") + metrics.commands("help") +
                    metrics.commands("unknown"),
                metrics.ignored_updates(), metrics.api_errors());
  log(summary);
  return 0;
}

}  // namespace quant::app
