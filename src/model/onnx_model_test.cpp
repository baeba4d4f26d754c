#include "model/onnx_model.h"

#include <cstdint>
#include <cstring>
#include <string_view>

#include <gtest/gtest.h>

namespace quant::model {
namespace {

// Just enough of the protobuf wire format (varints, length-delimited fields,
// packed floats) to write an ONNX ModelProto by hand: this module links ONNX
// Runtime only, not libonnx. Field numbers are onnx.proto's.
class Proto {
 public:
  Proto& varint(int field, std::uint64_t value) {
    key(field, 0);
    put_varint(value);
    return *this;
  }
  Proto& bytes(int field, std::string_view value) {
    key(field, 2);
    put_varint(value.size());
    out_.append(value);
    return *this;
  }
  Proto& message(int field, const Proto& value) { return bytes(field, value.out_); }
  Proto& packed_float(int field, float value) {
    char raw[sizeof value];
    std::memcpy(raw, &value, sizeof value);  // little-endian, as the wire format wants (x86-64)
    return bytes(field, std::string_view(raw, sizeof raw));
  }
  const std::string& str() const { return out_; }

 private:
  void key(int field, int wire_type) {
    put_varint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire_type));
  }
  void put_varint(std::uint64_t value) {
    while (value >= 0x80) {
      out_.push_back(static_cast<char>(value | 0x80));
      value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
  }
  std::string out_;
};

// ValueInfoProto: float tensor [N, 3].
Proto float_rows(std::string_view name) {
  Proto dim_n, dim_3, shape, tensor, type, value;
  dim_n.bytes(2, "N");                        // Dimension.dim_param
  dim_3.varint(1, 3);                         // Dimension.dim_value
  shape.message(1, dim_n).message(1, dim_3);  // TensorShapeProto.dim
  tensor.varint(1, 1).message(2, shape);      // TypeProto.Tensor: elem_type FLOAT, shape
  type.message(1, tensor);                    // TypeProto.tensor_type
  value.bytes(1, name).message(2, type);      // ValueInfoProto: name, type
  return value;
}

// y = x * 2 + 1 over a [N, 3] float input; with `two_outputs` the
// intermediate x2 = x * 2 is a second output. Serialized ModelProto bytes.
std::string tiny_model(bool two_outputs = false) {
  Proto graph;
  Proto mul, add;
  // NodeProto: input (1), output (2), op_type (4); GraphProto: node (1), name (2).
  mul.bytes(1, "x").bytes(1, "two").bytes(2, "x2").bytes(4, "Mul");
  add.bytes(1, "x2").bytes(1, "one").bytes(2, "y").bytes(4, "Add");
  graph.message(1, mul).message(1, add).bytes(2, "affine");
  for (auto [name, value] : {std::pair{"two", 2.0f}, std::pair{"one", 1.0f}}) {
    Proto init;
    init.varint(2, 1).packed_float(4, value).bytes(8, name);  // TensorProto: data_type FLOAT, float_data, name
    graph.message(5, init);                                   // GraphProto.initializer
  }
  graph.message(11, float_rows("x")).message(12, float_rows("y"));  // GraphProto: input, output
  if (two_outputs) graph.message(12, float_rows("x2"));
  Proto opset, model;
  opset.bytes(1, "").varint(2, 13);  // OperatorSetIdProto: domain, version
  // ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8).
  model.varint(1, 8).bytes(2, "quant-smoke-test").message(7, graph).message(8, opset);
  return model.str();
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
