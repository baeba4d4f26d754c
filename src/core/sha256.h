#pragma once
/// SHA-256 of bytes as lowercase hex (model files, feature manifests, data
/// fingerprints). Pure; OpenSSL stays behind this one function.

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace quant {

std::string sha256_hex(std::string_view bytes);

/// SHA-256 of a file's bytes as lowercase hex, read in 1 MiB blocks (memory
/// stays small whatever the file's size). Fails naming the file.
Expected<std::string> sha256_file_hex(const std::string& path);

/// HMAC-SHA-256 of `message` under `key`, as the 32 raw digest bytes (the
/// chained form AWS Signature V4 derives its signing key with). Pure.
std::string hmac_sha256(std::string_view key, std::string_view message);

/// SHA-256 of bytes that arrive in pieces (an upload read block by block).
/// Move-only; not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  /// Starts over (as if just constructed).
  void reset();
  void update(std::string_view bytes);
  /// The digest of everything given since the last reset, as lowercase hex; resets.
  std::string hex_digest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Raw bytes as lowercase hex.
std::string to_hex(std::string_view bytes);

}  // namespace quant
