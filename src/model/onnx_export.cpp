#include "model/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

namespace quant::model {

namespace {

void add_tensor_value(onnx::ValueInfoProto* value, const std::string& name, std::int64_t cols) {
  value->set_name(name);
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  tensor->mutable_shape()->add_dim()->set_dim_param("N");
  tensor->mutable_shape()->add_dim()->set_dim_value(cols);
}

onnx::AttributeProto* attribute(onnx::NodeProto* node, const char* name, onnx::AttributeProto::AttributeType type) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}

}  // namespace

Expected<std::string> export_onnx(const TreeEnsemble& ensemble, const OnnxExportOptions& options) {
  if (auto ok = ensemble.validate(); !ok) return make_error("onnx export: " + ok.error().message);
  if (ensemble.feature_count == 0) return make_error("onnx export: the ensemble has no features");
  if (options.output_name.empty() || options.output_name == "features") {
    return make_error("onnx export: output name must be non-empty and not 'features'");
  }
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("quant-model");
  model.set_producer_version("1");
  model.set_model_version(options.model_version);
  model.set_doc_string(options.doc_string);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* ml = model.add_opset_import();
  ml->set_domain("ai.onnx.ml");
  ml->set_version(3);

  auto* graph = model.mutable_graph();
  graph->set_name(options.graph_name);
  add_tensor_value(graph->add_input(), "features", static_cast<std::int64_t>(ensemble.feature_count));
  add_tensor_value(graph->add_output(), options.output_name, 1);

  const bool logistic = ensemble.transform == OutputTransform::Logistic;
  const std::string raw_name = logistic ? "raw_score" : options.output_name;

  auto* trees = graph->add_node();
  trees->set_op_type("TreeEnsembleRegressor");
  trees->set_domain("ai.onnx.ml");
  trees->set_name("trees");
  trees->add_input("features");
  trees->add_output(raw_name);

  using A = onnx::AttributeProto;
  auto* tree_ids = attribute(trees, "nodes_treeids", A::INTS);
  auto* node_ids = attribute(trees, "nodes_nodeids", A::INTS);
  auto* feature_ids = attribute(trees, "nodes_featureids", A::INTS);
  auto* values = attribute(trees, "nodes_values", A::FLOATS);
  auto* modes = attribute(trees, "nodes_modes", A::STRINGS);
  auto* true_ids = attribute(trees, "nodes_truenodeids", A::INTS);
  auto* false_ids = attribute(trees, "nodes_falsenodeids", A::INTS);
  auto* missing_true = attribute(trees, "nodes_missing_value_tracks_true", A::INTS);
  auto* target_tree_ids = attribute(trees, "target_treeids", A::INTS);
  auto* target_node_ids = attribute(trees, "target_nodeids", A::INTS);
  auto* target_ids = attribute(trees, "target_ids", A::INTS);
  auto* target_weights = attribute(trees, "target_weights", A::FLOATS);
  const char* branch = ensemble.rule == SplitRule::LessThan ? "BRANCH_LT" : "BRANCH_LEQ";

  for (std::size_t t = 0; t < ensemble.trees.size(); ++t) {
    const auto& nodes = ensemble.trees[t].nodes;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const auto& node = nodes[i];
      tree_ids->add_ints(static_cast<std::int64_t>(t));
      node_ids->add_ints(static_cast<std::int64_t>(i));
      if (node.is_leaf()) {
        feature_ids->add_ints(0);
        values->add_floats(0.0f);
        modes->add_strings("LEAF");
        true_ids->add_ints(0);
        false_ids->add_ints(0);
        missing_true->add_ints(0);
        target_tree_ids->add_ints(static_cast<std::int64_t>(t));
        target_node_ids->add_ints(static_cast<std::int64_t>(i));
        target_ids->add_ints(0);
        target_weights->add_floats(static_cast<float>(node.leaf_value));
      } else {
        // "true" is the left child: x < value (LT) or x <= value (LEQ).
        feature_ids->add_ints(node.feature);
        values->add_floats(node.threshold);
        modes->add_strings(branch);
        true_ids->add_ints(node.left);
        false_ids->add_ints(node.right);
        missing_true->add_ints(node.default_left ? 1 : 0);
      }
    }
  }
  attribute(trees, "n_targets", A::INT)->set_i(1);
  attribute(trees, "aggregate_function", A::STRING)->set_s("SUM");
  attribute(trees, "post_transform", A::STRING)->set_s("NONE");
  attribute(trees, "base_values", A::FLOATS)->add_floats(static_cast<float>(ensemble.base_margin));

  if (logistic) {
    auto* sigmoid = graph->add_node();
    sigmoid->set_op_type("Sigmoid");
    sigmoid->set_name("sigmoid");
    sigmoid->add_input(raw_name);
    sigmoid->add_output(options.output_name);
  }

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return make_error(std::string("onnx export: checker rejected the model: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) return make_error("onnx export: serialization failed");
  return bytes;
}

}  // namespace quant::model
