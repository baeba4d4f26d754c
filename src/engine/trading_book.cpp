#include "engine/trading_book.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace quant::engine {
namespace {

constexpr std::size_t side_index(Side side) { return side == Side::Buy ? 0 : 1; }

/// Why the book cancels an order that was to reduce a position someone else closed.
std::string_view reduced_by(OrderPurpose purpose) {
  switch (purpose) {
    case OrderPurpose::StopLoss: return "cancelled: the protective stop closed the position it was to reduce";
    case OrderPurpose::Target: return "cancelled: the profit target closed the position it was to reduce";
    case OrderPurpose::Flatten: return "cancelled: the position it was to reduce was flattened";
    default: return "cancelled: another exit already reduced the position";
  }
}

/// An order the book sends on its own account (exit, flatten, stop, target);
/// `price` is the stop price of a stop, the limit of a limit, unused for market.
OrderIntent own_order(Side side, OrderType type, OrderPurpose purpose, std::int64_t qty, double price, Timestamp ts,
                      std::string reason) {
  OrderIntent o;
  o.side = side;
  o.type = type;
  o.purpose = purpose;
  o.qty = qty;
  if (type == OrderType::Stop) o.stop_price = price;
  if (type == OrderType::Limit) o.limit_price = price;
  o.ts = ts;
  o.reason = std::move(reason);
  return o;
}

}  // namespace

// ---- Account ----

Account::Account(double initial_equity) : initial_equity_(initial_equity) {}

TradingBook& Account::open_book(BookConfig config, ExecutionVenue& venue, EngineObserver& observer) {
  QUANT_CHECK(find(config.spec.symbol) == nullptr);
  books_.push_back(std::make_unique<TradingBook>(*this, std::move(config), venue, observer));
  return *books_.back();
}

double Account::equity() const {
  double equity = initial_equity_;
  for (const auto& book : books_) equity += book->realized() + book->open_pnl();
  return equity;
}

bool Account::halted() const {
  return std::any_of(books_.begin(), books_.end(), [](const auto& b) { return b->risk() && b->risk()->halted(); });
}

TradingBook* Account::find(std::string_view symbol) {
  for (auto& book : books_) {
    if (book->symbol() == symbol) return book.get();
  }
  return nullptr;
}

const TradingBook* Account::find(std::string_view symbol) const {
  for (const auto& book : books_) {
    if (book->symbol() == symbol) return book.get();
  }
  return nullptr;
}

void Account::trip(TradingBook& source, Timestamp ts, double equity, const std::string& reason) {
  halt_ = AccountHalt{true, source.symbol(), reason, ts, equity};
  const std::string note = "account halted by the " + source.symbol() + " daily loss limit: " + reason;
  // The source first: its own breaker already halted its risk engine.
  source.halt(ts, equity, reason);
  for (auto& book : books_) {
    if (book.get() != &source) book->halt(ts, equity, note);
  }
}

void Account::refresh() {
  if (halt_.halted && !halted()) halt_ = AccountHalt{};
}

// ---- TradingBook ----

TradingBook::TradingBook(Account& account, BookConfig config, ExecutionVenue& venue, EngineObserver& observer)
    : account_(account),
      config_(std::move(config)),
      grid_(config_.spec.tick_size),
      session_(config_.spec, config_.zone),
      venue_(venue),
      observer_(observer) {
  if (config_.risk) risk_.emplace(*config_.risk, config_.spec, config_.costs);
  venue_.set_listener(this);
}

TradingBook::~TradingBook() = default;

TradingBook::Working* TradingBook::find(OrderId id) {
  for (auto& w : working_) {
    if (w.order.id == id) return &w;
  }
  return nullptr;
}

const TradingBook::Working* TradingBook::find(OrderId id) const {
  for (const auto& w : working_) {
    if (w.order.id == id) return &w;
  }
  return nullptr;
}

const Order* TradingBook::working_order(OrderId id) const {
  const Working* w = find(id);
  return w == nullptr ? nullptr : &w->order;
}

bool TradingBook::has_working_entry() const {
  return std::any_of(working_.begin(), working_.end(),
                     [](const Working& w) { return w.order.purpose == OrderPurpose::Entry; });
}

