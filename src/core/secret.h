#pragma once
/// A secret (an API token) from a file or an environment variable, read the
/// same way by every command that takes one (quant serve's bearer token,
/// quant bot's Telegram token).

#include <optional>
#include <string>

#include "core/error.h"

namespace quant {

/// `file` when given: its first line, trimmed of spaces and line ends (an
/// error names the file when it cannot be read or that line is empty).
/// Otherwise the variable `env_name`, trimmed; nullopt when `env_name` is
/// empty, unset or blank. The secret itself never appears in an error.
Expected<std::optional<std::string>> read_secret(const std::string& env_name, const std::string& file);

}  // namespace quant
