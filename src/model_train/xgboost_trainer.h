#pragma once
/// Training of the Gatekeeper's three models through XGBoost 1.7's C API (the
/// only file that includes XGBoost headers is xgboost_trainer.cpp):
/// - a `binary:logistic` classifier with early stopping on a time-ordered
///   validation split;
/// - quantile regressors (pinball loss at level alpha) boosted as LightGBM
///   does: custom pinball gradients, then each new tree's leaves re-set to the
///   alpha-quantile of the residuals of the rows in the leaf (README.md).
///
/// Trees grow leaf-wise: tree_method=hist, grow_policy=lossguide, max_leaves,
/// max_depth=0. Training is deterministic: a fixed thread count, our own
/// seeded row subsampling, no other randomness. Same inputs and seed give a
/// byte-identical model JSON.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "model_train/dataset.h"
#include "model_train/tree_ensemble.h"

namespace quant::model_train {

/// Shared booster parameters (defaults in the struct).
struct BoostParams {
  int rounds = 300;        ///< maximum number of trees
  int max_leaves = 31;     ///< leaves per tree (leaf-wise growth)
  double eta = 0.05;       ///< learning rate
  double subsample = 1.0;  ///< share of rows sampled (without replacement) per tree, (0, 1]
  double min_child_weight = 1.0;
  double lambda = 1.0;  ///< L2 regularisation of leaf weights
  int max_bin = 256;
  int nthread = 1;          ///< fixed for determinism
  /// Called after each boosting round with (rounds done, rounds at most): progress for long fits.
  std::function<void(int, int)> on_round;
  std::uint64_t seed = 42;  ///< seeds our row subsampling
};

struct ClassifierParams {
  BoostParams boost;
  /// Stop after this many rounds without a better validation log-loss; 0
  /// disables early stopping (all `rounds` trees are kept).
  int early_stopping_rounds = 30;
};

struct QuantileParams {
  BoostParams boost;
  double alpha = 0.5;          ///< quantile level in (0, 1)
  bool refresh_leaves = true;  ///< re-set leaves to residual quantiles (off only to show why it matters)
};

/// A trained model: XGBoost's JSON (the source of truth), our parsed ensemble
/// of it, and the training record.
struct TrainedModel {
  std::string xgboost_json;
  TreeEnsemble ensemble;
  int trees = 0;                        ///< trees kept
  int best_iteration = -1;              ///< classifier: 0-based round with the best validation log-loss
  std::vector<double> validation_loss;  ///< per round: log-loss (classifier) or pinball loss (quantile, if valid given)
};

/// Trains the classifier on `train` (labels 0/1), evaluating log-loss on
/// `valid` after every round (rows of `valid` should come after `train` in
/// time). Keeps the trees up to the best round. Fails on invalid data or an
/// XGBoost error.
Expected<TrainedModel> train_classifier(const Dataset& train, const Dataset& valid, const ClassifierParams& params);

/// Trains a quantile regressor at level `params.alpha`. `valid` may be empty
/// (no rows); when given, its pinball loss is recorded per round.
Expected<TrainedModel> train_quantile(const Dataset& train, const Dataset& valid, const QuantileParams& params);

/// XGBoost's own prediction (XGBoosterPredictFromDMatrix, type 0: the
/// probability for a classifier, the value for a regressor) of a model given as
/// JSON over `rows` row-major rows (NaN = missing). For parity tests.
Expected<std::vector<float>> xgboost_predict(const std::string& model_json, std::span<const float> features,
                                             std::size_t rows);

/// "major.minor.patch" of the linked XGBoost.
std::string xgboost_version();

}  // namespace quant::model_train
