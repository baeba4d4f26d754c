#pragma once
/// Tests on the real market data in ../shared/data (not part of the library).
/// A test that needs a file calls QUANT_REQUIRE_DATA(path) first: when the
/// file is absent the test is skipped with a message — except under CI (the
/// CI environment variable set), where the data is always present, so its
/// absence is a failure rather than a silent skip.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace quant::testing {

/// `relative` inside the shared data folder (QUANT_SHARED_DATA_DIR).
inline std::string shared_data(const std::string& relative) {
  return std::string(QUANT_SHARED_DATA_DIR) + "/" + relative;
}

inline bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0';
}

}  // namespace quant::testing

#define QUANT_REQUIRE_DATA(path)                                                                           \
  do {                                                                                                     \
    const std::string& quant_required_path_ = (path);                                                      \
    if (!std::filesystem::exists(quant_required_path_)) {                                                  \
      if (::quant::testing::under_ci()) {                                                                  \
        FAIL() << quant_required_path_ << " is absent, and CI always has ../shared/data";                  \
      }                                                                                                    \
      GTEST_SKIP() << quant_required_path_ << " is absent (needs ../shared/data): real-data test skipped"; \
    }                                                                                                      \
  } while (0)
