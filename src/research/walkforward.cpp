#include "research/walkforward.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "engine/session_clock.h"
#include "research/overfitting.h"

namespace quant::research {

namespace {

/// The fold's gate (or none) with entries allowed only from `from` on: the
/// kernel warms its indicators and features on the validation window without
/// trading it.
class WindowGate final : public engine::Gate {
 public:
  WindowGate(engine::Gate* inner, Timestamp from, bool trade) : inner_(inner), from_(from), trade_(trade) {}
  const char* name() const override { return inner_ != nullptr ? inner_->name() : "window"; }
  void observe(const Bar& bar) override {
    if (inner_ != nullptr) inner_->observe(bar);
  }
  engine::GateVerdict judge(const engine::EntryCandidate& entry) override {
    if (entry.ts <= from_) return {false, "before the test window"};
    if (!trade_) return {false, "no threshold made money on validation"};
    return inner_ != nullptr ? inner_->judge(entry) : engine::GateVerdict{true, "passed"};
  }

 private:
  engine::Gate* inner_;
  Timestamp from_;
  bool trade_;
};

/// Each trading day's equity, and the last bar of the day.
class DayCollector final : public engine::EngineObserver {
 public:
  struct Day {
    std::int64_t day = 0;
    Timestamp last_bar{};
    double start = 0, end = 0;
    std::int64_t trades = 0;
  };
  void on_bar_close(const Bar& bar, double, double, double, std::int64_t) override { last_ = bar.ts; }
  void on_day(const engine::DayRecord& d) override {
    days.push_back({d.day, last_, d.start_equity, d.end_equity, d.trades});
  }
  std::vector<Day> days;

 private:
  Timestamp last_{};
};


}  // namespace

double daily_sharpe(std::span<const double> returns) {
  auto sharpe = sharpe_ratio(returns);  // fails on fewer than two days or no variation
  return sharpe ? *sharpe : 0.0;
}

double compounded(std::span<const double> returns) {
  double growth = 1;
  for (double r : returns) growth *= 1 + r;
  return growth - 1;
}

double max_drawdown(std::span<const double> returns) {
  double equity = 1, peak = 1, worst = 0;
  for (double r : returns) {
    equity *= 1 + r;
    peak = std::max(peak, equity);
    worst = std::max(worst, 1 - equity / peak);
  }
  return worst;
}

std::vector<std::size_t> session_starts(std::span<const Bar> bars, const InstrumentSpec& spec) {
  std::vector<std::size_t> out;
  auto zone = TimeZone::find(spec.time_zone);
  engine::SessionClock clock(spec, zone ? *zone : TimeZone::utc());
  std::int64_t last = 0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const std::int64_t day = clock.locate(bars[i].ts).day;
    if (out.empty() || day != last) out.push_back(i);
    last = day;
  }
  return out;
}

Expected<std::vector<Fold>> make_folds(std::span<const std::size_t> starts, std::size_t bar_count,
                                       const WalkForwardConfig& c) {
  if (c.train_sessions < 2 || c.early_stopping_sessions < 1 || c.early_stopping_sessions >= c.train_sessions ||
      c.validation_sessions < 1 || c.test_sessions < 1 || c.step_sessions < 1) {
    return make_error(
        "walkforward: sessions out of range (train_sessions >= 2, 1 <= early_stopping_sessions < train_sessions, "
        "validation_sessions >= 1, test_sessions >= 1, step_sessions >= 1)");
  }
  const auto n = static_cast<std::int64_t>(starts.size());
  const std::int64_t need = c.train_sessions + c.validation_sessions + c.test_sessions;
  if (n < need) {
    return make_error("walkforward: the data holds " + std::to_string(n) + " sessions; one fold needs " +
                      std::to_string(need) + " (train " + std::to_string(c.train_sessions) + " + validation " +
                      std::to_string(c.validation_sessions) + " + test " + std::to_string(c.test_sessions) +
                      "): use more data or shorter windows");
  }
  auto at = [&](std::int64_t session) {
    return session >= n ? bar_count : starts[static_cast<std::size_t>(session)];
  };
  std::vector<Fold> folds;
  for (std::int64_t train_end = c.train_sessions; train_end + c.validation_sessions + c.test_sessions <= n;
       train_end += c.step_sessions) {
    Fold f;
    f.train_from = c.expanding ? at(0) : at(train_end - c.train_sessions);
    f.early_stopping_from = at(train_end - c.early_stopping_sessions);
    f.validation_from = at(train_end);
    f.test_from = at(train_end + c.validation_sessions);
    f.test_to = at(train_end + c.validation_sessions + c.test_sessions);
    folds.push_back(f);
  }
  return folds;
}

