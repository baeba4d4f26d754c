#pragma once
#include <cctype>
// What the parity tests share: the shipped configuration, a feed over bars in
// memory, and reading a file.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/test_data.h"
#include "engine/ports.h"
#include "ingest/importer.h"

namespace quant::parity {

inline std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// config/quant.toml as it ships.
inline config::AppConfig shipped_config() {
  const std::string path = std::string(QUANT_SOURCE_DIR) + "/config/quant.toml";
  auto cfg = config::parse_config(read(path), path);
  EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().message);
  return *cfg;
}

/// The real WIN 1-minute bars of ../shared/data (empty when the file is absent: check first).
inline std::vector<Bar> real_win_bars(const config::AppConfig& cfg, const std::string& file) {
  struct Collect final : ingest::RecordSink {
    std::vector<Bar> bars;
    void on_bar(const Bar& b) override { bars.push_back(b); }
  } collect;
  auto source = ingest::open_source(file);
  EXPECT_TRUE(source);
  if (!source) return {};
  ingest::ImportOptions options;
  options.time_zone = TimeZone::find("America/Sao_Paulo").value();
  options.spec = *cfg.instruments.find("WIN");
  EXPECT_TRUE(ingest::import_source(**source, ingest::Format::Mt5Bars, options, collect));
  return std::move(collect.bars);
}

/// The first CSV field that is not a finite number where one was printed
/// ("nan", "-nan", "inf", "-inf" in any case), or "" when there is none: two
/// outputs that both hold NaN compare equal, which must not count as parity.
inline std::string non_finite_field(const std::string& csv) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= csv.size(); ++i) {
    if (i < csv.size() && csv[i] != ',' && csv[i] != '\n') continue;
    std::string field = csv.substr(start, i - start);
    for (char& c : field) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!field.empty() && field.front() == '-') field.erase(0, 1);
    if (field == "nan" || field == "inf" || field == "infinity") return csv.substr(start, i - start);
    start = i + 1;
  }
  return "";
}

}  // namespace quant::parity
