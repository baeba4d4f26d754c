#pragma once
/// File helpers for the registry's tests (not part of the library): a fresh
/// temporary directory per call, and reading and writing whole files.

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace quant::testing {

/// A fresh, empty directory per call and process (ctest runs tests in
/// parallel); `tag` ends its name. Left in place for a look after a failure.
inline std::filesystem::path unique_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("registry_test_" + std::to_string(::getpid()) + "_" +
                               std::to_string(counter.fetch_add(1)) + "_" + tag);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// The whole file ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Writes `text` to `path` (parent directories created); a failed write fails the test.
inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace quant::testing
