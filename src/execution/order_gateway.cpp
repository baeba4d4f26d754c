#include "execution/order_gateway.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "engine/session_clock.h"
#include "features/atr.h"

namespace quant::execution {
namespace {

bool positive_finite(double x) { return std::isfinite(x) && x > 0; }

/// The shortest text that reads back as the same double (for messages).
std::string number(double x) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, x);
  return std::string(text, result.ptr);
}

GatewayError invalid(std::string message, std::string field) {
  return GatewayError{GatewayError::Kind::Invalid, std::move(message), std::move(field)};
}

constexpr std::size_t side_index(Side side) { return side == Side::Buy ? 0 : 1; }

}  // namespace

/// Everything the gateway keeps for one symbol.
struct OrderGateway::Book {
  explicit Book(SymbolConfig config)
      : spec(std::move(config.spec)),
        grid(spec.tick_size),
        session(spec, std::move(config.zone)),
        risk(config.risk, spec),
        atr(config.atr_period) {
    if (config.venue == nullptr) {
      paper = std::make_unique<PaperVenue>(spec, config.paper);
      venue = paper.get();
    } else {
      venue = config.venue;
    }
  }

  InstrumentSpec spec;
  TickGrid grid;
  engine::SessionClock session;
  risk::RiskEngine risk;
  features::WilderAtr atr;
  std::unique_ptr<PaperVenue> paper;  ///< set when the gateway owns the venue
  engine::ExecutionVenue* venue = nullptr;

  bool ready = false;    ///< a bar has been seen
  std::int64_t day = 0;  ///< trading day of the last bar
  Timestamp last_bar{};  ///< start of the last bar
  double last_close = 0;

  Position position;
  double realized_money = 0, fees = 0;
  OrderId stop_order = 0;     ///< the protective stop, 0 = none
  OrderId flatten_order = 0;  ///< a working flatten, 0 = none

  /// The latest sizing of an order that opens or adds on each side (buy, sell):
  /// used when another order's fill opens that side (see after_fill).
  struct Plan {
    bool set = false;
    risk::EntryDecision decision;
    double price = 0;  ///< the price it was checked at
  };
  Plan plan[2];

  double atr_now() const { return atr.ready() ? atr.value() : 0; }
  /// Before any bar the position (only an early fill of a remote venue) is marked at its cost.
  double mark() const { return ready ? last_close : position.avg_price; }
};

Expected<void> validate(const GatewayConfig& config) {
  if (!positive_finite(config.initial_equity)) return make_error("execution.initial_equity must be finite and > 0");
  if (config.symbols.empty()) return make_error("execution.symbols must configure at least one symbol");
  for (std::size_t i = 0; i < config.symbols.size(); ++i) {
    const SymbolConfig& s = config.symbols[i];
    const std::string where = "execution.symbols[" + std::to_string(i) + "]";
    if (s.spec.symbol.empty()) return make_error(where + ".symbol must not be empty");
    for (std::size_t j = 0; j < i; ++j) {
      if (config.symbols[j].spec.symbol == s.spec.symbol) {
        return make_error(where + ".symbol " + s.spec.symbol + " is configured twice");
      }
    }
    if (!positive_finite(s.spec.tick_size)) return make_error(where + ".tick_size must be finite and > 0");
    if (!positive_finite(s.spec.point_value)) return make_error(where + ".point_value must be finite and > 0");
    if (auto checked = risk::validate(s.risk); !checked) return make_error(where + ": " + checked.error().message);
    if (s.atr_period < 1) return make_error(where + ".atr_period must be >= 1");
    if (s.paper.slippage_ticks < 0) return make_error(where + ".paper.slippage_ticks must be >= 0");
    if (!std::isfinite(s.paper.participation) || s.paper.participation < 0 || s.paper.participation > 1) {
      return make_error(where + ".paper.participation must be in [0, 1] (0 = fill everything)");
    }
  }
  return {};
}

