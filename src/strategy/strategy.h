#pragma once
/// The strategy port: what the engines (backtest now, live later) call at each
/// bar close. Strategies are pure logic (no I/O, no clocks): the same object
/// runs in the backtest and live, so the two cannot drift apart.

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/market_data.h"

namespace quant::strategy {

/// What the strategy wants done at the next bar's open.
enum class Action : std::uint8_t {
  None,
  EnterLong,   ///< go long; if short, the engine closes the short first (reverse)
  EnterShort,  ///< go short; if long, the engine closes the long first (reverse)
  Exit,        ///< close the position, whatever its side
};

/// A decision at a bar close. `reason` and `blocked_by` point to static strings.
struct Signal {
  Action action = Action::None;
  /// ATR (price units) at the decision bar, for the risk engine's stop distance;
  /// 0 when the strategy does not compute one (reference strategy).
  double atr = 0;
  const char* reason = "";  ///< e.g. "ma_cross_up"
  /// When a raw signal was suppressed by a filter, its name ("keltner", "hmm",
  /// "book_imbalance", "gate") and `action` is None; empty otherwise.
  const char* blocked_by = "";
};

/// A switchable filter in the signal path (book imbalance, HMM regime, the
/// model gate of roadmap step 3). Returns false to block the signal.
class SignalFilter {
 public:
  virtual ~SignalFilter() = default;
  virtual const char* name() const = 0;
  /// Every closed bar, before any signal of that bar (filters with state of
  /// their own, such as a feature pipeline, update here). Default: nothing.
  virtual void observe(const Bar& bar) { (void)bar; }
  virtual bool allow(const Signal& signal, const Bar& bar) = 0;
};

/// A bar-close strategy. Not thread-safe; one instance per instrument and run.
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const = 0;
  /// The bar that just closed and the signed position (contracts) held now.
  virtual Signal on_bar(const Bar& bar, std::int64_t position) = 0;
  /// A new trading session starts with the next bar (engines call it before
  /// that bar). Indicators carry across sessions unless configured otherwise.
  virtual void on_session_start() {}
  /// Adds a filter at the end of the chain (applied to entries only).
  virtual void add_filter(std::unique_ptr<SignalFilter> filter) { filters_.push_back(std::move(filter)); }

 protected:
  /// Shows the bar to every filter (call first thing in on_bar).
  void observe_filters(const Bar& bar) {
    for (auto& f : filters_) f->observe(bar);
  }
  /// Runs the filter chain; on a block sets signal.blocked_by and clears the action.
  void apply_filters(Signal& signal, const Bar& bar) {
    if (signal.action != Action::EnterLong && signal.action != Action::EnterShort) return;
    for (auto& f : filters_) {
      if (!f->allow(signal, bar)) {
        signal.blocked_by = f->name();
        signal.action = Action::None;
        return;
      }
    }
  }
  std::vector<std::unique_ptr<SignalFilter>> filters_;
};

}  // namespace quant::strategy
