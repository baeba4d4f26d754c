#include "matching/simulated_venue.h"

#include <algorithm>
#include <cmath>

namespace quant::matching {

std::int64_t VolumeParticipationModel::fillable(std::int64_t remaining, const Bar& bar, std::int64_t used) const {
  const double volume = bar.volume > 0 ? bar.volume : static_cast<double>(bar.tick_volume);
  const auto cap = static_cast<std::int64_t>(std::floor(participation_ * volume)) - used;
  return std::clamp<std::int64_t>(cap, 0, remaining);
}

SimulatedVenue::SimulatedVenue(const InstrumentSpec& spec, CostModel costs, std::unique_ptr<FillModel> fill_model)
    : grid_(spec.tick_size), tick_(spec.tick_size), costs_(costs), fill_model_(std::move(fill_model)) {
  QUANT_CHECK(fill_model_ != nullptr);
}

SimulatedVenue::Resting* SimulatedVenue::find(OrderId id) {
  for (auto& r : orders_) {
    if (r.order.id == id) return &r;
  }
  return nullptr;
}

void SimulatedVenue::remove(OrderId id) {
  orders_.erase(std::remove_if(orders_.begin(), orders_.end(), [&](const Resting& r) { return r.order.id == id; }),
                orders_.end());
}

void SimulatedVenue::submit(const Order& order) {
  QUANT_CHECK(listener_ != nullptr);
  const char* problem = nullptr;
  if (order.qty <= 0)
    problem = "quantity must be positive";
  else if ((order.type == OrderType::Stop || order.type == OrderType::StopLimit) &&
           (!(order.stop_price > 0) || !grid_.on_grid(order.stop_price)))
    problem = "stop price must be positive and on the tick grid";
  else if ((order.type == OrderType::Limit || order.type == OrderType::StopLimit) &&
           (!(order.limit_price > 0) || !grid_.on_grid(order.limit_price)))
    problem = "limit price must be positive and on the tick grid";
  if (problem != nullptr) {
    listener_->on_rejected(order.id, order.created, problem);
    return;
  }
  Resting r{order};
  apply_event(r.order, OrderEvent::Accept, order.created);
  orders_.push_back(r);
  listener_->on_accepted(order.id, order.created);
}

void SimulatedVenue::cancel(OrderId id) {
  if (find(id) == nullptr) return;
  remove(id);
  listener_->on_cancelled(id, now_);
}

void SimulatedVenue::replace_stop(OrderId id, double new_stop_price) {
  Resting* r = find(id);
  if (r == nullptr || !(new_stop_price > 0)) return;
  r->order.stop_price = grid_.snap(new_stop_price);
  listener_->on_replaced(id, now_, r->order.stop_price);
}

void SimulatedVenue::end_of_session(Timestamp ts) {
  now_ = ts;
  std::vector<OrderId> expired;
  for (const auto& r : orders_) {
    if (r.order.tif == TimeInForce::Day) expired.push_back(r.order.id);
  }
  for (OrderId id : expired) {
    remove(id);
    listener_->on_expired(id, ts);
  }
}

void SimulatedVenue::fill(Resting& r, double price, const Bar& bar, Timestamp ts) {
  const std::int64_t qty = fill_model_->fillable(r.order.remaining_qty(), bar, used_this_bar_);
  if (qty <= 0) return;
  used_this_bar_ += qty;
  const double px = grid_.snap(price);
  apply_fill(r.order, qty, px, ts);
  Fill f;
  f.order_id = r.order.id;
  f.ts = ts;
  f.side = r.order.side;
  f.qty = qty;
  f.price = px;
  f.fee = static_cast<double>(qty) * costs_.fee_per_contract_side;
  f.purpose = r.order.purpose;
  const OrderId id = r.order.id;
  const bool done = r.order.status == OrderStatus::Filled;
  if (done) remove(id);  // before the callback: the listener may submit or cancel
  listener_->on_fill(f);
}

void SimulatedVenue::process_open(const Bar& bar) {
  if (orders_.empty()) return;
  now_ = bar.ts;
  used_this_bar_ = 0;
  const double slip = costs_.slippage_ticks * tick_;

  // Phase 1: market orders at the open, in the order they were sent.
  std::vector<OrderId>& ids = ids_;
  ids.clear();
  for (const auto& r : orders_) {
    if (r.order.type == OrderType::Market && r.order.created <= bar.ts) ids.push_back(r.order.id);
  }
  for (OrderId id : ids) {
    Resting* r = find(id);
    if (r == nullptr) continue;  // cancelled by an earlier fill's consequences
    const double px = r->order.side == Side::Buy ? bar.open + slip : bar.open - slip;
    fill(*r, px, bar, bar.ts);
  }
}

void SimulatedVenue::process_range(const Bar& bar) {
  if (orders_.empty()) return;
  if (now_ != bar.ts) used_this_bar_ = 0;  // process_open found nothing to do
  now_ = bar.ts;
  const double slip = costs_.slippage_ticks * tick_;
  std::vector<OrderId>& ids = ids_;

  // Phase 2: stops, limits and stop-limits against the bar (orders placed in
  // phase 1 included). What the open already crossed fills first, in the order
  // sent; then what the bar reaches after opening between them, stops before
  // limits (the bar's path inside is unknown: assume the worse one).
  std::vector<Hit>& hits = hits_;
  hits.clear();
  for (auto& r : orders_) {
    const Order& o = r.order;
    if (o.created > bar.ts) continue;  // placed after this bar opened: from the next bar on
    const bool buy = o.side == Side::Buy;
    switch (o.type) {
      case OrderType::Market: break;
      case OrderType::Stop: {
        const double s = o.stop_price;
        if (buy ? bar.open >= s : bar.open <= s)
          hits.push_back({o.id, 0, buy ? bar.open + slip : bar.open - slip});
        else if (buy ? bar.high >= s : bar.low <= s)
          hits.push_back({o.id, 1, buy ? s + slip : s - slip});
        break;
      }
      case OrderType::Limit: {
        const double l = o.limit_price;
        if (buy ? bar.open <= l : bar.open >= l)
          hits.push_back({o.id, 0, bar.open});
        else if (buy ? bar.low <= l : bar.high >= l)
          hits.push_back({o.id, 3, l});
        break;
      }
      case OrderType::StopLimit: {
        const double s = o.stop_price, l = o.limit_price;
        bool triggered_at_open = false;
        if (!r.order.triggered) {
          if (buy ? bar.open >= s : bar.open <= s) {
            r.order.triggered = true;
            triggered_at_open = true;
          } else if (buy ? bar.high >= s : bar.low <= s) {
            r.order.triggered = true;
          }
        } else {
          triggered_at_open = true;  // working as a limit since an earlier bar
        }
        if (!r.order.triggered) break;
        // Once triggered it is a limit at l. Triggered intrabar at s: it fills at
        // s when s is already within the limit, else only if the bar reaches l.
        if (triggered_at_open) {
          if (buy ? bar.open <= l : bar.open >= l)
            hits.push_back({o.id, 0, bar.open});
          else if (buy ? bar.low <= l : bar.high >= l)
            hits.push_back({o.id, 2, l});
        } else if (buy ? s <= l : s >= l) {
          hits.push_back({o.id, 2, s});
        } else if (buy ? bar.low <= l : bar.high >= l) {
          hits.push_back({o.id, 2, l});
        }
        break;
      }
    }
  }
  if (hits.size() > 1) {
    std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.rank < b.rank; });
  }
  for (const Hit& h : hits) {
    Resting* r = find(h.id);
    if (r == nullptr) continue;  // an earlier fill closed the position and its partner was cancelled
    fill(*r, h.price, bar, bar.ts);
  }

  // IOC: what did not fill at its first chance is cancelled.
  ids.clear();
  for (auto& r : orders_) {
    if (r.order.tif == TimeInForce::Ioc && r.order.created <= bar.ts) ids.push_back(r.order.id);
  }
  for (OrderId id : ids) cancel(id);
}

}  // namespace quant::matching