OrderGateway::OrderGateway(GatewayConfig config, const engine::Clock& clock)
    : initial_equity_(config.initial_equity), clock_(clock) {
  QUANT_CHECK(validate(config).has_value());
  books_.reserve(config.symbols.size());
  for (SymbolConfig& symbol : config.symbols) {
    books_.push_back(std::make_unique<Book>(std::move(symbol)));
    books_.back()->venue->set_listener(this);
  }
}

OrderGateway::~OrderGateway() {
  // A venue we do not own outlives us: it must not report to a dead listener.
  for (auto& book : books_) {
    if (!book->paper) book->venue->set_listener(nullptr);
  }
}

std::size_t OrderGateway::index_of(const std::string& symbol) const {
  std::size_t i = 0;
  while (i < books_.size() && books_[i]->spec.symbol != symbol) ++i;
  return i;
}

const OrderGateway::Book* OrderGateway::find_book(const std::string& symbol) const {
  const std::size_t i = index_of(symbol);
  return i == books_.size() ? nullptr : books_[i].get();
}

Order& OrderGateway::order_of(Sent& sent) { return sent.client != nullptr ? sent.client->order : sent.own; }

// ---- submit ----

std::optional<GatewayError> OrderGateway::check_fields(const OrderRequest& request, const Book& book) const {
  if (request.qty < 1) return invalid("qty must be an integer >= 1 (contracts)", "qty");
  auto on_grid = [&](double price) { return positive_finite(price) && book.grid.on_grid(price); };
  auto needs = [&](const char* what, const char* field, double price) {
    return invalid(std::string(what) + " needs " + field + " > 0 on the tick grid of " + number(book.spec.tick_size) +
                       (price == 0 ? std::string(" (none given)") : " (got " + number(price) + ")"),
                   field);
  };
  const GatewayError no_price = invalid("price is only for limit orders", "price");
  const GatewayError no_stop = invalid("stop_price is only for stop orders", "stop_price");
  switch (request.type) {
    case OrderType::Market:
      if (request.price != 0) return no_price;
      if (request.stop_price != 0) return no_stop;
      break;
    case OrderType::Limit:
      if (!on_grid(request.price)) return needs("a limit order", "price", request.price);
      if (request.stop_price != 0) return no_stop;
      break;
    case OrderType::Stop:
      if (request.price != 0) return no_price;
      if (!on_grid(request.stop_price)) return needs("a stop order", "stop_price", request.stop_price);
      break;
    default:
      return invalid("type must be market, limit or stop", "type");
  }
  if (request.tif != TimeInForce::Day && request.tif != TimeInForce::Gtc && request.tif != TimeInForce::Ioc) {
    return invalid("tif must be day, gtc or ioc", "tif");
  }
  return std::nullopt;
}

std::int64_t OrderGateway::working_client_qty(std::size_t book, Side side) const {
  std::int64_t qty = 0;
  for (const auto& [id, sent] : open_) {
    if (sent.book == book && sent.client != nullptr && sent.client->order.side == side) {
      qty += sent.client->order.remaining_qty();
    }
  }
  return qty;
}

