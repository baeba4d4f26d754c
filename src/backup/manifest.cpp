#include "backup/manifest.h"

#include <nlohmann/json.hpp>

namespace quant::backup {

std::int64_t Manifest::bytes() const {
  std::int64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

std::string object_key(std::string_view sha256) { return "objects/" + std::string(sha256); }

std::string manifest_json(const Manifest& m) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& f : m.files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  nlohmann::ordered_json j{{"format", kManifestFormat},
                           {"created", m.created},
                           {"tool", m.tool},
                           {"lake", m.lake},
                           {"file_count", m.files.size()},
                           {"bytes", m.bytes()},
                           {"files", files}};
  return j.dump(1) + "\n";
}

namespace {

bool is_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool safe_relative(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) return false;
  std::size_t at = 0;
  while (at <= path.size()) {
    const auto slash = path.find('/', at);
    const std::string part = path.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return true;
}

}  // namespace

Expected<Manifest> parse_manifest(std::string_view text, const std::string& where) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(where + ": not a JSON object (not a backup manifest?)");
  if (j.value("format", "") != kManifestFormat) {
    return make_error(where + ": format '" + j.value("format", "") + "', expected " + kManifestFormat);
  }
  Manifest m;
  m.created = j.value("created", "");
  m.tool = j.value("tool", "");
  m.lake = j.value("lake", "");
  if (!j.contains("files") || !j["files"].is_array()) return make_error(where + ": no \"files\" array");
  std::size_t index = 0;
  for (const auto& f : j["files"]) {
    const std::string at = where + ": files[" + std::to_string(index++) + "]";
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("size") ||
        !f["size"].is_number_integer() || !f.contains("sha256") || !f["sha256"].is_string()) {
      return make_error(at + ": needs path (string), size (integer) and sha256 (string)");
    }
    ManifestFile file{f["path"].get<std::string>(), f["size"].get<std::int64_t>(), f["sha256"].get<std::string>()};
    if (!safe_relative(file.path)) return make_error(at + ": path '" + file.path + "' is not a plain relative path");
    if (file.size < 0) return make_error(at + ": negative size");
    if (!is_sha256(file.sha256)) return make_error(at + ": sha256 '" + file.sha256 + "' is not 64 hex digits");
    m.files.push_back(std::move(file));
  }
  return m;
}

}  // namespace quant::backup
