#pragma once
/// Small Gatekeeper model directories for the serve tests (not part of the
/// library): three tiny XGBoost models exported to ONNX with a manifest.

#include <cstdint>
#include <string>
#include <vector>

namespace quant::serve::testing {

/// Writes a model directory with `features` columns named f0..f{n-1} and
/// manifest version `version`; `seed` changes the trees (so two versions
/// answer differently). Returns the directory (created under `parent`).
std::string write_test_models(const std::string& parent, const std::string& name, std::int64_t version,
                              std::uint64_t seed, std::size_t features = 5);

std::vector<std::string> test_feature_names(std::size_t features = 5);

}  // namespace quant::serve::testing