TradingBook::WorkingCounts TradingBook::working_counts() const {
  WorkingCounts c;
  for (const auto& w : working_) {
    switch (w.order.status) {
      case OrderStatus::New: ++c.pending_new; break;
      case OrderStatus::Accepted: ++c.accepted; break;
      case OrderStatus::PartiallyFilled: ++c.partially_filled; break;
      default: break;  // ended: retired at once, never held here
    }
  }
  return c;
}

std::int64_t TradingBook::working_qty(Side side, OrderPurpose purpose) const {
  std::int64_t qty = 0;
  for (const auto& w : working_) {
    if (w.order.side == side && w.order.purpose == purpose) qty += w.order.remaining_qty();
  }
  return qty;
}

std::optional<Order> TradingBook::protective_stop() const {
  const Working* w = stop_order_ != 0 ? find(stop_order_) : nullptr;
  if (w == nullptr) return std::nullopt;
  return w->order;
}

std::optional<Order> TradingBook::protective_target() const {
  const Working* w = target_order_ != 0 ? find(target_order_) : nullptr;
  if (w == nullptr) return std::nullopt;
  return w->order;
}

double TradingBook::open_pnl() const {
  // Before any bar a position (only an early fill of a remote venue) is marked at its cost.
  const double mark = started_ ? last_close_ : position_.avg_price;
  return position_.open_points(mark) * config_.spec.point_value;
}

void TradingBook::retire(OrderId id) {
  for (std::size_t i = 0; i < working_.size(); ++i) {
    if (working_[i].order.id != id) continue;
    const Working w = std::move(working_[i]);
    working_.erase(working_.begin() + static_cast<std::ptrdiff_t>(i));
    if (id == stop_order_) stop_order_ = 0;
    if (id == target_order_) target_order_ = 0;
    if (id == closing_order_) closing_order_ = 0;
    observer_.on_order_done(w.order, w.reason, w.note);
    return;
  }
}

void TradingBook::decide(Timestamp ts, const char* kind, std::string reason, double value) {
  observer_.on_decision({ts, kind, std::move(reason), account_.equity(), value});
}

void TradingBook::flush_events() {
  // Drained, not indexed: memory stays flat however long the run.
  if (!risk_ || risk_->events().empty()) return;
  for (const auto& e : risk_->take_events()) observer_.on_risk_event(e);
}

// ---- orders ----

OrderId TradingBook::submit(OrderIntent intent) { return send(std::move(intent)); }

OrderId TradingBook::send(OrderIntent intent, OrderId* slot) {
  QUANT_CHECK(intent.qty > 0);
  Working w;
  w.order.id = intent.id != 0 ? intent.id : account_.next_order_id();
  w.order.side = intent.side;
  w.order.type = intent.type;
  w.order.tif = intent.tif;
  w.order.purpose = intent.purpose;
  w.order.qty = intent.qty;
  w.order.limit_price = intent.limit_price;
  w.order.stop_price = intent.stop_price;
  w.order.created = intent.ts;
  w.order.updated = intent.ts;
  w.order.oco_with = intent.oco_with;
  w.reason = std::move(intent.reason);
  if (intent.purpose == OrderPurpose::Entry && intent.plan) latest_plan_[side_index(intent.side)] = intent.plan;
  w.plan = std::move(intent.plan);
  const OrderId id = w.order.id;
  // A market exit of the whole position closes it: its protective orders go
  // (both filling would reverse it), and until it ends nothing else closes it
  // (session flatten, breaker) and the strategy waits.
  const bool closes = (intent.purpose == OrderPurpose::Exit || intent.purpose == OrderPurpose::Flatten) &&
                      intent.type == OrderType::Market && position_.qty != 0 &&
                      intent.side != (position_.qty > 0 ? Side::Buy : Side::Sell) &&
                      intent.qty == std::llabs(position_.qty);
  if (closes) cancel_protective();
  // Ids are recorded before the venue sees the order: it may report back at once.
  if (closes) closing_order_ = id;
  if (slot != nullptr) *slot = id;
  ++orders_sent_;
  const Order copy = w.order;
  working_.push_back(std::move(w));
  venue_.submit(copy);
  return id;
}

