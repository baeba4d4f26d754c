#include "risk/risk_engine.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

namespace quant::risk {
namespace {

// A price within this many ticks of the grid is on it (float noise, as TickGrid::on_grid).
constexpr double kGridTolerance = 1e-6;
// Whole-tick counts stay exact in a double below 2^52; beyond that the grid is meaningless.
constexpr double kMaxTicks = 4503599627370496.0;
// The breaker compares money computed two ways; this relative slack absorbs float noise only.
constexpr double kBreakerTolerance = 1e-12;

/// Decimals needed to print multiples of `step` exactly (5 → 0, 0.5 → 1, 0.00001 → 5), at most 10.
int decimals_for(double step) {
  double scaled = step;
  for (int d = 0; d < 10; ++d) {
    if (std::fabs(scaled - std::nearbyint(scaled)) <= 1e-9 * std::fmax(1.0, std::fabs(scaled))) return d;
    scaled *= 10;
  }
  return 10;
}

/// A number printed with fixed decimals.
struct Fixed {
  double value;
  int decimals;
};

/// Builds a reason in a stack buffer and hands it out as one exactly sized
/// string: a StopMoved event on the per-bar path costs one allocation. Numbers
/// never get a thousands separator or a locale's decimal comma (reasons land in
/// a CSV column); text beyond the buffer is cut (reasons are far shorter).
class Reason {
 public:
  // User-provided: `Reason()` must not zero the buffer (only buffer_[0, size_) is ever read).
  Reason() {}  // NOLINT(cppcoreguidelines-pro-type-member-init): leaving buffer_ unset is the point
  Reason& operator<<(std::string_view s) {
    const std::size_t n = std::min(s.size(), kCapacity - size_);
    std::memcpy(buffer_ + size_, s.data(), n);
    size_ += n;
    return *this;
  }
  Reason& operator<<(std::int64_t value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    return *this << std::string_view(digits, static_cast<std::size_t>(result.ptr - digits));
  }
  Reason& operator<<(Fixed f) {
    static constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
    const int decimals = std::clamp(f.decimals, 0, 10);
    const double scaled = std::nearbyint(f.value * kPow10[decimals]);
    if (!(std::fabs(scaled) < 9e15)) {  // huge or not finite: the slow exact path
      char text[400];
      const auto result = std::to_chars(text, text + sizeof text, f.value, std::chars_format::fixed, decimals);
      if (result.ec != std::errc()) return *this << "(unprintable)";
      return *this << std::string_view(text, static_cast<std::size_t>(result.ptr - text));
    }
    // Whole units of 10^-decimals as an integer, then the decimal point put in.
    const std::int64_t units = static_cast<std::int64_t>(scaled);
    const std::uint64_t magnitude = units < 0 ? static_cast<std::uint64_t>(-units) : static_cast<std::uint64_t>(units);
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, magnitude);
    std::size_t n = static_cast<std::size_t>(result.ptr - digits);
    const std::size_t frac = static_cast<std::size_t>(decimals);
    if (units < 0) *this << "-";
    if (n <= frac) {  // 0.0xyz: leading zeros
      *this << "0.";
      for (std::size_t i = n; i < frac; ++i) *this << "0";
      return *this << std::string_view(digits, n);
    }
    *this << std::string_view(digits, n - frac);
    if (frac > 0) *this << "." << std::string_view(digits + n - frac, frac);
    return *this;
  }
  std::string take() const { return std::string(buffer_, size_); }

 private:
  static constexpr std::size_t kCapacity = 512;
  char buffer_[kCapacity];
  std::size_t size_ = 0;
};

bool positive_finite(double x) { return std::isfinite(x) && x > 0; }

}  // namespace

const char* to_string(RiskEventKind kind) {
  switch (kind) {
    case RiskEventKind::EntryAccepted: return "entry_accepted";
    case RiskEventKind::EntryResized: return "entry_resized";
    case RiskEventKind::EntryRejected: return "entry_rejected";
    case RiskEventKind::StopMoved: return "stop_moved";
    case RiskEventKind::Halted: return "halted";
    case RiskEventKind::HaltCleared: return "halt_cleared";
  }
  return "unknown";
}

const char* to_string(Decision decision) {
  switch (decision) {
    case Decision::Accepted: return "accepted";
    case Decision::Resized: return "resized";
    case Decision::Rejected: return "rejected";
  }
  return "unknown";
}

