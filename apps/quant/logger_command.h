#pragma once
// `quant logger`: the stream hub (ticks, fills, live's metrics) into ClickHouse.

#include <optional>
#include <string>
#include <vector>

#include "app_context.h"

namespace quant::app {

struct LoggerArgs {
  std::string redis = "127.0.0.1:6379";
  std::optional<std::string> metrics;  ///< --metrics HOST:PORT ("" = off); unset = [monitor]
  std::string clickhouse = "http://127.0.0.1:8123";
  std::string database = "quant";
  std::string user;                  ///< ClickHouse user; the password comes from CLICKHOUSE_PASSWORD
  std::vector<std::string> symbols;  ///< default: every configured instrument
  std::size_t batch_rows = 10000;
  long long batch_ms = 200;
  bool apply_schema = false;
  std::string group = "logger";
  std::string consumer = "logger";
  bool drain = false;            ///< exit once the streams hold nothing new
  bool from_now = false;         ///< a new consumer group starts at "$" instead of "0"
  double progress_s = 10;        ///< seconds between progress lines
  long long timeout_ms = 30000;  ///< one HTTP request to ClickHouse
};

int run_logger_command(const GlobalOptions& global, const LoggerArgs& args);

}  // namespace quant::app
