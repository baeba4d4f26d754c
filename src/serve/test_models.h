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

/// Writes a model directory trained on given rows: `rows` holds
/// `names.size()` columns row-major (e.g. a feature pipeline's values over
/// bars), the classifier learns `labels` (0/1), the q10/q90 models learn
/// `moves` (e.g. forward moves in price points). The manifest's schema is
/// `names` + `schema_hash`, so a pipeline with that manifest loads it.
std::string write_models_for_rows(const std::string& parent, const std::string& name, std::int64_t version,
                                  const std::vector<std::string>& names, const std::string& schema_hash,
                                  const std::vector<float>& rows, const std::vector<float>& labels,
                                  const std::vector<float>& moves);

}  // namespace quant::serve::testing
