#include "app_context.h"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace quant::app {

ConfigLocation locate_config(const GlobalOptions& options) {
  ConfigLocation where;
  if (!options.config_path.empty()) {
    where.path = options.config_path;
    where.searched = {options.config_path};
    return where;
  }
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates = {fs::path("config") / "quant.toml"};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 5 && !dir.empty(); ++up) {
      candidates.push_back(dir / "config" / "quant.toml");
      candidates.push_back(dir / "share" / "quant" / "quant.toml");
      if (dir == dir.parent_path()) break;
      dir = dir.parent_path();
    }
  }
  candidates.emplace_back("/etc/quant/quant.toml");
  for (const auto& c : candidates) {
    where.searched.push_back(c.string());
    if (fs::is_regular_file(c, ec)) {
      where.path = c.string();
      return where;
    }
  }
  return where;
}

Expected<config::AppConfig> load_config(const GlobalOptions& options) {
  const ConfigLocation where = locate_config(options);
  // (in_place: GCC 12 at -O3 warns falsely about moving a braced temporary in)
  if (where.path.empty()) return Expected<config::AppConfig>(tl::in_place);
  std::ifstream in(where.path, std::ios::binary);
  if (!in) {
    return make_error(where.path + ": " +
                      (std::filesystem::exists(where.path) ? "cannot read the configuration file"
                                                           : "no such configuration file (--config)"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return config::parse_config(text.str(), where.path);
}

Expected<const InstrumentSpec*> find_instrument(const GlobalOptions& options, const config::AppConfig& config,
                                                const std::string& symbol, const std::string& who) {
  if (const InstrumentSpec* spec = config.instruments.find(symbol)) return spec;
  const ConfigLocation where = locate_config(options);
  if (where.path.empty()) {
    std::string places;
    for (const auto& p : where.searched) places += (places.empty() ? "" : ", ") + p;
    return make_error(who + ": unknown symbol '" + symbol + "': no configuration file was found (looked in " +
                      places + "); pass --config FILE");
  }
  std::string known;
  for (const auto& [name, s] : config.instruments.all()) known += (known.empty() ? "" : ", ") + name;
  return make_error(who + ": unknown symbol '" + symbol + "': not configured in " + where.path + " (configured: " +
                    (known.empty() ? std::string("none") : known) + ")");
}

std::string lake_dir(const GlobalOptions& options, const config::AppConfig& config) {
  if (!options.lake_dir.empty()) return options.lake_dir;
  if (!config.lake.dir.empty()) return config.lake.dir;
  return "lake";
}

Expected<TimeRange> parse_range(const std::string& from, const std::string& to, const TimeZone& zone) {
  TimeRange r;
  if (!from.empty()) {
    auto t = parse_time_arg(from, zone);
    if (!t) return make_error("--from: " + t.error().message);
    r.from = *t;
  }
  if (!to.empty()) {
    auto t = parse_time_arg(to, zone);
    if (!t) return make_error("--to: " + t.error().message);
    r.to = *t;
  }
  if (r.from >= r.to) return make_error("--from must be before --to");
  return r;
}

Progress::Progress(std::string label, bool quiet)
    : label_(std::move(label)),
      quiet_(quiet),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

// Progress is for a person watching: on a terminal only (a log or a pipe
// gets the results, not a stream of carriage returns), and never with -q.
void Progress::update(std::uint64_t done, std::uint64_t total, std::int64_t rows) {
  if (quiet_ || !tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? static_cast<double>(rows) / secs : 0;
  char pct[16] = "";
  if (total > 0)
    std::snprintf(pct, sizeof pct, "%5.1f%% ", 100.0 * static_cast<double>(done) / static_cast<double>(total));
  std::fprintf(stderr, "\r[%s] %s%lld rows, %.0f rows/s   ", label_.c_str(), pct, static_cast<long long>(rows), rate);
  printed_ = true;
}

void Progress::step(std::string_view what, std::int64_t done, std::int64_t total) {
  if (quiet_ || !tty_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool new_step = what != last_step_;
  if (!new_step && now - last_ < std::chrono::milliseconds(200) && done != total) return;
  last_ = now;
  last_step_ = what;
  const double pct = total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0;
  std::fprintf(stderr, "\r\033[K[%s] %.*s %lld/%lld (%.0f%%)", label_.c_str(), static_cast<int>(what.size()),
               what.data(), static_cast<long long>(done), static_cast<long long>(total), pct);
  printed_ = true;
}

void Progress::finish() {
  if (printed_ && tty_) std::fprintf(stderr, "\r\033[K");
  printed_ = false;
}

Expected<std::unique_ptr<lake::Lake>> open_existing_lake(const GlobalOptions& options,
                                                         const config::AppConfig& config) {
  lake::LakeOptions lake_options;
  lake_options.threads = config.lake.threads;
  lake_options.memory_limit = config.lake.memory_limit;
  const std::string root = lake_dir(options, config);
  auto lk = lake::Lake::open(root, /*create=*/false, lake_options);
  if (!lk) {
    return make_error(lk.error().message + ": import data first (quant ingest --lake " + root +
                      " --format FORMAT --symbol SYMBOL FILE), or point at another lake with --lake DIR or [lake] dir");
  }
  return lk;
}

bool lake_has_generated_bars(lake::Lake& lake, const std::string& symbol, Timestamp from, Timestamp to) {
  auto spans = lake.generated_bars(symbol, from, to);
  if (!spans) {
    std::fprintf(stderr, "quant: warning: cannot tell whether the bars of %s are generated: %s\n", symbol.c_str(),
                 spans.error().message.c_str());
    return false;
  }
  return !spans->empty();
}

Expected<HostPort> parse_host_port(const std::string& option, const std::string& text, int min_port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(option + " '" + text + "': expected host:port, e.g. 127.0.0.1:5555");
  int port = -1;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || end != last || port < min_port || port > 65535)
    return make_error(option + " '" + text + "': the port must be a number from " + std::to_string(min_port) +
                      " to 65535");
  return HostPort{text.substr(0, colon), port};
}

int fail(const std::string& message) {
  std::fprintf(stderr, "quant: %s\n", message.c_str());
  return 1;
}

}  // namespace quant::app
