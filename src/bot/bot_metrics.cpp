// prometheus-cpp behind BotMetrics (the only file of the module that includes it).

#include "bot/bot_metrics.h"

#include <map>
#include <string>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace quant::bot {

namespace {

constexpr std::string_view kCommands[] = {"status", "pnl", "positions", "halt", "resume", "help", "unknown"};
constexpr std::string_view kAlerts[] = {"halt_raised", "halt_lifted", "breaker_near", "feed_stale",
                                        "feed_back",   "fill",        "summary",      "other"};

}  // namespace

struct BotMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Counter* ignored = nullptr;
  prometheus::Counter* api_errors = nullptr;
  std::map<std::string, prometheus::Counter*, std::less<>> commands;
  std::map<std::string, prometheus::Counter*, std::less<>> alerts;

  static prometheus::Counter* find(const std::map<std::string, prometheus::Counter*, std::less<>>& m,
                                   std::string_view key, std::string_view fallback) {
    auto it = m.find(key);
    if (it == m.end()) it = m.find(fallback);
    return it->second;
  }
};

BotMetrics::BotMetrics() : BotMetrics(std::make_shared<prometheus::Registry>()) {}

const std::shared_ptr<prometheus::Registry>& BotMetrics::registry() const { return impl_->registry; }

BotMetrics::BotMetrics(std::shared_ptr<prometheus::Registry> shared) : impl_(std::make_unique<Impl>()) {
  impl_->registry = std::move(shared);
  prometheus::Registry& registry = *impl_->registry;
  impl_->ignored = &prometheus::BuildCounter()
                        .Name("quant_bot_ignored_updates_total")
                        .Help("Telegram updates from chats not on the allow-list (ignored, not answered)")
                        .Register(registry)
                        .Add({});
  impl_->api_errors = &prometheus::BuildCounter()
                           .Name("quant_bot_api_errors_total")
                           .Help("Telegram Bot API calls that failed (each failed attempt, retries included)")
                           .Register(registry)
                           .Add({});
  auto& commands = prometheus::BuildCounter()
                       .Name("quant_bot_commands_total")
                       .Help("Commands from allow-listed chats, by command")
                       .Register(registry);
  for (auto c : kCommands) impl_->commands.emplace(std::string(c), &commands.Add({{"command", std::string(c)}}));
  auto& alerts = prometheus::BuildCounter()
                     .Name("quant_bot_alerts_sent_total")
                     .Help("Alert messages delivered to allow-listed chats, by kind")
                     .Register(registry);
  for (auto k : kAlerts) impl_->alerts.emplace(std::string(k), &alerts.Add({{"kind", std::string(k)}}));
}

BotMetrics::~BotMetrics() = default;

void BotMetrics::ignored_update() { impl_->ignored->Increment(); }
void BotMetrics::command(std::string_view name) { Impl::find(impl_->commands, name, "unknown")->Increment(); }
void BotMetrics::alert_sent(std::string_view kind) { Impl::find(impl_->alerts, kind, "other")->Increment(); }
void BotMetrics::api_error() { impl_->api_errors->Increment(); }

double BotMetrics::ignored_updates() const { return impl_->ignored->Value(); }
double BotMetrics::commands(std::string_view name) const { return Impl::find(impl_->commands, name, "unknown")->Value(); }
double BotMetrics::alerts_sent(std::string_view kind) const { return Impl::find(impl_->alerts, kind, "other")->Value(); }
double BotMetrics::api_errors() const { return impl_->api_errors->Value(); }

}  // namespace quant::bot
