#include "model_train/tree_ensemble.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace quant::model_train {

namespace {

// Numbers parsed straight into float (nlohmann calls strtof): XGBoost writes
// float32 values, and decimal → double → float could round twice.
using FloatJson = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t, std::uint64_t, float>;

bool goes_left(const TreeNode& node, float x, SplitRule rule) {
  if (std::isnan(x)) return node.default_left;
  return rule == SplitRule::LessThan ? x < node.threshold : x <= node.threshold;
}

Expected<float> parse_float_string(const std::string& text, const char* what) {
  char* end = nullptr;
  const float value = std::strtof(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0')
    return make_error(std::string("xgboost json: bad ") + what + " '" + text + "'");
  return value;
}

}  // namespace

float float_at_or_below(double value) {
  float f = static_cast<float>(value);  // round to nearest
  if (static_cast<double>(f) > value) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

std::int32_t TreeEnsemble::leaf_index(std::size_t tree, std::span<const float> row) const {
  const auto& nodes = trees[tree].nodes;
  std::int32_t i = 0;
  while (!nodes[static_cast<std::size_t>(i)].is_leaf()) {
    const auto& node = nodes[static_cast<std::size_t>(i)];
    i = goes_left(node, row[static_cast<std::size_t>(node.feature)], rule) ? node.left : node.right;
  }
  return i;
}

double TreeEnsemble::predict_raw(std::span<const float> row) const {
  QUANT_CHECK(row.size() >= feature_count);
  double sum = base_margin;
  for (std::size_t t = 0; t < trees.size(); ++t) {
    sum += trees[t].nodes[static_cast<std::size_t>(leaf_index(t, row))].leaf_value;
  }
  return sum;
}

double TreeEnsemble::predict(std::span<const float> row) const {
  const double raw = predict_raw(row);
  return transform == OutputTransform::Logistic ? 1.0 / (1.0 + std::exp(-raw)) : raw;
}

Expected<void> TreeEnsemble::validate() const {
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const auto& nodes = trees[t].nodes;
    const auto where = "tree " + std::to_string(t);
    if (nodes.empty()) return make_error(where + ": no nodes");
    std::vector<int> parents(nodes.size(), 0);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const auto& n = nodes[i];
      if (n.is_leaf()) {
        if (!std::isfinite(n.leaf_value)) return make_error(where + " node " + std::to_string(i) + ": leaf not finite");
        continue;
      }
      const auto size = static_cast<std::int32_t>(nodes.size());
      if (n.left <= 0 || n.right <= 0 || n.left >= size || n.right >= size || n.left == n.right) {
        return make_error(where + " node " + std::to_string(i) + ": child index out of range");
      }
      if (n.feature < 0 || static_cast<std::size_t>(n.feature) >= feature_count) {
        return make_error(where + " node " + std::to_string(i) + ": feature " + std::to_string(n.feature) +
                          " out of range (" + std::to_string(feature_count) + " features)");
      }
      ++parents[static_cast<std::size_t>(n.left)];
      ++parents[static_cast<std::size_t>(n.right)];
    }
    if (parents[0] != 0) return make_error(where + ": the root has a parent");
    for (std::size_t i = 1; i < nodes.size(); ++i) {
      if (parents[i] != 1) return make_error(where + " node " + std::to_string(i) + ": not exactly one parent");
    }
  }
  return {};
}

