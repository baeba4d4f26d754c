#include "model_train/onnx_export.h"

#include <limits>

#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include "model/onnx_model.h"

namespace quant::model_train {
namespace {

using model::OnnxModel;

constexpr std::size_t kCols = 3;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Two stumps over features 0 and 1; `shift` moves the leaves so models differ.
TreeEnsemble stumps(OutputTransform transform, double shift, std::size_t cols = kCols) {
  TreeEnsemble e;
  e.feature_count = cols;
  e.transform = transform;
  e.base_margin = 0.1 + shift;
  Tree t0;
  t0.nodes = {{.feature = 0, .threshold = 0.5f, .left = 1, .right = 2, .default_left = true},
              {.leaf_value = 1.0 + shift},
              {.leaf_value = -1.0}};
  Tree t1;
  t1.nodes = {{.feature = 1, .threshold = 0.0f, .left = 1, .right = 2, .default_left = false},
              {.leaf_value = 0.25},
              {.leaf_value = 0.75 - shift}};
  e.trees = {t0, t1};
  return e;
}

std::string exported(const TreeEnsemble& e, const std::string& output) {
  OnnxExportOptions options;
  options.output_name = output;
  auto bytes = export_onnx(e, options);
  QUANT_CHECK(bytes.has_value());
  return *bytes;
}

// y = x * 2 + 1 over a [N, 3] input named `input`, with initializers and an
// intermediate value whose names the tree models do not use.
std::string affine(const std::string& input, const std::string& output, std::int64_t opset_version = 13) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(opset_version);
  auto* graph = model.mutable_graph();
  graph->set_name("affine");
  auto add_value = [](onnx::ValueInfoProto* v, const std::string& name) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("batch");
    t->mutable_shape()->add_dim()->set_dim_value(static_cast<std::int64_t>(kCols));
  };
  add_value(graph->add_input(), input);
  add_value(graph->add_output(), output);
  for (auto [name, value] : {std::pair{"two", 2.0f}, std::pair{"one", 1.0f}}) {
    auto* init = graph->add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::FLOAT);
    init->add_float_data(value);
  }
  auto* mul = graph->add_node();
  mul->set_op_type("Mul");
  mul->set_name("mul");
  mul->add_input(input);
  mul->add_input("two");
  mul->add_output("x2");
  auto* add = graph->add_node();
  add->set_op_type("Add");
  add->set_name("add");
  add->add_input("x2");
  add->add_input("one");
  add->add_output(output);
  onnx::checker::check_model(model);
  return model.SerializeAsString();
}

std::vector<float> rows_with_nans() {
  const float inf = std::numeric_limits<float>::infinity();
  return {0.0f, 0.0f, 0.0f, 1.0f, -1.0f, 2.0f, kNaN, 0.3f, 0.0f, 0.4f, kNaN, 1.0f,
          kNaN, kNaN, kNaN, 0.5f, 0.0f,  kNaN, inf,  -inf, 0.0f, -inf, inf,  5.0f};
}

std::vector<float> run_one(const std::string& bytes, std::span<const float> features, std::size_t rows) {
  auto model = OnnxModel::load_bytes(bytes);
  QUANT_CHECK(model.has_value());
  auto out = (*model)->run(features, rows);
  QUANT_CHECK(out.has_value() && out->size() == 1);
  return (*out)[0];
}

TEST(OnnxMergeTest, MergedModelEqualsTheSeparateModels) {
  // Both logistic models have a "raw_score" value and a "trees" node: names
  // that would clash without the per-model prefix.
  const std::vector<std::string> parts = {exported(stumps(OutputTransform::Logistic, 0.0), "prob"),
                                          exported(stumps(OutputTransform::Logistic, 0.3), "prob2"),
                                          exported(stumps(OutputTransform::Identity, 0.7), "q90")};
  auto merged = merge_models(parts);
  ASSERT_TRUE(merged) << merged.error().message;
  auto model = OnnxModel::load_bytes(*merged);
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_EQ((*model)->input_names(), std::vector<std::string>{"features"});
  EXPECT_EQ((*model)->output_names(), (std::vector<std::string>{"prob", "prob2", "q90"}));
  EXPECT_EQ((*model)->feature_count(), static_cast<std::int64_t>(kCols));

  const auto features = rows_with_nans();
  const std::size_t rows = features.size() / kCols;
  auto all = (*model)->run(features, rows);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  for (std::size_t k = 0; k < parts.size(); ++k) {
    EXPECT_EQ((*all)[k], run_one(parts[k], features, rows)) << "output " << k;
  }
}

