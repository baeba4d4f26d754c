#pragma once
/// The few Telegram Bot API methods the bot uses, over quant::http (libcurl):
/// getUpdates (long polling), sendMessage, sendPhoto (multipart PNG).
/// Requests go to `<base_url>/bot<token>/<method>`; the token is a secret, so
/// no error this class returns and no line it logs contains it (`redact`).
///
/// Retries: HTTP 429 waits the answer's `parameters.retry_after` seconds
/// (as the API asks, up to 10 minutes), 5xx and "no answer" back off exponentially from
/// `first_backoff`; after `max_attempts` the call fails. Other statuses
/// (400 chat not found, 401 bad token) and answers that are not the API's JSON
/// fail at once. Every failed attempt counts in `quant_bot_api_errors_total`.
/// One object = one thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/bot_metrics.h"
#include "core/error.h"
#include "http/http_client.h"

namespace quant::bot {

struct ApiConfig {
  std::string base_url = "https://api.telegram.org";
  std::string token;  ///< never logged
  /// getUpdates' `timeout`: how long the server may hold the poll open.
  std::chrono::seconds poll_timeout{2};
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};  ///< a send; a poll gets poll_timeout on top
  /// Asked while waiting between attempts: true ends the wait and the call
  /// fails ("stopped"), so a SIGTERM is not held up by a long retry_after.
  std::function<bool()> should_stop;
};

/// The new message of one update (an edited message or another kind of
/// update comes with chat_id 0: nothing to run).
struct Update {
  std::int64_t update_id = 0;
  std::int64_t chat_id = 0;  ///< 0 when the update has no message
  std::string text;
};

/// getUpdates' `result` (JSON text) → updates. Entries without an integer
/// `update_id` are dropped; any other oddity (no message, a chat id that is
/// not an integer, text that is not a string) gives an update with chat_id 0
/// or empty text. Fails only when `result` is not a JSON array. Never throws.
Expected<std::vector<Update>> parse_updates(std::string_view result);

/// `text` with every occurrence of `secret` replaced by "<redacted>".
std::string redact(std::string text, std::string_view secret);

class TelegramApi {
 public:
  /// `log` gets one line per failed attempt that is retried (redacted).
  static Expected<TelegramApi> create(ApiConfig config, BotMetrics* metrics,
                                      std::function<void(const std::string&)> log);

  /// getUpdates?offset=…&timeout=…&allowed_updates=["message"]. Updates
  /// whose JSON is not understood come back with chat_id 0 (the caller still
  /// moves the offset past them).
  Expected<std::vector<Update>> get_updates(std::int64_t offset);
  Expected<void> send_message(std::int64_t chat_id, std::string_view text);
  Expected<void> send_photo(std::int64_t chat_id, std::string png, std::string_view caption);

  const ApiConfig& config() const { return config_; }

 private:
  TelegramApi(ApiConfig config, http::Client client, BotMetrics* metrics,
              std::function<void(const std::string&)> log);
  /// One method call with retries; the API's `result` as JSON text.
  Expected<std::string> call(std::string_view method, http::Request request);

  ApiConfig config_;
  http::Client client_;
  BotMetrics* metrics_;
  std::function<void(const std::string&)> log_;
};

}  // namespace quant::bot
