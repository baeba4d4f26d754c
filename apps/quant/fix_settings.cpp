#include "fix_settings.h"

#include <filesystem>

namespace quant::app {

Expected<fix::SessionSettings> fix_session_settings(const GlobalOptions& global, const config::FixSettings& cfg,
                                                    bool exchange, const std::string& store_dir, int port) {
  namespace fs = std::filesystem;
  fix::SessionSettings s;
  s.acceptor = exchange;
  s.host = cfg.host;
  s.port = port > 0 ? port : cfg.port;
  s.sender_comp_id = exchange ? cfg.target_comp_id : cfg.sender_comp_id;
  s.target_comp_id = exchange ? cfg.sender_comp_id : cfg.target_comp_id;
  s.heartbeat_s = cfg.heartbeat_s;
  s.reconnect_s = cfg.reconnect_s;
  s.store_dir = !store_dir.empty() ? store_dir : exchange ? cfg.store_dir + "/exchange" : cfg.store_dir;
  s.log_dir = cfg.log_dir;
  fs::path dictionary(cfg.dictionary);
  if (dictionary.is_relative()) {
    const std::string config_path = locate_config(global).path;
    if (!config_path.empty()) dictionary = fs::path(config_path).parent_path() / dictionary;
  }
  s.dictionary = dictionary.string();
  std::string error;
  if (!fix::check_dictionary(s.dictionary, &error)) return make_error("[fix] dictionary: " + error);
  std::error_code ec;
  fs::create_directories(s.store_dir, ec);
  if (ec) return make_error("[fix] store_dir " + s.store_dir + ": " + ec.message());
  if (!s.log_dir.empty()) {
    fs::create_directories(s.log_dir, ec);
    if (ec) return make_error("[fix] log_dir " + s.log_dir + ": " + ec.message());
  }
  return s;
}

}  // namespace quant::app
