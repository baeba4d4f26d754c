#pragma once
/// Bearer-token checks for `/order` and `/admin/*`. The token is read once at
/// start-up from an environment variable or a file (never from the main
/// configuration) and never logged. The comparison takes the same time
/// whatever the guess: both sides are hashed (SHA-256) and the digests
/// compared without an early exit, so neither the content nor the length of
/// the token leaks through timing.

#include <string>
#include <string_view>

#include "core/error.h"

namespace quant::serve {

class BearerAuth {
 public:
  /// No token: every protected request is refused.
  BearerAuth() = default;
  explicit BearerAuth(std::string_view token);

  /// The token from `file` when given (first line, surrounding whitespace
  /// trimmed), else from the environment variable `env_name`; empty when
  /// neither is set. Fails when the file is unreadable or holds an empty token.
  static Expected<BearerAuth> from_sources(const std::string& env_name, const std::string& file);

  bool configured() const { return configured_; }
  /// True when `authorization` is "Bearer <the token>" (scheme case-insensitive).
  bool allows(std::string_view authorization) const;

 private:
  bool configured_ = false;
  std::string digest_;  ///< SHA-256 hex of the token
};

/// Compares two equal-purpose strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace quant::serve
