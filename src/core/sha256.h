#pragma once
/// SHA-256 of bytes as lowercase hex (model files, feature manifests, data
/// fingerprints). Pure; OpenSSL stays behind this one function.

#include <string>
#include <string_view>

namespace quant {

std::string sha256_hex(std::string_view bytes);

}  // namespace quant
