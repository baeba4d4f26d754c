#include "execution/order_gateway.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

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

/// 1–32 of a-z 0-9 _ : an order's reason ends up in trades.csv and the audit log.
bool valid_reason(std::string_view reason) {
  if (reason.empty() || reason.size() > 32) return false;
  return std::all_of(reason.begin(), reason.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

/// Everything the gateway keeps for one symbol besides its book.
struct OrderGateway::Symbol {
  explicit Symbol(const SymbolConfig& config) : spec(config.spec), grid(config.spec.tick_size), atr(config.atr_period) {
    if (config.venue == nullptr) {
      paper = std::make_unique<PaperVenue>(spec, config.paper);
      venue = paper.get();
    } else {
      venue = config.venue;
    }
  }

  InstrumentSpec spec;
  TickGrid grid;
  features::WilderAtr atr;
  std::unique_ptr<PaperVenue> paper;  ///< set when the gateway owns the venue
  engine::ExecutionVenue* venue = nullptr;
  std::unique_ptr<Relay> relay;
  engine::TradingBook* book = nullptr;

  double atr_now() const { return atr.ready() ? atr.value() : 0; }
};

/// The observer of one symbol's book: keeps client order state current and
/// passes everything on, with the symbol, to the gateway's observer.
class OrderGateway::Relay final : public engine::EngineObserver {
 public:
  Relay(OrderGateway& gateway, std::string symbol) : gateway_(gateway), symbol_(std::move(symbol)) {}
  void on_trade(const engine::TradeRecord& trade) override {
    if (gateway_.observer_) gateway_.observer_->on_trade(symbol_, trade);
  }
  void on_order_done(const Order& order, std::string_view reason, std::string_view note) override {
    gateway_.order_done(order, note);
    if (gateway_.observer_) gateway_.observer_->on_order_done(symbol_, order, reason, note);
  }
  void on_risk_event(const risk::RiskEvent& event) override {
    if (gateway_.observer_) gateway_.observer_->on_risk_event(symbol_, event);
  }
  void on_decision(const engine::DecisionRecord& decision) override {
    if (gateway_.observer_) gateway_.observer_->on_decision(symbol_, decision);
  }
  void on_day(const engine::DayRecord& day) override {
    if (gateway_.observer_) gateway_.observer_->on_day(symbol_, day);
  }

 private:
  OrderGateway& gateway_;
  std::string symbol_;
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
    if (s.session.flatten_minutes_before_close < 0 || s.session.no_entry_minutes_before_close < 0) {
      return make_error(where + ".session minutes before the close must be >= 0");
    }
    if (s.paper.slippage_ticks < 0) return make_error(where + ".paper.slippage_ticks must be >= 0");
    if (!std::isfinite(s.paper.participation) || s.paper.participation < 0 || s.paper.participation > 1) {
      return make_error(where + ".paper.participation must be in [0, 1] (0 = fill everything)");
    }
  }
  return {};
}

OrderGateway::OrderGateway(const GatewayConfig& config, const engine::Clock& clock, GatewayObserver* observer)
    : clock_(clock), observer_(observer), account_(config.initial_equity) {
  QUANT_CHECK(validate(config).has_value());
  symbols_.reserve(config.symbols.size());
  for (const SymbolConfig& sc : config.symbols) {
    auto symbol = std::make_unique<Symbol>(sc);
    symbol->relay = std::make_unique<Relay>(*this, sc.spec.symbol);
    engine::BookConfig bc;
    bc.spec = sc.spec;
    bc.zone = sc.zone;
    bc.rules = sc.session;
    bc.risk = sc.risk;
    // The risk engine sizes with what a stop-out costs at this venue.
    bc.costs = costs_of(sc.spec, sc.paper.slippage_ticks);
    symbol->book = &account_.open_book(std::move(bc), *symbol->venue, *symbol->relay);
    symbols_.push_back(std::move(symbol));
  }
}

OrderGateway::~OrderGateway() {
  // A venue we do not own outlives us: it must not report to a dead book.
  for (auto& symbol : symbols_) {
    if (!symbol->paper) symbol->venue->set_listener(nullptr);
  }
}

std::size_t OrderGateway::index_of(const std::string& symbol) const {
  std::size_t i = 0;
  while (i < symbols_.size() && symbols_[i]->spec.symbol != symbol) ++i;
  return i;
}

// ---- submit ----

std::optional<GatewayError> OrderGateway::check_fields(const OrderRequest& request, const Symbol& symbol) const {
  if (request.qty < 1) return invalid("qty must be an integer >= 1 (contracts)", "qty");
  auto on_grid = [&](double price) { return positive_finite(price) && symbol.grid.on_grid(price); };
  auto needs = [&](const char* what, const char* field, double price) {
    return invalid(std::string(what) + " needs " + field + " > 0 on the tick grid of " + number(symbol.spec.tick_size) +
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
    default: return invalid("type must be market, limit or stop", "type");
  }
  if (request.tif != TimeInForce::Day && request.tif != TimeInForce::Gtc && request.tif != TimeInForce::Ioc) {
    return invalid("tif must be day, gtc or ioc", "tif");
  }
  return std::nullopt;
}

tl::expected<OrderReply, GatewayError> OrderGateway::submit(const OrderRequest& request) {
  if (!valid_client_order_id(request.client_order_id)) {
    return tl::unexpected(invalid("client_order_id must be 1-64 characters of A-Z a-z 0-9 . _ : -", "client_order_id"));
  }
  if (!request.reason.empty() && !valid_reason(request.reason)) {
    return tl::unexpected(invalid("reason must be 1-32 characters of a-z 0-9 _", "reason"));
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
  if (index == symbols_.size()) {
    std::string known;
    for (const auto& symbol : symbols_) known += (known.empty() ? "" : " ") + symbol->spec.symbol;
    return tl::unexpected(GatewayError{GatewayError::Kind::UnknownSymbol,
                                       "unknown symbol " + request.symbol + " (configured: " + known + ")", "symbol"});
  }
  Symbol& symbol = *symbols_[index];
  engine::TradingBook& book = *symbol.book;
  if (auto bad = check_fields(request, symbol)) return tl::unexpected(std::move(*bad));
  if (!book.ready()) {
    return tl::unexpected(GatewayError{GatewayError::Kind::NotReady, "no price yet for " + request.symbol, ""});
  }

  const Timestamp now = clock_.now();
  double reference = book.last_close();
  if (request.type == OrderType::Limit) reference = request.price;
  if (request.type == OrderType::Stop) reference = request.stop_price;
  // Working client orders on this side count as filled: for a buy that is the
  // most long (or least short) the account can end up, and likewise for a sell,
  // so no combination of fills exceeds the risk limit or reverses a position.
  const std::int64_t working =
      book.working_qty(request.side, OrderPurpose::Entry) + book.working_qty(request.side, OrderPurpose::Exit);
  const std::int64_t position = book.position_qty() + sign(request.side) * working;
  const bool reduces = position * sign(request.side) < 0;

  ClientOrder& client = client_orders_[request.client_order_id];
  client.request = request;
  client.symbol = index;
  client.reference_price = reference;
  client.created = now;
  client.id = account_.next_order_id();
  if (!reduces && *book.entry_block() != '\0') {
    // The session rules a strategy's entries obey apply to a client's too.
    client.decision.reason = std::string("session: ") + book.entry_block();
  } else {
    const risk::OrderCheck check{now, request.side, request.qty, reference, symbol.atr_now(), equity(), position};
    client.decision = book.risk()->check_order(check);
    book.flush_events();
  }

  if (client.decision.decision == risk::Decision::Rejected) {
    Order order;
    order.id = client.id;
    order.side = request.side;
    order.type = request.type;
    order.tif = request.tif;
    order.purpose = reduces ? OrderPurpose::Exit : OrderPurpose::Entry;
    order.limit_price = request.type == OrderType::Limit ? request.price : 0;
    order.stop_price = request.type == OrderType::Stop ? request.stop_price : 0;
    order.created = now;
    order.updated = now;
    apply_event(order, OrderEvent::Reject, now);
    client.final_order = order;
    client.reject_reason = client.decision.reason;
    OrderReply reply = reply_of(client);
    if (observer_) observer_->on_order(reply);
    return reply;
  }

  engine::OrderIntent intent;
  intent.side = request.side;
  intent.type = request.type;
  intent.tif = request.tif;
  intent.purpose = reduces ? OrderPurpose::Exit : OrderPurpose::Entry;
  intent.qty = client.decision.qty;
  intent.limit_price = request.type == OrderType::Limit ? request.price : 0;
  intent.stop_price = request.type == OrderType::Stop ? request.stop_price : 0;
  intent.ts = now;
  intent.reason = !request.reason.empty() ? request.reason : reduces ? "client_exit" : "client_entry";
  if (!reduces) intent.plan = engine::EntryPlan{client.decision, reference};
  // The id reserved above: the client order is known before the venue reports back.
  intent.id = client.id;
  working_[client.id] = &client;
  book.submit(std::move(intent));
  OrderReply reply = reply_of(client);
  if (observer_) observer_->on_order(reply);
  return reply;
}

void OrderGateway::order_done(const Order& order, std::string_view note) {
  auto it = working_.find(order.id);
  if (it == working_.end()) return;  // the book's own order (stop, target, flatten)
  ClientOrder& client = *it->second;
  client.final_order = order;
  client.reject_reason = std::string(note);
  working_.erase(it);
  if (observer_) observer_->on_order(reply_of(client));
}

OrderReply OrderGateway::reply_of(const ClientOrder& client) const {
  OrderReply reply;
  reply.client_order_id = client.request.client_order_id;
  reply.order_id = client.id;
  reply.symbol = client.request.symbol;
  reply.side = client.request.side;
  reply.type = client.request.type;
  reply.tif = client.request.tif;
  reply.reason = client.request.reason;
  reply.requested_qty = client.request.qty;
  reply.qty = client.decision.qty;
  reply.price = client.request.price;
  reply.stop_price = client.request.stop_price;
  const Order* order =
      client.final_order ? &*client.final_order : symbols_[client.symbol]->book->working_order(client.id);
  if (order != nullptr) {
    reply.status = order->status;
    reply.filled_qty = order->filled_qty;
    reply.avg_fill_price = order->avg_fill_price;
    reply.updated = order->updated;
  }
  reply.decision = client.decision.decision;
  reply.risk_reason = client.decision.reason;
  reply.risk_stop_price = client.decision.stop_price;
  reply.risk_target_price = client.decision.target_price;
  reply.reject_reason = client.reject_reason;
  reply.created = client.created;
  return reply;
}

// ---- bars ----

void OrderGateway::on_bar(const std::string& symbol, const Bar& bar) {
  const std::size_t index = index_of(symbol);
  if (index == symbols_.size()) return;
  Symbol& state = *symbols_[index];
  engine::TradingBook& book = *state.book;
  if (book.ready() && bar.ts <= book.last_bar()) return;  // a repeated or late bar would fill orders twice

  book.start_bar(bar);
  if (state.paper) state.paper->on_bar(bar);
  state.atr.update(bar);
  book.close_bar(bar, state.atr_now());
  book.flush_events();
}

void OrderGateway::finish() {
  for (auto& symbol : symbols_) symbol->book->finish();
}

// ---- queries ----

std::optional<OrderReply> OrderGateway::find(const std::string& client_order_id) const {
  auto it = client_orders_.find(client_order_id);
  if (it == client_orders_.end()) return std::nullopt;
  return reply_of(it->second);
}

std::int64_t OrderGateway::position(const std::string& symbol) const {
  const engine::TradingBook* book = account_.find(symbol);
  return book == nullptr ? 0 : book->position_qty();
}

std::vector<std::string> OrderGateway::symbols() const {
  std::vector<std::string> out;
  out.reserve(symbols_.size());
  for (const auto& symbol : symbols_) out.push_back(symbol->spec.symbol);
  return out;
}

bool OrderGateway::ready(const std::string& symbol) const {
  const engine::TradingBook* book = account_.find(symbol);
  return book != nullptr && book->ready();
}

std::optional<Order> OrderGateway::protective_stop(const std::string& symbol) const {
  const engine::TradingBook* book = account_.find(symbol);
  return book == nullptr ? std::nullopt : book->protective_stop();
}

std::optional<Order> OrderGateway::protective_target(const std::string& symbol) const {
  const engine::TradingBook* book = account_.find(symbol);
  return book == nullptr ? std::nullopt : book->protective_target();
}

}  // namespace quant::execution
