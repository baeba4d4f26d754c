#pragma once
/// Export of a TreeEnsemble to ONNX (the only file that includes Debian's
/// libonnx protobuf classes is onnx_export.cpp).
///
/// Graph: input "features" float [N, F] → ai.onnx.ml (opset 3)
/// TreeEnsembleRegressor (raw score, base margin in `base_values`,
/// BRANCH_LT for XGBoost / BRANCH_LEQ for LightGBM, default directions in
/// `nodes_missing_value_tracks_true`) → for a Logistic ensemble an explicit
/// `Sigmoid` node (ORT ignores post_transform=LOGISTIC in some single-target
/// cases) → output `output_name` float [N, 1]. Every model passes
/// `onnx::checker::check_model` before it is returned.

#include <string>

#include "core/error.h"
#include "model/tree_ensemble.h"

namespace quant::model {

struct OnnxExportOptions {
  std::string output_name = "score";   ///< e.g. "prob", "q10", "q90"
  std::string graph_name = "gatekeeper";
  std::string doc_string;              ///< free text stored in the model
  std::int64_t model_version = 1;
};

/// Serialized ModelProto bytes (deterministic: same ensemble and options give
/// the same bytes). Fails on an invalid ensemble or when the checker rejects
/// the graph (with its message).
Expected<std::string> export_onnx(const TreeEnsemble& ensemble, const OnnxExportOptions& options);

}  // namespace quant::model
