// Labels from the kernel's trades and the purged four-way split, on hand-made
// cases; training end to end on a generated market.
#include "research/gatekeeper_training.h"

#include <cmath>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "core/test_bars.h"
#include "generator/market_generator.h"
#include "model/manifest.h"
#include "research/labels.h"
#include "research/test_research.h"

namespace quant::research {
namespace {

namespace fs = std::filesystem;

/// Signals at chosen bar indices, a fixed ATR.
class ScriptedStrategy final : public strategy::Strategy {
 public:
  std::map<int, strategy::Action> script;
  int index = -1;
  std::string_view name() const override { return "scripted"; }
  strategy::Signal on_bar(const Bar&, std::int64_t) override {
    ++index;
    strategy::Signal s;
    s.atr = 100;
    if (auto it = script.find(index); it != script.end()) {
      s.action = it->second;
      s.reason = "scripted";
    }
    return s;
  }
};

Timestamp at(int day, int hh, int mm) { return testing::brt_march_2021(day, hh, mm); }

InstrumentSpec win() { return testing::win_with_fees(); }  // 2 × 0.25 / 0.20 = 2.5 points a round trip

/// 1 tick (5 points) of slippage on market and stop fills; a target out of reach.
backtest::BacktestConfig settings() { return testing::research_settings(1000); }

/// A day of flat bars every minute from `from` to `to` (local BRT), at `price`.
void flat_day(std::vector<Bar>& bars, int day, int from_h, int to_h, int to_m, double price, double step = 0) {
  for (Timestamp t = at(day, from_h, 0); t <= at(day, to_h, to_m); t += kMinute) {
    bars.push_back(testing::ohlc_bar(t, price, price + 10, price - 10, price + step));
    price += step;
  }
}

TEST(LabelsTest, EachTakenEntryIsLabelledByWhatItsTradePaid) {
  std::vector<Bar> bars;
  // Day 1: a long at 10:00 that drifts up 1 point a bar and is flattened by
  // the session rule (decided at the 18:15 close, filled at the next open).
  flat_day(bars, 1, 10, 18, 20, 100000, 1);
  // Day 2: a short at 10:00, stopped out at 10:02; a long signal at 18:00
  // (inside the last 30 minutes) is not taken.
  std::vector<Bar> day2;
  flat_day(day2, 2, 10, 18, 20, 100000);
  day2[2].high = 100400;  // 10:02 reaches the stop
  bars.insert(bars.end(), day2.begin(), day2.end());
  const int day1 = static_cast<int>(bars.size() - day2.size());

  ScriptedStrategy strategy;
  strategy.script[0] = strategy::Action::EnterLong;
  strategy.script[5] = strategy::Action::EnterLong;  // while long: not an entry, not a sample
  strategy.script[day1] = strategy::Action::EnterShort;
  strategy.script[day1 + 8 * 60] = strategy::Action::EnterLong;  // 18:00 close, 18:01: no entries now
  LabelStats stats;
  auto samples = label_signals(bars, win(), strategy, settings(), &stats);
  ASSERT_TRUE(samples) << samples.error().message;
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ(stats.taken, 2u);
  EXPECT_EQ(stats.positives, 1u);

  const LabelledSignal& longer = (*samples)[0];
  EXPECT_EQ(longer.index, 0u);
  EXPECT_EQ(longer.side, Side::Buy);
  EXPECT_EQ(longer.exit_reason, "session_end");
  // Entry at bar 1's open 100000 + 5 slippage; the flatten decided at the
  // 18:15 close fills at the 18:15 bar's open (100000 + 495) − 5; fees 2.5.
  EXPECT_EQ(bars[longer.exit_index].ts, at(1, 18, 15));
  EXPECT_NEAR(longer.net_points, (100495.0 - 5) - (100000 + 5) - 2.5, 1e-6);
  EXPECT_EQ(longer.label, 1);

  const LabelledSignal& shorter = (*samples)[1];
  EXPECT_EQ(shorter.index, static_cast<std::size_t>(day1));
  EXPECT_EQ(shorter.exit_reason, "stop");
  EXPECT_EQ(shorter.exit_index, static_cast<std::size_t>(day1 + 2));
  // Sold at 100000 − 5; the stop, 2 × ATR above the sizing price and moved
  // with the fill (100195), trails to 2 × ATR above the lowest low since the
  // entry (99990 → 100190) and fills 5 worse; fees 2.5.
  EXPECT_NEAR(shorter.net_points, (99995.0 - 100195) - 2.5, 1e-6);
  EXPECT_EQ(shorter.label, 0);
}

TEST(LabelsTest, ATradeStillOpenAtTheEndHasNoLabel) {
  std::vector<Bar> bars;
  flat_day(bars, 1, 10, 12, 0, 100000, 1);
  ScriptedStrategy strategy;
  strategy.script[3] = strategy::Action::EnterLong;
  LabelStats stats;
  auto samples = label_signals(bars, win(), strategy, settings(), &stats);
  ASSERT_TRUE(samples) << samples.error().message;
  EXPECT_TRUE(samples->empty());
  EXPECT_EQ(stats.open_at_end, 1u);
}

LabelledSignal sample(std::size_t index, std::size_t exit_index) {
  LabelledSignal s;
  s.index = index;
  s.exit_index = exit_index;
  return s;
}

TEST(SplitTest, SamplesWhoseTradeReachesTheNextSegmentArePurgedWithTheEmbargo) {
  // Segments start at bars 100 (early stopping), 200 (calibration), 300 (test).
  const SplitBars split{100, 200, 300};
  const std::vector<LabelledSignal> samples = {
      sample(10, 50),    // train, ends 50 + 20 < 100: kept
      sample(60, 80),    // train, 80 + 20 reaches 100: purged (embargo)
      sample(70, 120),   // train, ends inside early stopping: purged
      sample(100, 150),  // early stopping, kept
      sample(150, 185),  // early stopping, 185 + 20 ≥ 200: purged
      sample(210, 250),  // calibration, kept
      sample(260, 279),  // calibration, 279 + 20 = 299 < 300: kept
      sample(270, 280),  // calibration, 280 + 20 = 300: purged
      sample(300, 400),  // test, the last segment: nothing after it
  };
  const std::vector<int> expected = {0, -1, -1, 1, -1, 2, 2, -1, 3};
  EXPECT_EQ(assign_segments(samples, split, 20), expected);
  // Without an embargo only overlapping trades go.
  EXPECT_EQ(assign_segments(samples, split, 0), (std::vector<int>{0, 0, -1, 1, 1, 2, 2, 2, 3}));
}

TEST(SplitTest, AnEmptyTestSegmentLetsCalibrationRunToTheEnd) {
  const SplitBars split{100, 200, 1000};  // test_from == bars: no test segment
  const std::vector<LabelledSignal> samples = {sample(90, 99), sample(150, 200), sample(900, 999)};
  EXPECT_EQ(assign_segments(samples, split, 0), (std::vector<int>{0, -1, 2}));
  // An empty early-stopping segment: a training label may not reach calibration.
  const SplitBars no_es{200, 200, 1000};
  EXPECT_EQ(assign_segments(std::vector<LabelledSignal>{sample(150, 199), sample(150, 205)}, no_es, 0),
            (std::vector<int>{0, -1}));
}

TEST(SplitTest, SharesCutAtTheFirstSignalOfEachSegment) {
  std::vector<LabelledSignal> samples;
  for (std::size_t i = 0; i < 100; ++i) samples.push_back(sample(10 * i, 10 * i + 5));
  const SplitBars s = split_by_shares(samples, {0.1, 0.2, 0.3}, 5000);
  EXPECT_EQ(s.test_from, 700u);            // the last 30 samples
  EXPECT_EQ(s.calibration_from, 500u);     // the 20 before them
  EXPECT_EQ(s.early_stopping_from, 400u);  // the 10 before those
  EXPECT_EQ(split_by_shares(samples, {0.1, 0.2, 0.0}, 5000).test_from, 5000u);
}

TEST(TrainTest, FourSegmentsInTimeAndTheReportedMetricsAreTheTestSegments) {
  const InstrumentSpec spec = testing::win_with_fees();
  generator::GeneratorConfig gc;
  gc.seed = 7;
  gc.days = 60;
  auto generated = generator::generate_bars(spec, gc);
  ASSERT_TRUE(generated) << generated.error().message;
  const std::vector<Bar>& bars = *generated;
  const TrainConfig config = testing::quick_train_config(40, 2);
  strategy::StrategyConfig strategy;
  strategy.name = "ma_breakout";
  const fs::path out = fs::temp_directory_path() / "quant_research_train_test";
  fs::remove_all(out);
  auto r = train_gatekeeper(bars, spec, strategy, config, out.string(), {"a", "b", "hash"});
  ASSERT_TRUE(r) << r.error().message;
  // Segments in time order, each ending before the next begins.
  EXPECT_LT(r->train.to, r->early_stopping.from);
  EXPECT_LT(r->early_stopping.to, r->calibration.from);
  EXPECT_LT(r->calibration.to, r->test_segment.from);
  EXPECT_GT(r->test.rows, 0u);
  EXPECT_EQ(r->test.rows, r->test_segment.rows);
  EXPECT_EQ(r->calibrated.size(), r->calibration.rows);
  EXPECT_LE(r->fit_end, r->test_segment.from);
  // On the calibration rows the conformal bounds miss each tail at most
  // ⌈0.9 (n + 1)⌉ / n allows (ties at an atom count as covered).
  std::size_t below = 0, above = 0;
  for (const auto& s : r->calibrated) {
    below += s.sample.net_points < s.q10 - 2.5 ? 1 : 0;
    above += s.sample.net_points > s.q90 + 2.5 ? 1 : 0;
  }
  const double n = static_cast<double>(r->calibrated.size());
  EXPECT_LE(static_cast<double>(below) / n, 0.1 + 1 / n);
  EXPECT_LE(static_cast<double>(above) / n, 0.1 + 1 / n);
  // The manifest says where its metrics were measured.
  auto manifest = model::load_manifest(out.string());
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->metrics["measured_on"], "test");
  EXPECT_EQ(manifest->metrics["rows"], r->test.rows);
  EXPECT_TRUE(manifest->metrics["early_stopping"].contains("auc"));
  EXPECT_EQ(manifest->params["labels"]["kind"], "kernel_trade");
  fs::remove_all(out);
}

}  // namespace
}  // namespace quant::research
