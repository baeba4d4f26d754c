#include "bot/telegram_api.h"

#include <algorithm>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

namespace quant::bot {

using json = nlohmann::json;

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "<redacted>");
    at += 10;
  }
  return text;
}

namespace {

std::string first_line(std::string_view text, std::size_t max = 300) {
  std::string out(text.substr(0, std::min(max, text.find('\n'))));
  if (text.size() > out.size()) out += " ...";
  return out;
}

/// At most `max` bytes of UTF-8 `text`, cut before a character, never inside one
/// (Telegram refuses messages over 4096 characters and captions over 1024).
std::string clip(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max - 4;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + " ...";
}

}  // namespace

Expected<std::vector<Update>> parse_updates(std::string_view result) {
  json list = json::parse(result, nullptr, false);
  if (!list.is_array()) return make_error("telegram getUpdates: the result is not a list");
  std::vector<Update> out;
  for (const auto& u : list) {
    if (!u.is_object() || !u.contains("update_id") || !u["update_id"].is_number_integer()) continue;
    Update update;
    update.update_id = u["update_id"].get<std::int64_t>();
    // New messages only: an edited "/halt" is not a second command.
    const json* m = u.contains("message") && u["message"].is_object() ? &u["message"] : nullptr;
    if (m != nullptr && m->contains("chat") && (*m)["chat"].is_object() && (*m)["chat"].contains("id") &&
        (*m)["chat"]["id"].is_number_integer()) {
      update.chat_id = (*m)["chat"]["id"].get<std::int64_t>();
      if (m->contains("text") && (*m)["text"].is_string()) update.text = (*m)["text"].get<std::string>();
    }
    out.push_back(std::move(update));
  }
  return out;
}

TelegramApi::TelegramApi(ApiConfig config, http::Client client, BotMetrics* metrics,
                         std::function<void(const std::string&)> log)
    : config_(std::move(config)), client_(std::move(client)), metrics_(metrics), log_(std::move(log)) {}

Expected<TelegramApi> TelegramApi::create(ApiConfig config, BotMetrics* metrics,
                                          std::function<void(const std::string&)> log) {
  if (config.token.empty()) return make_error("Telegram: no bot token");
  if (config.token.find_first_of("/?#% \t\r\n") != std::string::npos)
    return make_error("Telegram: the bot token has characters a token never has (a path, a space or a newline?)");
  if (config.base_url.rfind("http://", 0) != 0 && config.base_url.rfind("https://", 0) != 0)
    return make_error("Telegram: api_url '" + config.base_url + "' must start with http:// or https://");
  while (!config.base_url.empty() && config.base_url.back() == '/') config.base_url.pop_back();
  if (config.max_attempts < 1) config.max_attempts = 1;
  auto client = http::Client::create("quant-bot/1");
  if (!client) return tl::unexpected(client.error());
  if (!log) log = [](const std::string&) {};
  return TelegramApi(std::move(config), std::move(*client), metrics, std::move(log));
}

Expected<std::string> TelegramApi::call(std::string_view method, http::Request request) {
  request.url = config_.base_url + "/bot" + config_.token + "/" + std::string(method);
  request.connect_timeout = config_.connect_timeout;
  auto backoff = config_.first_backoff;
  std::string last_error;
  for (int attempt = 1; attempt <= config_.max_attempts; ++attempt) {
    std::chrono::milliseconds wait = backoff;
    auto response = client_.perform(request);
    bool retry = false;
    if (!response) {
      last_error = "no answer: " + response.error().message;
      retry = true;
    } else {
      json body = json::parse(response->body, nullptr, false);
      const bool api_json = body.is_object() && body.contains("ok") && body["ok"].is_boolean();
      if (response->status == 200 && api_json && body["ok"].get<bool>()) {
        if (!body.contains("result")) return std::string("null");
        return body["result"].dump();
      }
      std::string what = "HTTP " + std::to_string(response->status);
      if (api_json && body.contains("description") && body["description"].is_string())
        what += ": " + first_line(body["description"].get<std::string>());
      else if (!api_json)
        what += " with an answer that is not the Bot API's JSON: " + first_line(response->body, 120);
      last_error = what;
      if (response->status == 429) {
        retry = true;
        wait = std::chrono::seconds(1);
        if (api_json && body.contains("parameters") && body["parameters"].is_object()) {
          const auto& p = body["parameters"];
          if (p.contains("retry_after") && p["retry_after"].is_number_integer())
            wait = std::chrono::seconds(std::max<std::int64_t>(0, p["retry_after"].get<std::int64_t>()));
        }
      } else if (response->status >= 500) {
        retry = true;
      }
    }
    if (metrics_ != nullptr) metrics_->api_error();
    if (!retry || attempt == config_.max_attempts) break;
    // The server's retry_after is honoured as given (up to 10 minutes); our own back-off is capped.
    wait = response && response->status == 429 ? std::min<std::chrono::milliseconds>(wait, std::chrono::minutes(10))
                                               : std::min(wait, config_.max_backoff);
    log_(redact("telegram " + std::string(method) + ": " + last_error + "; attempt " + std::to_string(attempt) + " of " +
                    std::to_string(config_.max_attempts) + ", retrying in " + std::to_string(wait.count()) + " ms",
                config_.token));
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (config_.should_stop && config_.should_stop())
        return make_error(redact("telegram " + std::string(method) + ": stopped while waiting to retry (" + last_error + ")", config_.token));
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(until - std::chrono::steady_clock::now(),
                                                                     std::chrono::milliseconds(100)));
    }
    backoff = std::min(backoff * 2, config_.max_backoff);
  }
  return make_error(redact("telegram " + std::string(method) + ": " + last_error, config_.token));
}

Expected<std::vector<Update>> TelegramApi::get_updates(std::int64_t offset) {
  json q = {{"offset", offset},
            {"timeout", config_.poll_timeout.count()},
            {"allowed_updates", json::array({"message"})}};
  http::Request r;
  r.body = q.dump();
  r.timeout = config_.timeout + config_.poll_timeout;
  auto result = call("getUpdates", std::move(r));
  if (!result) return tl::unexpected(result.error());
  return parse_updates(*result);
}

Expected<void> TelegramApi::send_message(std::int64_t chat_id, std::string_view text) {
  http::Request r;
  r.body = json{{"chat_id", chat_id}, {"text", clip(text, 4096)}, {"disable_web_page_preview", true}}.dump();
  r.timeout = config_.timeout;
  auto result = call("sendMessage", std::move(r));
  if (!result) return tl::unexpected(result.error());
  return {};
}

Expected<void> TelegramApi::send_photo(std::int64_t chat_id, std::string png, std::string_view caption) {
  http::Request r;
  r.form.push_back({"chat_id", std::to_string(chat_id), "", ""});
  if (!caption.empty()) r.form.push_back({"caption", clip(caption, 1024), "", ""});
  r.form.push_back({"photo", std::move(png), "equity.png", "image/png"});
  r.timeout = config_.timeout;
  auto result = call("sendPhoto", std::move(r));
  if (!result) return tl::unexpected(result.error());
  return {};
}

}  // namespace quant::bot
