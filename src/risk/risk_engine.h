#pragma once
/// The risk engine (layer 6 of docs/design.md): sizes every entry at a fixed fraction
/// of equity against an ATR stop, trails the stop, and halts trading for the
/// day when the day's loss reaches the circuit breaker. Pure logic: the
/// backtest and the live engine call the same object. Every decision is an
/// event in `events()`.
///
/// Quantities are whole contracts (lots of size 1): fractional lots
/// (`InstrumentSpec::lot_step` < 1, FX 0.01 lots) are not supported yet.
/// Not thread-safe: one engine per instrument and run.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/costs.h"
#include "core/error.h"
#include "core/instrument.h"
#include "core/market_data.h"
#include "core/order.h"
#include "core/time.h"

namespace quant::risk {

struct RiskConfig {
  double risk_pct = 0.01;          ///< fraction of equity risked per trade at its stop
  double stop_atr_multiple = 2.0;  ///< initial stop distance = multiple × ATR
  bool trailing_stop = true;       ///< chandelier stop: extreme since entry ∓ trail multiple × ATR
  double trail_atr_multiple = 2.0;
  double target_points = 0;         ///< profit target distance in price points; 0 = none (WIN default 100 via config)
  std::int64_t max_contracts = 50;  ///< hard cap per position
  double max_leverage = 5.0;        ///< exposure cap: notional (price × point value × qty) <= max_leverage × equity
  double daily_loss_pct = 0.03;     ///< circuit breaker: day PnL (realised + open) <= −this × start-of-day equity
};

/// Checks a configuration once, where it is read (apps/config): every fraction
/// and multiple finite and > 0 (risk_pct and daily_loss_pct at most 1),
/// target_points finite and >= 0, max_contracts >= 1. The error names the field.
Expected<void> validate(const RiskConfig& config);

enum class Decision : std::uint8_t { Accepted, Resized, Rejected };
/// "accepted", "resized", "rejected".
const char* to_string(Decision decision);

struct EntryRequest {
  Timestamp ts{};
  Side side = Side::Buy;
  double price = 0;   ///< expected entry price (decision bar close)
  double atr = 0;     ///< price units, > 0
  double equity = 0;  ///< account equity now (realised + open), account currency
};

struct EntryDecision {
  Decision decision = Decision::Rejected;
  std::int64_t qty = 0;     ///< contracts; 0 when rejected
  double stop_price = 0;    ///< on the tick grid
  double target_price = 0;  ///< on the tick grid; 0 = none
  /// Why (always set, no commas), e.g.
  /// "sized 16 = floor(1.00% of 100000.00 = 1000.00 / (300 pts × 0.20)); stop ...".
  std::string reason;
};

/// A pre-trade check of an order whose size the client chose (`check_order`).
struct OrderCheck {
  Timestamp ts{};
  Side side = Side::Buy;
  std::int64_t qty = 0;       ///< contracts asked for
  double price = 0;           ///< reference price: the last close (market) or the limit/stop price
  double atr = 0;             ///< price units
  double equity = 0;          ///< account equity now (realised + open), account currency
  std::int64_t position = 0;  ///< signed contracts held now (> 0 long, < 0 short)
};

enum class RiskEventKind : std::uint8_t { EntryAccepted, EntryResized, EntryRejected, StopMoved, Halted, HaltCleared };
const char* to_string(RiskEventKind kind);

struct RiskEvent {
  Timestamp ts{};
  RiskEventKind kind = RiskEventKind::EntryAccepted;
  std::string reason;
  double equity = 0;
  double value = 0;  ///< kind-specific: qty, new stop, day PnL …
};

/// Risk state of an open position (one position per instrument).
struct PositionRisk {
  bool open = false;
  Side side = Side::Buy;
  std::int64_t qty = 0;
  double entry_price = 0;
  double stop_price = 0;    ///< only ratchets toward profit
  double target_price = 0;  ///< 0 = none
  double extreme = 0;       ///< highest high (long) / lowest low (short) since entry
};

class RiskEngine {
 public:
  /// `config` must pass `validate` and `spec` have tick_size > 0 and
  /// point_value > 0 (both checked when configuration is read; a violation
  /// here is a bug and aborts). `costs` are what a stop-out is expected to
  /// cost beyond the stop distance (the fill simulator's or venue's fees and
  /// slippage); fee and slippage >= 0.
  RiskEngine(RiskConfig config, InstrumentSpec spec, TradingCosts costs = {});

