#include "model/onnx_model.h"

#include <algorithm>

#include <onnxruntime_cxx_api.h>

namespace quant::model {

namespace {

Ort::Env& env() {
  // One process-wide environment; ORT requires it to outlive every session.
  static Ort::Env instance(ORT_LOGGING_LEVEL_WARNING, "quant");
  return instance;
}

class OrtModel final : public OnnxModel {
 public:
  explicit OrtModel(Ort::Session session) : session_(std::move(session)) {
    Ort::AllocatorWithDefaultOptions alloc;
    for (std::size_t i = 0; i < session_.GetInputCount(); ++i) {
      input_names_.emplace_back(session_.GetInputNameAllocated(i, alloc).get());
    }
    for (std::size_t i = 0; i < session_.GetOutputCount(); ++i) {
      output_names_.emplace_back(session_.GetOutputNameAllocated(i, alloc).get());
    }
    for (const auto& n : input_names_) input_ptrs_.push_back(n.c_str());
    for (const auto& n : output_names_) output_ptrs_.push_back(n.c_str());
    if (!input_names_.empty()) {
      auto shape = session_.GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape();
      feature_count_ = shape.empty() ? -1 : shape.back();
    }
  }

  const std::vector<std::string>& input_names() const override { return input_names_; }
  const std::vector<std::string>& output_names() const override { return output_names_; }
  std::int64_t feature_count() const override { return feature_count_; }

  Expected<void> run_into(std::span<const float> features, std::size_t rows, std::span<float> output) override {
    if (output_ptrs_.size() != 1) return make_error("onnx: run_into needs a model with exactly one output");
    const std::span<float> outputs[1] = {output};
    return run_into_many(features, rows, outputs);
  }

  Expected<void> run_into_many(std::span<const float> features, std::size_t rows,
                               std::span<const std::span<float>> outputs) override {
    if (outputs.size() != output_ptrs_.size()) {
      return make_error("onnx: " + std::to_string(outputs.size()) + " output spans for a model with " +
                        std::to_string(output_ptrs_.size()) + " outputs");
    }
    if (rows == 0 || feature_count_ <= 0 || features.size() != rows * static_cast<std::size_t>(feature_count_)) {
      return make_error("onnx: " + std::to_string(features.size()) + " values are not " + std::to_string(rows) +
                        " rows of " + std::to_string(feature_count_) + " features");
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      if (outputs[i].empty() || outputs[i].size() % rows != 0) {
        return make_error("onnx: output '" + output_names_[i] + "': " + std::to_string(outputs[i].size()) +
                          " values do not split into " + std::to_string(rows) + " rows");
      }
    }
    try {
      Binding& b = rows == 1 ? single_ : batch_;
      if (!b.matches(rows, outputs)) bind(b, rows, outputs);
      std::copy(features.begin(), features.end(), b.input.begin());
      session_.Run(run_options_, input_ptrs_.data(), &b.input_value, 1, output_ptrs_.data(), b.output_values.data(),
                   b.output_values.size());
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        std::copy(b.outputs[i].begin(), b.outputs[i].end(), outputs[i].begin());
      }
      return {};
    } catch (const Ort::Exception& e) {
      return make_error(std::string("onnx: run failed: ") + e.what());
    }
  }

  Expected<std::vector<std::vector<float>>> run(std::span<const float> features, std::size_t rows) override {
    if (rows == 0 || features.size() % rows != 0) {
      return make_error("onnx: " + std::to_string(features.size()) + " values do not split into " +
                        std::to_string(rows) + " rows");
    }
    try {
      const std::int64_t shape[2] = {static_cast<std::int64_t>(rows),
                                     static_cast<std::int64_t>(features.size() / rows)};
      Ort::Value input =
          Ort::Value::CreateTensor<float>(memory_, const_cast<float*>(features.data()), features.size(), shape, 2);
      auto outputs =
          session_.Run(run_options_, input_ptrs_.data(), &input, 1, output_ptrs_.data(), output_ptrs_.size());
      std::vector<std::vector<float>> result;
      for (auto& out : outputs) {
        const auto info = out.GetTensorTypeAndShapeInfo();
        const float* data = out.GetTensorData<float>();
        result.emplace_back(data, data + info.GetElementCount());
      }
      return result;
    } catch (const Ort::Exception& e) {
      return make_error(std::string("onnx: run failed: ") + e.what());
    }
  }

 private:
  // Tensors over our own buffers, re-created only when the shape changes.
  // Single rows and batches keep separate bindings so alternating them does
  // not re-bind.
  struct Binding {
    std::vector<float> input;
    std::vector<std::vector<float>> outputs;
    Ort::Value input_value{nullptr};
    std::vector<Ort::Value> output_values;
    std::size_t rows = 0;  // 0 = not bound

    bool matches(std::size_t n, std::span<const std::span<float>> spans) const {
      if (rows != n || outputs.size() != spans.size()) return false;
      for (std::size_t i = 0; i < spans.size(); ++i) {
        if (outputs[i].size() != spans[i].size()) return false;
      }
      return true;
    }
  };

  void bind(Binding& b, std::size_t rows, std::span<const std::span<float>> spans) {
    // Unbound until every tensor exists: a throw half-way leaves no binding
    // that a later call could take for complete.
    b.rows = 0;
    b.input_value = Ort::Value{nullptr};
    b.output_values.clear();
    b.input.assign(rows * static_cast<std::size_t>(feature_count_), 0.0f);
    const std::int64_t in_shape[2] = {static_cast<std::int64_t>(rows), feature_count_};
    b.input_value = Ort::Value::CreateTensor<float>(memory_, b.input.data(), b.input.size(), in_shape, 2);
    b.outputs.resize(spans.size());
    for (std::size_t i = 0; i < spans.size(); ++i) {
      b.outputs[i].assign(spans[i].size(), 0.0f);
      const std::int64_t out_shape[2] = {static_cast<std::int64_t>(rows),
                                         static_cast<std::int64_t>(spans[i].size() / rows)};
      b.output_values.push_back(
          Ort::Value::CreateTensor<float>(memory_, b.outputs[i].data(), b.outputs[i].size(), out_shape, 2));
    }
    b.rows = rows;
  }

  Ort::Session session_;
  Ort::MemoryInfo memory_ = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  Ort::RunOptions run_options_;
  std::vector<std::string> input_names_, output_names_;
  std::vector<const char*> input_ptrs_, output_ptrs_;
  std::int64_t feature_count_ = -1;
  Binding single_, batch_;
};

Ort::SessionOptions session_options(const OnnxOptions& options) {
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(options.intra_op_threads);
  so.SetInterOpNumThreads(1);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  return so;
}

}  // namespace

Expected<std::unique_ptr<OnnxModel>> OnnxModel::load_file(const std::string& path, OnnxOptions options) {
  try {
    Ort::Session session(env(), path.c_str(), session_options(options));
    return std::unique_ptr<OnnxModel>(new OrtModel(std::move(session)));
  } catch (const Ort::Exception& e) {
    return make_error("onnx: cannot load " + path + ": " + e.what());
  }
}

Expected<std::unique_ptr<OnnxModel>> OnnxModel::load_bytes(std::string_view bytes, OnnxOptions options) {
  try {
    Ort::Session session(env(), bytes.data(), bytes.size(), session_options(options));
    return std::unique_ptr<OnnxModel>(new OrtModel(std::move(session)));
  } catch (const Ort::Exception& e) {
    return make_error(std::string("onnx: cannot load model bytes: ") + e.what());
  }
}

std::string onnx_runtime_version() { return Ort::GetVersionString(); }

}  // namespace quant::model