Thresholds choose_thresholds(std::span<const ScoredSample> validation, const WalkForwardConfig& config,
                             double target, double stop_atr_multiple, double cost) {
  Thresholds best;
  best.trade = false;
  best.rule.p_min = config.p_min_grid.empty() ? 0.5 : config.p_min_grid.back();
  bool found = false;
  for (double p : config.p_min_grid) {
    for (bool quantiles : {true, false}) {
      model::GateRule rule{p, quantiles};
      double points = 0;
      std::size_t trades = 0;
      for (const auto& s : validation) {
        const model::GatekeeperScore score{s.prob, s.q10, s.q90};
        const double stop = stop_atr_multiple * s.sample.atr + cost;
        if (!model::judge(rule, score, target - cost, stop).pass) continue;
        points += s.sample.net_points;
        ++trades;
      }
      if (trades < static_cast<std::size_t>(std::max(config.min_validation_trades, 1))) continue;
      const bool better = !found || points > best.validation_points ||
                          (points == best.validation_points && trades > best.validation_trades);
      if (better) {
        found = true;
        best.rule = rule;
        best.validation_points = points;
        best.validation_trades = trades;
      }
    }
  }
  best.trade = found && best.validation_points > 0;
  return best;
}

Expected<WalkForwardResult> walk_forward(std::span<const Bar> bars, const InstrumentSpec& spec,
                                         const strategy::StrategyConfig& strategy, const TrainConfig& train,
                                         const WalkForwardConfig& config, const SetupFactory& setup,
                                         const std::string& out_dir,
                                         const std::function<bool(std::size_t, std::size_t, const FoldResult&)>& on_fold) {
  const auto started = std::chrono::steady_clock::now();
  const auto starts = session_starts(bars, spec);
  auto folds = make_folds(starts, bars.size(), config);
  if (!folds) return tl::unexpected(folds.error());
  const double target = train.settings.risk.target_points;
  const double cost = target_cost_points(train.settings, spec);
  WalkForwardResult result;
  for (std::size_t k = 0; k < folds->size(); ++k) {
    const Fold& f = (*folds)[k];
    const std::string where = "walkforward: fold " + std::to_string(k + 1) + " of " + std::to_string(folds->size());
    FoldResult fr;
    fr.fold = f;
    fr.train_start = bars[f.train_from].ts;
    fr.validation_start = bars[f.validation_from].ts;
    fr.test_start = bars[f.test_from].ts;
    fr.test_end = bars[f.test_to - 1].ts + kMinute;
    fr.model_dir = (std::filesystem::path(out_dir) / ("fold-" + std::to_string(k + 1)) / "model").string();

    const auto slice = bars.subspan(f.train_from, f.test_to - f.train_from);
    const SplitBars split{f.early_stopping_from - f.train_from, f.validation_from - f.train_from,
                          f.test_from - f.train_from};
    auto trained = train_gatekeeper(slice, spec, strategy, train, split, fr.model_dir,
                                    {format_utc(fr.train_start), format_utc(fr.test_start), "walk-forward"});
    if (!trained) return make_error(where + ": " + trained.error().message);
    fr.training = std::move(*trained);
    fr.thresholds = choose_thresholds(fr.training.calibrated, config, target, train.settings.risk.stop_atr_multiple,
                                      cost);

    // The kernel over validation + test, entries only in the test window.
    const auto window = bars.subspan(f.validation_from, f.test_to - f.validation_from);
    const Timestamp first_entry = bars[f.test_from].ts;  // decisions at this bar's close or later
    auto run = [&](bool gated, std::vector<DayCollector::Day>& days) -> Expected<void> {
      auto made = setup(gated ? fr.model_dir : std::string(), fr.thresholds.rule);
      if (!made) return make_error(where + ": " + made.error().message);
      WindowGate gate(gated ? made->gate.get() : nullptr, first_entry, !gated || fr.thresholds.trade);
      DayCollector collector;
      engine::SpanFeed feed(window);
      auto sim = backtest::simulate(train.settings, spec, *made->strategy, feed, collector, {}, &gate);
      if (!sim) return make_error(where + ": " + sim.error().message);
      for (const auto& d : collector.days) {
        if (d.last_bar >= first_entry) days.push_back(d);
      }
      return {};
    };
    std::vector<DayCollector::Day> gated_days, ungated_days;
    if (auto ok = run(true, gated_days); !ok) return tl::unexpected(ok.error());
    if (auto ok = run(false, ungated_days); !ok) return tl::unexpected(ok.error());
    std::map<std::int64_t, std::size_t> ungated_of;
    for (std::size_t i = 0; i < ungated_days.size(); ++i) ungated_of[ungated_days[i].day] = i;
    std::vector<double> g, u;
    for (const auto& d : gated_days) {
      OosDay day;
      day.ts = d.last_bar;
      day.fold = static_cast<int>(k + 1);
      day.gated_return = d.start > 0 ? d.end / d.start - 1 : 0;
      day.gated_trades = d.trades;
      if (auto it = ungated_of.find(d.day); it != ungated_of.end()) {
        const auto& ud = ungated_days[it->second];
        day.ungated_return = ud.start > 0 ? ud.end / ud.start - 1 : 0;
        day.ungated_trades = ud.trades;
      }
      g.push_back(day.gated_return);
      u.push_back(day.ungated_return);
      fr.gated_trades += day.gated_trades;
      fr.ungated_trades += day.ungated_trades;
      result.days.push_back(day);
    }
    fr.gated_return = compounded(g);
    fr.ungated_return = compounded(u);
    fr.gated_sharpe = daily_sharpe(g);
    fr.ungated_sharpe = daily_sharpe(u);
    result.folds.push_back(std::move(fr));
    if (on_fold && !on_fold(k + 1, folds->size(), result.folds.back())) break;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace quant::research
