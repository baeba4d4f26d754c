#pragma once
/// Export of a TreeEnsemble to ONNX, and the merge of several models over one
/// input into one (the only file that includes Debian's libonnx protobuf
/// classes is onnx_export.cpp).
///
/// Graph: input "features" float [N, F] → ai.onnx.ml (opset 3)
/// TreeEnsembleRegressor (raw score, base margin in `base_values`,
/// BRANCH_LT for XGBoost / BRANCH_LEQ for LightGBM, default directions in
/// `nodes_missing_value_tracks_true`) → for a Logistic ensemble an explicit
/// `Sigmoid` node (ORT ignores post_transform=LOGISTIC in some single-target
/// cases) → output `output_name` float [N, 1]. Every model passes
/// `onnx::checker::check_model` before it is returned.

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "model_train/tree_ensemble.h"

namespace quant::model_train {

struct OnnxExportOptions {
  std::string output_name = "score";  ///< e.g. "prob", "q10", "q90"
  std::string graph_name = "gatekeeper";
  std::string doc_string;  ///< free text stored in the model
  std::int64_t model_version = 1;
};

/// Serialized ModelProto bytes (deterministic: same ensemble and options give
/// the same bytes). Fails on an invalid ensemble or when the checker rejects
/// the graph (with its message).
Expected<std::string> export_onnx(const TreeEnsemble& ensemble, const OnnxExportOptions& options);

struct OnnxMergeOptions {
  std::string graph_name = "merged";
  std::string doc_string;  ///< free text stored in the model
  std::int64_t model_version = 1;
};

/// Merges serialized models that each take one tensor input of the same type
/// and shape into one model whose graph holds all their graphs side by side
/// over that single input, so one ONNX Runtime Run computes every output.
///
/// - The shared input keeps the first model's name; every other value,
///   initializer and node name of model k gets the prefix "m<k>_" so nothing
///   clashes, while each graph output keeps its own name. The merged outputs
///   are the models' outputs in argument order (model 0's first).
/// - Opset imports are the union of the models' (domain → version); a domain
///   imported at two different versions is an error. IR version: the highest.
/// - The merged model passes `onnx::checker::check_model`; the result is
///   deterministic (same bytes in, same bytes out).
///
/// Fails with a message naming the model (by index) on unparsable bytes, an
/// input count other than one, a different input type or shape, an output
/// name used twice or equal to the input's, control-flow subgraphs, local
/// functions or sparse initializers (not supported), or a checker rejection.
Expected<std::string> merge_models(const std::vector<std::string>& model_bytes, const OnnxMergeOptions& options = {});

}  // namespace quant::model_train
