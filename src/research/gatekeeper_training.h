#pragma once
/// Training the Gatekeeper from bars. The strategy's entries, labelled by the
/// trades the kernel would make of them (research/labels.h), are split in time
/// into four segments, each purged and embargoed from the next:
///
///   train | early stopping | calibration | test
///
/// - the HMM regime model is fitted on the bars of the training segment only
///   (bars before the first early-stopping signal);
/// - the classifier and the q10/q90 models train on the training segment; the
///   classifier's number of trees is chosen on the early-stopping segment
///   (its metrics there are reported as such, never as out-of-sample);
/// - the quantile models are conformalized on the calibration segment
///   (Romano, Patterson, Candès 2019, one-sided per tail: REFERENCE.md):
///   q10 moves down by Q_lo and q90 up by Q_hi, baked into the exported models;
/// - the test segment, which nothing was fitted or chosen on, gives the
///   reported metrics (AUC, log-loss, Brier, calibration, q10/q90 coverage,
///   how often the raw quantiles crossed).
///
/// Purging: a sample of one segment whose trade ends within `embargo_bars` of
/// the next segment's first signal bar is dropped, so no label spans a
/// boundary. The feature pipeline is the object the backtest gate and the live
/// engine run, so the numbers the models see in training are the numbers they
/// see in production.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backtest/backtest.h"
#include "core/instrument.h"
#include "core/market_data.h"
#include "features/feature_pipeline.h"
#include "model/manifest.h"
#include "model_train/metrics.h"
#include "model_train/xgboost_trainer.h"
#include "research/labels.h"
#include "strategy/strategy_config.h"

namespace quant::research {

/// Shares of the samples (in time order) for the last three segments; the
/// training segment gets the rest. `test` may be 0 (walk-forward tests with a
/// backtest instead).
struct SplitShares {
  double early_stopping = 0.15;
  double calibration = 0.15;
  double test = 0.15;
};

/// First bar index of each later segment, in `bars` (non-decreasing; a segment
/// may be empty only when it is the test one: test_from == bars.size()).
struct SplitBars {
  std::size_t early_stopping_from = 0, calibration_from = 0, test_from = 0;
};

struct TrainConfig {
  features::FeatureConfig features;
  backtest::BacktestConfig settings;  ///< the backtest's engine, risk and costs: what the labels pay
  int hmm_states = 3;                 ///< 0 = no HMM regime features
  SplitShares split;
  int embargo_bars = 60;       ///< bars after a segment's last label before the next segment may start
  double interval_miss = 0.1;  ///< target share below q10 and above q90 each (conformal level)
  model_train::ClassifierParams classifier;
  model_train::BoostParams quantile;  ///< q10 and q90 (leaf refresh on)
  /// Progress of the long steps: (stage, done, total) with stage "labels",
  /// "HMM fit", "classifier", "q10" or "q90" (EM iterations, boosting rounds).
  std::function<void(std::string_view, int, int)> progress;
};

/// What one segment held.
struct SegmentCount {
  std::size_t rows = 0;    ///< samples used
  std::size_t purged = 0;  ///< samples dropped because their trade reached into the next segment (+ embargo)
  Timestamp from{}, to{};  ///< first and last signal bar
};

/// Predictions on the calibration segment after conformalization: what
/// walk-forward chooses gate thresholds on.
struct ScoredSample {
  LabelledSignal sample;
  float prob = 0, q10 = 0, q90 = 0;
};

struct TrainResult {
  model::Manifest manifest;
  model_train::ValidationMetrics test;            ///< the out-of-sample metrics (rows 0 when there is no test segment)
  double test_raw_crossed = 0;                    ///< share of test rows where raw q10 > q90
  double early_stopping_auc = 0, early_stopping_log_loss = 0;  ///< where the trees were chosen: biased upward
  double calibration_raw_crossed = 0;             ///< share of calibration rows where raw q10 > q90
  double q10_offset = 0, q90_offset = 0;          ///< conformal shifts applied (q10 − Q_lo, q90 + Q_hi)
  LabelStats labels;
  SegmentCount train, early_stopping, calibration, test_segment;
  std::size_t not_ready = 0;  ///< samples before the feature pipeline was ready (dropped)
  std::vector<ScoredSample> calibrated;  ///< the calibration segment, scored by the final models
  Timestamp fit_end{};  ///< the last bar any fitted or chosen quantity saw (the calibration segment's end)
  double seconds = 0;
};

/// Where the data came from, for the manifest.
struct DataWindow {
  std::string start, end, hash;
};

/// Labels the strategy's entries over `bars`, splits them by `shares`, trains
/// and writes the models and manifest into `out_dir`.
Expected<TrainResult> train_gatekeeper(std::span<const Bar> bars, const InstrumentSpec& spec,
                                       const strategy::StrategyConfig& strategy, const TrainConfig& config,
                                       const std::string& out_dir, const DataWindow& window);

/// The same with the segments given as bar positions (walk-forward folds).
Expected<TrainResult> train_gatekeeper(std::span<const Bar> bars, const InstrumentSpec& spec,
                                       const strategy::StrategyConfig& strategy, const TrainConfig& config,
                                       const SplitBars& split, const std::string& out_dir, const DataWindow& window);

/// Segment of each sample (0 train, 1 early stopping, 2 calibration, 3 test,
/// -1 purged) for samples in time order: by signal bar against `split`, then a
/// sample whose exit_index + embargo reaches the next non-empty segment's
/// first signal bar is purged. Pure; exposed for tests.
std::vector<int> assign_segments(std::span<const LabelledSignal> samples, const SplitBars& split, int embargo_bars);

/// Bar positions that cut `samples` (time order) by `shares`: each later
/// segment starts at the signal bar of its first sample.
SplitBars split_by_shares(std::span<const LabelledSignal> samples, const SplitShares& shares, std::size_t bar_count);

}  // namespace quant::research