Expected<void> validate(const RiskConfig& config) {
  auto fail = [](const char* field, const char* rule) {
    return make_error(std::string("risk.") + field + " must be " + rule);
  };
  if (!positive_finite(config.risk_pct) || config.risk_pct > 1) return fail("risk_pct", "in (0, 1]");
  if (!positive_finite(config.stop_atr_multiple)) return fail("stop_atr_multiple", "finite and > 0");
  if (!positive_finite(config.trail_atr_multiple)) return fail("trail_atr_multiple", "finite and > 0");
  if (!std::isfinite(config.target_points) || config.target_points < 0) {
    return fail("target_points", "finite and >= 0 (0 = no target)");
  }
  if (config.max_contracts < 1) return fail("max_contracts", ">= 1");
  if (!positive_finite(config.max_leverage)) return fail("max_leverage", "finite and > 0");
  if (!positive_finite(config.daily_loss_pct) || config.daily_loss_pct > 1) {
    return fail("daily_loss_pct", "in (0, 1]");
  }
  return {};
}

RiskEngine::RiskEngine(RiskConfig config, InstrumentSpec spec, TradingCosts costs)
    : config_(config), spec_(std::move(spec)), costs_(costs) {
  QUANT_CHECK(validate(config_).has_value());
  QUANT_CHECK(std::isfinite(costs_.fee_per_contract_side) && costs_.fee_per_contract_side >= 0);
  QUANT_CHECK(costs_.slippage_ticks >= 0);
  QUANT_CHECK(positive_finite(spec_.tick_size));
  QUANT_CHECK(positive_finite(spec_.point_value));
  price_decimals_ = decimals_for(spec_.tick_size);
}

EntryDecision RiskEngine::record(Timestamp ts, double equity, EntryDecision decision) {
  RiskEventKind kind = RiskEventKind::EntryRejected;
  if (decision.decision == Decision::Accepted) kind = RiskEventKind::EntryAccepted;
  if (decision.decision == Decision::Resized) kind = RiskEventKind::EntryResized;
  events_.push_back(RiskEvent{ts, kind, decision.reason, equity, static_cast<double>(decision.qty)});
  return decision;
}

EntryDecision RiskEngine::reject(Timestamp ts, double equity, std::string reason) {
  EntryDecision out;
  out.reason = std::move(reason);
  return record(ts, equity, std::move(out));
}

