#pragma once
/// SHA-256 of bytes as lowercase hex (model files, feature manifests, data
/// fingerprints). Pure; OpenSSL stays behind this one function.

#include <string>
#include <string_view>

#include "core/error.h"

namespace quant {

std::string sha256_hex(std::string_view bytes);

/// SHA-256 of a file's bytes as lowercase hex, read in 1 MiB blocks (memory
/// stays small whatever the file's size). Fails naming the file.
Expected<std::string> sha256_file_hex(const std::string& path);

}  // namespace quant
