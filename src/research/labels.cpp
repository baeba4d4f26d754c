#include "research/labels.h"

#include <algorithm>
#include <deque>
#include <map>

#include "engine/ports.h"
#include "strategy/strategy.h"

namespace quant::research {

namespace {

/// Lets every entry through and remembers it: the entries the kernel decides
/// on, with their decision time, side and ATR.
class RecordingGate final : public engine::Gate {
 public:
  const char* name() const override { return "label"; }
  void observe(const Bar&) override {}
  engine::GateVerdict judge(const engine::EntryCandidate& entry) override {
    asked.push_back(entry);
    return {true, "passed"};
  }
  std::vector<engine::EntryCandidate> asked;
};

/// Pairs each filled entry order with the trade it opened. Entries are only
/// sent flat or against the position (no adds), so trades close in the order
/// their entries filled.
class TradePairing final : public engine::EngineObserver {
 public:
  void on_order_done(const Order& order, std::string_view, std::string_view) override {
    if (order.purpose == OrderPurpose::Entry && order.filled_qty > 0) filled_entries.push_back(order);
  }
  void on_trade(const engine::TradeRecord& trade) override {
    if (filled_entries.empty()) return;  // cannot happen: a trade needs an entry
    pairs.push_back({filled_entries.front(), trade});
    filled_entries.pop_front();
  }
  std::deque<Order> filled_entries;
  std::vector<std::pair<Order, engine::TradeRecord>> pairs;
};

/// Index of the bar opening at `ts`, or of the last bar before it.
std::size_t bar_at(std::span<const Bar> bars, Timestamp ts) {
  const auto it = std::upper_bound(bars.begin(), bars.end(), ts, [](Timestamp t, const Bar& b) { return t < b.ts; });
  return it == bars.begin() ? 0 : static_cast<std::size_t>(it - bars.begin()) - 1;
}

}  // namespace

double target_cost_points(const backtest::BacktestConfig& bt, const InstrumentSpec& spec) {
  const double slack = spec.tick_size / 2;
  if (bt.zero_costs || !(spec.point_value > 0)) return slack;
  const TradingCosts c = costs_of(spec, bt.slippage_ticks);
  return 2 * c.fee_per_contract_side / spec.point_value + c.slippage_ticks * spec.tick_size + slack;
}

Expected<std::vector<LabelledSignal>> label_signals(std::span<const Bar> bars, const InstrumentSpec& spec,
                                                    const strategy::StrategyConfig& strategy_config,
                                                    const backtest::BacktestConfig& settings, LabelStats* stats) {
  strategy::StrategyConfig plain = strategy_config;
  plain.ma_breakout.model_gate = false;
  plain.ma_breakout.hmm_filter = false;
  plain.ma_breakout.book_imbalance_filter = false;
  auto strategy = strategy::make_strategy(plain, spec);
  if (!strategy) return tl::unexpected(strategy.error());
  return label_signals(bars, spec, **strategy, settings, stats);
}

Expected<std::vector<LabelledSignal>> label_signals(std::span<const Bar> bars, const InstrumentSpec& spec,
                                                    strategy::Strategy& strategy,
                                                    const backtest::BacktestConfig& settings, LabelStats* stats) {
  RecordingGate gate;
  TradePairing trades;
  engine::SpanFeed feed(bars);
  auto run = backtest::simulate(settings, spec, strategy, feed, trades, {}, &gate);
  if (!run) return tl::unexpected(run.error());

  std::map<Timestamp, const engine::EntryCandidate*> by_time;
  for (const auto& c : gate.asked) by_time.emplace(c.ts, &c);
  LabelStats st;
  st.signals = gate.asked.size();
  std::vector<LabelledSignal> out;
  out.reserve(trades.pairs.size());
  const double per_point = spec.point_value > 0 ? spec.point_value : 1.0;
  for (const auto& [entry, trade] : trades.pairs) {
    ++st.taken;
    if (trade.exit_reason == "end_of_data") {
      ++st.open_at_end;
      continue;
    }
    if (trade.qty <= 0) continue;
    LabelledSignal s;
    s.index = bar_at(bars, entry.created - kMinute);
    s.exit_index = std::max(s.index + 1, bar_at(bars, trade.exit_time));
    s.t0 = bars[s.index].ts;
    s.t1 = bars[s.exit_index].ts;
    s.side = entry.side;
    if (const auto found = by_time.find(entry.created); found != by_time.end()) s.atr = found->second->atr;
    s.net_points = trade.net_pnl / static_cast<double>(trade.qty) / per_point;
    s.label = trade.net_pnl > 0 ? 1 : 0;
    s.exit_reason = trade.exit_reason;
    st.positives += static_cast<std::size_t>(s.label);
    out.push_back(std::move(s));
  }
  st.not_taken = st.signals > st.taken ? st.signals - st.taken : 0;
  if (stats != nullptr) *stats = st;
  return out;
}

}  // namespace quant::research