RiskEngine::Sizing RiskEngine::size(Side side, double price, double atr, double equity) const {
  const bool is_long = side == Side::Buy;
  const double tick = spec_.tick_size;
  const double point_value = spec_.point_value;
  const int px = price_decimals_;
  const int money = std::max(2, decimals_for(point_value));

  Sizing out;
  auto reject = [&](std::string reason) {
    out.rejected = std::move(reason);
    return std::move(out);
  };

  if (!positive_finite(equity)) {
    return reject((Reason() << "equity " << Fixed{equity, 2} << " is not positive").take());
  }
  if (!positive_finite(price)) {
    return reject((Reason() << "price " << Fixed{price, px} << " is not positive").take());
  }
  if (!positive_finite(atr)) {
    return reject((Reason() << "ATR " << Fixed{atr, px + 2} << " is not positive").take());
  }

  // Stop distance in whole ticks, rounded UP (never a shorter distance than the
  // rule asks, so the real risk never exceeds the budget) and at least one tick.
  // The 1e-9 slack keeps 300.0000000001 / 5 from becoming 61 ticks.
  const double raw_distance = config_.stop_atr_multiple * atr;
  const double distance_ticks = std::max(1.0, std::ceil(raw_distance / tick - 1e-9));
  const double price_ticks_raw = price / tick;
  if (!(distance_ticks < kMaxTicks) || !(price_ticks_raw < kMaxTicks)) {
    return reject((Reason() << "stop distance " << Fixed{raw_distance, px} << " or price " << Fixed{price, px}
                            << " does not fit the tick grid " << Fixed{tick, px})
                      .take());
  }
  // An entry price off the grid is taken to the grid price on the far side of
  // the stop, so |entry − stop| ≥ the distance; sizing uses the real |entry − stop|.
  double entry_ticks = std::nearbyint(price_ticks_raw);
  if (std::fabs(price_ticks_raw - entry_ticks) > kGridTolerance) {
    entry_ticks = is_long ? std::floor(price_ticks_raw) : std::ceil(price_ticks_raw);
  }
  const double stop_price = (is_long ? entry_ticks - distance_ticks : entry_ticks + distance_ticks) * tick;
  const double distance = distance_ticks * tick;
  out.distance = (Reason() << "stop " << Fixed{distance, px} << " pts = " << Fixed{config_.stop_atr_multiple, 2}
                           << " × ATR " << Fixed{atr, px + 2} << " rounded up to tick " << Fixed{tick, px})
                     .take();
  if (!(stop_price > 0)) {
    return reject((Reason() << "stop " << Fixed{stop_price, px} << " at or below zero for price " << Fixed{price, px}
                            << " (" << out.distance << ")")
                      .take());
  }

  const double stop_gap = std::fabs(price - stop_price);
  // What one contract loses when the stop fills: the distance, the stop's
  // slippage, and the fees of both sides (entry and exit).
  const double slippage = static_cast<double>(costs_.slippage_ticks) * tick;
  const double fees = 2 * costs_.fee_per_contract_side;
  const double per_contract = (stop_gap + slippage) * point_value + fees;
  const double budget = config_.risk_pct * equity;
  const std::string budget_text =
      (Reason() << Fixed{config_.risk_pct * 100, 2} << "% of " << Fixed{equity, 2} << " = " << Fixed{budget, 2}).take();

  // Evaluated in the order of the invariant qty × loss_per_contract <= budget.
  auto risk_of = [&](std::int64_t qty) { return static_cast<double>(qty) * per_contract; };
  const double by_risk = std::floor(budget / per_contract);
  const std::int64_t cap = config_.max_contracts;
  // Clamping to the cap before the cast keeps it in range; above the cap the
  // margin is at least one contract, so the float check below is not needed there.
  const bool over_cap = by_risk > static_cast<double>(cap);
  std::int64_t qty = over_cap ? cap : static_cast<std::int64_t>(std::max(0.0, by_risk));
  while (!over_cap && qty > 0 && risk_of(qty) > budget) --qty;  // float rounding of the division

  // "300 pts × 0.20", or with costs "(300 pts + 5 slippage) × 0.20 + 0.52 fees".
  Reason loss_text;
  if (slippage > 0) {
    loss_text << "(" << Fixed{stop_gap, px} << " pts + " << Fixed{slippage, px} << " slippage) × "
              << Fixed{point_value, money};
  } else {
    loss_text << Fixed{stop_gap, px} << " pts × " << Fixed{point_value, money};
  }
  if (fees > 0) loss_text << " + " << Fixed{fees, 2} << " fees";
  const std::string loss = loss_text.take();

  if (qty == 0) {
    return reject((Reason() << "risk " << budget_text << " < one contract's risk at the stop " << loss << " = "
                            << Fixed{per_contract, 2} << " (" << out.distance << ")")
                      .take());
  }

  out.formula = (Reason() << "floor(" << budget_text << " / (" << loss << "))").take();
  Reason caps;
  if (over_cap) caps << "; capped to max_contracts " << cap;
  const double notional_per_contract = price * point_value;
  const double leverage_limit = config_.max_leverage * equity;
  const double by_leverage = std::floor(leverage_limit / notional_per_contract);
  if (static_cast<double>(qty) > by_leverage) {
    qty = static_cast<std::int64_t>(std::max(0.0, by_leverage));
    while (qty > 0 && static_cast<double>(qty) * notional_per_contract > leverage_limit) --qty;
    caps << "; capped to " << qty << " by max_leverage " << Fixed{config_.max_leverage, 2} << ": notional "
         << Fixed{notional_per_contract, 2} << " per contract × qty <= " << Fixed{leverage_limit, 2};
  }
  if (qty == 0) {
    return reject((Reason() << "leverage cap allows no contract: notional " << Fixed{notional_per_contract, 2}
                            << " per contract > " << Fixed{config_.max_leverage, 2} << " × equity " << Fixed{equity, 2})
                      .take());
  }

  out.qty = qty;
  out.by_risk = by_risk;
  out.caps = caps.take();
  out.stop_price = stop_price;
  if (config_.target_points > 0) {
    const double target_ticks = std::max(1.0, std::nearbyint(config_.target_points / tick));
    const double target = (is_long ? entry_ticks + target_ticks : entry_ticks - target_ticks) * tick;
    out.target_price = target > 0 ? target : 0;  // a short's target at or below zero: none
  }
  return out;
}

EntryDecision RiskEngine::check_entry(const EntryRequest& request) {
  if (halted_) return reject(request.ts, request.equity, "halted: daily loss limit");
  Sizing s = size(request.side, request.price, request.atr, request.equity);
  if (!s.rejected.empty()) return reject(request.ts, request.equity, std::move(s.rejected));

  EntryDecision out;
  out.decision = s.caps.empty() ? Decision::Accepted : Decision::Resized;
  out.qty = s.qty;
  out.stop_price = s.stop_price;
  out.target_price = s.target_price;
  if (out.decision == Decision::Accepted) {
    out.reason = (Reason() << "sized " << s.qty << " = " << s.formula << "; " << s.distance).take();
  } else {
    out.reason = (Reason() << "resized to " << s.qty << " from " << Fixed{s.by_risk, 0} << " = " << s.formula << s.caps
                           << "; " << s.distance)
                     .take();
  }
  return record(request.ts, request.equity, std::move(out));
}