  /// Sizes an entry so that the loss at the stop, costs included, stays within
  /// risk_pct of equity:
  ///   qty = floor(risk_pct × equity / loss_per_contract),
  ///   loss_per_contract = (stop_distance + slippage_ticks × tick) × point_value
  ///                       + 2 × fee_per_contract_side   (the stop's slippage, both sides' fees),
  /// stop_distance = stop_atr_multiple × ATR (on the grid, at least one tick);
  /// capped by max_contracts and max_leverage (→ Resized); zero contracts → Rejected
  /// with the reason; halted → Rejected. Records an event. (A gap through the
  /// stop fills at the open and can lose more: no sizing bounds a gap.)
  EntryDecision check_entry(const EntryRequest& request);

  /// Checks an order whose size the client chose (the order gateway), in this order:
  /// - halted → Rejected ("halted: daily loss limit reached: no orders until the next session");
  ///   qty <= 0 → Rejected;
  /// - an order on the side opposite `position` reduces it and is always allowed
  ///   (never sized down); beyond |position| it would reverse the position and
  ///   is Resized to |position| (a reversal needs a separate order). Its
  ///   stop/target are the tracked position's (0 when none is tracked);
  /// - otherwise it opens or adds: the total allowed on that side is check_entry's
  ///   sizing at `price` (risk, max_contracts, max_leverage), minus the contracts
  ///   already held; qty above that → Resized to it; nothing left → Rejected
  ///   ("already at the 1.00% risk limit ..."); an ATR not finite or ≤ 0 →
  ///   Rejected ("no ATR yet: ..."); any of check_entry's rejections apply.
  ///   stop_price/target_price are set around `price` as check_entry does.
  /// The reason is always set and has no commas. Records EntryAccepted,
  /// EntryResized or EntryRejected (value = the decided qty).
  EntryDecision check_order(const OrderCheck& request);

  /// The entry filled: starts tracking the position (stop/target from the
  /// decision; the extreme starts at the fill price). `qty` and `fill_price`
  /// are the whole position now (net quantity, average price): a further call
  /// on the same side while open (a partial fill of the same entry) replaces
  /// them, and takes the decision's stop only where it is tighter (the stop
  /// never loosens). Precondition (a bug otherwise, aborts): qty > 0 and no
  /// open position on the other side.
  /// The risk at the stop was sized at the decision price; a fill that slips
  /// or gaps away from it changes the real risk (the engine's fill model).
  void on_entry_filled(Side side, std::int64_t qty, double fill_price, const EntryDecision& decision);

  /// `decision` with its stop and target moved by as much as the fill moved
  /// away from the price the entry was sized at (`sized_price`), snapped to
  /// the grid: the distances — and so the risk at the stop — stay what
  /// check_entry/check_order accepted. Engine and OrderGateway both place
  /// protective orders from this.
  EntryDecision anchored_to_fill(const EntryDecision& decision, double sized_price, double fill_price) const;
  /// The position is flat again (stop, target, exit, flatten).
  void on_position_closed();
  /// A partial exit: the tracked position keeps its stop, target and extreme;
  /// its qty becomes `remaining_qty`. 0 is the same as on_position_closed();
  /// no-op when no position is tracked. Precondition (a bug otherwise, aborts):
  /// 0 <= remaining_qty <= the tracked qty.
  void on_position_reduced(std::int64_t remaining_qty);

