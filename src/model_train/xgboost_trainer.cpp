#include "model_train/xgboost_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>
#include <xgboost/c_api.h>

namespace quant::model_train {

namespace {

// Floats parsed with strtof and written back as shortest float text, so editing
// XGBoost's JSON model never changes a value we did not touch.
using FloatJson = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t, std::uint64_t, float>;

Expected<void> xgb(int rc, const char* what) {
  if (rc == 0) return {};
  std::string message = XGBGetLastError();
  if (const auto nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  return make_error(std::string("xgboost: ") + what + ": " + message);
}

struct MatrixDeleter {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterDeleter {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using Matrix = std::unique_ptr<void, MatrixDeleter>;
using Booster = std::unique_ptr<void, BoosterDeleter>;

Expected<Matrix> make_matrix(std::span<const float> features, std::size_t rows, std::size_t cols, int nthread) {
  DMatrixHandle h = nullptr;
  if (auto ok = xgb(XGDMatrixCreateFromMat_omp(features.data(), rows, cols, std::nanf(""), &h, nthread),
                    "creating a DMatrix");
      !ok) {
    return make_error(ok.error().message);
  }
  return Matrix(h);
}

std::string float_text(float value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(value));  // 9 digits round-trip a float
  return buf;
}

Expected<Booster> make_booster(std::span<DMatrixHandle> cache, const BoostParams& p, const char* objective,
                               float base_score) {
  BoosterHandle h = nullptr;
  if (auto ok = xgb(XGBoosterCreate(cache.data(), cache.size(), &h), "creating a booster"); !ok) {
    return make_error(ok.error().message);
  }
  Booster booster(h);
  const std::pair<const char*, std::string> params[] = {
      {"objective", objective},
      {"base_score", float_text(base_score)},
      {"booster", "gbtree"},
      {"tree_method", "hist"},
      {"grow_policy", "lossguide"},
      {"max_leaves", std::to_string(p.max_leaves)},
      {"max_depth", "0"},
      {"eta", float_text(static_cast<float>(p.eta))},
      {"min_child_weight", float_text(static_cast<float>(p.min_child_weight))},
      {"lambda", float_text(static_cast<float>(p.lambda))},
      {"max_bin", std::to_string(p.max_bin)},
      {"subsample", "1"},  // we subsample ourselves (deterministic, and the leaf refresh must know the rows)
      {"nthread", std::to_string(p.nthread)},
      {"seed", std::to_string(p.seed % 2147483647u)},
      {"verbosity", "0"},
  };
  for (const auto& [name, value] : params) {
    if (auto ok = xgb(XGBoosterSetParam(h, name, value.c_str()), name); !ok) return make_error(ok.error().message);
  }
  return booster;
}

Expected<void> check_params(const BoostParams& p) {
  if (p.rounds < 1) return make_error("train: rounds must be >= 1");
  if (p.max_leaves < 2) return make_error("train: max_leaves must be >= 2");
  if (!(p.eta > 0.0 && p.eta <= 1.0)) return make_error("train: eta must be in (0, 1]");
  if (!(p.subsample > 0.0 && p.subsample <= 1.0)) return make_error("train: subsample must be in (0, 1]");
  if (p.nthread < 1) return make_error("train: nthread must be >= 1 (fixed, for determinism)");
  return {};
}

Expected<void> check_pair(const Dataset& train, const Dataset& valid, bool valid_required) {
  if (auto ok = train.validate(); !ok) return make_error("train set: " + ok.error().message);
  if (valid.rows() == 0 && !valid_required) return {};
  if (auto ok = valid.validate(); !ok) return make_error("validation set: " + ok.error().message);
  if (valid.feature_names != train.feature_names)
    return make_error("validation set: feature names differ from the train set");
  return {};
}

// A splitmix64 stream: portable and fully specified (std distributions are not).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

// Per round: 1 for the rows in this tree's sample, 0 otherwise. Exactly
// round(subsample * n) rows, drawn without replacement (partial Fisher-Yates).
class RowSampler {
 public:
  RowSampler(std::size_t rows, double share, std::uint64_t seed)
      : rng_(seed),
        order_(rows),
        mask_(rows, 1),
        take_(std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(share * static_cast<double>(rows))))) {
    std::iota(order_.begin(), order_.end(), std::size_t{0});
  }
  const std::vector<std::uint8_t>& next() {
    if (take_ >= order_.size()) return mask_;
    for (std::size_t i = 0; i < take_; ++i) {
      const std::size_t j = i + static_cast<std::size_t>(rng_.next() % (order_.size() - i));
      std::swap(order_[i], order_[j]);
    }
    std::fill(mask_.begin(), mask_.end(), std::uint8_t{0});
    for (std::size_t i = 0; i < take_; ++i) mask_[order_[i]] = 1;
    return mask_;
  }

 private:
  Rng rng_;
  std::vector<std::size_t> order_;
  std::vector<std::uint8_t> mask_;
  std::size_t take_;
};

Expected<std::span<const float>> predict(BoosterHandle booster, DMatrixHandle matrix, int type, bool training) {
  const std::string config = std::string("{\"type\": ") + std::to_string(type) +
                             ", \"training\": " + (training ? "true" : "false") +
                             ", \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (auto ok = xgb(XGBoosterPredictFromDMatrix(booster, matrix, config.c_str(), &shape, &dim, &out), "predict"); !ok) {
    return make_error(ok.error().message);
  }
  bst_ulong size = 1;
  for (bst_ulong i = 0; i < dim; ++i) size *= shape[i];
  return std::span<const float>(out, size);
}

Expected<std::string> save_json(BoosterHandle booster) {
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (auto ok = xgb(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}", &len, &buf), "saving the model");
      !ok) {
    return make_error(ok.error().message);
  }
  return std::string(buf, len);
}

Expected<TrainedModel> finish(BoosterHandle booster, int trees) {
  TrainedModel out;
  auto json = save_json(booster);
  if (!json) return make_error(json.error().message);
  out.xgboost_json = std::move(*json);
  auto ensemble = TreeEnsemble::from_xgboost_json(out.xgboost_json);
  if (!ensemble) return make_error(ensemble.error().message);
  out.ensemble = std::move(*ensemble);
  out.trees = trees;
  return out;
}

float weight_of(const Dataset& d, std::size_t i) { return d.weights.empty() ? 1.0f : d.weights[i]; }

// The alpha-quantile of (value, weight) pairs. Unit weights: linear
// interpolation between order statistics at alpha * (n - 1), as LightGBM's
// PercentileFun and numpy do; otherwise the weighted lower quantile.
double quantile(std::vector<std::pair<double, float>>& items, double alpha, bool weighted) {
  QUANT_CHECK(!items.empty());
  std::sort(items.begin(), items.end());
  if (!weighted) {
    const double pos = alpha * static_cast<double>(items.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, items.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    return items[lo].first + frac * (items[hi].first - items[lo].first);
  }
  double total = 0.0;
  for (const auto& item : items) total += static_cast<double>(item.second);
  double cumulative = 0.0;
  for (const auto& item : items) {
    cumulative += static_cast<double>(item.second);
    if (cumulative >= alpha * total) return item.first;
  }
  return items.back().first;
}

double log_loss_of(std::span<const float> prob, const Dataset& d) {
  double sum = 0.0, weight = 0.0;
  for (std::size_t i = 0; i < d.rows(); ++i) {
    const double p = std::clamp(static_cast<double>(prob[i]), 1e-15, 1.0 - 1e-15);
    const double y = static_cast<double>(d.labels[i]);
    const double w = static_cast<double>(weight_of(d, i));
    sum -= w * (y * std::log(p) + (1.0 - y) * std::log(1.0 - p));
    weight += w;
  }
  return sum / weight;
}

double pinball_of(std::span<const float> pred, const Dataset& d, double alpha) {
  double sum = 0.0, weight = 0.0;
  for (std::size_t i = 0; i < d.rows(); ++i) {
    const double diff = static_cast<double>(d.labels[i]) - static_cast<double>(pred[i]);
    const double w = static_cast<double>(weight_of(d, i));
    sum += w * (diff >= 0.0 ? alpha * diff : (alpha - 1.0) * diff);
    weight += w;
  }
  return sum / weight;
}

}  // namespace

Expected<TrainedModel> train_classifier(const Dataset& train, const Dataset& valid, const ClassifierParams& params) {
  const auto& p = params.boost;
  if (auto ok = check_params(p); !ok) return make_error(ok.error().message);
  if (auto ok = check_pair(train, valid, true); !ok) return make_error(ok.error().message);
  for (const float y : train.labels) {
    if (y != 0.0f && y != 1.0f) return make_error("train_classifier: labels must be 0 or 1");
  }
  auto dtrain = make_matrix(train.features, train.rows(), train.cols(), p.nthread);
  if (!dtrain) return make_error(dtrain.error().message);
  auto dvalid = make_matrix(valid.features, valid.rows(), valid.cols(), p.nthread);
  if (!dvalid) return make_error(dvalid.error().message);

  // Start from the (weighted) base rate: fewer trees spent on the intercept.
  double positives = 0.0, total = 0.0;
  for (std::size_t i = 0; i < train.rows(); ++i) {
    positives += static_cast<double>(weight_of(train, i) * train.labels[i]);
    total += static_cast<double>(weight_of(train, i));
  }
  const auto base = static_cast<float>(std::clamp(positives / total, 1e-3, 1.0 - 1e-3));
  DMatrixHandle cache[] = {dtrain->get(), dvalid->get()};
  auto booster = make_booster(cache, p, "binary:logistic", base);
  if (!booster) return make_error(booster.error().message);

  RowSampler sampler(train.rows(), p.subsample, p.seed);
  std::vector<float> grad(train.rows()), hess(train.rows());
  std::vector<double> losses;
  int best = -1, since_best = 0;
  double best_loss = INFINITY;
  for (int round = 0; round < p.rounds; ++round) {
    if (p.on_round) p.on_round(round, p.rounds);
    // Margins of the trees so far (XGBoost caches them for the train matrix).
    auto margin = predict(booster->get(), dtrain->get(), 1, true);
    if (!margin) return make_error(margin.error().message);
    const auto& mask = sampler.next();
    for (std::size_t i = 0; i < train.rows(); ++i) {
      const float prob = 1.0f / (1.0f + std::exp(-(*margin)[i]));
      const float w = mask[i] ? weight_of(train, i) : 0.0f;
      grad[i] = w * (prob - train.labels[i]);
      hess[i] = w * std::max(prob * (1.0f - prob), 1e-16f);
    }
    if (auto ok = xgb(XGBoosterBoostOneIter(booster->get(), dtrain->get(), grad.data(), hess.data(), train.rows()),
                      "boosting one round");
        !ok) {
      return make_error(ok.error().message);
    }
    auto prob = predict(booster->get(), dvalid->get(), 0, false);
    if (!prob) return make_error(prob.error().message);
    const double loss = log_loss_of(*prob, valid);
    losses.push_back(loss);
    if (loss < best_loss) {
      best_loss = loss;
      best = round;
      since_best = 0;
    } else if (params.early_stopping_rounds > 0 && ++since_best >= params.early_stopping_rounds) {
      break;
    }
  }
  if (params.early_stopping_rounds == 0) best = static_cast<int>(losses.size()) - 1;

  BoosterHandle sliced = nullptr;
  if (auto ok = xgb(XGBoosterSlice(booster->get(), 0, best + 1, 1, &sliced), "keeping the best rounds"); !ok) {
    return make_error(ok.error().message);
  }
  Booster kept(sliced);
  auto out = finish(kept.get(), best + 1);
  if (!out) return out;
  out->best_iteration = best;
  out->validation_loss = std::move(losses);
  return out;
}

Expected<TrainedModel> train_quantile(const Dataset& train, const Dataset& valid, const QuantileParams& params) {
  const auto& p = params.boost;
  const double alpha = params.alpha;
  if (auto ok = check_params(p); !ok) return make_error(ok.error().message);
  if (!(alpha > 0.0 && alpha < 1.0)) return make_error("train_quantile: alpha must be in (0, 1)");
  if (auto ok = check_pair(train, valid, false); !ok) return make_error(ok.error().message);
  const std::size_t n = train.rows();
  const bool weighted = !train.weights.empty();
  auto dtrain = make_matrix(train.features, n, train.cols(), p.nthread);
  if (!dtrain) return make_error(dtrain.error().message);
  const bool has_valid = valid.rows() > 0;
  Matrix dvalid;
  if (has_valid) {
    auto m = make_matrix(valid.features, valid.rows(), valid.cols(), p.nthread);
    if (!m) return make_error(m.error().message);
    dvalid = std::move(*m);
  }

  std::vector<std::pair<double, float>> items;
  items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) items.emplace_back(static_cast<double>(train.labels[i]), weight_of(train, i));
  // F starts at the alpha-quantile of the labels; XGBoost's reg:squarederror
  // adds base_score unchanged, so its prediction is base_score + leaves = F.
  const auto base = static_cast<float>(quantile(items, alpha, weighted));
  std::vector<DMatrixHandle> cache = {dtrain->get()};
  if (has_valid) cache.push_back(dvalid.get());
  auto booster = make_booster(cache, p, "reg:squarederror", base);
  if (!booster) return make_error(booster.error().message);