EntryDecision RiskEngine::check_order(const OrderCheck& request) {
  const Timestamp ts = request.ts;
  const double equity = request.equity;
  if (halted_) return reject(ts, equity, "halted: daily loss limit reached: no orders until the next session");
  if (request.qty <= 0) {
    return reject(ts, equity, (Reason() << "qty " << request.qty << " is not positive").take());
  }

  // Contracts held on the order's side: > 0 it adds, < 0 it reduces.
  const std::int64_t held = request.position * sign(request.side);
  if (held < 0) {
    // Reducing never adds risk, so it is never sized down; only the part that
    // would open the other side is cut (that part needs its own risk check).
    const std::int64_t open = -held;
    EntryDecision out;
    if (position_.open && position_.side == opposite(request.side)) {
      out.stop_price = position_.stop_price;  // what still protects the rest
      out.target_price = position_.target_price;
    }
    if (request.qty <= open) {
      out.decision = Decision::Accepted;
      out.qty = request.qty;
      out.reason = request.qty == open
                       ? (Reason() << "closes the position of " << open).take()
                       : (Reason() << "reduces the position from " << open << " to " << open - request.qty).take();
    } else {
      out.decision = Decision::Resized;
      out.qty = open;
      out.reason = (Reason() << "resized to " << open << " from " << request.qty
                             << " to close the position: a reversal needs a separate order")
                       .take();
    }
    return record(ts, equity, std::move(out));
  }

  if (!positive_finite(request.atr)) {
    return reject(ts, equity,
                  (Reason() << "no ATR yet: ATR " << Fixed{request.atr, price_decimals_ + 2}
                            << " is not positive so no stop can be sized")
                      .take());
  }
  Sizing s = size(request.side, request.price, request.atr, equity);
  if (!s.rejected.empty()) return reject(ts, equity, std::move(s.rejected));

  // The limit is for the whole position on this side at this order's stop.
  const std::int64_t allowed = s.qty - held;
  Reason limit;
  limit << "limit " << s.qty;
  if (s.caps.empty()) {
    limit << " = " << s.formula;
  } else {
    limit << " from " << Fixed{s.by_risk, 0} << " = " << s.formula << s.caps;
  }
  limit << "; " << s.distance;
  Reason held_text;
  if (held > 0) held_text << " (limit " << s.qty << " - " << held << " held)";

  if (allowed <= 0) {
    return reject(ts, equity,
                  (Reason() << "already at the " << Fixed{config_.risk_pct * 100, 2} << "% risk limit: " << held
                            << " held of " << limit.take())
                      .take());
  }
  EntryDecision out;
  out.stop_price = s.stop_price;
  out.target_price = s.target_price;
  if (request.qty <= allowed) {
    out.decision = Decision::Accepted;
    out.qty = request.qty;
    out.reason = (Reason() << "accepted " << request.qty << " of " << allowed << " allowed" << held_text.take() << "; "
                           << limit.take())
                     .take();
  } else {
    out.decision = Decision::Resized;
    out.qty = allowed;
    out.reason =
        (Reason() << "resized to " << allowed << " from " << request.qty << held_text.take() << "; " << limit.take())
            .take();
  }
  return record(ts, equity, std::move(out));
}

EntryDecision RiskEngine::anchored_to_fill(const EntryDecision& decision, double sized_price, double fill_price) const {
  const TickGrid grid(spec_.tick_size);
  EntryDecision placed = decision;
  const double shift = fill_price - sized_price;
  placed.stop_price = grid.snap(placed.stop_price + shift);
  if (placed.target_price != 0) placed.target_price = grid.snap(placed.target_price + shift);
  return placed;
}

void RiskEngine::on_entry_filled(Side side, std::int64_t qty, double fill_price, const EntryDecision& decision) {
  QUANT_CHECK(qty > 0);
  if (position_.open) {
    QUANT_CHECK(position_.side == side);
    // The caller reports the whole position after each fill of the entry.
    const bool is_long = side == Side::Buy;
    position_.qty = qty;
    position_.entry_price = fill_price;
    position_.extreme = is_long ? std::max(position_.extreme, fill_price) : std::min(position_.extreme, fill_price);
    position_.stop_price = is_long ? std::max(position_.stop_price, decision.stop_price)
                                   : std::min(position_.stop_price, decision.stop_price);
    position_.target_price = decision.target_price;
    return;
  }
  position_ = PositionRisk{true, side, qty, fill_price, decision.stop_price, decision.target_price, fill_price};
}