void TradingBook::cancel(OrderId id, std::string_view note) {
  Working* w = find(id);
  if (w == nullptr) return;
  if (w->note.empty()) w->note = note;
  venue_.cancel(id);
}

void TradingBook::cancel_protective() {
  // The ids are dropped now: a remote venue confirms later, and a fill
  // meanwhile still counts (the order stays in working_ until it ends).
  const OrderId stop = std::exchange(stop_order_, 0);
  const OrderId target = std::exchange(target_order_, 0);
  if (stop != 0) cancel(stop, "cancelled: no longer protects the position");
  if (target != 0) cancel(target, "cancelled: no longer protects the position");
}

void TradingBook::cancel_working(OrderPurpose purpose, std::int64_t keep_qty, std::string_view note, bool resting_gtc) {
  // Newest first, so the orders kept are the oldest. Collected before
  // cancelling: a cancel reports back at once and edits working_.
  std::vector<std::pair<OrderId, std::int64_t>> orders;
  std::int64_t total = 0;
  for (const auto& w : working_) {
    if (w.order.purpose != purpose) continue;
    if (!resting_gtc && w.order.tif == TimeInForce::Gtc && w.order.type != OrderType::Market) continue;
    orders.emplace_back(w.order.id, w.order.remaining_qty());
    total += orders.back().second;
  }
  if (total <= keep_qty) return;
  std::sort(orders.begin(), orders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [id, remaining] : orders) {
    if (total <= keep_qty) break;
    total -= remaining;
    cancel(id, note);
  }
}

void TradingBook::close_position(Timestamp ts, std::string reason) {
  if (position_.qty == 0) return;
  const Side side = position_.qty > 0 ? Side::Sell : Side::Buy;
  send(own_order(side, OrderType::Market, OrderPurpose::Exit, std::llabs(position_.qty), 0, ts, std::move(reason)));
}

void TradingBook::flatten(Timestamp ts, const char* reason, std::string_view note, bool all_entries) {
  // Entries not yet filled are withdrawn whatever else happens.
  cancel_working(OrderPurpose::Entry, 0, note, all_entries);
  if (closing_order_ != 0) return;  // an order already closes the position
  cancel_working(OrderPurpose::Exit, 0, note);
  if (position_.qty == 0) return;
  const Side side = position_.qty > 0 ? Side::Sell : Side::Buy;
  send(own_order(side, OrderType::Market, OrderPurpose::Flatten, std::llabs(position_.qty), 0, ts, reason));
}

void TradingBook::halt(Timestamp ts, double equity, std::string_view reason) {
  if (risk_) risk_->halt(ts, equity, reason);  // no-op where the breaker itself tripped
  day_.halted = true;
  flatten(ts, "circuit_breaker", "cancelled: the daily loss limit halted the account", /*all_entries=*/true);
}

void TradingBook::sync_protection(Timestamp ts) {
  if (!risk_) return;
  const std::int64_t qty = std::llabs(position_.qty);
  const risk::PositionRisk& pr = risk_->position();
  if (qty == 0 || closing_order_ != 0 || !pr.open) {
    cancel_protective();
    return;
  }
  const Side side = position_.qty > 0 ? Side::Sell : Side::Buy;
  const double half_tick = 0.5 * grid_.tick_size();

  const Working* stop = stop_order_ != 0 ? find(stop_order_) : nullptr;
  if (stop != nullptr && stop->order.side == side && stop->order.remaining_qty() == qty) {
    if (std::fabs(stop->order.stop_price - pr.stop_price) >= half_tick) venue_.replace_stop(stop_order_, pr.stop_price);
  } else {
    // A different size (or side): cancel and place anew, one stop for the whole position.
    if (const OrderId old = std::exchange(stop_order_, 0); old != 0)
      cancel(old, "cancelled: replaced for the new size");
    OrderIntent stop_intent = own_order(side, OrderType::Stop, OrderPurpose::StopLoss, qty, pr.stop_price, ts, "stop");
    stop_intent.oco_with = target_order_;
    send(std::move(stop_intent), &stop_order_);
  }

  const Working* target = target_order_ != 0 ? find(target_order_) : nullptr;
  const bool keep_target = target != nullptr && pr.target_price != 0 && target->order.side == side &&
                           target->order.remaining_qty() == qty &&
                           std::fabs(target->order.limit_price - pr.target_price) < half_tick;
  if (keep_target) return;
  if (const OrderId old = std::exchange(target_order_, 0); old != 0) {
    cancel(old, "cancelled: replaced for the new size");
  }
  if (pr.target_price == 0) return;
  OrderIntent target_intent =
      own_order(side, OrderType::Limit, OrderPurpose::Target, qty, pr.target_price, ts, "target");
  target_intent.oco_with = stop_order_;
  send(std::move(target_intent), &target_order_);
}

