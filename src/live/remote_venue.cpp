#include "live/remote_venue.h"

#include <charconv>
#include <chrono>
#include <utility>

namespace quant::live {

namespace {

Timestamp from_msc(std::int64_t msc) { return Timestamp(std::chrono::milliseconds(msc)); }

}  // namespace

RemoteVenue::RemoteVenue(std::string symbol, std::string id_prefix, std::vector<bridge::Body>& outbox)
    : symbol_(std::move(symbol)), prefix_(std::move(id_prefix) + symbol_ + "-"), outbox_(outbox) {}

std::string RemoteVenue::cl_ord_id(OrderId id) const { return prefix_ + std::to_string(id); }

void RemoteVenue::submit(const Order& order) {
  Sent& sent = orders_[order.id];
  sent.order = order;
  bridge::OrderNew m = bridge::order_new_of(order, cl_ord_id(order.id), symbol_);
  if (order.oco_with != 0) m.oco_with = cl_ord_id(order.oco_with);
  outbox_.emplace_back(std::move(m));
}

void RemoteVenue::cancel(OrderId id) {
  auto it = orders_.find(id);
  if (it == orders_.end() || it->second.done) return;
  bridge::OrderCancel m;
  m.orig_cl_ord_id = cl_ord_id(id);
  m.cl_ord_id = m.orig_cl_ord_id + "/c" + std::to_string(++requests_);
  m.symbol = symbol_;
  outbox_.emplace_back(std::move(m));
}

void RemoteVenue::replace_stop(OrderId id, double new_stop_price) {
  auto it = orders_.find(id);
  if (it == orders_.end() || it->second.done) return;
  bridge::OrderReplace m;
  m.orig_cl_ord_id = cl_ord_id(id);
  m.cl_ord_id = m.orig_cl_ord_id + "/r" + std::to_string(++requests_);
  m.symbol = symbol_;
  m.stop_price = new_stop_price;
  outbox_.emplace_back(std::move(m));
}

RemoteVenue::Sent* RemoteVenue::find(const std::string& cl_ord_id, OrderId* id) {
  if (cl_ord_id.size() <= prefix_.size() || cl_ord_id.compare(0, prefix_.size(), prefix_) != 0) return nullptr;
  OrderId value = 0;
  const char* first = cl_ord_id.data() + prefix_.size();
  const char* last = cl_ord_id.data() + cl_ord_id.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || end != last) return nullptr;
  auto it = orders_.find(value);
  if (it == orders_.end()) return nullptr;
  *id = value;
  return &it->second;
}

bool RemoteVenue::on_report(const bridge::OrderAck& ack) {
  OrderId id = 0;
  Sent* sent = find(ack.cl_ord_id, &id);
  if (sent == nullptr) {
    ++unknown_;
    return false;
  }
  if (listener_ == nullptr || sent->done) return true;  // a late or repeated report of a finished order
  const Timestamp ts = from_msc(ack.time_msc);
  switch (ack.exec_type) {
    case bridge::ExecType::New:
      if (!sent->accepted) {
        sent->accepted = true;
        listener_->on_accepted(id, ts);
      }
      break;
    case bridge::ExecType::Rejected:
      // After the order was accepted, a reject answers a cancel or replace
      // request (FIX OrderCancelReject): the order itself still works.
      if (!sent->accepted) {
        sent->done = true;
        listener_->on_rejected(id, ts, ack.reason);
      }
      break;
    case bridge::ExecType::Canceled:
      sent->done = true;
      listener_->on_cancelled(id, ts);
      break;
    case bridge::ExecType::Expired:
      sent->done = true;
      listener_->on_expired(id, ts);
      break;
    case bridge::ExecType::Replaced:
      sent->order.stop_price = ack.stop_price;
      listener_->on_replaced(id, ts, ack.stop_price);
      break;
    case bridge::ExecType::Trade: break;  // trades come as fill messages
  }
  return true;
}

bool RemoteVenue::on_report(const bridge::FillMsg& fill) {
  OrderId id = 0;
  Sent* sent = find(fill.cl_ord_id, &id);
  if (sent == nullptr) {
    ++unknown_;
    return false;
  }
  if (!exec_ids_.emplace(fill.exec_id, true).second) {
    ++duplicate_fills_;  // the same deal twice (a terminal re-sending after a reconnect)
    return true;
  }
  if (listener_ == nullptr) return true;
  if (!sent->accepted) {
    sent->accepted = true;
    listener_->on_accepted(id, from_msc(fill.time_msc));
  }
  sent->filled += fill.qty;
  if (sent->filled >= sent->order.qty) sent->done = true;
  Fill f;
  f.order_id = id;
  f.ts = from_msc(fill.time_msc);
  f.side = sent->order.side;
  f.qty = fill.qty;
  f.price = fill.price;
  f.fee = fill.fee;
  f.purpose = sent->order.purpose;
  listener_->on_fill(f);
  return true;
}

std::vector<std::string> RemoteVenue::working() const {
  std::vector<std::string> out;
  for (const auto& [id, sent] : orders_) {
    if (!sent.done) out.push_back(cl_ord_id(id));
  }
  return out;
}

}  // namespace quant::live
