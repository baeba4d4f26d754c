#include "model_train/onnx_export.h"

#include <algorithm>
#include <unordered_set>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

namespace quant::model_train {

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

// Same element type and rank, equal fixed dimensions; symbolic dimensions
// match any symbolic dimension (the batch size is one value at run time).
bool same_tensor_type(const onnx::TypeProto& a, const onnx::TypeProto& b) {
  if (!a.has_tensor_type() || !b.has_tensor_type()) return false;
  const auto& ta = a.tensor_type();
  const auto& tb = b.tensor_type();
  if (ta.elem_type() != tb.elem_type() || ta.has_shape() != tb.has_shape()) return false;
  if (!ta.has_shape()) return true;
  if (ta.shape().dim_size() != tb.shape().dim_size()) return false;
  for (int i = 0; i < ta.shape().dim_size(); ++i) {
    const auto& da = ta.shape().dim(i);
    const auto& db = tb.shape().dim(i);
    if (da.value_case() != db.value_case()) return false;
    if (da.has_dim_value() && da.dim_value() != db.dim_value()) return false;
  }
  return true;
}

bool has_subgraph(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute()) {
    if (a.has_g() || a.graphs_size() > 0) return true;
  }
  return false;
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

Expected<std::string> merge_models(const std::vector<std::string>& model_bytes, const OnnxMergeOptions& options) {
  if (model_bytes.empty()) return make_error("onnx merge: no models given");
  onnx::ModelProto merged;
  merged.set_producer_name("quant-model");
  merged.set_producer_version("1");
  merged.set_model_version(options.model_version);
  merged.set_doc_string(options.doc_string);
  auto* graph = merged.mutable_graph();
  graph->set_name(options.graph_name);
  std::int64_t ir_version = 0;
  std::unordered_set<std::string> output_names;
  std::string shared_input;

  for (std::size_t k = 0; k < model_bytes.size(); ++k) {
    const std::string where = "onnx merge: model " + std::to_string(k) + ": ";
    onnx::ModelProto model;
    if (!model.ParseFromString(model_bytes[k])) return make_error(where + "not a serialized ONNX model");
    const auto& g = model.graph();
    if (g.input_size() != 1) {
      return make_error(where + "has " + std::to_string(g.input_size()) +
                        " graph inputs (initializers listed as inputs count); merging needs exactly one");
    }
    if (model.functions_size() > 0 || g.sparse_initializer_size() > 0) {
      return make_error(where + "local functions and sparse initializers are not supported");
    }
    if (k == 0) {
      shared_input = g.input(0).name();
      *graph->add_input() = g.input(0);
    } else if (!same_tensor_type(g.input(0).type(), graph->input(0).type())) {
      return make_error(where + "input '" + g.input(0).name() + "' differs in type or shape from model 0's '" +
                        shared_input + "'");
    }

    for (const auto& opset : model.opset_import()) {
      bool found = false;
      for (const auto& have : merged.opset_import()) {
        if (have.domain() != opset.domain()) continue;
        found = true;
        if (have.version() != opset.version()) {
          return make_error(where + "imports domain '" + opset.domain() + "' at version " +
                            std::to_string(opset.version()) + ", an earlier model at " +
                            std::to_string(have.version()));
        }
      }
      if (!found) *merged.add_opset_import() = opset;
    }
    ir_version = std::max(ir_version, model.ir_version());

    // Graph outputs keep their names (callers look them up by name); the
    // input becomes the shared one; everything else is prefixed by model.
    std::unordered_set<std::string> keep;
    for (const auto& out : g.output()) {
      if (out.name() == shared_input || out.name() == g.input(0).name()) {
        return make_error(where + "output '" + out.name() + "' is also the input's name");
      }
      if (!output_names.insert(out.name()).second) {
        return make_error(where + "output '" + out.name() + "' is already an output of an earlier model");
      }
      keep.insert(out.name());
      *graph->add_output() = out;
    }
    const std::string prefix = "m" + std::to_string(k) + "_";
    const std::string& own_input = g.input(0).name();
    const auto rename = [&](const std::string& name) -> std::string {
      if (name.empty()) return name;  // an omitted optional input
      if (name == own_input) return shared_input;
      if (keep.count(name) != 0) return name;
      return prefix + name;
    };

    for (const auto& init : g.initializer()) {
      auto* copy = graph->add_initializer();
      *copy = init;
      copy->set_name(rename(init.name()));
    }
    for (const auto& info : g.value_info()) {
      auto* copy = graph->add_value_info();
      *copy = info;
      copy->set_name(rename(info.name()));
    }
    for (const auto& node : g.node()) {
      if (has_subgraph(node)) {
        return make_error(where + "node '" + node.name() + "' (" + node.op_type() +
                          ") has a subgraph; control flow is not supported");
      }
      auto* copy = graph->add_node();
      *copy = node;
      if (!node.name().empty()) copy->set_name(prefix + node.name());
      for (int i = 0; i < copy->input_size(); ++i) copy->set_input(i, rename(node.input(i)));
      for (int i = 0; i < copy->output_size(); ++i) copy->set_output(i, rename(node.output(i)));
    }
    for (const auto& annotation : g.quantization_annotation()) {
      auto* copy = graph->add_quantization_annotation();
      *copy = annotation;
      copy->set_tensor_name(rename(annotation.tensor_name()));
    }
  }
  merged.set_ir_version(ir_version);

  try {
    onnx::checker::check_model(merged);
  } catch (const std::exception& e) {
    return make_error(std::string("onnx merge: checker rejected the merged model: ") + e.what());
  }
  std::string bytes;
  if (!merged.SerializeToString(&bytes)) return make_error("onnx merge: serialization failed");
  return bytes;
}

}  // namespace quant::model_train
