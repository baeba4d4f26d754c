#pragma once
/// The bot's Prometheus counters, in the command's `monitor::Registry` (which
/// `quant bot --metrics` serves), or in one of their own.
///
///   quant_bot_ignored_updates_total            updates from chats not on the allow-list
///   quant_bot_commands_total{command}          commands answered (status, pnl, positions,
///                                              halt, resume, help, unknown)
///   quant_bot_alerts_sent_total{kind}          alerts delivered (halt_raised, halt_lifted,
///                                              breaker_near, feed_stale, feed_back, fill, summary,
///                                              prometheus: a rule's alert firing or resolved)
///   quant_bot_api_errors_total                 Bot API calls that failed (each failed attempt)
///
/// Label sets are fixed: an unexpected label value counts under "unknown" /
/// "other". Thread-safe (the counters are atomic).

#include <memory>
#include <string_view>

namespace quant::monitor {
class Registry;
}

namespace quant::bot {

class BotMetrics {
 public:
  /// Counters in a registry of their own.
  BotMetrics();
  /// Counters in `registry`, which must outlive this object.
  explicit BotMetrics(monitor::Registry& registry);
  /// The registry holding the counters.
  monitor::Registry& registry() const;
  BotMetrics(const BotMetrics&) = delete;
  BotMetrics& operator=(const BotMetrics&) = delete;
  ~BotMetrics();

  void ignored_update();
  void command(std::string_view name);
  void alert_sent(std::string_view kind);
  void api_error();

  /// Current values (tests, the shutdown line).
  double ignored_updates() const;
  double commands(std::string_view name) const;
  double alerts_sent(std::string_view kind) const;
  double api_errors() const;

 private:
  void init(monitor::Registry& registry);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quant::bot
