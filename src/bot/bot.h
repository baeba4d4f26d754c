#pragma once
/// `quant bot`: the Telegram bot. Answers commands from allow-listed chats
/// (/status, /pnl, /positions, /halt [reason], /resume + its confirmation,
/// /help) and sends alerts to them: the risk:halt flag raised and lifted, the
/// daily breaker near, a stale market-data feed while the instrument's
/// session is open, each fill, a daily summary with an equity chart, and the
/// firing alerts of Prometheus' rules (config/prometheus/rules.yml).
///
/// Reads the stream hub (src/stream): `mon:metrics` (quant live's state per
/// bar close), `exec:fills` through its own consumer group, `md:tick:<SYM>` and
/// `md:bar1m:<SYM>` for staleness, and the `risk:halt` flag, which /halt and
/// /resume set and clear through stream's one implementation.
///
/// Delivery guarantees (BotState): a command runs at most once (the offset is
/// stored before it runs); an alert is retried until a chat accepts it and is
/// recorded as sent before its source is acknowledged, so a restart neither
/// loses nor repeats it (a crash between a send and the state write repeats
/// that one message once). Messages from other chats are not answered; they
/// are counted and logged without their text.
///
/// One object, one thread: `step()` in a loop.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bot/bot_metrics.h"
#include "bot/bot_state.h"
#include "bot/prometheus_alerts.h"
#include "bot/telegram_api.h"
#include "core/error.h"
#include "http/http_client.h"
#include "core/instrument.h"
#include "core/session_locator.h"
#include "core/time.h"
#include "stream/metrics.h"
#include "stream/stream.h"

namespace quant::bot {

struct BotConfig {
  std::vector<std::int64_t> chat_ids;  ///< the allow-list; alerts go to every one
  /// The instruments watched (feed staleness, /status rows); their sessions
  /// come from core's calendars (SessionLocator).
  std::vector<InstrumentSpec> instruments;
  /// Alert once drawdown ≤ fraction × the breaker's drawdown that quant live
  /// publishes on mon:metrics (its risk engine's −daily_loss_pct).
  double breaker_near_fraction = 0.7;
  int stale_seconds = 120;             ///< no tick nor bar this long in an open session: stale
  std::chrono::minutes summary_time{18 * 60 + 45};  ///< local time of the daily summary
  std::string time_zone = "America/Sao_Paulo";      ///< of summary_time and the summary's day
  std::string state_file = "state/telegram_bot.json";
  std::string group = "telegram";  ///< consumer group on exec:fills
  std::string consumer = "bot";
  bool fill_alerts = true;
  std::chrono::seconds resume_window{60};  ///< /resume's code expires after this
  /// Prometheus whose firing alerts (config/prometheus/rules.yml) are
  /// forwarded, e.g. "http://127.0.0.1:9090"; "" = none.
  std::string prometheus_url;
  std::chrono::seconds prometheus_every{15};  ///< how often its alerts are read
  /// Rules not forwarded: those the bot raises itself from the hub.
  std::vector<std::string> prometheus_skip = {"HaltRaised", "DrawdownNearBreaker", "FeedStale"};
};

using Clock = std::function<Timestamp()>;
using LogLine = std::function<void(const std::string&)>;

class Bot {
 public:
  /// Loads the state file, connects the fills consumer (creating its group at
  /// "$": only fills after the bot's first start). `log` gets lines with the
  /// token already redacted.
  static Expected<std::unique_ptr<Bot>> create(BotConfig config, TelegramApi api, stream::Endpoint redis,
                                               BotMetrics& metrics, Clock clock, LogLine log);

  /// One round: a long poll for updates and their commands, then every alert
  /// check. Bot API and Redis failures are logged and retried next round;
  /// an error only when the state file cannot be written (stop: without it
  /// the guarantees above do not hold).
  Expected<void> step();
  Expected<void> poll_commands();
  Expected<void> check_alerts();

  const BotState& state() const { return state_; }

 private:
  Bot(BotConfig config, TelegramApi api, stream::Endpoint redis, BotMetrics& metrics, Clock clock, LogLine log);

  bool allowed(std::int64_t chat) const;
  Expected<void> handle(const Update& update);
  std::string command_status();
  std::string command_pnl();
  std::string command_positions();
  std::string command_halt(std::int64_t chat, const std::string& reason);
  std::string command_resume(std::int64_t chat, const std::string& argument);
  void reply(std::int64_t chat, const std::string& text);

  /// Sends to every allow-listed chat; true when at least one accepted it.
  bool deliver(std::string_view kind, const std::string& text);
  Expected<void> save();
  bool save_failed_ = false;  ///< the state file could not be written (stops the bot)

  Expected<void> read_metrics();
  Expected<void> check_halt();
  Expected<void> check_fills();
  Expected<void> check_stale();
  Expected<void> check_summary();
  /// Prometheus' firing alerts: each new one sent once, and its resolution.
  Expected<void> check_prometheus();
  /// When `symbol`'s market data last arrived (Unix ms); nullopt when its
  /// streams are empty; an error when Redis could not be read.
  Expected<std::optional<std::int64_t>> last_data_ms(const std::string& symbol);
  std::int64_t trading_day(const std::string& symbol, std::int64_t ts_ms);

  BotConfig config_;
  TelegramApi api_;
  stream::Endpoint redis_;
  BotMetrics& metrics_;
  Clock clock_;
  LogLine log_;
  TimeZone zone_;
  BotState state_;
  std::map<std::string, SessionLocator> locators_;
  std::map<std::string, stream::Metrics> latest_;  ///< per symbol, the last mon:metrics entry
  std::string metrics_cursor_;                     ///< last mon:metrics id read
  std::optional<stream::Consumer> fills_;
  std::deque<stream::Entry> fill_backlog_;  ///< read, not yet delivered
  struct PendingResume {
    std::string code;
    Timestamp expires{};
  };
  std::map<std::int64_t, PendingResume> resumes_;  ///< per chat
  std::optional<http::Client> prometheus_;        ///< created at the first read
  std::optional<Timestamp> prometheus_read_;      ///< the last read
  bool prometheus_failing_ = false;               ///< logged once per outage
};

}  // namespace quant::bot
