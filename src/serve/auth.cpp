#include "serve/auth.h"

#include "core/secret.h"
#include "core/sha256.h"

namespace quant::serve {

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

BearerAuth::BearerAuth(std::string_view token) : configured_(!token.empty()), digest_(sha256_hex(token)) {}

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}
}  // namespace

Expected<BearerAuth> BearerAuth::from_sources(const std::string& env_name, const std::string& file) {
  auto token = read_secret(env_name, file);
  if (!token) return tl::unexpected(token.error());
  return *token ? BearerAuth(**token) : BearerAuth();
}

bool BearerAuth::allows(std::string_view authorization) const {
  if (!configured_) return false;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != kScheme[i]) return false;
  }
  // Hashing first makes the comparison independent of the guess's length.
  return constant_time_equal(sha256_hex(trim(authorization.substr(kScheme.size()))), digest_);
}

}  // namespace quant::serve