tl::expected<OrderReply, GatewayError> OrderGateway::submit(const OrderRequest& request) {
  if (!valid_client_order_id(request.client_order_id)) {
    return tl::unexpected(invalid("client_order_id must be 1-64 characters of A-Z a-z 0-9 . _ : -", "client_order_id"));
  }
  if (auto seen = client_orders_.find(request.client_order_id); seen != client_orders_.end()) {
    if (!(seen->second.request == request)) {
      return tl::unexpected(GatewayError{
          GatewayError::Kind::Conflict,
          "client_order_id " + request.client_order_id + " was already used for a different order", "client_order_id"});
    }
    OrderReply reply = reply_of(seen->second);
    reply.replayed = true;
    return reply;
  }
  const std::size_t index = index_of(request.symbol);
  if (index == books_.size()) {
    std::string known;
    for (const auto& book : books_) known += (known.empty() ? "" : " ") + book->spec.symbol;
    return tl::unexpected(GatewayError{GatewayError::Kind::UnknownSymbol,
                                       "unknown symbol " + request.symbol + " (configured: " + known + ")", "symbol"});
  }
  Book& book = *books_[index];
  if (auto bad = check_fields(request, book)) return tl::unexpected(std::move(*bad));
  if (!book.ready) {
    return tl::unexpected(GatewayError{GatewayError::Kind::NotReady, "no price yet for " + request.symbol, ""});
  }

  const Timestamp now = clock_.now();
  double reference = book.last_close;
  if (request.type == OrderType::Limit) reference = request.price;
  if (request.type == OrderType::Stop) reference = request.stop_price;
  // Working client orders on this side count as filled: for a buy that is the
  // most long (or least short) the account can end up, and likewise for a sell,
  // so no combination of fills exceeds the risk limit or reverses a position.
  const std::int64_t position = book.position.qty + sign(request.side) * working_client_qty(index, request.side);
  const risk::OrderCheck check{now, request.side, request.qty, reference, book.atr_now(), equity(), position};

  ClientOrder& client = client_orders_[request.client_order_id];
  client.request = request;
  client.book = index;
  client.decision = book.risk.check_order(check);
  client.reference_price = reference;
  drain_risk_events(book);

  const bool reduces = position * sign(request.side) < 0;
  Order& order = client.order;
  order.side = request.side;
  order.type = request.type;
  order.tif = request.tif;
  order.purpose = reduces ? OrderPurpose::Exit : OrderPurpose::Entry;
  order.qty = client.decision.qty;
  order.limit_price = request.type == OrderType::Limit ? request.price : 0;
  order.stop_price = request.type == OrderType::Stop ? request.stop_price : 0;
  order.created = now;
  order.updated = now;
  // Every stored order gets an id (the contract's order_id is >= 1), also one
  // the risk engine rejected and no venue ever sees.
  order.id = next_id_++;
  if (client.decision.decision == risk::Decision::Rejected) {
    apply_event(order, OrderEvent::Reject, now);
    client.reject_reason = client.decision.reason;
    return reply_of(client);
  }
  if (!reduces) book.plan[side_index(request.side)] = Book::Plan{true, client.decision, reference};
  open_.emplace(order.id, Sent{index, &client, Order{}});
  const Order copy = order;  // the venue reports back (editing `order`) while it submits
  book.venue->submit(copy);
  return reply_of(client);
}

OrderReply OrderGateway::reply_of(const ClientOrder& client) const {
  OrderReply reply;
  reply.client_order_id = client.request.client_order_id;
  reply.order_id = client.order.id;
  reply.symbol = client.request.symbol;
  reply.side = client.request.side;
  reply.type = client.request.type;
  reply.tif = client.request.tif;
  reply.requested_qty = client.request.qty;
  reply.qty = client.decision.qty;
  reply.price = client.request.price;
  reply.stop_price = client.request.stop_price;
  reply.status = client.order.status;
  reply.filled_qty = client.order.filled_qty;
  reply.avg_fill_price = client.order.avg_fill_price;
  reply.decision = client.decision.decision;
  reply.risk_reason = client.decision.reason;
  reply.risk_stop_price = client.decision.stop_price;
  reply.reject_reason = client.reject_reason;
  reply.created = client.order.created;
  reply.updated = client.order.updated;
  return reply;
}

// ---- bars ----

void OrderGateway::on_bar(const std::string& symbol, const Bar& bar) {
  const std::size_t index = index_of(symbol);
  if (index == books_.size()) return;
  Book& book = *books_[index];
  if (book.ready && bar.ts <= book.last_bar) return;  // a repeated or late bar would fill orders twice

  const engine::SessionPosition where = book.session.locate(bar.ts);
  if (!book.ready) {
    book.day = where.day;
    book.risk.on_session_start(bar.ts, equity());
  } else if (where.day != book.day) {
    book.day = where.day;
    book.venue->end_of_session(bar.ts);
    book.risk.on_session_start(bar.ts, equity());
  }

  if (book.paper) book.paper->on_bar(bar);

  book.atr.update(bar);
  book.last_close = bar.close;
  book.last_bar = bar.ts;
  book.ready = true;
  const double account = equity();

  // A pending flatten has withdrawn the stop: nothing to trail.
  if (book.position.qty != 0 && book.flatten_order == 0 && book.risk.update_stop(bar, book.atr_now()) &&
      book.stop_order != 0) {
    book.venue->replace_stop(book.stop_order, book.risk.position().stop_price);
  }
  const Timestamp close_time = bar.ts + kMinute;
  if (book.risk.check_breaker(close_time, account)) halt_account(index, close_time, account);
  drain_risk_events(book);
  refresh_halt();
}

