#pragma once
/// Synthetic, seeded datasets for model_test and model_bench (not part of the
/// library).

#include <cstdint>

#include "model/dataset.h"

namespace quant::model::testing_data {

/// A learnable binary problem over `cols` >= 4 features: positive with
/// probability sigmoid(1.5 x0 - x1 + 0.8 x2 x3); ~8 % of x0 and x1 are NaN
/// (missing, then carrying no signal).
Dataset classification(std::size_t rows, std::size_t cols, std::uint64_t seed);

/// Heteroscedastic regression: x0 ~ U(-2, 2),
/// y = scale * (2 x0 + (0.3 + 0.7 |x0|) N(0, 1)); the other columns are noise, ~5 % NaN.
Dataset heteroscedastic(std::size_t rows, std::size_t cols, std::uint64_t seed, float scale = 1.0f);

}  // namespace quant::model::testing_data