// ---- the bar cycle ----

bool TradingBook::start_bar(const Bar& bar) {
  const SessionPosition where = session_.locate(bar.ts);
  bool new_day = false;
  if (!started_) {
    started_ = true;
    const double equity = account_.equity();
    day_ = DayRecord{where.day, equity, equity, 0, 0, false};
    if (risk_) risk_->on_session_start(bar.ts, equity);
  } else if (where.day != where_.day) {
    new_day = true;
    end_day();
    venue_.end_of_session(bar.ts);
    const double equity = account_.equity();
    day_ = DayRecord{where.day, equity, equity, 0, 0, false};
    if (risk_) risk_->on_session_start(bar.ts, equity);
    account_.refresh();
    // Day trading carries nothing overnight: a position still open (the last
    // bars of the session were missing, or it opened after the flatten time)
    // goes at this bar's open, and yesterday's unfilled entries with it.
    if (config_.rules.day_trade) flatten(bar.ts, "day_change", "cancelled: the trading day changed");
  }
  where_ = where;
  if (!new_day && bars_ > 0) return false;  // risk events come only with a new day here
  flush_events();
  return new_day;
}

double TradingBook::close_bar(const Bar& bar, double atr) {
  ++bars_;
  const Timestamp close_time = bar.ts + kMinute;
  last_close_ = bar.close;
  last_bar_ = bar.ts;
  last_close_time_ = close_time;
  if (position_.qty != 0) {
    ++bars_in_market_;
    ++trade_.bars;
  }
  if (atr > 0) last_atr_ = atr;
  const double equity = account_.equity();

  // The stop trails (ratchet only); a pending exit has withdrawn it.
  if (risk_ && position_.qty != 0 && closing_order_ == 0) {
    if (risk_->update_stop(bar, last_atr_) && stop_order_ != 0) {
      venue_.replace_stop(stop_order_, risk_->position().stop_price);
    }
  }
  if (risk_ && risk_->check_breaker(close_time, equity)) {
    std::string reason = "daily loss limit";
    for (const risk::RiskEvent& e : risk_->events()) {
      if (e.kind == risk::RiskEventKind::Halted) reason = e.reason;
    }
    account_.trip(*this, close_time, equity, reason);
    decide(close_time, "risk_halted", "daily loss limit: flatten and halt until the next session",
           equity - day_.start_equity);
  }

  // Session rules.
  entry_block_ = "";
  if (config_.rules.respect_sessions && !where_.in_session) entry_block_ = "outside the trading session";
  if (config_.rules.day_trade) {
    if (!where_.in_session || where_.minutes_to_close <= config_.rules.flatten_minutes_before_close) {
      flatten(close_time, "session_end", "cancelled: the session-end flatten");
      if (*entry_block_ == '\0') entry_block_ = "session end: flattening";
    } else if (where_.minutes_to_close <= config_.rules.no_entry_minutes_before_close) {
      entry_block_ = "no entries in the session's last minutes";
    }
  }
  return equity;
}

void TradingBook::end_day() {
  day_.end_equity = account_.equity();
  observer_.on_day(day_);
}

void TradingBook::finish() {
  if (!started_) return;
  if (trade_.open) {
    trade_.exit_reason = "end_of_data";
    close_trade(last_close_time_);
  }
  // Orders still working at the end are reported as they are.
  for (const auto& w : working_) observer_.on_order_done(w.order, w.reason, w.note);
  working_.clear();
  stop_order_ = target_order_ = closing_order_ = 0;
  end_day();
  flush_events();
}