Expected<TreeEnsemble> TreeEnsemble::from_xgboost_json(std::string_view json) {
  try {
    const auto doc = FloatJson::parse(json);
    const auto& learner = doc.at("learner");
    const auto& param = learner.at("learner_model_param");
    TreeEnsemble out;
    auto base = parse_float_string(param.at("base_score").get<std::string>(), "base_score");
    if (!base) return make_error(base.error().message);
    out.feature_count = static_cast<std::size_t>(std::stoul(param.at("num_feature").get<std::string>()));
    if (param.contains("num_target") && param.at("num_target").get<std::string>() != "1") {
      return make_error("xgboost json: only single-target models are supported");
    }
    const auto objective = learner.at("objective").at("name").get<std::string>();
    if (objective == "binary:logistic") {
      // XGBoost 1.7's ProbToMargin, computed in float as XGBoost does.
      out.base_margin = static_cast<double>(-std::log(1.0f / *base - 1.0f));
      out.transform = OutputTransform::Logistic;
    } else if (objective.rfind("reg:", 0) == 0 && objective != "reg:logistic" && objective != "reg:gamma" &&
               objective != "reg:tweedie") {
      out.base_margin = static_cast<double>(*base);
    } else {
      return make_error("xgboost json: unsupported objective '" + objective + "'");
    }
    const auto& booster = learner.at("gradient_booster");
    if (booster.at("name").get<std::string>() != "gbtree") return make_error("xgboost json: only gbtree is supported");
    for (const auto& jt : booster.at("model").at("trees")) {
      const auto& left = jt.at("left_children");
      const auto& right = jt.at("right_children");
      const auto& feature = jt.at("split_indices");
      const auto& cond = jt.at("split_conditions");
      const auto& dflt = jt.at("default_left");
      const std::size_t n = left.size();
      if (right.size() != n || feature.size() != n || cond.size() != n || dflt.size() != n) {
        return make_error("xgboost json: tree " + std::to_string(out.trees.size()) + " has arrays of different sizes");
      }
      if (jt.contains("split_type")) {
        for (const auto& s : jt.at("split_type")) {
          if (s.get<int>() != 0) return make_error("xgboost json: categorical splits are not supported");
        }
      }
      Tree tree;
      tree.nodes.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        auto& node = tree.nodes[i];
        node.left = left[i].get<std::int32_t>();
        node.right = right[i].get<std::int32_t>();
        if (node.is_leaf()) {
          node.left = node.right = -1;
          node.leaf_value = static_cast<double>(cond[i].get<float>());
        } else {
          node.feature = feature[i].get<std::int32_t>();
          node.threshold = cond[i].get<float>();
          node.default_left = dflt[i].get<int>() != 0;
        }
      }
      out.trees.push_back(std::move(tree));
    }
    if (auto ok = out.validate(); !ok) return make_error("xgboost json: " + ok.error().message);
    return out;
  } catch (const std::exception& e) {
    return make_error(std::string("xgboost json: ") + e.what());
  }
}

