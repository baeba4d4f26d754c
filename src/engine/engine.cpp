#include "engine/engine.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace quant::engine {

namespace {

BookConfig book_config(const EngineConfig& config, const InstrumentSpec& spec, TimeZone zone,
                       const risk::RiskConfig& risk, TradingCosts costs) {
  BookConfig b;
  b.spec = spec;
  b.zone = std::move(zone);
  b.rules = config.session;
  if (config.use_risk_engine) {
    b.risk = risk;
  } else {
    b.risk.reset();
  }
  b.costs = costs;
  return b;
}

}  // namespace

bool GateFilter::allow(const strategy::Signal& signal, const Bar& bar) {
  EntryCandidate entry;
  entry.ts = bar.ts + kMinute;
  entry.side = signal.action == strategy::Action::EnterShort ? Side::Sell : Side::Buy;
  entry.price = bar.close;
  entry.atr = signal.atr;
  return gate_.judge(entry).allowed;
}

Engine::Engine(const EngineConfig& config, const InstrumentSpec& spec, TimeZone zone, const risk::RiskConfig& risk,
               TradingCosts costs, strategy::Strategy& strategy, ExecutionVenue& venue, EngineObserver& observer,
               Gate* gate)
    : config_(config),
      strategy_(strategy),
      observer_(observer),
      own_account_(std::make_unique<Account>(config.initial_equity)),
      account_(*own_account_),
      book_(account_.open_book(book_config(config, spec, std::move(zone), risk, costs), venue, observer)) {
  if (gate != nullptr) strategy_.add_filter(std::make_unique<GateFilter>(*gate));
}

Engine::Engine(Account& account, const EngineConfig& config, const InstrumentSpec& spec, TimeZone zone,
               const risk::RiskConfig& risk, TradingCosts costs, strategy::Strategy& strategy, ExecutionVenue& venue,
               EngineObserver& observer, Gate* gate)
    : config_(config),
      strategy_(strategy),
      observer_(observer),
      account_(account),
      book_(account_.open_book(book_config(config, spec, std::move(zone), risk, costs), venue, observer)) {
  if (gate != nullptr) strategy_.add_filter(std::make_unique<GateFilter>(*gate));
}

void Engine::before_bar(const Bar& bar) {
  if (book_.start_bar(bar)) strategy_.on_session_start();
}

void Engine::on_bar_close(const Bar& bar) {
  const Timestamp close_time = bar.ts + kMinute;
  // The strategy sees every bar (its indicators must) and gives this bar's ATR.
  const strategy::Signal signal = strategy_.on_bar(bar, book_.position_qty());
  const double equity = book_.close_bar(bar, signal.atr);

  if (*signal.blocked_by != '\0') {
    char reason[96];
    std::snprintf(reason, sizeof reason, "%s signal blocked by the %s filter", signal.reason, signal.blocked_by);
    observer_.on_decision({close_time, "signal_blocked", reason, equity, 0});
  }

  const std::int64_t held = book_.position_qty();
  if (!book_.closing() && signal.action != strategy::Action::None) {
    if (signal.action == strategy::Action::Exit) {
      book_.close_position(close_time, "exit_signal");
    } else {
      const Side side = signal.action == strategy::Action::EnterLong ? Side::Buy : Side::Sell;
      const bool opposite = (held > 0 && side == Side::Sell) || (held < 0 && side == Side::Buy);
      const bool pending = book_.has_working_entry();
      if (opposite) book_.close_position(close_time, "reverse");
      if ((held == 0 || opposite) && !pending) {
        if (*book_.entry_block() != '\0') {
          char reason[128];
          std::snprintf(reason, sizeof reason, "%s entry not taken: %s", signal.reason, book_.entry_block());
          observer_.on_decision({close_time, "signal_blocked", reason, equity, 0});
        } else {
          OrderIntent entry;
          entry.side = side;
          entry.purpose = OrderPurpose::Entry;
          entry.ts = close_time;
          entry.reason = signal.reason;
          if (risk::RiskEngine* risk = book_.risk()) {
            // A halted day's entries go to the risk engine too: it rejects them and says why.
            const risk::EntryDecision decision =
                risk->check_entry(risk::EntryRequest{close_time, side, bar.close, signal.atr, equity});
            if (decision.qty > 0) {
              entry.qty = decision.qty;
              entry.plan = EntryPlan{decision, bar.close};
              book_.submit(std::move(entry));
            }
          } else {
            entry.qty = config_.fixed_qty;
            book_.submit(std::move(entry));
          }
        }
      }
    }
  }
  book_.flush_events();
  observer_.on_bar_close(bar, equity, book_.realized(), book_.open_pnl(), book_.position_qty());
}

}  // namespace quant::engine
