#include "engine/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace quant::engine {

Engine::Engine(EngineConfig config, InstrumentSpec spec, TimeZone zone, strategy::Strategy& strategy,
               risk::RiskEngine* risk, ExecutionVenue& venue, EngineObserver& observer)
    : config_(config),
      spec_(std::move(spec)),
      session_(spec_, std::move(zone)),
      strategy_(strategy),
      risk_(risk),
      venue_(venue),
      observer_(observer),
      equity_(config.initial_equity) {
  QUANT_CHECK(risk_ != nullptr || !config_.use_risk_engine);
  venue_.set_listener(this);
}

Engine::Working* Engine::find(OrderId id) {
  for (auto& w : working_) {
    if (w.order.id == id) return &w;
  }
  return nullptr;
}

void Engine::retire(OrderId id) {
  for (std::size_t i = 0; i < working_.size(); ++i) {
    if (working_[i].order.id == id) {
      observer_.on_order_done(working_[i].order);
      working_.erase(working_.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  if (id == stop_order_) stop_order_ = 0;
  if (id == target_order_) target_order_ = 0;
}

OrderId Engine::send(Side side, OrderType type, OrderPurpose purpose, std::int64_t qty, double stop_price,
                     double limit_price, Timestamp ts, const char* exit_reason) {
  Working w;
  w.order.id = next_id_++;
  w.order.side = side;
  w.order.type = type;
  // Market orders act at the next bar's open whatever the day; protective
  // orders live until the position closes (the engine cancels them).
  w.order.tif = TimeInForce::Gtc;
  w.order.purpose = purpose;
  w.order.qty = qty;
  w.order.stop_price = stop_price;
  w.order.limit_price = limit_price;
  w.order.created = ts;
  w.order.updated = ts;
  w.exit_reason = exit_reason;
  working_.push_back(w);
  venue_.submit(w.order);
  return w.order.id;
}

void Engine::cancel_protective() {
  if (stop_order_ != 0) venue_.cancel(stop_order_);
  if (target_order_ != 0) venue_.cancel(target_order_);
}

void Engine::flatten(Timestamp ts, const char* reason) {
  if (flatten_pending_) return;
  // Entries not yet filled are withdrawn; the position (if any) goes at the next open.
  // (Collect first: a cancel reports back synchronously and edits working_.)
  OrderId entries[8];
  std::size_t n = 0;
  for (const auto& w : working_) {
    if (w.order.purpose == OrderPurpose::Entry && n < std::size(entries)) entries[n++] = w.order.id;
  }
  for (std::size_t i = 0; i < n; ++i) venue_.cancel(entries[i]);
  pending_entry_.reset();
  if (position_.qty == 0) return;
  cancel_protective();
  const Side side = position_.qty > 0 ? Side::Sell : Side::Buy;
  send(side, OrderType::Market, OrderPurpose::Flatten, std::llabs(position_.qty), 0, 0, ts, reason);
  flatten_pending_ = true;
}

void Engine::forward_risk_events() {
  // Drained, not indexed: memory stays flat however long the run.
  if (risk_ == nullptr || risk_->events().empty()) return;
  for (const auto& e : risk_->take_events()) observer_.on_risk_event(e);
}

void Engine::end_day() {
  day_.end_equity = equity_;
  observer_.on_day(day_);
}

void Engine::before_bar(const Bar& bar) {
  const SessionPosition where = session_.locate(bar.ts);
  if (!started_) {
    started_ = true;
    day_ = DayRecord{where.day, equity_, equity_, 0, 0, false};
    if (risk_ != nullptr) risk_->on_session_start(bar.ts, equity_);
    forward_risk_events();
  } else if (where.day != where_.day) {
    end_day();
    venue_.end_of_session(bar.ts);
    day_ = DayRecord{where.day, equity_, equity_, 0, 0, false};
    if (risk_ != nullptr) risk_->on_session_start(bar.ts, equity_);
    forward_risk_events();
    strategy_.on_session_start();
  }
  where_ = where;
}

double Engine::mark(double price) const { return position_.open_points(price) * spec_.point_value; }

void Engine::on_bar_close(const Bar& bar) {
  ++bars_;
  const Timestamp close_time = bar.ts + kMinute;
  last_close_ = bar.close;
  last_ts_ = close_time;
  if (position_.qty != 0) {
    ++bars_in_market_;
    ++trade_.bars;
  }
  const double open_pnl = mark(bar.close);
  equity_ = config_.initial_equity + realized_money_ - fees_paid_ + open_pnl;

  // The strategy sees every bar (its indicators must), and gives this bar's ATR.
  const strategy::Signal signal = strategy_.on_bar(bar, position_.qty);
  if (signal.atr > 0) last_atr_ = signal.atr;

  if (risk_ != nullptr && position_.qty != 0 && !flatten_pending_) {
    if (risk_->update_stop(bar, last_atr_) && stop_order_ != 0) {
      venue_.replace_stop(stop_order_, risk_->position().stop_price);
    }
  }
  if (risk_ != nullptr && risk_->check_breaker(close_time, equity_)) {
    day_.halted = true;
    flatten(close_time, "circuit_breaker");
    observer_.on_decision({close_time, "risk_halted", "daily loss limit: flatten and halt until the next session",
                           equity_, equity_ - day_.start_equity});
  }

  // Session rules.
  bool entries_allowed = true;
  const char* blocked_reason = "";
  if (config_.respect_sessions && !where_.in_session) {
    entries_allowed = false;
    blocked_reason = "outside the trading session";
  }
  if (config_.day_trade) {
    if (!where_.in_session || where_.minutes_to_close <= config_.flatten_minutes_before_close) {
      flatten(close_time, "session_end");
      entries_allowed = false;
      if (*blocked_reason == '\0') blocked_reason = "session end: flattening";
    } else if (where_.minutes_to_close <= config_.no_entry_minutes_before_close) {
      entries_allowed = false;
      blocked_reason = "no entries in the session's last minutes";
    }
  }
  // A halted day's entries go to the risk engine, which rejects them and says why.

  if (*signal.blocked_by != '\0') {
    char reason[96];
    std::snprintf(reason, sizeof reason, "%s signal blocked by the %s filter", signal.reason, signal.blocked_by);
    observer_.on_decision({close_time, "signal_blocked", reason, equity_, 0});
  }

  if (!flatten_pending_ && signal.action != strategy::Action::None) {
    if (signal.action == strategy::Action::Exit) {
      if (position_.qty != 0) {
        cancel_protective();
        send(position_.qty > 0 ? Side::Sell : Side::Buy, OrderType::Market, OrderPurpose::Exit,
             std::llabs(position_.qty), 0, 0, close_time, "exit_signal");
        flatten_pending_ = true;
      }
    } else {
      const Side side = signal.action == strategy::Action::EnterLong ? Side::Buy : Side::Sell;
      const bool opposite = (position_.qty > 0 && side == Side::Sell) || (position_.qty < 0 && side == Side::Buy);
      const bool pending = pending_entry_.has_value() ||
                           std::any_of(working_.begin(), working_.end(),
                                       [](const Working& w) { return w.order.purpose == OrderPurpose::Entry; });
      if (opposite) {
        cancel_protective();
        send(side, OrderType::Market, OrderPurpose::Exit, std::llabs(position_.qty), 0, 0, close_time, "reverse");
      }
      if ((position_.qty == 0 || opposite) && !pending) {
        if (!entries_allowed) {
          char reason[128];
          std::snprintf(reason, sizeof reason, "%s entry not taken: %s", signal.reason, blocked_reason);
          observer_.on_decision({close_time, "signal_blocked", reason, equity_, 0});
        } else if (risk_ != nullptr) {
          risk::EntryRequest request{close_time, side, bar.close, signal.atr, equity_};
          const risk::EntryDecision decision = risk_->check_entry(request);
          if (decision.qty > 0) {
            pending_entry_ = decision;
            pending_entry_price_ = bar.close;
            send(side, OrderType::Market, OrderPurpose::Entry, decision.qty, 0, 0, close_time, "");
          }
        } else {
          send(side, OrderType::Market, OrderPurpose::Entry, config_.fixed_qty, 0, 0, close_time, "");
        }
      }
    }
  }
  forward_risk_events();
  observer_.on_bar_close(bar, equity_, realized_money_ - fees_paid_, open_pnl, position_.qty);
}

void Engine::close_trade(Timestamp ts, const char* reason) {
  if (!trade_.open) return;
  TradeRecord t;
  t.entry_time = trade_.entry_time;
  t.exit_time = ts;
  t.side = trade_.side;
  t.qty = trade_.entered;
  t.entry_price = trade_.entry_value / static_cast<double>(trade_.entered);
  t.exit_price = trade_.exited > 0 ? trade_.exit_value / static_cast<double>(trade_.exited) : last_close_;
  const double points = (t.exit_price - t.entry_price) * static_cast<double>(t.qty) * sign(t.side);
  t.gross_pnl = points * spec_.point_value;
  t.fees = trade_.fees;
  t.net_pnl = t.gross_pnl - t.fees;
  t.exit_reason = reason;
  t.initial_stop = trade_.initial_stop;
  t.bars_held = trade_.bars;
  observer_.on_trade(t);
  ++day_.trades;
  trade_ = OpenTrade{};
}

void Engine::on_accepted(OrderId id, Timestamp ts) {
  if (Working* w = find(id)) apply_event(w->order, OrderEvent::Accept, ts);
}

void Engine::on_rejected(OrderId id, Timestamp ts, std::string_view reason) {
  Working* w = find(id);
  if (w == nullptr) return;
  apply_event(w->order, OrderEvent::Reject, ts);
  if (w->order.purpose == OrderPurpose::Entry) pending_entry_.reset();
  if (w->order.purpose == OrderPurpose::Flatten || w->order.purpose == OrderPurpose::Exit) flatten_pending_ = false;
  std::string text = "order " + std::to_string(id) + " rejected by the venue: " + std::string(reason);
  observer_.on_decision({ts, "order_rejected", text, equity_, static_cast<double>(id)});
  retire(id);
}

void Engine::on_fill(const Fill& fill) {
  Working* w = find(fill.order_id);
  QUANT_CHECK(w != nullptr);
  QUANT_CHECK(apply_fill(w->order, fill.qty, fill.price, fill.ts));
  const OrderPurpose purpose = w->order.purpose;
  const char* exit_reason = w->exit_reason;
  const bool done = w->order.status == OrderStatus::Filled;

  const std::int64_t before = position_.qty;
  fees_paid_ += fill.fee;
  day_.fees += fill.fee;
  realized_money_ += position_.apply(fill.side, fill.qty, fill.price) * spec_.point_value;

  if (before == 0 && position_.qty != 0) {
    trade_ = OpenTrade{};
    trade_.open = true;
    trade_.entry_time = fill.ts;
    trade_.side = position_.qty > 0 ? Side::Buy : Side::Sell;
  }
  if (trade_.open) {
    trade_.fees += fill.fee;
    if (fill.side == trade_.side) {
      trade_.entered += fill.qty;
      trade_.entry_value += static_cast<double>(fill.qty) * fill.price;
    } else {
      trade_.exited += fill.qty;
      trade_.exit_value += static_cast<double>(fill.qty) * fill.price;
      trade_.exit_reason = exit_reason;
    }
  }
  if (done) retire(fill.order_id);

  if (purpose == OrderPurpose::Entry && risk_ != nullptr && pending_entry_ && position_.qty != 0) {
    // Keep the sized distances around the real fill price, so the risk at the
    // stop stays what the risk engine accepted.
    const risk::EntryDecision placed = risk_->anchored_to_fill(*pending_entry_, pending_entry_price_, position_.avg_price);
    const Side side = position_.qty > 0 ? Side::Buy : Side::Sell;
    const std::int64_t qty = std::llabs(position_.qty);
    risk_->on_entry_filled(side, qty, position_.avg_price, placed);
    if (stop_order_ != 0) venue_.cancel(stop_order_);
    if (target_order_ != 0) venue_.cancel(target_order_);
    stop_order_ = send(opposite(side), OrderType::Stop, OrderPurpose::StopLoss, qty, placed.stop_price, 0, fill.ts,
                       "stop");
    if (placed.target_price != 0) {
      target_order_ = send(opposite(side), OrderType::Limit, OrderPurpose::Target, qty, 0, placed.target_price,
                           fill.ts, "target");
    }
    trade_.initial_stop = placed.stop_price;
    if (done) pending_entry_.reset();
  }

  if (position_.qty == 0 && trade_.open) {
    close_trade(fill.ts, trade_.exit_reason);
    if (risk_ != nullptr) risk_->on_position_closed();
    cancel_protective();
    flatten_pending_ = false;
  }
}

void Engine::on_cancelled(OrderId id, Timestamp ts) {
  Working* w = find(id);
  if (w == nullptr) return;
  apply_event(w->order, OrderEvent::Cancel, ts);
  if (w->order.purpose == OrderPurpose::Entry) pending_entry_.reset();
  retire(id);
}

void Engine::on_expired(OrderId id, Timestamp ts) {
  Working* w = find(id);
  if (w == nullptr) return;
  apply_event(w->order, OrderEvent::Expire, ts);
  if (w->order.purpose == OrderPurpose::Entry) pending_entry_.reset();
  if (w->order.purpose == OrderPurpose::Flatten || w->order.purpose == OrderPurpose::Exit) flatten_pending_ = false;
  retire(id);
}

void Engine::on_replaced(OrderId id, Timestamp ts, double new_stop_price) {
  if (Working* w = find(id)) {
    w->order.stop_price = new_stop_price;
    w->order.updated = ts;
  }
}

void Engine::finish() {
  if (!started_) return;
  if (trade_.open) close_trade(last_ts_, "end_of_data");
  // Orders still working at the end are reported as they are.
  for (const auto& w : working_) observer_.on_order_done(w.order);
  working_.clear();
  end_day();
  forward_risk_events();
}

}  // namespace quant::engine