void OrderGateway::halt_account(std::size_t index, Timestamp ts, double equity) {
  Book& tripped = *books_[index];
  std::string reason = "daily loss limit";
  for (const risk::RiskEvent& e : tripped.risk.events()) {
    if (e.kind == risk::RiskEventKind::Halted) reason = e.reason;
  }
  halt_ = AccountHalt{true, tripped.spec.symbol, reason, ts, equity};
  const std::string note = "account halted by the " + tripped.spec.symbol + " daily loss limit: " + reason;
  for (std::size_t i = 0; i < books_.size(); ++i) {
    books_[i]->risk.halt(ts, equity, note);  // no-op where the breaker itself tripped
    cancel_client_orders(i, false, 0, "cancelled: the daily loss limit halted the account");
    flatten(i, ts);
    drain_risk_events(*books_[i]);
  }
}

void OrderGateway::refresh_halt() {
  const bool any = std::any_of(books_.begin(), books_.end(), [](const auto& b) { return b->risk.halted(); });
  if (!any) halt_ = AccountHalt{};
}

void OrderGateway::drain_risk_events(Book& book) {
  if (book.risk.events().empty()) return;
  for (risk::RiskEvent& e : book.risk.take_events()) risk_events_.push_back({book.spec.symbol, std::move(e)});
}

// ---- the gateway's own orders ----

void OrderGateway::send_own(std::size_t index, Side side, OrderType type, OrderPurpose purpose, std::int64_t qty,
                            double stop_price, Timestamp ts, OrderId& slot) {
  Order order;
  order.id = next_id_++;
  order.side = side;
  order.type = type;
  // Protective and flatten orders live until the position is flat (the gateway
  // cancels them), not until the session ends.
  order.tif = TimeInForce::Gtc;
  order.purpose = purpose;
  order.qty = qty;
  order.stop_price = stop_price;
  order.created = ts;
  order.updated = ts;
  slot = order.id;  // before submit: the venue may report back at once
  open_.emplace(order.id, Sent{index, nullptr, order});
  books_[index]->venue->submit(order);
}

void OrderGateway::cancel_stop(Book& book) {
  if (book.stop_order == 0) return;
  const OrderId id = book.stop_order;
  book.stop_order = 0;  // a remote venue confirms later; a fill meanwhile still counts
  book.venue->cancel(id);
}

void OrderGateway::sync_stop(std::size_t index, Timestamp ts) {
  Book& book = *books_[index];
  const std::int64_t qty = std::llabs(book.position.qty);
  if (qty == 0 || book.flatten_order != 0 || !book.risk.position().open) {
    cancel_stop(book);
    return;
  }
  const Side side = book.position.qty > 0 ? Side::Sell : Side::Buy;
  const double price = book.risk.position().stop_price;
  if (auto it = open_.find(book.stop_order); book.stop_order != 0 && it != open_.end()) {
    const Order& stop = it->second.own;
    if (stop.side == side && stop.remaining_qty() == qty) {
      if (std::fabs(stop.stop_price - price) >= 0.5 * book.grid.tick_size()) book.venue->replace_stop(stop.id, price);
      return;
    }
  }
  // A different size (or side): cancel and place anew, one stop for the whole position.
  cancel_stop(book);
  send_own(index, side, OrderType::Stop, OrderPurpose::StopLoss, qty, price, ts, book.stop_order);
}

