#include "model_train/tree_ensemble.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "model/onnx_model.h"
#include "model_train/onnx_export.h"

namespace quant::model_train {
namespace {

using model::OnnxModel;

// A hand-written LightGBM model: node 0 of Tree=0 has a double threshold just
// above 0.3f's neighbour below (0.30000000000000004 < 0.3f), NaN goes left;
// node 1 has missing_type None (NaN is treated as 0); Tree=1 sends NaN right;
// Tree=2 is a single leaf.
constexpr const char* kModel = R"(tree
version=v3
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=2
objective=binary sigmoid:1
feature_names=a b c
feature_infos=[-5:5] [-5:5] [-5:5]
tree_sizes=300 200 100

Tree=0
num_leaves=3
num_cat=0
split_feature=0 1
split_gain=10 5
threshold=0.30000000000000004 -1.5
decision_type=10 0
left_child=1 -2
right_child=-1 -3
leaf_value=0.5 -0.25 0.125
leaf_weight=10 10 10
leaf_count=10 10 10
internal_value=0 0
internal_weight=0 0
internal_count=30 20
is_linear=0
shrinkage=1


Tree=1
num_leaves=2
num_cat=0
split_feature=2
split_gain=1
threshold=2
decision_type=8
left_child=-1
right_child=-2
leaf_value=0.01 -0.02
leaf_weight=1 1
leaf_count=1 1
internal_value=0
internal_weight=0
internal_count=2
is_linear=0
shrinkage=0.1


Tree=2
num_leaves=1
num_cat=0
leaf_value=0.1
is_linear=0
shrinkage=1


end of trees

feature_importances:
a=1
)";

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
  std::vector<float> row;
  double raw;  // computed by hand from the text above
};

std::vector<Case> cases() {
  return {
      {{0.3f, 0.0f, 1.0f}, 0.5 + 0.01 + 0.1},            // 0.3f > 0.30000000000000004 → right leaf 0
      {{kNaN, kNaN, kNaN}, 0.125 - 0.02 + 0.1},          // NaN left; NaN as 0 > -1.5 → leaf 2; NaN right
      {{0.1f, -2.0f, 5.0f}, -0.25 - 0.02 + 0.1},         // left, -2 <= -1.5 → leaf 1; 5 > 2
      {{0.29999998f, -1.5f, 2.0f}, -0.25 + 0.01 + 0.1},  // <= on both, ties go left
  };
}

TEST(TreeEnsembleTest, FloatAtOrBelow) {
  EXPECT_EQ(float_at_or_below(1.0), 1.0f);
  EXPECT_EQ(float_at_or_below(0.30000000000000004), std::nextafter(0.3f, 0.0f));
  EXPECT_LE(static_cast<double>(float_at_or_below(0.1)), 0.1);
  EXPECT_EQ(float_at_or_below(-0.1), -0.1f);  // -0.1f < -0.1
}

TEST(TreeEnsembleTest, LightGbmImportMatchesHandComputedPredictions) {
  auto model = TreeEnsemble::from_lightgbm_text(kModel);
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_EQ(model->rule, SplitRule::LessOrEqual);
  EXPECT_EQ(model->transform, OutputTransform::Logistic);
  EXPECT_EQ(model->feature_count, 3u);
  ASSERT_EQ(model->trees.size(), 3u);
  for (const auto& c : cases()) {
    EXPECT_NEAR(model->predict_raw(c.row), c.raw, 1e-12);
    EXPECT_NEAR(model->predict(c.row), 1.0 / (1.0 + std::exp(-c.raw)), 1e-12);
  }
}

TEST(TreeEnsembleTest, LightGbmImportExportsToOnnxWithBranchLeq) {
  auto model = TreeEnsemble::from_lightgbm_text(kModel);
  ASSERT_TRUE(model) << model.error().message;
  OnnxExportOptions options;
  options.output_name = "prob";
  auto bytes = export_onnx(*model, options);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto session = OnnxModel::load_bytes(*bytes);
  ASSERT_TRUE(session) << session.error().message;
  for (const auto& c : cases()) {
    float prob = 0.0f;
    ASSERT_TRUE((*session)->run_into(c.row, 1, std::span<float>(&prob, 1)));
    EXPECT_NEAR(prob, 1.0 / (1.0 + std::exp(-c.raw)), 1e-6);
  }
}

TEST(TreeEnsembleTest, LightGbmRejectsWhatItCannotRepresent) {
  std::string text = kModel;
  EXPECT_FALSE(TreeEnsemble::from_lightgbm_text("not a model"));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return TreeEnsemble::from_lightgbm_text(t);
  };
  EXPECT_FALSE(with("num_class=1", "num_class=3"));
  EXPECT_FALSE(with("decision_type=10 0", "decision_type=11 0"));  // categorical
  // missing_type Zero with default left while 0 > threshold -1.5 goes right.
  auto zero = with("decision_type=10 0", "decision_type=10 6");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("Zero"), std::string::npos) << zero.error().message;
  // Zero with default right there is exact.
  EXPECT_TRUE(with("decision_type=10 0", "decision_type=10 4"));
  EXPECT_FALSE(with("left_child=1 -2", "left_child=7 -2"));
  EXPECT_FALSE(with("leaf_value=0.5 -0.25 0.125", "leaf_value=0.5 -0.25"));
  // Whole numbers are read whole: no silent "" → 0, "3x" → 3 or negative feature counts.
  EXPECT_FALSE(with("max_feature_idx=2", "max_feature_idx=-5"));
  EXPECT_FALSE(with("max_feature_idx=2", "max_feature_idx="));
  EXPECT_FALSE(with("num_leaves=3", "num_leaves=3x"));
}

TEST(TreeEnsembleTest, XgboostJsonParses) {
  // Two stumps of a binary:logistic model with base_score 0.3 (as XGBoost 1.7 writes it).
  const char* json = R"({"learner":{"attributes":{},"feature_names":[],"feature_types":[],
    "gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},
    "tree_info":[0,0],"trees":[
     {"base_weights":[1,-0.5,0.5],"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"right_children":[2,-1,-1],
      "split_conditions":[1.0020853E-2,-4.0909094E-1,9.5454544E-1],"split_indices":[1,0,0],"split_type":[0,0,0]},
     {"base_weights":[1,-0.5,0.5],"default_left":[0,0,0],"id":1,"left_children":[1,-1,-1],"right_children":[2,-1,-1],
      "split_conditions":[-2E0,-3.6428505E-1,5.475269E-1],"split_indices":[0,0,0],"split_type":[0,0,0]}]},
    "name":"gbtree"},"learner_model_param":{"base_score":"3E-1","num_class":"0","num_feature":"3","num_target":"1"},
    "objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]})";
  auto model = TreeEnsemble::from_xgboost_json(json);
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_EQ(model->rule, SplitRule::LessThan);
  EXPECT_NEAR(model->base_margin, std::log(0.3 / 0.7), 1e-6);
  const float exactly_threshold[] = {-2.0f, 1.0020853E-2f, 0.0f};  // x == threshold goes right under "<"
  EXPECT_NEAR(model->predict_raw(exactly_threshold) - model->base_margin, 9.5454544E-1 + 5.475269E-1, 1e-6);
  const float missing[] = {kNaN, kNaN, 0.0f};  // tree 0 default left, tree 1 default right
  EXPECT_NEAR(model->predict_raw(missing) - model->base_margin, -4.0909094E-1 + 5.475269E-1, 1e-6);
  EXPECT_FALSE(TreeEnsemble::from_xgboost_json("{}"));
}

}  // namespace
}  // namespace quant::model_train
