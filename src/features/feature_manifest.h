#pragma once
/// The feature manifest: which features a model consumes, in which order, how
/// they were computed (parameters) and a hash of both. A model carries the
/// manifest it was trained with; the serving/live side checks the pipeline it
/// built against it before scoring a single row.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/sha256.h"

namespace quant::features {

/// Names (one per value of `FeaturePipeline::values()`, same order), the
/// parameters that produced them (a JSON object) and `hash`: the lowercase hex
/// SHA-256 of `canonical_json(names, params)`.
struct FeatureManifest {
  std::vector<std::string> names;
  nlohmann::json params = nlohmann::json::object();
  std::string hash;

  /// Recomputes `hash` from `names` and `params`.
  void rehash();
  /// {"names": [...], "params": {...}, "hash": "..."}.
  nlohmann::json to_json() const;
  /// Parses and checks the shape (names: array of unique non-empty strings,
  /// params: object, hash: matches the recomputed one). The error names the
  /// offending field.
  static Expected<FeatureManifest> from_json(const nlohmann::json& json);
};

/// The text hashed: `{"names":[...],"params":{...}}` dumped compactly with
/// nlohmann's sorted object keys and shortest round-trip numbers, so equal
/// content gives equal bytes.
std::string canonical_json(const std::vector<std::string>& names, const nlohmann::json& params);

/// Lowercase hex SHA-256 of `text` (OpenSSL EVP).
inline std::string sha256_hex(const std::string& text) { return quant::sha256_hex(text); }

/// Ok when `got` describes the same features as `expected` (same names in the
/// same order, same parameters). Otherwise the error names the first
/// difference: the first position whose name differs, a missing or extra
/// feature, or the first parameter key whose value differs.
Expected<void> check_compatible(const FeatureManifest& expected, const FeatureManifest& got);

}  // namespace quant::features