void OrderGateway::flatten(std::size_t index, Timestamp ts) {
  Book& book = *books_[index];
  if (book.flatten_order != 0) return;
  cancel_stop(book);  // the flatten covers the position; both filling would reverse it
  if (book.position.qty == 0) return;
  const Side side = book.position.qty > 0 ? Side::Sell : Side::Buy;
  send_own(index, side, OrderType::Market, OrderPurpose::Flatten, std::llabs(book.position.qty), 0, ts,
           book.flatten_order);
}

void OrderGateway::cancel_client_orders(std::size_t index, bool exits_only, std::int64_t keep_qty,
                                        const std::string& reason) {
  // Newest first, so the orders kept are the oldest. Collected before
  // cancelling: a cancel reports back at once and edits open_.
  std::vector<std::pair<OrderId, std::int64_t>> orders;
  std::int64_t total = 0;
  for (const auto& [id, sent] : open_) {
    if (sent.book != index || sent.client == nullptr) continue;
    if (exits_only && sent.client->order.purpose != OrderPurpose::Exit) continue;
    orders.emplace_back(id, sent.client->order.remaining_qty());
    total += orders.back().second;
  }
  std::sort(orders.begin(), orders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [id, remaining] : orders) {
    if (total <= keep_qty) break;
    total -= remaining;
    auto it = open_.find(id);
    if (it == open_.end()) continue;
    it->second.client->cancel_reason = reason;
    books_[index]->venue->cancel(id);
  }
}

// ---- venue reports ----

void OrderGateway::forget(std::unordered_map<OrderId, Sent>::iterator it) {
  Book& book = *books_[it->second.book];
  if (book.stop_order == it->first) book.stop_order = 0;
  if (book.flatten_order == it->first) book.flatten_order = 0;
  open_.erase(it);
}

void OrderGateway::on_accepted(OrderId id, Timestamp ts) {
  auto it = open_.find(id);
  if (it == open_.end()) return;  // not ours, or already done: a late report
  Order& order = order_of(it->second);
  if (apply_event(order, OrderEvent::Accept, ts)) order.updated = ts;
}

void OrderGateway::on_rejected(OrderId id, Timestamp ts, std::string_view reason) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  Order& order = order_of(it->second);
  // A reject after the accept (e.g. a cancel/replace refused) still ends the order at the venue.
  if (!apply_event(order, OrderEvent::Reject, ts)) apply_event(order, OrderEvent::Cancel, ts);
  order.updated = ts;
  if (ClientOrder* client = it->second.client) client->reject_reason = "rejected by the venue: " + std::string(reason);
  forget(it);
}

void OrderGateway::on_cancelled(OrderId id, Timestamp ts) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  Order& order = order_of(it->second);
  apply_event(order, OrderEvent::Cancel, ts);
  order.updated = ts;
  if (ClientOrder* client = it->second.client) {
    if (!client->cancel_reason.empty()) {
      client->reject_reason = client->cancel_reason;
    } else if (order.tif == TimeInForce::Ioc) {
      client->reject_reason = "IOC: not filled by the first bar after it";
    } else {
      client->reject_reason = "cancelled by the venue";
    }
  }
  forget(it);
}

void OrderGateway::on_expired(OrderId id, Timestamp ts) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  Order& order = order_of(it->second);
  apply_event(order, OrderEvent::Expire, ts);
  order.updated = ts;
  if (ClientOrder* client = it->second.client) client->reject_reason = "expired: a day order ends with its session";
  forget(it);
}

void OrderGateway::on_replaced(OrderId id, Timestamp ts, double new_stop_price) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  Order& order = order_of(it->second);
  order.stop_price = new_stop_price;
  order.updated = ts;
}

