#pragma once
// Shared wiring for the `quant` subcommands: configuration loading, the lake
// directory choice, and progress output. Nothing here holds domain logic.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "lake/lake.h"

namespace quant::app {

/// Options every subcommand shares.
struct GlobalOptions {
  std::string config_path;  ///< --config; empty = found by `locate_config`
  std::string lake_dir;     ///< --lake; empty = [lake] dir from the config, else ./lake
  bool quiet = false;       ///< --quiet: no progress lines
};

/// Where the configuration comes from. Without --config the first of:
/// ./config/quant.toml; config/quant.toml in the binary's directory or one of
/// the four above it (a build tree of the repository, or an install's
/// share/quant); /etc/quant/quant.toml. `path` is empty when none exists.
struct ConfigLocation {
  std::string path;
  std::vector<std::string> searched;  ///< the places looked at, in order
};
ConfigLocation locate_config(const GlobalOptions& options);

/// Loads the configuration `locate_config` finds (the built-in defaults, with
/// no instruments, when there is none). --config naming a missing file fails.
Expected<config::AppConfig> load_config(const GlobalOptions& options);

/// The configured instrument `symbol`, or an error for `who` saying where the
/// configuration was read (or looked for) and which symbols it has.
Expected<const InstrumentSpec*> find_instrument(const GlobalOptions& options, const config::AppConfig& config,
                                                const std::string& symbol, const std::string& who);
/// The lake directory in force: --lake, else the config's [lake] dir, else "lake".
std::string lake_dir(const GlobalOptions& options, const config::AppConfig& config);

/// Opens the lake in force for reading (`lake_dir`), with the config's
/// [lake] threads and memory limit; a missing lake says to ingest first.
Expected<std::unique_ptr<lake::Lake>> open_existing_lake(const GlobalOptions& options, const config::AppConfig& config);

/// Whether the lake's bars of `symbol` in [from, to) include generated data
/// (Lake::generated_bars), so a run on them says so. A lake whose marks cannot
/// be read is reported on stderr and counts as real data.
bool lake_has_generated_bars(lake::Lake& lake, const std::string& symbol, Timestamp from, Timestamp to);

/// A --from/--to pair: dates or times, local to `zone` when they carry no
/// offset; empty = open-ended. Fails naming the option, or when from >= to.
struct TimeRange {
  Timestamp from = Timestamp::min();
  Timestamp to = Timestamp::max();
};
Expected<TimeRange> parse_range(const std::string& from, const std::string& to, const TimeZone& zone);

/// Progress on stderr for long jobs: a self-overwriting line on a terminal,
/// a line every few seconds otherwise. Silent when quiet.
class Progress {
 public:
  Progress(std::string label, bool quiet);
  /// Reports `done` of `total` units (total 0 = unknown) and a count of rows.
  void update(std::uint64_t done, std::uint64_t total, std::int64_t rows);
  /// Reports a step of a long job: "[label] what done/total (pct)".
  void step(std::string_view what, std::int64_t done, std::int64_t total);
  void finish();

 private:
  std::string label_;
  bool quiet_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
  bool printed_ = false;
  std::string last_step_;
};

/// A HOST:PORT option value ("127.0.0.1:5555"); fails naming the option.
/// `min_port` 0 allows "any free port".
struct HostPort {
  std::string host;
  int port = 0;
};
Expected<HostPort> parse_host_port(const std::string& option, const std::string& text, int min_port = 1);

/// Prints "quant: <message>" to stderr and returns the exit code 1.
int fail(const std::string& message);

}  // namespace quant::app
