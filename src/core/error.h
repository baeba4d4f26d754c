#pragma once
/// Errors and invariants (docs/conventions.md, "Errors").
///
/// - Expected failures (bad input, I/O, parse) return `quant::Expected<T>`; the
///   `Error` says what was wrong, where, and what to do.
/// - Broken invariants (bugs) use `QUANT_CHECK(cond)`, which logs and aborts.

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace quant {

/// A failure that ends one operation. `message` is one human-readable line.
struct Error {
  std::string message;
};

template <class T>
using Expected = tl::expected<T, Error>;

/// Builds the unexpected branch of any `Expected<T>`.
inline tl::unexpected<Error> make_error(std::string message) {
  return tl::unexpected<Error>(Error{std::move(message)});
}

/// Aborts the process with a message. Used by QUANT_CHECK; never returns.
[[noreturn]] void check_failed(const char* condition, const char* file, int line);

}  // namespace quant

/// Aborts when `cond` is false: a bug, never a condition from outside the process.
#define QUANT_CHECK(cond) ((cond) ? static_cast<void>(0) : ::quant::check_failed(#cond, __FILE__, __LINE__))