void OrderGateway::on_fill(const Fill& fill) {
  auto it = open_.find(fill.order_id);
  if (it == open_.end()) return;  // not ours, or a duplicate report after the order ended
  const std::size_t index = it->second.book;
  Book& book = *books_[index];
  ClientOrder* client = it->second.client;
  Order& order = order_of(it->second);
  // A fill implies the accept a remote venue may not have reported yet. A fill
  // the order cannot take (over-fill) still moves the position: the venue traded.
  if (order.status == OrderStatus::New) apply_event(order, OrderEvent::Accept, fill.ts);
  apply_fill(order, fill.qty, fill.price, fill.ts);
  const OrderPurpose purpose = order.purpose;
  if (!order.is_open()) forget(it);

  const std::int64_t before = book.position.qty;
  book.fees += fill.fee;
  book.realized_money += book.position.apply(fill.side, fill.qty, fill.price) * book.spec.point_value;
  after_fill(index, before, fill, client, purpose);
}

void OrderGateway::after_fill(std::size_t index, std::int64_t before, const Fill& fill, const ClientOrder* client,
                              OrderPurpose purpose) {
  Book& book = *books_[index];
  const std::int64_t after = book.position.qty;
  if (after == before) return;
  const bool own_order = purpose == OrderPurpose::StopLoss || purpose == OrderPurpose::Flatten;
  const bool flipped = before != 0 && after != 0 && (before > 0) != (after > 0);
  const bool opened = after != 0 && (flipped || std::llabs(after) > std::llabs(before));

  if (after == 0 || flipped) {
    book.risk.on_position_closed();
  } else if (!opened) {
    book.risk.on_position_reduced(std::llabs(after));
  }
  if (opened) {
    const Side side = after > 0 ? Side::Buy : Side::Sell;
    // The sizing that allowed this side: the filling order's own, else the
    // latest one on that side (a reducing order that fills after an opening
    // one on the same side has already taken the position through zero).
    Book::Plan plan;
    if (client != nullptr && client->order.purpose == OrderPurpose::Entry && client->order.side == side) {
      plan = Book::Plan{true, client->decision, client->reference_price};
    } else if (!own_order) {
      plan = book.plan[side_index(side)];
    }
    if (plan.set) {
      // Keep the sized distances around the real fill price, so the risk at the
      // stop stays what the risk engine accepted (as Engine::on_fill does).
      const risk::EntryDecision placed = book.risk.anchored_to_fill(plan.decision, plan.price, fill.price);
      book.risk.on_entry_filled(side, std::llabs(after), book.position.avg_price, placed);
    } else {
      // Nothing sized this side (the stop or a flatten overshot through a
      // remote venue's race): do not carry an unsized position.
      flatten(index, fill.ts);
    }
  }
  if (own_order) {
    // Client exits beyond what is left would now open the other side unsized.
    cancel_client_orders(index, true, std::llabs(after),
                         purpose == OrderPurpose::StopLoss
                             ? "cancelled: the protective stop closed the position it was to reduce"
                             : "cancelled: the gateway flattened the position it was to reduce");
  }
  sync_stop(index, fill.ts);
}

// ---- queries ----

std::optional<OrderReply> OrderGateway::find(const std::string& client_order_id) const {
  auto it = client_orders_.find(client_order_id);
  if (it == client_orders_.end()) return std::nullopt;
  return reply_of(it->second);
}

double OrderGateway::equity() const {
  double equity = initial_equity_;
  for (const auto& book : books_) {
    equity += book->realized_money - book->fees + book->position.open_points(book->mark()) * book->spec.point_value;
  }
  return equity;
}

std::int64_t OrderGateway::position(const std::string& symbol) const {
  const Book* book = find_book(symbol);
  return book == nullptr ? 0 : book->position.qty;
}

std::vector<std::string> OrderGateway::symbols() const {
  std::vector<std::string> out;
  out.reserve(books_.size());
  for (const auto& book : books_) out.push_back(book->spec.symbol);
  return out;
}

bool OrderGateway::ready(const std::string& symbol) const {
  const Book* book = find_book(symbol);
  return book != nullptr && book->ready;
}

std::optional<Order> OrderGateway::protective_stop(const std::string& symbol) const {
  const Book* book = find_book(symbol);
  if (book == nullptr || book->stop_order == 0) return std::nullopt;
  auto it = open_.find(book->stop_order);
  if (it == open_.end()) return std::nullopt;
  return it->second.own;
}

}  // namespace quant::execution