// ---- fills and trades ----

void TradingBook::record_fill(const Fill& fill, std::int64_t before, const std::string& reason) {
  const std::int64_t after = position_.qty;
  const double fill_qty = static_cast<double>(fill.qty);
  auto open_trade = [&](std::int64_t qty, double fees) {
    trade_ = OpenTrade{};
    trade_.open = true;
    trade_.entry_time = fill.ts;
    trade_.side = after > 0 ? Side::Buy : Side::Sell;
    trade_.entered = qty;
    trade_.entry_value = static_cast<double>(qty) * fill.price;
    trade_.fees = fees;
  };
  if (before != 0 && after != 0 && (before > 0) != (after > 0)) {
    // One fill through zero (a remote venue's race): it closes the trade with
    // the contracts that were held and opens the next with the rest.
    const std::int64_t closing = std::llabs(before);
    const double closing_fee = fill.fee * static_cast<double>(closing) / fill_qty;
    trade_.fees += closing_fee;
    trade_.exited += closing;
    trade_.exit_value += static_cast<double>(closing) * fill.price;
    trade_.exit_reason = reason;
    close_trade(fill.ts);
    open_trade(std::llabs(after), fill.fee - closing_fee);
    return;
  }
  if (before == 0 && after != 0) {
    open_trade(0, 0);
  }
  if (!trade_.open) return;
  trade_.fees += fill.fee;
  if (fill.side == trade_.side) {
    trade_.entered += fill.qty;
    trade_.entry_value += fill_qty * fill.price;
  } else {
    trade_.exited += fill.qty;
    trade_.exit_value += fill_qty * fill.price;
    trade_.exit_reason = reason;
  }
}

void TradingBook::close_trade(Timestamp ts) {
  if (!trade_.open) return;
  TradeRecord t;
  t.entry_time = trade_.entry_time;
  t.exit_time = ts;
  t.side = trade_.side;
  t.qty = trade_.entered;
  t.entry_price = trade_.entry_value / static_cast<double>(trade_.entered);
  t.exit_price = trade_.exited > 0 ? trade_.exit_value / static_cast<double>(trade_.exited) : last_close_;
  const double points = (t.exit_price - t.entry_price) * static_cast<double>(t.qty) * sign(t.side);
  t.gross_pnl = points * config_.spec.point_value;
  t.fees = trade_.fees;
  t.net_pnl = t.gross_pnl - t.fees;
  t.exit_reason = std::move(trade_.exit_reason);
  t.initial_stop = trade_.initial_stop;
  t.bars_held = trade_.bars;
  trade_ = OpenTrade{};
  ++day_.trades;
  observer_.on_trade(t);
}

void TradingBook::after_position_change(std::int64_t before, const Fill& fill, OrderPurpose purpose,
                                        const std::optional<EntryPlan>& plan, Side order_side) {
  const std::int64_t after = position_.qty;
  const bool flipped = before != 0 && after != 0 && (before > 0) != (after > 0);
  const bool opened = after != 0 && (flipped || std::llabs(after) > std::llabs(before));

  if (risk_) {
    if (after == 0 || flipped) {
      risk_->on_position_closed();
    } else if (!opened) {
      risk_->on_position_reduced(std::llabs(after));
    }
    if (opened) {
      const Side side = after > 0 ? Side::Buy : Side::Sell;
      // The sizing that allowed this side: the filling order's own, else the
      // latest one on that side (a reducing order that fills after an opening
      // one has taken the position through zero). Protective and flatten
      // orders never open a side on purpose.
      const EntryPlan* use = nullptr;
      if (purpose == OrderPurpose::Entry && order_side == side && plan) {
        use = &*plan;
      } else if (purpose == OrderPurpose::Entry || purpose == OrderPurpose::Exit) {
        const auto& latest = latest_plan_[side_index(side)];
        if (latest) use = &*latest;
      }
      if (use != nullptr) {
        // Keep the sized distances around the real fill price, so the risk at
        // the stop stays what the risk engine accepted.
        const risk::EntryDecision placed = risk_->anchored_to_fill(use->decision, use->sized_price, fill.price);
        risk_->on_entry_filled(side, std::llabs(after), position_.avg_price, placed);
        if (trade_.open && trade_.initial_stop == 0) trade_.initial_stop = placed.stop_price;
      } else {
        // Nothing sized this side: do not carry an unsized position.
        flatten(fill.ts, "unsized", "cancelled: a position nothing sized is flattened");
      }
    }
  }
  // Exits beyond what is left would open the other side unsized: withdrawn.
  if (!opened) {
    const std::int64_t left = std::llabs(after);
    const std::string_view note = reduced_by(purpose);
    cancel_working(OrderPurpose::Exit, left, note);
    cancel_working(OrderPurpose::Flatten, left, note);
  }
  if (after == 0) {
    cancel_protective();
  } else {
    sync_protection(fill.ts);
  }
}

