#pragma once
/// Walk-forward evaluation: the Gatekeeper retrained and the strategy
/// backtested fold after fold, each fold's test window after everything that
/// was fitted or chosen for it. Windows are counted in trading sessions:
///
///   | train (fit)   | early stop | validation      | test      |
///   |<----------- train_sessions ->|<- validation ->|<- test -->|
///
/// - rolling: every fold's training window has train_sessions; expanding: it
///   starts at the first session. Folds advance by step_sessions.
/// - per fold: the models train on the training window (the last
///   early_stopping_sessions of it choose the trees), are conformalized on
///   the validation window, where the gate's thresholds are also chosen
///   (nothing else sees it); then the full strategy with its risk engine runs
///   through the kernel over the validation and test windows with entries
///   allowed only inside the test window, gated, and once more ungated.
/// - purging: a sample whose trade reaches into a later segment is dropped
///   from its segment, with `embargo_bars` more (research/gatekeeper_training.h);
///   every fitted quantity precedes its test window, so no sample after a test
///   window is ever used (the embargo after a test window is then empty).
/// The out-of-sample result is the test windows' daily returns stitched in time.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backtest/backtest.h"
#include "engine/ports.h"
#include "model/gate_rule.h"
#include "research/gatekeeper_training.h"
#include "strategy/strategy.h"

namespace quant::research {

struct WalkForwardConfig {
  bool expanding = false;           ///< false: rolling windows
  int train_sessions = 40;          ///< training window (fit + early stopping), sessions
  int early_stopping_sessions = 8;  ///< the training window's last sessions choose the trees
  int validation_sessions = 10;     ///< conformal calibration and gate thresholds
  int test_sessions = 10;
  int step_sessions = 10;           ///< how far each fold moves
  std::vector<double> p_min_grid = {0.40, 0.45, 0.50, 0.55, 0.60, 0.65};
  int min_validation_trades = 5;    ///< fewer passing trades: that threshold is not eligible
};

/// One fold in bar positions of the series (half-open ranges).
struct Fold {
  std::size_t train_from = 0, early_stopping_from = 0, validation_from = 0, test_from = 0, test_to = 0;
};

/// The first bar of each trading session, in `bars` order (a session = the
/// engine's trading day, so holidays and short sessions follow the calendar).
std::vector<std::size_t> session_starts(std::span<const Bar> bars, const InstrumentSpec& spec);

/// Folds over sessions starting at `starts` (bars.size() = `bar_count`). Fails
/// when the configuration is invalid or the data holds no complete fold,
/// saying how many sessions it has and how many one fold needs.
Expected<std::vector<Fold>> make_folds(std::span<const std::size_t> starts, std::size_t bar_count,
                                       const WalkForwardConfig& config);

/// The gate's thresholds chosen on validation.
struct Thresholds {
  model::GateRule rule;
  bool trade = true;        ///< false: no threshold made money on validation; the fold does not trade
  double validation_points = 0;  ///< net points per contract the chosen rule made on validation
  std::size_t validation_trades = 0;
};

/// Chooses the rule that made the most net points per contract over the
/// validation samples (each sample: the trade the kernel would have made),
/// over `p_min_grid` × {quantiles on, off}; ties go to the rule that trades
/// more. `target` and `cost` in price points; the stop of a sample is
/// stop_atr_multiple × its ATR. No rule with at least `min_trades` that made
/// money: trade = false.
Thresholds choose_thresholds(std::span<const ScoredSample> validation, const WalkForwardConfig& config,
                             double target, double stop_atr_multiple, double cost);

/// What the kernel runs in a test window: the strategy with its filters and,
/// when `model_dir` is not empty, the gate of those models with `rule`.
struct TradingSetup {
  std::unique_ptr<strategy::Strategy> strategy;
  std::unique_ptr<engine::Gate> gate;
};
using SetupFactory = std::function<Expected<TradingSetup>(const std::string& model_dir, const model::GateRule& rule)>;

/// A day of the stitched out-of-sample record.
struct OosDay {
  Timestamp ts{};  ///< the session's last bar
  int fold = 0;
  double gated_return = 0, ungated_return = 0;  ///< end / start equity − 1
  std::int64_t gated_trades = 0, ungated_trades = 0;
};

struct FoldResult {
  Fold fold;
  Timestamp train_start{}, validation_start{}, test_start{}, test_end{};
  TrainResult training;  ///< its test metrics are the fold's test window's signals
  Thresholds thresholds;
  std::int64_t gated_trades = 0, ungated_trades = 0;
  double gated_return = 0, ungated_return = 0;  ///< compounded over the test window
  double gated_sharpe = 0, ungated_sharpe = 0;  ///< daily, not annualised
  std::string model_dir;
};

struct WalkForwardResult {
  std::vector<FoldResult> folds;
  std::vector<OosDay> days;  ///< the test windows' days in time order
  double seconds = 0;
};

/// Runs the folds over `bars`; each fold's models go to `out_dir`/fold-<k>/model.
/// `on_fold(done, total, fold)` runs after each fold (progress, a pruner) and
/// may return false to stop early; the result then holds the folds so far.
Expected<WalkForwardResult> walk_forward(std::span<const Bar> bars, const InstrumentSpec& spec,
                                         const strategy::StrategyConfig& strategy, const TrainConfig& train,
                                         const WalkForwardConfig& config, const SetupFactory& setup,
                                         const std::string& out_dir,
                                         const std::function<bool(std::size_t, std::size_t, const FoldResult&)>&
                                             on_fold = {});

/// Daily Sharpe ratio (mean / sample standard deviation, `sharpe_ratio` of
/// overfitting.h) of `returns`; 0 when fewer than two days or no variation.
double daily_sharpe(std::span<const double> returns);
/// The compounded return of daily `returns`.
double compounded(std::span<const double> returns);
/// The largest fall from a peak of the equity `returns` compound to, as a share of the peak.
double max_drawdown(std::span<const double> returns);

}  // namespace quant::research