void RiskEngine::on_position_closed() { position_ = PositionRisk{}; }

void RiskEngine::on_position_reduced(std::int64_t remaining_qty) {
  QUANT_CHECK(remaining_qty >= 0);
  if (remaining_qty == 0) {
    on_position_closed();
    return;
  }
  if (!position_.open) return;
  QUANT_CHECK(remaining_qty <= position_.qty);
  position_.qty = remaining_qty;
}

void RiskEngine::halt(Timestamp ts, double equity, std::string_view reason) {
  if (halted_) return;
  halted_ = true;
  events_.push_back(RiskEvent{ts, RiskEventKind::Halted, std::string(reason), equity, equity - day_start_equity_});
}

bool RiskEngine::update_stop(const Bar& bar, double atr) {
  if (!position_.open || !config_.trailing_stop) return false;
  const bool is_long = position_.side == Side::Buy;
  // Comparisons written so that a NaN high/low never replaces the extreme.
  if (is_long) {
    if (bar.high > position_.extreme) position_.extreme = bar.high;
  } else {
    if (bar.low < position_.extreme) position_.extreme = bar.low;
  }
  if (!positive_finite(atr)) return false;

  const double tick = spec_.tick_size;
  const double trail = config_.trail_atr_multiple * atr;
  double candidate = 0;
  if (is_long) {
    candidate = std::floor((position_.extreme - trail) / tick + kGridTolerance) * tick;
    if (!(candidate > position_.stop_price)) return false;
  } else {
    candidate = std::ceil((position_.extreme + trail) / tick - kGridTolerance) * tick;
    if (!(candidate < position_.stop_price) || !std::isfinite(candidate)) return false;
  }
  // The new stop must be a different grid price, not float noise around the same one.
  if (std::fabs(candidate - position_.stop_price) < 0.5 * tick) return false;

  const double previous = position_.stop_price;
  position_.stop_price = candidate;

  const int px = price_decimals_;
  Reason reason;
  reason << (is_long ? "trail long: stop " : "trail short: stop ") << Fixed{previous, px} << " -> "
         << Fixed{candidate, px} << (is_long ? " = high " : " = low ") << Fixed{position_.extreme, px}
         << (is_long ? " - " : " + ") << Fixed{config_.trail_atr_multiple, 2} << " × ATR " << Fixed{atr, px + 2}
         << (is_long ? " rounded down to tick " : " rounded up to tick ") << Fixed{tick, px};
  events_.push_back(RiskEvent{bar.ts, RiskEventKind::StopMoved, reason.take(), 0, candidate});
  return true;
}

void RiskEngine::on_session_start(Timestamp ts, double equity) {
  day_start_equity_ = positive_finite(equity) ? equity : 0;
  if (!halted_) return;
  halted_ = false;
  Reason reason;
  reason << "new session: start-of-day equity " << Fixed{equity, 2};
  events_.push_back(RiskEvent{ts, RiskEventKind::HaltCleared, reason.take(), equity, 0});
}

double RiskEngine::day_drawdown(double equity) const {
  if (!(day_start_equity_ > 0) || !std::isfinite(equity)) return 0.0;
  return std::min(0.0, (equity - day_start_equity_) / day_start_equity_);
}

bool RiskEngine::check_breaker(Timestamp ts, double equity) {
  if (halted_ || !(day_start_equity_ > 0)) return false;
  // The one drawdown figure (also what the metrics and the bot report).
  if (!(day_drawdown(equity) <= -config_.daily_loss_pct + kBreakerTolerance)) return false;  // NaN equity: no trip
  const double day_pnl = equity - day_start_equity_;
  const double limit = config_.daily_loss_pct * day_start_equity_;

  halted_ = true;
  Reason reason;
  reason << "day PnL " << Fixed{day_pnl, 2} << " ≤ -" << Fixed{config_.daily_loss_pct * 100, 2}
         << "% of start-of-day equity " << Fixed{day_start_equity_, 2} << " = -" << Fixed{limit, 2};
  events_.push_back(RiskEvent{ts, RiskEventKind::Halted, reason.take(), equity, day_pnl});
  return true;
}

}  // namespace quant::risk