// ---- venue reports ----

void TradingBook::on_accepted(OrderId id, Timestamp ts) {
  Working* w = find(id);
  if (w == nullptr) return;  // not ours, or already done: a late report
  if (apply_event(w->order, OrderEvent::Accept, ts)) w->order.updated = ts;
}

void TradingBook::on_rejected(OrderId id, Timestamp ts, std::string_view reason) {
  Working* w = find(id);
  if (w == nullptr) return;
  // A reject after the accept (a cancel/replace refused) still ends the order at the venue.
  if (!apply_event(w->order, OrderEvent::Reject, ts)) apply_event(w->order, OrderEvent::Cancel, ts);
  w->order.updated = ts;
  w->note = "rejected by the venue: " + std::string(reason);
  decide(ts, "order_rejected", "order " + std::to_string(id) + " " + w->note, static_cast<double>(id));
  retire(id);
}

void TradingBook::on_cancelled(OrderId id, Timestamp ts) {
  Working* w = find(id);
  if (w == nullptr) return;
  apply_event(w->order, OrderEvent::Cancel, ts);
  w->order.updated = ts;
  if (w->note.empty()) {
    w->note = w->order.tif == TimeInForce::Ioc ? "IOC: not filled by the first bar after it" : "cancelled by the venue";
  }
  retire(id);
}

void TradingBook::on_expired(OrderId id, Timestamp ts) {
  Working* w = find(id);
  if (w == nullptr) return;
  apply_event(w->order, OrderEvent::Expire, ts);
  w->order.updated = ts;
  w->note = "expired: a day order ends with its session";
  retire(id);
}

void TradingBook::on_replaced(OrderId id, Timestamp ts, double new_stop_price) {
  if (Working* w = find(id)) {
    w->order.stop_price = new_stop_price;
    w->order.updated = ts;
  }
}

void TradingBook::on_fill(const Fill& fill) {
  Working* w = find(fill.order_id);
  if (w == nullptr) return;  // not ours, or a duplicate report after the order ended
  Order& order = w->order;
  // A fill implies the accept a remote venue may not have reported yet. A fill
  // the order cannot take (an over-fill) still moves the position: the venue traded.
  if (order.status == OrderStatus::New) apply_event(order, OrderEvent::Accept, fill.ts);
  apply_fill(order, fill.qty, fill.price, fill.ts);
  const OrderPurpose purpose = order.purpose;
  const Side order_side = order.side;
  const bool done = !order.is_open();
  if (done) w->note.clear();  // it filled: whatever cancel was asked for came too late
  const std::string reason = w->reason;
  std::optional<EntryPlan> plan;
  if (purpose == OrderPurpose::Entry) plan = w->plan;

  const std::int64_t before = position_.qty;
  fees_paid_ += fill.fee;
  day_.fees += fill.fee;
  realized_money_ += position_.apply(fill.side, fill.qty, fill.price) * config_.spec.point_value;
  record_fill(fill, before, reason);
  if (done) retire(fill.order_id);
  if (position_.qty != before) after_position_change(before, fill, purpose, plan, order_side);
  if (position_.qty == 0) close_trade(fill.ts);
}

}  // namespace quant::engine