TEST(OnnxMergeTest, KeepsOpsetsAndIsDeterministic) {
  const std::vector<std::string> parts = {exported(stumps(OutputTransform::Logistic, 0.0), "prob"),
                                          exported(stumps(OutputTransform::Identity, 0.2), "q10")};
  auto a = merge_models(parts);
  auto b = merge_models(parts);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(*a));
  EXPECT_EQ(model.ir_version(), 8);
  ASSERT_EQ(model.opset_import_size(), 2);
  EXPECT_EQ(model.opset_import(0).domain(), "");
  EXPECT_EQ(model.opset_import(0).version(), 13);
  EXPECT_EQ(model.opset_import(1).domain(), "ai.onnx.ml");
  EXPECT_EQ(model.opset_import(1).version(), 3);
  ASSERT_EQ(model.graph().input_size(), 1);
  EXPECT_EQ(model.graph().input(0).name(), "features");
  for (const auto& node : model.graph().node()) {
    EXPECT_TRUE(node.name().rfind("m0_", 0) == 0 || node.name().rfind("m1_", 0) == 0) << node.name();
  }
}

TEST(OnnxMergeTest, MapsEachModelsInputToTheSharedOne) {
  // Different input names, different dim_param for the batch: one input.
  const std::vector<std::string> parts = {exported(stumps(OutputTransform::Identity, 0.0), "score"), affine("x", "y"),
                                          affine("input", "z")};
  auto merged = merge_models(parts);
  ASSERT_TRUE(merged) << merged.error().message;
  auto model = OnnxModel::load_bytes(*merged);
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_EQ((*model)->input_names(), std::vector<std::string>{"features"});
  const std::vector<float> features = {0, 1, 2, -1, 0.5f, 10};
  auto out = (*model)->run(features, 2);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[0], run_one(parts[0], features, 2));
  EXPECT_EQ((*out)[1], (std::vector<float>{1, 3, 5, -1, 2, 21}));
  EXPECT_EQ((*out)[2], (*out)[1]);
}

TEST(OnnxMergeTest, RefusesModelsThatCannotShareOneGraph) {
  const auto prob = exported(stumps(OutputTransform::Logistic, 0.0), "prob");
  const auto message = [](const Expected<std::string>& r) { return r ? std::string("(merged)") : r.error().message; };

  auto r = merge_models({});
  EXPECT_FALSE(r);
  r = merge_models({prob, prob});
  ASSERT_FALSE(r);
  EXPECT_NE(message(r).find("model 1: output 'prob' is already an output"), std::string::npos) << message(r);
  r = merge_models({prob, exported(stumps(OutputTransform::Identity, 0.0, kCols + 1), "q10")});
  ASSERT_FALSE(r);
  EXPECT_NE(message(r).find("model 1: input 'features' differs in type or shape"), std::string::npos) << message(r);
  r = merge_models({prob, "not a model"});
  ASSERT_FALSE(r);
  EXPECT_NE(message(r).find("model 1: not a serialized ONNX model"), std::string::npos) << message(r);
  r = merge_models({prob, affine("x", "y", 12)});
  ASSERT_FALSE(r);
  EXPECT_NE(message(r).find("imports domain '' at version 12, an earlier model at 13"), std::string::npos)
      << message(r);
  r = merge_models({affine("x", "x_out"), affine("y", "x")});
  ASSERT_FALSE(r);
  EXPECT_NE(message(r).find("model 1: output 'x' is also the input's name"), std::string::npos) << message(r);
}

}  // namespace
}  // namespace quant::model_train
