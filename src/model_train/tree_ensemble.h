#pragma once
/// Our own representation of a gradient-boosted tree ensemble, independent of
/// the library that trained it: parsed from XGBoost's JSON model or imported
/// from a LightGBM `model.txt`, predicted directly (`predict_raw`) and exported
/// to ONNX (onnx_export.h) from the same structure, so all three agree.
///
/// Split rules (the traps are in README.md):
/// - XGBoost: go left iff x < threshold (float compare) → `SplitRule::LessThan`.
/// - LightGBM: go left iff x <= threshold (a double); with float inputs we
///   store the largest float <= threshold, which keeps the decision exact for
///   every float x → `SplitRule::LessOrEqual`.
/// - A missing value (NaN) follows `default_left`.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant::model_train {

enum class SplitRule { LessThan, LessOrEqual };

/// How the raw score becomes the model's output.
enum class OutputTransform { Identity, Logistic };

/// One node. A leaf has `left == -1`; then only `leaf_value` matters.
struct TreeNode {
  std::int32_t feature = 0;
  float threshold = 0.0f;
  std::int32_t left = -1;  ///< child index in the same tree, -1 for a leaf
  std::int32_t right = -1;
  bool default_left = false;  ///< direction of a missing (NaN) value
  double leaf_value = 0.0;
  bool is_leaf() const { return left < 0; }
};

struct Tree {
  std::vector<TreeNode> nodes;  ///< node 0 is the root
};

/// A sum of trees plus a base margin. Immutable once built; `predict_raw` is
/// thread-safe and allocation-free.
struct TreeEnsemble {
  std::vector<Tree> trees;
  double base_margin = 0.0;  ///< added to the tree sum (already in margin space)
  SplitRule rule = SplitRule::LessThan;
  OutputTransform transform = OutputTransform::Identity;
  std::size_t feature_count = 0;

  /// base_margin + sum of the leaf each tree sends `row` to.
  /// `row.size()` must be at least `feature_count`.
  double predict_raw(std::span<const float> row) const;
  /// `predict_raw` through `transform` (a sigmoid for classifiers).
  double predict(std::span<const float> row) const;
  /// Leaf node index of `row` in tree `tree`.
  std::int32_t leaf_index(std::size_t tree, std::span<const float> row) const;

  /// Ok when every child index is in range, each tree is a proper binary tree
  /// rooted at 0 and every split feature is < feature_count.
  Expected<void> validate() const;

  /// Parses XGBoost 1.7's JSON model (`gbtree`, one target, numerical splits).
  /// `binary:logistic` gives a Logistic ensemble with base margin
  /// logit(base_score); any `reg:*` objective gives Identity with base_score.
  static Expected<TreeEnsemble> from_xgboost_json(std::string_view json);

  /// Imports a LightGBM text model (`model.txt`): one class, numerical splits,
  /// no linear trees. `binary` objectives (sigmoid:1) give a Logistic
  /// ensemble, regression ones Identity. Missing handling follows the
  /// decision_type bits (None: NaN is treated as 0; NaN: NaN takes the default
  /// child; Zero: only supported when 0 already goes to the default child).
  static Expected<TreeEnsemble> from_lightgbm_text(std::string_view text);
};

/// The largest float <= `value` (for LightGBM's double thresholds).
float float_at_or_below(double value);

}  // namespace quant::model_train