  // Scores in float and summed tree by tree, as XGBoost's predictor does.
  std::vector<float> score(n, base), valid_score(valid.rows(), base);
  std::vector<float> grad(n), hess(n);
  std::vector<std::vector<float>> refreshed;  // per tree: new leaf value by node id
  std::vector<double> losses;
  RowSampler sampler(n, p.subsample, p.seed);
  const auto eta = static_cast<float>(p.eta);
  for (int round = 0; round < p.rounds; ++round) {
    if (p.on_round) p.on_round(round, p.rounds);
    const auto& mask = sampler.next();
    for (std::size_t i = 0; i < n; ++i) {
      const float w = mask[i] ? weight_of(train, i) : 0.0f;
      grad[i] = w * (score[i] - train.labels[i] >= 0.0f ? static_cast<float>(1.0 - alpha) : static_cast<float>(-alpha));
      hess[i] = w;
    }
    if (auto ok = xgb(XGBoosterBoostOneIter(booster->get(), dtrain->get(), grad.data(), hess.data(), n),
                      "boosting one round");
        !ok) {
      return make_error(ok.error().message);
    }
    if (!params.refresh_leaves) {
      auto margin = predict(booster->get(), dtrain->get(), 1, true);
      if (!margin) return make_error(margin.error().message);
      std::copy(margin->begin(), margin->end(), score.begin());
      if (has_valid) {
        auto vm = predict(booster->get(), dvalid.get(), 1, false);
        if (!vm) return make_error(vm.error().message);
        std::copy(vm->begin(), vm->end(), valid_score.begin());
        losses.push_back(pinball_of(valid_score, valid, alpha));
      }
      continue;
    }
    // Leaf of every row in the new tree: slice it out (leaf prediction only
    // supports ranges starting at 0), predict type 6.
    BoosterHandle sliced = nullptr;
    if (auto ok = xgb(XGBoosterSlice(booster->get(), round, round + 1, 1, &sliced), "slicing the new tree"); !ok) {
      return make_error(ok.error().message);
    }
    Booster tree(sliced);
    auto leaves = predict(tree.get(), dtrain->get(), 6, false);
    if (!leaves) return make_error(leaves.error().message);
    std::vector<int> leaf(n);
    int nodes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      leaf[i] = static_cast<int>((*leaves)[i]);
      nodes = std::max(nodes, leaf[i] + 1);
    }
    std::vector<std::vector<std::pair<double, float>>> residuals(static_cast<std::size_t>(nodes));
    for (std::size_t i = 0; i < n; ++i) {
      if (!mask[i] || weight_of(train, i) <= 0.0f) continue;
      residuals[static_cast<std::size_t>(leaf[i])].emplace_back(
          static_cast<double>(train.labels[i]) - static_cast<double>(score[i]), weight_of(train, i));
    }
    // A leaf without sampled rows (possible only with tiny weights) gets 0.
    std::vector<float> values(static_cast<std::size_t>(nodes), 0.0f);
    for (std::size_t j = 0; j < values.size(); ++j) {
      if (!residuals[j].empty()) values[j] = eta * static_cast<float>(quantile(residuals[j], alpha, weighted));
    }
    for (std::size_t i = 0; i < n; ++i) score[i] += values[static_cast<std::size_t>(leaf[i])];
    if (has_valid) {
      auto vleaves = predict(tree.get(), dvalid.get(), 6, false);
      if (!vleaves) return make_error(vleaves.error().message);
      for (std::size_t i = 0; i < valid.rows(); ++i) {
        const auto j = static_cast<std::size_t>((*vleaves)[i]);
        if (j < values.size()) valid_score[i] += values[j];
      }
      losses.push_back(pinball_of(valid_score, valid, alpha));
    }
    refreshed.push_back(std::move(values));
  }

  if (params.refresh_leaves) {
    // Write the refreshed leaves into the model in one pass: tree growth used
    // only our gradients, so editing at the end equals editing every round.
    auto json = save_json(booster->get());
    if (!json) return make_error(json.error().message);
    try {
      auto doc = FloatJson::parse(*json);
      auto& trees = doc.at("learner").at("gradient_booster").at("model").at("trees");
      if (trees.size() != refreshed.size()) return make_error("train_quantile: tree count changed during training");
      for (std::size_t t = 0; t < trees.size(); ++t) {
        auto& jt = trees[t];
        auto& cond = jt.at("split_conditions");
        const auto& left = jt.at("left_children");
        const bool has_base_weights = jt.contains("base_weights") && jt.at("base_weights").size() == cond.size();
        for (std::size_t j = 0; j < cond.size() && j < refreshed[t].size(); ++j) {
          const float v = refreshed[t][j];
          if (left[j].get<int>() != -1) continue;
          cond[j] = v;
          if (has_base_weights) jt.at("base_weights")[j] = v;
        }
      }
      const std::string edited = doc.dump();
      if (auto ok = xgb(XGBoosterLoadModelFromBuffer(booster->get(), edited.data(), edited.size()),
                        "loading the refreshed model");
          !ok) {
        return make_error(ok.error().message);
      }
    } catch (const std::exception& e) {
      return make_error(std::string("train_quantile: editing the model JSON: ") + e.what());
    }
    // XGBoost's own prediction must now be our score F (same leaves, same float sums).
    auto margin = predict(booster->get(), dtrain->get(), 1, false);
    if (!margin) return make_error(margin.error().message);
    for (std::size_t i = 0; i < n; ++i) {
      if (std::fabs((*margin)[i] - score[i]) > 1e-4f * std::max(1.0f, std::fabs(score[i]))) {
        return make_error("train_quantile: XGBoost predicts " + std::to_string((*margin)[i]) + " for row " +
                          std::to_string(i) + " but the refreshed score is " + std::to_string(score[i]));
      }
    }
  }
  auto out = finish(booster->get(), p.rounds);
  if (!out) return out;
  out->validation_loss = std::move(losses);
  return out;
}

Expected<std::vector<float>> xgboost_predict(const std::string& model_json, std::span<const float> features,
                                             std::size_t rows) {
  if (rows == 0 || features.size() % rows != 0) return make_error("xgboost_predict: values do not split into rows");
  BoosterHandle h = nullptr;
  if (auto ok = xgb(XGBoosterCreate(nullptr, 0, &h), "creating a booster"); !ok) return make_error(ok.error().message);
  Booster booster(h);
  if (auto ok = xgb(XGBoosterLoadModelFromBuffer(h, model_json.data(), model_json.size()), "loading the model"); !ok) {
    return make_error(ok.error().message);
  }
  XGBoosterSetParam(h, "nthread", "1");
  auto matrix = make_matrix(features, rows, features.size() / rows, 1);
  if (!matrix) return make_error(matrix.error().message);
  auto out = predict(h, matrix->get(), 0, false);
  if (!out) return make_error(out.error().message);
  return std::vector<float>(out->begin(), out->end());
}

std::string xgboost_version() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace quant::model_train
