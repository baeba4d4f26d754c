#include "core/secret.h"

#include <cstdlib>
#include <fstream>
#include <string_view>

namespace quant {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

Expected<std::optional<std::string>> read_secret(const std::string& env_name, const std::string& file) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return make_error("token file '" + file + "' cannot be read");
    std::string line;
    std::getline(in, line);
    const std::string_view token = trim(line);
    if (token.empty()) return make_error("token file '" + file + "' holds no token on its first line");
    return std::optional<std::string>(std::string(token));
  }
  if (env_name.empty()) return std::optional<std::string>();
  const char* value = std::getenv(env_name.c_str());
  const std::string_view token = value == nullptr ? std::string_view() : trim(value);
  if (token.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(token));
}

}  // namespace quant
