#pragma once
// The label that travels with a generated MT5 export: `quant generate` writes
// FILE + ".generated.json" beside FILE, `quant ingest` reads it and marks the
// partitions it writes as generated (docs/contracts/lake.md, "Generated data").

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"

namespace quant::app {

/// What a sidecar says about its file.
struct GeneratedSidecar {
  std::string generator = "quant generate";
  std::string symbol;
  std::uint64_t seed = 0;
  int days = 0;
  std::string start;  ///< first calendar day, YYYY-MM-DD
  std::int64_t bars = 0;
  std::int64_t bytes = -1;  ///< size of the file it describes (-1: not recorded)
  std::string file;         ///< the file's name (no directory)

  /// The one-line label the lake keeps: "quant generate WIN seed=42 days=120 start=2024-01-02 (WIN_M1.csv)".
  std::string label() const;
};

/// FILE + ".generated.json".
std::string sidecar_path(const std::string& file);

/// Writes the sidecar of `file` (temporary file, fsync, rename: never half written).
Expected<void> write_sidecar(const std::string& file, const GeneratedSidecar& sidecar);

/// The sidecar of `file`, or nullopt when there is none. Fails when it cannot
/// be read or parsed, or when it records another size than `file` has (a real
/// export saved over a generated one): the message says what to do.
Expected<std::optional<GeneratedSidecar>> read_sidecar(const std::string& file);

}  // namespace quant::app
