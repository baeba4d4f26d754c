#pragma once
/// Training data for the Gatekeeper models: a row-major float matrix (NaN =
/// missing), one float label per row, optional per-row weights and the feature
/// names in column order. Rows are expected in time order: `split_tail` makes
/// the time-ordered validation split.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace quant::model_train {

struct Dataset {
  std::vector<std::string> feature_names;  ///< one per column, in column order
  std::vector<float> features;             ///< rows * cols values, row-major; NaN = missing
  std::vector<float> labels;               ///< one per row; finite
  std::vector<float> weights;              ///< empty (all 1) or one per row, >= 0

  std::size_t cols() const { return feature_names.size(); }
  std::size_t rows() const { return labels.size(); }
  std::span<const float> row(std::size_t i) const { return {features.data() + i * cols(), cols()}; }

  /// Ok when the sizes agree, there is at least one row and one column, labels
  /// are finite and weights are finite and non-negative; otherwise the error
  /// names the first offending field and row.
  Expected<void> validate() const;

  /// Rows [begin, end) as a new dataset (same names).
  Dataset slice(std::size_t begin, std::size_t end) const;
};

}  // namespace quant::model_train
