#include "replay/terminal.h"

#include <chrono>
#include <cmath>

namespace quant::replay {

std::int64_t unix_ms(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bridge::OrdStatus ord_status(const Order& order) {
  switch (order.status) {
    case OrderStatus::New:
    case OrderStatus::Accepted: return bridge::OrdStatus::New;
    case OrderStatus::PartiallyFilled: return bridge::OrdStatus::PartiallyFilled;
    case OrderStatus::Filled: return bridge::OrdStatus::Filled;
    case OrderStatus::Cancelled: return bridge::OrdStatus::Canceled;
    case OrderStatus::Rejected: return bridge::OrdStatus::Rejected;
    case OrderStatus::Expired: return bridge::OrdStatus::Expired;
  }
  return bridge::OrdStatus::New;
}

/// Forwards one symbol's venue reports to the terminal.
class Terminal::Listener final : public engine::ExecutionListener {
 public:
  Listener(Terminal& terminal, std::size_t symbol) : terminal_(terminal), symbol_(symbol) {}
  void on_accepted(OrderId id, Timestamp) override { terminal_.accepted(id); }
  void on_rejected(OrderId id, Timestamp, std::string_view reason) override { terminal_.rejected(id, reason); }
  void on_fill(const Fill& fill) override { terminal_.filled(symbol_, fill); }
  void on_cancelled(OrderId id, Timestamp) override { terminal_.cancelled(id); }
  void on_expired(OrderId id, Timestamp) override { terminal_.expired(id); }
  void on_replaced(OrderId id, Timestamp, double new_stop_price) override { terminal_.replaced(id, new_stop_price); }

 private:
  Terminal& terminal_;
  std::size_t symbol_;
};

Terminal::~Terminal() = default;

Expected<std::unique_ptr<Terminal>> Terminal::create(const std::vector<InstrumentSetup>& instruments, ReplayMode mode) {
  std::unique_ptr<Terminal> t(new Terminal(mode));
  t->books_.reserve(instruments.size());
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const InstrumentSetup& setup = instruments[i];
    auto zone = TimeZone::find(setup.spec.time_zone);
    if (!zone) return make_error("replay: " + setup.spec.symbol + ": " + zone.error().message);
    std::unique_ptr<matching::FillModel> model;
    if (setup.participation > 0)
      model = std::make_unique<matching::VolumeParticipationModel>(setup.participation);
    else
      model = std::make_unique<matching::FullFillModel>();
    Book b;
    b.spec = setup.spec;
    b.venue = std::make_unique<matching::SimulatedVenue>(setup.spec, setup.costs, std::move(model));
    b.listener = std::make_unique<Listener>(*t, i);
    b.venue->set_listener(b.listener.get());
    b.session = std::make_unique<engine::SessionClock>(setup.spec, *zone);
    t->books_.push_back(std::move(b));
  }
  return t;
}

std::optional<std::size_t> Terminal::symbol_index(std::string_view symbol) const {
  for (std::size_t i = 0; i < books_.size(); ++i) {
    if (books_[i].spec.symbol == symbol) return i;
  }
  return std::nullopt;
}

Timestamp Terminal::order_time(std::size_t symbol) const {
  if (mode_ == ReplayMode::Ticks) {
    // The bar of the minute being replayed has opened already: the next one.
    if (!last_market_) return Timestamp::min();
    return std::chrono::floor<std::chrono::minutes>(*last_market_) + kMinute;
  }
  const Book& b = books_[symbol];
  if (b.open_bar) return *b.open_bar;
  // Any later bar opens at or after this; the next one in the data fills it.
  if (b.last_close) return *b.last_close + kMinute;
  return Timestamp::min();
}

void Terminal::on_event(const Event& event, std::vector<bridge::Body>& out) {
  out_ = &out;
  now_ = event.time();
  Book& b = books_[event.symbol];
  switch (event.kind) {
    case EventKind::Open: {
      // The backtest's day rule (engine::TradingBook::start_bar): a bar whose
      // trading day differs from the previous bar's ends the session first.
      const std::int64_t day = b.session->locate(event.bar.ts).day;
      if (b.day && *b.day != day) b.venue->end_of_session(event.bar.ts);
      b.day = day;
      b.open_bar = event.bar.ts;
      last_market_ = event.bar.ts;
      break;
    }
    case EventKind::OpenFills:
      // Market orders at the open first; the platform answers their fills
      // (the entry's protection) before the rest of the bar, as the backtest's book does.
      b.venue->process_open(event.bar);
      break;
    case EventKind::Close:
      b.open_bar.reset();
      b.last_close = event.bar.ts;
      if (mode_ == ReplayMode::Bars) {
        b.venue->process_range(event.bar);
      } else {
        b.venue->process(event.bar);
      }
      break;
    case EventKind::Tick: last_market_ = event.tick.ts; break;
  }
  out_ = nullptr;
}

void Terminal::on_request(const bridge::Body& request, std::vector<bridge::Body>& out) {
  out_ = &out;
  if (const auto* m = std::get_if<bridge::OrderNew>(&request)) new_order(*m);
  if (const auto* m = std::get_if<bridge::OrderCancel>(&request)) cancel_order(*m);
  if (const auto* m = std::get_if<bridge::OrderReplace>(&request)) replace_order(*m);
  out_ = nullptr;
}

Terminal::Record* Terminal::find(std::string_view cl_ord_id) {
  auto it = by_cl_ord_id_.find(std::string(cl_ord_id));
  return it == by_cl_ord_id_.end() ? nullptr : &records_[it->second - 1];
}

Terminal::Record& Terminal::record(OrderId id) {
  QUANT_CHECK(id >= 1 && id <= records_.size());
  return records_[id - 1];
}

void Terminal::ack(const Record& r, bridge::ExecType type, std::string reason, double stop_price) {
  bridge::OrderAck a;
  a.cl_ord_id = r.cl_ord_id;
  a.symbol = r.known_symbol ? books_[r.symbol].spec.symbol : std::string();
  if (r.order.status != OrderStatus::Rejected || r.known_symbol) a.venue_order_id = std::to_string(r.order.id);
  a.exec_type = type;
  a.ord_status = ord_status(r.order);
  a.reason = std::move(reason);
  a.stop_price = stop_price;
  a.time_msc = unix_ms(now_);
  out_->push_back(std::move(a));
}

void Terminal::send_state(const Record& r) {
  switch (r.order.status) {
    case OrderStatus::Rejected: ack(r, bridge::ExecType::Rejected, r.reason); break;
    case OrderStatus::Cancelled: ack(r, bridge::ExecType::Canceled); break;
    case OrderStatus::Expired: ack(r, bridge::ExecType::Expired); break;
    default: ack(r, bridge::ExecType::New); break;
  }
  for (const auto& f : r.fills) out_->push_back(f);
}

void Terminal::new_order(const bridge::OrderNew& m) {
  if (const Record* known = find(m.cl_ord_id)) {
    send_state(*known);  // the platform re-sends what it saw no answer to
    return;
  }
  Record r;
  r.cl_ord_id = m.cl_ord_id;
  r.oco = m.oco_with;
  r.order = bridge::order_of(m);
  Order& o = r.order;
  o.id = records_.size() + 1;
  const auto symbol = symbol_index(m.symbol);
  r.known_symbol = symbol.has_value();
  r.symbol = symbol.value_or(0);
  o.created = r.known_symbol ? order_time(r.symbol) : now_;
  o.updated = o.created;
  by_cl_ord_id_.emplace(r.cl_ord_id, o.id);
  records_.push_back(r);
  if (!r.known_symbol) {
    rejected(o.id, "unknown symbol '" + m.symbol + "'");
    return;
  }
  if (!m.oco_with.empty()) {
    // Either side may name the other; the link goes both ways.
    if (Record* partner = find(m.oco_with); partner != nullptr && partner->oco.empty()) {
      partner->oco = m.cl_ord_id;
    }
  }
  const Order copy = records_.back().order;
  books_[r.symbol].venue->submit(copy);
}

void Terminal::cancel_order(const bridge::OrderCancel& m) {
  Record* r = find(m.orig_cl_ord_id);
  if (!requests_.insert(m.cl_ord_id).second) {
    if (r != nullptr) send_state(*r);
    return;
  }
  if (r == nullptr) {
    reject_unknown(m.orig_cl_ord_id, m.symbol, "cancel");
    return;
  }
  if (!r->order.is_open() || r->order.status == OrderStatus::New) {
    ack(*r, bridge::ExecType::Rejected, "cancel rejected: the order is " + std::string(to_string(r->order.status)));
    return;
  }
  books_[r->symbol].venue->cancel(r->order.id);
}

void Terminal::reject_unknown(const std::string& orig_cl_ord_id, const std::string& symbol, const char* request) {
  bridge::OrderAck a;
  a.cl_ord_id = orig_cl_ord_id;
  a.symbol = symbol;
  a.exec_type = bridge::ExecType::Rejected;
  a.ord_status = bridge::OrdStatus::Rejected;
  a.reason = std::string(request) + " rejected: unknown order '" + orig_cl_ord_id + "'";
  a.time_msc = unix_ms(now_);
  out_->push_back(std::move(a));
}

void Terminal::replace_order(const bridge::OrderReplace& m) {
  Record* r = find(m.orig_cl_ord_id);
  if (!requests_.insert(m.cl_ord_id).second) {
    if (r != nullptr) send_state(*r);
    return;
  }
  std::string problem;
  if (r == nullptr) {
    reject_unknown(m.orig_cl_ord_id, m.symbol, "replace");
    return;
  }
  if (!r->order.is_open() || r->order.status == OrderStatus::New)
    problem = "replace rejected: the order is " + std::string(to_string(r->order.status));
  else if (r->order.type != OrderType::Stop && r->order.type != OrderType::StopLimit)
    problem = "replace rejected: only a stop price can be replaced";
  else if (!(m.stop_price > 0))
    problem = "replace rejected: the stop price must be positive";
  if (!problem.empty()) {
    ack(*r, bridge::ExecType::Rejected, problem);
    return;
  }
  books_[r->symbol].venue->replace_stop(r->order.id, m.stop_price);
}

void Terminal::accepted(OrderId id) {
  Record& r = record(id);
  apply_event(r.order, OrderEvent::Accept, now_);
  ack(r, bridge::ExecType::New);
}

void Terminal::rejected(OrderId id, std::string_view reason) {
  Record& r = record(id);
  apply_event(r.order, OrderEvent::Reject, now_);
  r.reason = std::string(reason);
  ack(r, bridge::ExecType::Rejected, r.reason);
}

void Terminal::cancelled(OrderId id) {
  Record& r = record(id);
  apply_event(r.order, OrderEvent::Cancel, now_);
  ack(r, bridge::ExecType::Canceled);
}

void Terminal::expired(OrderId id) {
  Record& r = record(id);
  apply_event(r.order, OrderEvent::Expire, now_);
  ack(r, bridge::ExecType::Expired);
}

void Terminal::replaced(OrderId id, double stop_price) {
  Record& r = record(id);
  r.order.stop_price = stop_price;
  ack(r, bridge::ExecType::Replaced, "", stop_price);
}

void Terminal::filled(std::size_t symbol, const Fill& fill) {
  Record& r = record(fill.order_id);
  apply_fill(r.order, fill.qty, fill.price, fill.ts);
  Book& b = books_[symbol];
  b.position.apply(fill.side, fill.qty, fill.price);
  ++fills_;
  bridge::FillMsg f;
  f.cl_ord_id = r.cl_ord_id;
  f.exec_id = r.cl_ord_id + "#" + std::to_string(r.fills.size() + 1);
  f.symbol = b.spec.symbol;
  f.side = fill.side;
  f.qty = fill.qty;
  f.price = fill.price;
  f.fee = fill.fee;
  f.time_msc = unix_ms(fill.ts);
  f.cum_qty = r.order.filled_qty;
  f.leaves_qty = r.order.remaining_qty();
  f.ord_status = ord_status(r.order);
  r.fills.push_back(f);
  out_->push_back(f);
  // OCO: the partner goes at once, so it cannot fill later in this bar (the
  // backtest's book cancels the other protective order inside the fill report).
  if (!r.oco.empty()) {
    const Record* partner = find(r.oco);
    if (partner != nullptr && partner->order.is_open() && partner->order.status != OrderStatus::New) {
      books_[partner->symbol].venue->cancel(partner->order.id);
    }
  }
}

bridge::PositionsMsg Terminal::positions() const {
  bridge::PositionsMsg p;
  for (const Book& b : books_) p.positions.push_back({b.spec.symbol, b.position.qty, b.position.avg_price});
  for (const Record& r : records_) {
    if (!r.known_symbol || !r.order.is_open() || r.order.status == OrderStatus::New) continue;
    bridge::OpenOrder o;
    o.cl_ord_id = r.cl_ord_id;
    o.symbol = books_[r.symbol].spec.symbol;
    o.side = r.order.side;
    o.type = r.order.type;
    o.qty = r.order.qty;
    o.cum_qty = r.order.filled_qty;
    o.price = r.order.limit_price;
    o.stop_price = r.order.stop_price;
    p.orders.push_back(o);
  }
  return p;
}

}  // namespace quant::replay
