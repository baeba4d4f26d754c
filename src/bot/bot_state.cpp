#include "bot/bot_state.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace quant::bot {

using json = nlohmann::json;

Expected<BotState> load_state(const std::string& path) {
  BotState s;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return s;
    return make_error("bot state " + path + ": cannot be read");
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json j = json::parse(text.str());
    s.offset = j.value("offset", std::int64_t{0});
    s.last_fill_id = j.value("last_fill_id", std::string());
    s.halt_present = j.value("halt_present", false);
    s.halt_time = j.value("halt_time", std::string());
    if (j.contains("breaker_near_day")) s.breaker_near_day = j["breaker_near_day"].get<std::map<std::string, std::int64_t>>();
    if (j.contains("stale")) s.stale = j["stale"].get<std::map<std::string, bool>>();
    s.summary_day = j.value("summary_day", std::int64_t{0});
    if (j.contains("prometheus_firing"))
      s.prometheus_firing = j["prometheus_firing"].get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    return make_error("bot state " + path + ": not the bot's state (" + e.what() +
                      "); move it away to start afresh (commands still queued at Telegram would then run)");
  }
  return s;
}

Expected<void> save_state(const std::string& path, const BotState& s) {
  const json j = {{"offset", s.offset},          {"last_fill_id", s.last_fill_id},
                  {"halt_present", s.halt_present}, {"halt_time", s.halt_time},
                  {"breaker_near_day", s.breaker_near_day}, {"stale", s.stale},
                  {"summary_day", s.summary_day}, {"prometheus_firing", s.prometheus_firing}};
  const std::string text = j.dump(2) + "\n";
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (auto ok = write_file_atomic(target, text, dir, 0600); !ok) return make_error("bot state " + ok.error().message);
  return {};
}

}  // namespace quant::bot