namespace {

// key=value lines of one block of a LightGBM model.txt.
using Block = std::map<std::string, std::string, std::less<>>;

std::vector<std::string> split_spaces(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

/// A whole decimal number, all of `text` (std::atoi would take "" or "3x" silently).
bool parse_int(const std::string& text, int& out) {
  const auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && res.ec == std::errc{} && res.ptr == text.data() + text.size();
}

template <class T>
Expected<std::vector<T>> numbers(const Block& block, const std::string& key, std::size_t expected,
                                 const std::string& where) {
  const auto it = block.find(key);
  if (it == block.end()) {
    if (expected == 0) return std::vector<T>{};
    return make_error("lightgbm: " + where + ": missing '" + key + "'");
  }
  std::vector<T> out;
  for (const auto& word : split_spaces(it->second)) {
    T value{};
    if constexpr (std::is_floating_point_v<T>) {
      char* end = nullptr;
      value = static_cast<T>(std::strtod(word.c_str(), &end));
      if (end != word.c_str() + word.size())
        return make_error("lightgbm: " + where + ": bad number '" + word + "' in " + key);
    } else {
      const auto res = std::from_chars(word.data(), word.data() + word.size(), value);
      if (res.ec != std::errc{} || res.ptr != word.data() + word.size()) {
        return make_error("lightgbm: " + where + ": bad integer '" + word + "' in " + key);
      }
    }
    out.push_back(value);
  }
  if (out.size() != expected) {
    return make_error("lightgbm: " + where + ": '" + key + "' has " + std::to_string(out.size()) +
                      " values, expected " + std::to_string(expected));
  }
  return out;
}

constexpr double kLightGbmZero = 1e-35;  // LightGBM's kZeroThreshold

Expected<Tree> lightgbm_tree(const Block& block, const std::string& where) {
  const auto leaves_it = block.find("num_leaves");
  if (leaves_it == block.end()) return make_error("lightgbm: " + where + ": missing num_leaves");
  int num_leaves = 0;
  if (!parse_int(leaves_it->second, num_leaves) || num_leaves < 1) {
    return make_error("lightgbm: " + where + ": bad num_leaves");
  }
  if (auto it = block.find("num_cat"); it != block.end() && it->second != "0") {
    return make_error("lightgbm: " + where + ": categorical splits are not supported");
  }
  if (auto it = block.find("is_linear"); it != block.end() && it->second != "0") {
    return make_error("lightgbm: " + where + ": linear trees are not supported");
  }
  const auto leaves = static_cast<std::size_t>(num_leaves);
  const std::size_t internal = leaves - 1;
  auto leaf_value = numbers<double>(block, "leaf_value", leaves, where);
  auto feature = numbers<std::int32_t>(block, "split_feature", internal, where);
  auto threshold = numbers<double>(block, "threshold", internal, where);
  auto decision = numbers<int>(block, "decision_type", internal, where);
  auto left = numbers<std::int32_t>(block, "left_child", internal, where);
  auto right = numbers<std::int32_t>(block, "right_child", internal, where);
  for (const auto* r : {&feature, &left, &right}) {
    if (!*r) return make_error(r->error().message);
  }
  if (!leaf_value) return make_error(leaf_value.error().message);
  if (!threshold) return make_error(threshold.error().message);
  if (!decision) return make_error(decision.error().message);

  // LightGBM numbers internal nodes 0..n-2 and leaves by ~index; we put
  // internal nodes first, then leaves at internal + leaf.
  Tree tree;
  tree.nodes.resize(internal + leaves);
  auto child = [&](std::int32_t c) { return c >= 0 ? c : static_cast<std::int32_t>(internal) + ~c; };
  for (std::size_t i = 0; i < internal; ++i) {
    auto& node = tree.nodes[i];
    const int type = (*decision)[i];
    if (type & 1) return make_error("lightgbm: " + where + ": categorical split at node " + std::to_string(i));
    const bool default_left = (type & 2) != 0;
    const int missing = (type >> 2) & 3;
    const double thr = (*threshold)[i];
    node.feature = (*feature)[i];
    node.threshold = float_at_or_below(thr);
    node.left = child((*left)[i]);
    node.right = child((*right)[i]);
    if (missing == 0) {
      node.default_left = 0.0 <= thr;  // NaN is treated as 0
    } else if (missing == 2) {
      node.default_left = default_left;  // NaN takes the default child
    } else {
      // Zero: NaN and |x| <= 1e-35 take the default child. Exact with one
      // compare only when that whole interval already goes the default way.
      const bool exact = default_left ? kLightGbmZero <= thr : -kLightGbmZero > thr;
      if (!exact) {
        return make_error("lightgbm: " + where + " node " + std::to_string(i) +
                          ": missing_type=Zero with a default direction zero does not take is not supported");
      }
      node.default_left = default_left;
    }
  }
  for (std::size_t l = 0; l < leaves; ++l) tree.nodes[internal + l].leaf_value = (*leaf_value)[l];
  return tree;
}

}  // namespace

Expected<TreeEnsemble> TreeEnsemble::from_lightgbm_text(std::string_view text) {
  std::vector<Block> blocks(1);
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "end of trees") break;
    if (line.empty()) continue;
    if (line.rfind("Tree=", 0) == 0) {
      blocks.emplace_back();
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;  // "tree" magic line and other bare words
    blocks.back()[line.substr(0, eq)] = line.substr(eq + 1);
  }
  const auto& header = blocks.front();
  auto get = [&](const char* key) -> std::string {
    const auto it = header.find(key);
    return it == header.end() ? std::string() : it->second;
  };
  if (get("version").empty() && get("max_feature_idx").empty())
    return make_error("lightgbm: not a model.txt (no header)");
  if (const auto k = get("num_class"); !k.empty() && k != "1")
    return make_error("lightgbm: num_class=" + k + " is not supported");
  if (header.count("average_output")) return make_error("lightgbm: average_output (random forest) is not supported");
  TreeEnsemble out;
  out.rule = SplitRule::LessOrEqual;
  int max_feature_idx = 0;
  if (!parse_int(get("max_feature_idx"), max_feature_idx) || max_feature_idx < 0) {
    return make_error("lightgbm: bad max_feature_idx '" + get("max_feature_idx") + "'");
  }
  out.feature_count = static_cast<std::size_t>(max_feature_idx) + 1;
  const auto objective = split_spaces(get("objective"));
  if (!objective.empty() && (objective[0] == "binary" || objective[0] == "cross_entropy")) {
    for (std::size_t i = 1; i < objective.size(); ++i) {
      if (objective[i].rfind("sigmoid:", 0) == 0 && std::strtod(objective[i].c_str() + 8, nullptr) != 1.0) {
        return make_error("lightgbm: objective '" + get("objective") + "': only sigmoid:1 is supported");
      }
    }
    out.transform = OutputTransform::Logistic;
  } else if (!objective.empty() && objective[0] != "regression" && objective[0] != "regression_l1" &&
             objective[0] != "quantile" && objective[0] != "huber" && objective[0] != "fair") {
    return make_error("lightgbm: objective '" + objective[0] + "' is not supported");
  }
  for (std::size_t b = 1; b < blocks.size(); ++b) {
    auto tree = lightgbm_tree(blocks[b], "Tree=" + std::to_string(b - 1));
    if (!tree) return make_error(tree.error().message);
    out.trees.push_back(std::move(*tree));
  }
  if (out.trees.empty()) return make_error("lightgbm: no trees");
  if (auto ok = out.validate(); !ok) return make_error("lightgbm: " + ok.error().message);
  return out;
}

}  // namespace quant::model_train
