#include "bot/bot_metrics.h"

#include <map>
#include <string>

#include "monitor/metrics.h"

namespace quant::bot {

namespace {

constexpr std::string_view kCommands[] = {"status", "pnl", "positions", "halt", "resume", "help", "unknown"};
constexpr std::string_view kAlerts[] = {"halt_raised", "halt_lifted", "breaker_near", "feed_stale",
                                        "feed_back",   "fill",        "summary",      "prometheus", "other"};

}  // namespace

struct BotMetrics::Impl {
  std::unique_ptr<monitor::Registry> own;  ///< when no registry was given
  monitor::Registry* registry = nullptr;
  monitor::Counter ignored;
  monitor::Counter api_errors;
  std::map<std::string, monitor::Counter, std::less<>> commands;
  std::map<std::string, monitor::Counter, std::less<>> alerts;

  static const monitor::Counter& find(const std::map<std::string, monitor::Counter, std::less<>>& m,
                                      std::string_view key, std::string_view fallback) {
    auto it = m.find(key);
    if (it == m.end()) it = m.find(fallback);
    return it->second;
  }
};

BotMetrics::BotMetrics() : impl_(std::make_unique<Impl>()) {
  impl_->own = std::make_unique<monitor::Registry>("bot", "");
  init(*impl_->own);
}

BotMetrics::BotMetrics(monitor::Registry& registry) : impl_(std::make_unique<Impl>()) { init(registry); }

void BotMetrics::init(monitor::Registry& registry) {
  impl_->registry = &registry;
  impl_->ignored = registry.counter("quant_bot_ignored_updates_total",
                                    "Telegram updates from chats not on the allow-list (ignored, not answered)");
  impl_->api_errors = registry.counter(
      "quant_bot_api_errors_total", "Telegram Bot API calls that failed (each failed attempt, retries included)");
  for (auto c : kCommands) {
    impl_->commands.emplace(std::string(c),
                            registry.counter("quant_bot_commands_total", "Commands from allow-listed chats, by command",
                                             {{"command", std::string(c)}}));
  }
  for (auto k : kAlerts) {
    impl_->alerts.emplace(std::string(k),
                          registry.counter("quant_bot_alerts_sent_total",
                                           "Alert messages delivered to allow-listed chats, by kind",
                                           {{"kind", std::string(k)}}));
  }
}

BotMetrics::~BotMetrics() = default;

monitor::Registry& BotMetrics::registry() const { return *impl_->registry; }

void BotMetrics::ignored_update() { impl_->ignored.inc(); }
void BotMetrics::command(std::string_view name) { Impl::find(impl_->commands, name, "unknown").inc(); }
void BotMetrics::alert_sent(std::string_view kind) { Impl::find(impl_->alerts, kind, "other").inc(); }
void BotMetrics::api_error() { impl_->api_errors.inc(); }

double BotMetrics::ignored_updates() const { return impl_->ignored.value(); }
double BotMetrics::commands(std::string_view name) const { return Impl::find(impl_->commands, name, "unknown").value(); }
double BotMetrics::alerts_sent(std::string_view kind) const { return Impl::find(impl_->alerts, kind, "other").value(); }
double BotMetrics::api_errors() const { return impl_->api_errors.value(); }

}  // namespace quant::bot
