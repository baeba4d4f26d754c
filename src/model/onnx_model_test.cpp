#include "model/onnx_model.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

namespace quant::model {
namespace {

// Builds y = x * 2 + 1 over a [N, 3] float input with Debian's ONNX protobuf
// classes, checks it with onnx::checker, and returns the serialized bytes.
// With `two_outputs` the intermediate x2 = x * 2 is a second output.
std::string tiny_model(bool two_outputs = false) {
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
  if (two_outputs) add_value(graph->add_output(), "x2");
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

TEST(OnnxModelTest, RunIntoManyWritesEveryOutputInOrder) {
  auto model = OnnxModel::load_bytes(tiny_model(true));
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_EQ((*model)->output_names(), (std::vector<std::string>{"y", "x2"}));
  const std::vector<float> rows = {0, 1, 2, -1, 0.5f, 10, 3, 4, 5};
  std::vector<float> y(9), x2(9);
  const std::span<float> batch[] = {y, x2};
  // Batch, single rows, then the batch again: each binding stays valid.
  for (int pass = 0; pass < 2; ++pass) {
    ASSERT_TRUE((*model)->run_into_many(rows, 3, batch));
    EXPECT_EQ(y, (std::vector<float>{1, 3, 5, -1, 2, 21, 7, 9, 11}));
    EXPECT_EQ(x2, (std::vector<float>{0, 2, 4, -2, 1, 20, 6, 8, 10}));
    for (std::size_t r = 0; r < 3; ++r) {
      float y_row[3], x2_row[3];
      const std::span<float> single[] = {y_row, x2_row};
      ASSERT_TRUE((*model)->run_into_many(std::span<const float>(rows).subspan(r * 3, 3), 1, single));
      for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_EQ(y_row[c], y[r * 3 + c]);
        EXPECT_EQ(x2_row[c], x2[r * 3 + c]);
      }
    }
  }
  // A different batch size re-binds.
  std::vector<float> y2(6), x22(6);
  const std::span<float> two[] = {y2, x22};
  ASSERT_TRUE((*model)->run_into_many(std::span<const float>(rows).subspan(3, 6), 2, two));
  EXPECT_EQ(y2, (std::vector<float>{-1, 2, 21, 7, 9, 11}));
  EXPECT_EQ(x22, (std::vector<float>{-2, 1, 20, 6, 8, 10}));
}

TEST(OnnxModelTest, RunIntoManyRefusesWrongSpans) {
  auto model = OnnxModel::load_bytes(tiny_model(true));
  ASSERT_TRUE(model);
  const std::vector<float> row = {1, 2, 3};
  std::vector<float> a(3), b(3), c(3), short_one(2);
  const std::span<float> one[] = {a};
  const std::span<float> three[] = {a, b, c};
  const std::span<float> mismatched[] = {a, short_one};
  EXPECT_FALSE((*model)->run_into_many(row, 1, one));
  EXPECT_FALSE((*model)->run_into_many(row, 1, three));
  EXPECT_FALSE((*model)->run_into_many(std::vector<float>{1, 2, 3, 4, 5, 6}, 2, mismatched));  // 3 values, 2 rows
  EXPECT_FALSE((*model)->run_into_many(row, 1, mismatched));  // [1, 2] where the model gives [1, 3]
  EXPECT_FALSE((*model)->run_into(row, 1, a));                // run_into takes one-output models only
  const std::span<float> good[] = {a, b};
  EXPECT_FALSE((*model)->run_into_many(std::vector<float>{1, 2}, 1, good));
  ASSERT_TRUE((*model)->run_into_many(row, 1, good));  // re-binds after the failed shapes
  EXPECT_EQ(a, (std::vector<float>{3, 5, 7}));
  EXPECT_EQ(b, (std::vector<float>{2, 4, 6}));
}

TEST(OnnxModelTest, ReportsRuntimeVersion) { EXPECT_EQ(onnx_runtime_version(), "1.30.0"); }

}  // namespace
}  // namespace quant::model
