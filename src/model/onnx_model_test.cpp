#include "model/onnx_model.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

namespace quant::model {
namespace {

// Builds y = x * 2 + 1 over a [N, 3] float input with Debian's ONNX protobuf
// classes, checks it with onnx::checker, and returns the serialized bytes.
std::string tiny_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("quant-smoke-test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("affine");
  auto add_value = [](onnx::ValueInfoProto* v, const char* name) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("N");
    t->mutable_shape()->add_dim()->set_dim_value(3);
  };
  add_value(graph->add_input(), "x");
  add_value(graph->add_output(), "y");
  for (auto [name, value] : {std::pair{"two", 2.0f}, std::pair{"one", 1.0f}}) {
    auto* init = graph->add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::FLOAT);
    init->add_float_data(value);
  }
  auto* mul = graph->add_node();
  mul->set_op_type("Mul");
  mul->add_input("x");
  mul->add_input("two");
  mul->add_output("x2");
  auto* add = graph->add_node();
  add->set_op_type("Add");
  add->add_input("x2");
  add->add_input("one");
  add->add_output("y");
  onnx::checker::check_model(model);  // throws on an invalid model
  return model.SerializeAsString();
}

TEST(OnnxModelTest, LoadsAndRunsATinyModel) {
  auto model = OnnxModel::load_bytes(tiny_model());
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_EQ((*model)->input_names(), std::vector<std::string>{"x"});
  EXPECT_EQ((*model)->output_names(), std::vector<std::string>{"y"});
  EXPECT_EQ((*model)->feature_count(), 3);
  const std::vector<float> rows = {0, 1, 2, -1, 0.5f, 10};
  auto out = (*model)->run(rows, 2);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0], (std::vector<float>{1, 3, 5, -1, 2, 21}));
}

TEST(OnnxModelTest, BadBytesAndBadShapesAreErrors) {
  EXPECT_FALSE(OnnxModel::load_bytes("not a model"));
  EXPECT_FALSE(OnnxModel::load_file("/nonexistent/model.onnx"));
  auto model = OnnxModel::load_bytes(tiny_model());
  ASSERT_TRUE(model);
  const std::vector<float> five = {1, 2, 3, 4, 5};
  EXPECT_FALSE((*model)->run(five, 2));
  EXPECT_FALSE((*model)->run(five, 1));  // 5 features where the model takes 3
}

TEST(OnnxModelTest, ReportsRuntimeVersion) { EXPECT_EQ(onnx_runtime_version(), "1.30.0"); }

}  // namespace
}  // namespace quant::model
