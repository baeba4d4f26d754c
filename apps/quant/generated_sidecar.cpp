#include "generated_sidecar.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace quant::app {

namespace fs = std::filesystem;

std::string GeneratedSidecar::label() const {
  std::string text = generator;
  if (!symbol.empty()) text += " " + symbol;
  text += " seed=" + std::to_string(seed);
  if (days > 0) text += " days=" + std::to_string(days);
  if (!start.empty()) text += " start=" + start;
  if (!file.empty()) text += " (" + file + ")";
  return text;
}

std::string sidecar_path(const std::string& file) { return file + ".generated.json"; }

Expected<void> write_sidecar(const std::string& file, const GeneratedSidecar& sidecar) {
  const nlohmann::json j = {{"generated", true},    {"generator", sidecar.generator}, {"symbol", sidecar.symbol},
                            {"seed", sidecar.seed}, {"days", sidecar.days},           {"start", sidecar.start},
                            {"bars", sidecar.bars}, {"bytes", sidecar.bytes},         {"file", sidecar.file}};
  const std::string path = sidecar_path(file);
  const std::string tmp = path + ".tmp";
  const std::string text = j.dump(2) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cannot write " + tmp + ": " + std::generic_category().message(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!written || !synced || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    return make_error("cannot write " + path + ": " + std::generic_category().message(err));
  }
  return {};
}

Expected<std::optional<GeneratedSidecar>> read_sidecar(const std::string& file) {
  const std::string path = sidecar_path(file);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<GeneratedSidecar>();
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return make_error(path + ": cannot read it (it marks " + file + " as generated data)");
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return make_error(path + ": not a JSON object (it marks " + file +
                      " as generated data): write it again with quant generate, or import with --generated");
  }
  GeneratedSidecar s;
  auto text_of = [&](const char* key, std::string& out) {
    if (j.contains(key) && j[key].is_string()) out = j[key].get<std::string>();
  };
  text_of("generator", s.generator);
  text_of("symbol", s.symbol);
  text_of("start", s.start);
  text_of("file", s.file);
  if (j.contains("seed") && j["seed"].is_number_unsigned()) s.seed = j["seed"].get<std::uint64_t>();
  if (j.contains("days") && j["days"].is_number_integer()) s.days = j["days"].get<int>();
  if (j.contains("bars") && j["bars"].is_number_integer()) s.bars = j["bars"].get<std::int64_t>();
  if (j.contains("bytes") && j["bytes"].is_number_integer()) s.bytes = j["bytes"].get<std::int64_t>();
  if (s.bytes >= 0) {
    const auto size = fs::file_size(file, ec);
    if (!ec && static_cast<std::int64_t>(size) != s.bytes) {
      return make_error(path + " describes a generated file of " + std::to_string(s.bytes) + " bytes, but " + file +
                        " has " + std::to_string(size) + ": if " + file +
                        " is real data now, delete the sidecar; if it is generated, import it with --generated");
    }
  }
  return std::optional<GeneratedSidecar>(std::move(s));
}

}  // namespace quant::app
