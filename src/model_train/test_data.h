#pragma once
/// Synthetic, seeded datasets and model directories for the tests and
/// benchmarks of model, model_train and serve (compiled into them; not part of
/// the library).

#include <cstdint>
#include <string>

#include "model_train/dataset.h"

namespace quant::model_train::testing_data {

/// A learnable binary problem over `cols` >= 4 features: positive with
/// probability sigmoid(1.5 x0 - x1 + 0.8 x2 x3); ~8 % of x0 and x1 are NaN
/// (missing, then carrying no signal).
Dataset classification(std::size_t rows, std::size_t cols, std::uint64_t seed);

/// Heteroscedastic regression: x0 ~ U(-2, 2),
/// y = scale * (2 x0 + (0.3 + 0.7 |x0|) N(0, 1)); the other columns are noise, ~5 % NaN.
Dataset heteroscedastic(std::size_t rows, std::size_t cols, std::uint64_t seed, float scale = 1.0f);

/// Copies the model directory `from` to `to` (replacing `to`) as
/// `write_models` wrote it before the merged model existed: without the merged
/// file and without the manifest's "merged" entry, every other byte the same.
/// Aborts on an I/O error.
void copy_without_merged_model(const std::string& from, const std::string& to);

}  // namespace quant::model_train::testing_data
