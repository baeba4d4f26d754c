#pragma once
/// ONNX Runtime inference behind a plain interface: the only place that
/// includes ONNX Runtime headers. One session per model, one intra-op thread
/// by default (latency over throughput), float32 rows in, float32 outputs out.
///
/// The Gatekeeper (gatekeeper.h) runs its merged model (three outputs, one
/// graph, written by model_train at export time) through `run_into_many`.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant::model {

struct OnnxOptions {
  int intra_op_threads = 1;
};

/// A loaded ONNX model with one float input of shape [N, F] and float outputs.
/// `run` is not thread-safe (it reuses buffers): use one OnnxModel per thread.
class OnnxModel {
 public:
  /// Loads from a file; fails with ONNX Runtime's message on a bad model.
  static Expected<std::unique_ptr<OnnxModel>> load_file(const std::string& path, OnnxOptions options = {});
  /// Loads from serialized bytes (e.g. a model built in memory).
  static Expected<std::unique_ptr<OnnxModel>> load_bytes(std::string_view bytes, OnnxOptions options = {});
  virtual ~OnnxModel() = default;

  virtual const std::vector<std::string>& input_names() const = 0;
  virtual const std::vector<std::string>& output_names() const = 0;
  /// Number of features the first input expects (its last dimension), or -1 if dynamic.
  virtual std::int64_t feature_count() const = 0;

  /// Runs `rows` rows of `features.size() / rows` floats; returns each output
  /// flattened, in `output_names()` order.
  virtual Expected<std::vector<std::vector<float>>> run(std::span<const float> features, std::size_t rows) = 0;

  /// Hot path for a model with one output: copies `rows` rows into a
  /// pre-allocated input buffer, runs, and writes the output (`output.size()`
  /// floats, e.g. rows x 1) into `output`. Our side allocates nothing for a
  /// single row after the first call, nor for a batch of the same size as the
  /// previous batch. Errors on a shape mismatch or a model with several outputs.
  virtual Expected<void> run_into(std::span<const float> features, std::size_t rows, std::span<float> output) = 0;

  /// Hot path for a model with several outputs: one Run, then output i
  /// (`outputs[i].size()` floats, e.g. rows x 1) is written into `outputs[i]`,
  /// in `output_names()` order. Same buffer reuse and allocation guarantees as
  /// `run_into` (the single-row and the batch bindings are re-created only
  /// when the row count or an output size changes). Errors when
  /// `outputs.size()` differs from the model's output count, on a shape
  /// mismatch, or on an ONNX Runtime failure; on error the spans are left
  /// unchanged.
  virtual Expected<void> run_into_many(std::span<const float> features, std::size_t rows,
                                       std::span<const std::span<float>> outputs) = 0;
};

/// ONNX Runtime's version string, e.g. "1.30.0".
std::string onnx_runtime_version();

}  // namespace quant::model
