#include "model_train/dataset.h"

#include <cmath>

namespace quant::model_train {

Expected<void> Dataset::validate() const {
  if (cols() == 0) return make_error("dataset: no feature names (columns)");
  if (rows() == 0) return make_error("dataset: no rows (labels is empty)");
  if (features.size() != rows() * cols()) {
    return make_error("dataset: features has " + std::to_string(features.size()) + " values, expected rows (" +
                      std::to_string(rows()) + ") * cols (" + std::to_string(cols()) + ")");
  }
  if (!weights.empty() && weights.size() != rows()) {
    return make_error("dataset: weights has " + std::to_string(weights.size()) + " values, expected 0 or " +
                      std::to_string(rows()));
  }
  for (std::size_t i = 0; i < rows(); ++i) {
    if (!std::isfinite(labels[i])) return make_error("dataset: label of row " + std::to_string(i) + " is not finite");
    if (!weights.empty() && !(std::isfinite(weights[i]) && weights[i] >= 0.0f)) {
      return make_error("dataset: weight of row " + std::to_string(i) + " is negative or not finite");
    }
  }
  return {};
}

Dataset Dataset::slice(std::size_t begin, std::size_t end) const {
  QUANT_CHECK(begin <= end && end <= rows());
  Dataset out;
  out.feature_names = feature_names;
  const auto b = static_cast<std::ptrdiff_t>(begin), e = static_cast<std::ptrdiff_t>(end);
  const auto c = static_cast<std::ptrdiff_t>(cols());
  out.features.assign(features.begin() + b * c, features.begin() + e * c);
  out.labels.assign(labels.begin() + b, labels.begin() + e);
  if (!weights.empty()) out.weights.assign(weights.begin() + b, weights.begin() + e);
  return out;
}

}  // namespace quant::model_train