  /// Halts entries from outside the breaker (another instrument of the same
  /// account tripped it): records Halted once with `reason` (value = equity −
  /// start-of-day equity); no-op when already halted. Cleared by
  /// on_session_start like a tripped breaker.
  void halt(Timestamp ts, double equity, std::string_view reason);

  /// At each bar close: updates the chandelier stop (ratchet only; returns true
  /// and records StopMoved when it moved) — call before check_breaker.
  /// Long: extreme = max(extreme, bar.high), candidate = extreme − trail × ATR
  /// rounded DOWN to the grid, stop = max(stop, candidate); short mirrored
  /// (min of lows, rounded UP, stop = min). The max/min is what keeps the stop
  /// from ever loosening; rounding away from the extreme keeps it at least
  /// trail × ATR from the extreme, so rounding never tightens past the rule.
  /// No-op (false) when flat or trailing is off; a non-finite or non-positive
  /// ATR still tracks the extreme but does not move the stop. Allocates only
  /// when it records an event.
  bool update_stop(const Bar& bar, double atr);

  /// The first bar of a new session: records start-of-day equity, clears a halt
  /// (records HaltCleared when it was halted). The breaker is armed only by a
  /// finite, positive start-of-day equity.
  void on_session_start(Timestamp ts, double equity);
  /// At each bar close, with equity marked at the close: true when the breaker
  /// trips now, i.e. equity − day_start ≤ −daily_loss_pct × day_start, with a
  /// slack of 1e-12 × day_start for float noise (so 0.97 × 100000 trips) (records
  /// Halted once; the engine must flatten). Stays halted until
  /// on_session_start; returns false while halted, before the first session
  /// and for a non-finite equity. Allocates only when it trips.
  bool check_breaker(Timestamp ts, double equity);

  bool halted() const { return halted_; }
  const PositionRisk& position() const { return position_; }
  const RiskConfig& config() const { return config_; }
  const TradingCosts& costs() const { return costs_; }
  double day_start_equity() const { return day_start_equity_; }
  /// The day's loss as a fraction of start-of-day equity at `equity`:
  /// min(0, equity / day_start − 1), the quantity check_breaker compares with
  /// −daily_loss_pct; 0 before the first session (no day start) or for a
  /// non-finite equity. What monitoring shows, so it cannot drift from the breaker.
  double day_drawdown(double equity) const;
  const std::vector<RiskEvent>& events() const { return events_; }
  /// Moves the recorded events out and leaves the log empty, so a long run or a
  /// live process can drain them (trade log, `risk:halt`) without unbounded growth.
  std::vector<RiskEvent> take_events() { return std::exchange(events_, {}); }

 private:
  /// The sizing rule shared by check_entry and check_order: the contracts
  /// allowed in total at `price` and where the stop/target go, or why none.
  struct Sizing {
    std::string rejected;  ///< non-empty: nothing can be sized, and why
    std::int64_t qty = 0;  ///< total allowed after the caps, >= 1 unless rejected
    double by_risk = 0;    ///< floor of the risk formula before the caps
    double stop_price = 0, target_price = 0;
    std::string formula;   ///< "floor(1.00% of 100000.00 = 1000.00 / (300 pts × 0.20))"
    std::string caps;      ///< "; capped to ..." per binding cap; empty when none bound
    std::string distance;  ///< "stop 300 pts = 2.00 × ATR 150.00 rounded up to tick 5"
  };
  Sizing size(Side side, double price, double atr, double equity) const;
  /// Records the decision's event and hands the decision back.
  EntryDecision record(Timestamp ts, double equity, EntryDecision decision);
  EntryDecision reject(Timestamp ts, double equity, std::string reason);

  RiskConfig config_;
  InstrumentSpec spec_;
  TradingCosts costs_;
  int price_decimals_ = 0;  ///< decimals that print the tick grid exactly (reasons)
  PositionRisk position_;
  bool halted_ = false;
  double day_start_equity_ = 0;
  std::vector<RiskEvent> events_;
};

}  // namespace quant::risk
