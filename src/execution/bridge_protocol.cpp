#include "execution/bridge_protocol.h"

#include <cmath>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

namespace quant::execution::bridge {

namespace {

// ordered_json keeps the wire order (type, seq, t_ms first; `resume` in the
// order it was given), so a round trip gives back the same vector.
using Json = nlohmann::ordered_json;

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNsPerS = 1'000'000'000;
// Beyond these a time would overflow the nanosecond Timestamp.
constexpr std::int64_t kMaxMs = std::numeric_limits<std::int64_t>::max() / kNsPerMs;
constexpr std::int64_t kMaxS = std::numeric_limits<std::int64_t>::max() / kNsPerS;

// ---- enum tables (lowercase snake strings on the wire) ----

template <class E>
struct Name {
  E value;
  std::string_view text;
};

constexpr Name<Side> kSides[] = {{Side::Buy, "buy"}, {Side::Sell, "sell"}};
constexpr Name<OrderType> kOrderTypes[] = {{OrderType::Market, "market"},
                                           {OrderType::Limit, "limit"},
                                           {OrderType::Stop, "stop"},
                                           {OrderType::StopLimit, "stop_limit"}};
constexpr Name<TimeInForce> kTifs[] = {{TimeInForce::Day, "day"}, {TimeInForce::Gtc, "gtc"}, {TimeInForce::Ioc, "ioc"}};
// Not core's to_string(OrderPurpose): that says "stop", the wire says "stop_loss".
constexpr Name<OrderPurpose> kPurposes[] = {{OrderPurpose::Entry, "entry"},
                                            {OrderPurpose::Exit, "exit"},
                                            {OrderPurpose::StopLoss, "stop_loss"},
                                            {OrderPurpose::Target, "target"},
                                            {OrderPurpose::Flatten, "flatten"}};
constexpr Name<ExecType> kExecTypes[] = {{ExecType::New, "new"},           {ExecType::Rejected, "rejected"},
                                         {ExecType::Canceled, "canceled"}, {ExecType::Replaced, "replaced"},
                                         {ExecType::Expired, "expired"},   {ExecType::Trade, "trade"}};
constexpr Name<OrdStatus> kOrdStatuses[] = {
    {OrdStatus::New, "new"},           {OrdStatus::PartiallyFilled, "partially_filled"},
    {OrdStatus::Filled, "filled"},     {OrdStatus::Canceled, "canceled"},
    {OrdStatus::Replaced, "replaced"}, {OrdStatus::Rejected, "rejected"},
    {OrdStatus::Expired, "expired"}};

template <class E, std::size_t N>
std::string_view name_of(const Name<E> (&table)[N], E value) {
  for (const auto& n : table)
    if (n.value == value) return n.text;
  return "?";
}

template <class E, std::size_t N>
std::string choices(const Name<E> (&table)[N]) {
  std::string out;
  for (const auto& n : table) out += (out.empty() ? "" : ", ") + std::string(n.text);
  return out;
}

// ---- encoding ----

// An integral price is written without ".0" (as the contract's examples show);
// both forms read back to the same double.
Json number(double x) {
  if (std::isfinite(x) && x == std::trunc(x) && std::fabs(x) < 9007199254740992.0 && !(x == 0 && std::signbit(x)))
    return Json(static_cast<std::int64_t>(x));
  return Json(x);
}

// NaN (absent) prices are written as null.
Json optional_price(double x) { return std::isnan(x) ? Json(nullptr) : number(x); }

std::int64_t to_ms(Timestamp t) {
  const std::int64_t ns = to_epoch_ns(t);
  return ns >= 0 ? ns / kNsPerMs : -((-ns + kNsPerMs - 1) / kNsPerMs);
}
std::int64_t to_s(Timestamp t) {
  const std::int64_t ns = to_epoch_ns(t);
  return ns >= 0 ? ns / kNsPerS : -((-ns + kNsPerS - 1) / kNsPerS);
}

Json levels(const std::vector<BookLevel>& side) {
  Json out = Json::array();
  for (const auto& l : side) out.push_back(Json::array({number(l.price), number(l.size)}));
  return out;
}

Json open_order(const OpenOrder& o) {
  Json j = Json::object();
  j["cl_ord_id"] = o.cl_ord_id;
  j["symbol"] = o.symbol;
  j["side"] = name_of(kSides, o.side);
  j["ord_type"] = name_of(kOrderTypes, o.type);
  j["qty"] = o.qty;
  j["cum_qty"] = o.cum_qty;
  j["price"] = number(o.price);
  j["stop_price"] = number(o.stop_price);
  return j;
}

struct BodyEncoder {
  Json& j;

  void operator()(const Hello& h) const {
    j["schema"] = h.schema;
    j["role"] = h.role;
    j["terminal"] = h.terminal;
    j["account"] = h.account;
    j["server_utc_offset_s"] = h.server_utc_offset_s;
    j["symbols"] = h.symbols;
    Json resume = Json::object();
    for (const auto& [symbol, r] : h.resume)
      resume[symbol] = Json{{"tick_msc", r.tick_msc}, {"ticks_at_msc", r.ticks_at_msc}, {"bar_time", r.bar_time}};
    j["resume"] = std::move(resume);
  }
  void operator()(const TickMsg& m) const {
    j["symbol"] = m.symbol;
    j["time_msc"] = to_ms(m.tick.ts);
    j["bid"] = optional_price(m.tick.bid);
    j["ask"] = optional_price(m.tick.ask);
    j["last"] = optional_price(m.tick.last);
    j["volume"] = number(m.tick.volume);
    j["flags"] = m.tick.flags;
  }
  void operator()(const BookMsg& m) const {
    j["symbol"] = m.symbol;
    j["time_msc"] = to_ms(m.book.ts);
    j["bids"] = levels(m.book.bids);
    j["asks"] = levels(m.book.asks);
  }
  void operator()(const BarMsg& m) const {
    j["symbol"] = m.symbol;
    j["time"] = to_s(m.bar.ts);
    j["open"] = number(m.bar.open);
    j["high"] = number(m.bar.high);
    j["low"] = number(m.bar.low);
    j["close"] = number(m.bar.close);
    j["tick_volume"] = m.bar.tick_volume;
    j["volume"] = number(m.bar.volume);
    j["spread"] = m.bar.spread;
  }
  void operator()(const OrderNew& o) const {
    j["cl_ord_id"] = o.cl_ord_id;
    j["symbol"] = o.symbol;
    j["side"] = name_of(kSides, o.side);
    j["qty"] = o.qty;
    j["ord_type"] = name_of(kOrderTypes, o.type);
    j["tif"] = name_of(kTifs, o.tif);
    j["price"] = number(o.price);
    j["stop_price"] = number(o.stop_price);
    j["purpose"] = name_of(kPurposes, o.purpose);
    j["oco_with"] = o.oco_with;
  }
  void operator()(const OrderCancel& o) const {
    j["cl_ord_id"] = o.cl_ord_id;
    j["orig_cl_ord_id"] = o.orig_cl_ord_id;
    j["symbol"] = o.symbol;
  }
  void operator()(const OrderReplace& o) const {
    j["cl_ord_id"] = o.cl_ord_id;
    j["orig_cl_ord_id"] = o.orig_cl_ord_id;
    j["symbol"] = o.symbol;
    j["stop_price"] = number(o.stop_price);
  }
  void operator()(const OrderAck& a) const {
    j["cl_ord_id"] = a.cl_ord_id;
    j["symbol"] = a.symbol;
    j["venue_order_id"] = a.venue_order_id;
    j["exec_type"] = name_of(kExecTypes, a.exec_type);
    j["ord_status"] = name_of(kOrdStatuses, a.ord_status);
    j["reason"] = a.reason;
    j["stop_price"] = number(a.stop_price);
    j["time_msc"] = a.time_msc;
  }
  void operator()(const FillMsg& f) const {
    j["cl_ord_id"] = f.cl_ord_id;
    j["exec_id"] = f.exec_id;
    j["symbol"] = f.symbol;
    j["side"] = name_of(kSides, f.side);
    j["qty"] = f.qty;
    j["price"] = number(f.price);
    j["fee"] = number(f.fee);
    j["time_msc"] = f.time_msc;
    j["cum_qty"] = f.cum_qty;
    j["leaves_qty"] = f.leaves_qty;
    j["ord_status"] = name_of(kOrdStatuses, f.ord_status);
  }
  void operator()(const PositionsMsg& p) const {
    j["request"] = p.request;
    Json positions = Json::array();
    for (const auto& e : p.positions)
      positions.push_back(Json{{"symbol", e.symbol}, {"qty", e.qty}, {"avg_price", number(e.avg_price)}});
    j["positions"] = std::move(positions);
    Json orders = Json::array();
    for (const auto& o : p.orders) orders.push_back(open_order(o));
    j["orders"] = std::move(orders);
  }
  void operator()(const Heartbeat& h) const { j["mark"] = h.mark; }
};

// ---- decoding ----
//
// Every accessor checks the JSON type first, so nothing below throws on a
// wrong-typed field; decode() still catches nlohmann's exceptions as a last line.

struct Fail {
  std::string message;
};

class Reader {
 public:
  Reader(const Json& object, std::string context) : object_(object), context_(std::move(context)) {}

  const std::string& context() const { return context_; }

  Fail fail(std::string_view field, std::string_view what) const {
    return Fail{context_ + ": field " + std::string(field) + ": " + std::string(what)};
  }

  const Json* find(std::string_view field) const {
    const auto it = object_.find(std::string(field));
    return it == object_.end() ? nullptr : &*it;
  }

  const Json& require(std::string_view field) const {
    const Json* v = find(field);
    if (v == nullptr) throw fail(field, "missing");
    return *v;
  }

  std::string string(std::string_view field) const {
    const Json& v = require(field);
    if (!v.is_string()) throw fail(field, "must be a string");
    return v.get<std::string>();
  }
  std::string nonempty_string(std::string_view field) const {
    std::string s = string(field);
    if (s.empty()) throw fail(field, "must be a non-empty string");
    return s;
  }
  /// Absent = "".
  std::string optional_string(std::string_view field) const {
    const Json* v = find(field);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_string()) throw fail(field, "must be a string");
    return v->get<std::string>();
  }

  std::int64_t integer(std::string_view field, std::string_view what = "must be an integer") const {
    return integer_of(require(field), field, what);
  }
  std::int64_t integer_of(const Json& v, std::string_view field, std::string_view what) const {
    if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw fail(field, what);
      return static_cast<std::int64_t>(v.get<std::uint64_t>());
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    throw fail(field, what);
  }
  std::int64_t positive(std::string_view field) const {
    const std::int64_t x = integer(field, "must be a positive integer");
    if (x <= 0) throw fail(field, "must be a positive integer");
    return x;
  }
  std::int64_t non_negative(std::string_view field) const {
    const std::int64_t x = integer(field, "must be a non-negative integer");
    if (x < 0) throw fail(field, "must be a non-negative integer");
    return x;
  }
  std::int64_t time_ms(std::string_view field) const {
    const std::int64_t x = integer(field, "must be a non-negative integer (Unix ms)");
    if (x < 0 || x > kMaxMs) throw fail(field, "must be a non-negative integer (Unix ms)");
    return x;
  }

  double number_of(const Json& v, std::string_view field) const {
    if (!v.is_number()) throw fail(field, "must be a finite number");
    const double x = v.get<double>();
    if (!std::isfinite(x)) throw fail(field, "must be a finite number");
    return x;
  }
  double real(std::string_view field) const { return number_of(require(field), field); }
  double non_negative_real(std::string_view field) const {
    const double x = real(field);
    if (x < 0) throw fail(field, "must be a finite number >= 0");
    return x;
  }
  /// null or absent = NaN.
  double optional_price(std::string_view field) const {
    const Json* v = find(field);
    if (v == nullptr || v->is_null()) return std::numeric_limits<double>::quiet_NaN();
    return number_of(*v, field);
  }

  bool boolean(std::string_view field) const {
    const Json& v = require(field);
    if (!v.is_boolean()) throw fail(field, "must be true or false");
    return v.get<bool>();
  }

  template <class E, std::size_t N>
  E enumeration(std::string_view field, const Name<E> (&table)[N]) const {
    const Json& v = require(field);
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      for (const auto& n : table)
        if (n.text == s) return n.value;
    }
    throw fail(field, "must be one of " + choices(table));
  }

  const Json& array(std::string_view field) const {
    const Json& v = require(field);
    if (!v.is_array()) throw fail(field, "must be an array");
    return v;
  }

 private:
  const Json& object_;
  std::string context_;
};

std::vector<BookLevel> read_levels(const Reader& r, std::string_view field) {
  std::vector<BookLevel> out;
  const Json& arr = r.array(field);
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const Json& level = arr[i];
    const std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (!level.is_array() || level.size() != 2) throw r.fail(name, "must be [price, size]");
    const double price = r.number_of(level[0], name);
    const double size = r.number_of(level[1], name);
    if (price <= 0 || size < 0) throw r.fail(name, "must be [price > 0, size >= 0]");
    out.push_back({price, size});
  }
  return out;
}

Hello read_hello(const Reader& r) {
  Hello h;
  const Json& schema = r.require("schema");
  if (!schema.is_number_integer()) throw r.fail("schema", "must be an integer");
  const std::int64_t version = r.integer("schema");
  if (version != kSchemaVersion)
    throw r.fail("schema", "version " + std::to_string(version) + " is not supported (this build speaks " +
                               std::to_string(kSchemaVersion) + "): update the Expert Advisor or the platform");
  h.schema = kSchemaVersion;
  h.role = r.string("role");
  if (h.role != "terminal" && h.role != "platform") throw r.fail("role", "must be terminal or platform");
  h.terminal = r.optional_string("terminal");
  h.account = r.optional_string("account");
  if (r.find("server_utc_offset_s") != nullptr) h.server_utc_offset_s = r.integer("server_utc_offset_s");
  if (r.find("symbols") != nullptr) {
    const Json& symbols = r.array("symbols");
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      if (!symbols[i].is_string() || symbols[i].get_ref<const std::string&>().empty())
        throw r.fail("symbols[" + std::to_string(i) + "]", "must be a non-empty string");
      h.symbols.push_back(symbols[i].get<std::string>());
    }
  }
  if (const Json* resume = r.find("resume"); resume != nullptr && !resume->is_null()) {
    if (!resume->is_object()) throw r.fail("resume", "must be an object {SYMBOL: {tick_msc, ticks_at_msc, bar_time}}");
    for (const auto& [symbol, value] : resume->items()) {
      if (!value.is_object()) throw r.fail("resume." + symbol, "must be an object");
      const Reader sub(value, r.context() + ": field resume." + symbol);
      Resume point;
      point.tick_msc = sub.non_negative("tick_msc");
      point.ticks_at_msc = sub.non_negative("ticks_at_msc");
      point.bar_time = sub.non_negative("bar_time");
      h.resume.emplace_back(symbol, point);
    }
  }
  return h;
}

TickMsg read_tick(const Reader& r) {
  TickMsg m;
  m.symbol = r.nonempty_string("symbol");
  m.tick.ts = from_epoch_ns(r.time_ms("time_msc") * kNsPerMs);
  m.tick.bid = r.optional_price("bid");
  m.tick.ask = r.optional_price("ask");
  m.tick.last = r.optional_price("last");
  m.tick.volume = r.find("volume") != nullptr ? r.non_negative_real("volume") : 0.0;
  if (r.find("flags") != nullptr) {
    const std::int64_t flags = r.integer("flags", "must be an integer in [0, 2^32)");
    if (flags < 0 || flags > std::numeric_limits<std::uint32_t>::max())
      throw r.fail("flags", "must be an integer in [0, 2^32)");
    m.tick.flags = static_cast<std::uint32_t>(flags);
  }
  return m;
}

BookMsg read_book(const Reader& r) {
  BookMsg m;
  m.symbol = r.nonempty_string("symbol");
  m.book.ts = from_epoch_ns(r.time_ms("time_msc") * kNsPerMs);
  m.book.bids = read_levels(r, "bids");
  m.book.asks = read_levels(r, "asks");
  return m;
}

BarMsg read_bar(const Reader& r) {
  BarMsg m;
  m.symbol = r.nonempty_string("symbol");
  const std::int64_t time = r.integer("time", "must be a non-negative integer (Unix s)");
  if (time < 0 || time > kMaxS) throw r.fail("time", "must be a non-negative integer (Unix s)");
  m.bar.ts = from_epoch_ns(time * kNsPerS);
  m.bar.open = r.real("open");
  m.bar.high = r.real("high");
  m.bar.low = r.real("low");
  m.bar.close = r.real("close");
  if (m.bar.high < m.bar.low) throw r.fail("high", "must be >= low");
  m.bar.tick_volume = r.non_negative("tick_volume");
  m.bar.volume = r.non_negative_real("volume");
  const std::int64_t spread = r.integer("spread", "must be a 32-bit integer");
  if (spread < std::numeric_limits<std::int32_t>::min() || spread > std::numeric_limits<std::int32_t>::max())
    throw r.fail("spread", "must be a 32-bit integer");
  m.bar.spread = static_cast<std::int32_t>(spread);
  return m;
}

OrderNew read_order_new(const Reader& r) {
  OrderNew o;
  o.cl_ord_id = r.nonempty_string("cl_ord_id");
  o.symbol = r.nonempty_string("symbol");
  o.side = r.enumeration("side", kSides);
  o.qty = r.positive("qty");
  o.type = r.enumeration("ord_type", kOrderTypes);
  o.tif = r.enumeration("tif", kTifs);
  o.price = r.non_negative_real("price");
  o.stop_price = r.non_negative_real("stop_price");
  if ((o.type == OrderType::Limit || o.type == OrderType::StopLimit) && o.price <= 0)
    throw r.fail("price", "must be > 0 for a " + std::string(name_of(kOrderTypes, o.type)) + " order");
  if ((o.type == OrderType::Stop || o.type == OrderType::StopLimit) && o.stop_price <= 0)
    throw r.fail("stop_price", "must be > 0 for a " + std::string(name_of(kOrderTypes, o.type)) + " order");
  o.purpose = r.enumeration("purpose", kPurposes);
  o.oco_with = r.optional_string("oco_with");
  return o;
}

OrderCancel read_order_cancel(const Reader& r) {
  OrderCancel o;
  o.cl_ord_id = r.nonempty_string("cl_ord_id");
  o.orig_cl_ord_id = r.nonempty_string("orig_cl_ord_id");
  o.symbol = r.nonempty_string("symbol");
  return o;
}

OrderReplace read_order_replace(const Reader& r) {
  OrderReplace o;
  o.cl_ord_id = r.nonempty_string("cl_ord_id");
  o.orig_cl_ord_id = r.nonempty_string("orig_cl_ord_id");
  o.symbol = r.nonempty_string("symbol");
  o.stop_price = r.real("stop_price");
  if (o.stop_price <= 0) throw r.fail("stop_price", "must be > 0");
  return o;
}

OrderAck read_order_ack(const Reader& r) {
  OrderAck a;
  a.cl_ord_id = r.nonempty_string("cl_ord_id");
  a.symbol = r.nonempty_string("symbol");
  a.venue_order_id = r.optional_string("venue_order_id");
  a.exec_type = r.enumeration("exec_type", kExecTypes);
  a.ord_status = r.enumeration("ord_status", kOrdStatuses);
  a.reason = r.optional_string("reason");
  a.stop_price = r.find("stop_price") != nullptr ? r.non_negative_real("stop_price") : 0.0;
  a.time_msc = r.time_ms("time_msc");
  return a;
}

FillMsg read_fill(const Reader& r) {
  FillMsg f;
  f.cl_ord_id = r.string("cl_ord_id");  // "" = a deal the platform did not order (manual, broker)
  f.exec_id = r.nonempty_string("exec_id");
  f.symbol = r.nonempty_string("symbol");
  f.side = r.enumeration("side", kSides);
  f.qty = r.positive("qty");
  f.price = r.real("price");
  if (f.price <= 0) throw r.fail("price", "must be > 0");
  f.fee = r.find("fee") != nullptr ? r.real("fee") : 0.0;
  f.time_msc = r.time_ms("time_msc");
  f.cum_qty = r.non_negative("cum_qty");
  f.leaves_qty = r.non_negative("leaves_qty");
  f.ord_status = r.enumeration("ord_status", kOrdStatuses);
  return f;
}

PositionsMsg read_positions(const Reader& r) {
  PositionsMsg p;
  p.request = r.boolean("request");
  if (r.find("positions") != nullptr) {
    const Json& positions = r.array("positions");
    for (std::size_t i = 0; i < positions.size(); ++i) {
      if (!positions[i].is_object()) throw r.fail("positions[" + std::to_string(i) + "]", "must be an object");
      const Reader sub(positions[i], r.context() + ": positions[" + std::to_string(i) + "]");
      p.positions.push_back({sub.nonempty_string("symbol"), sub.integer("qty"), sub.real("avg_price")});
    }
  }
  if (r.find("orders") != nullptr) {
    const Json& orders = r.array("orders");
    for (std::size_t i = 0; i < orders.size(); ++i) {
      if (!orders[i].is_object()) throw r.fail("orders[" + std::to_string(i) + "]", "must be an object");
      const Reader sub(orders[i], r.context() + ": orders[" + std::to_string(i) + "]");
      OpenOrder o;
      o.cl_ord_id = sub.string("cl_ord_id");
      o.symbol = sub.nonempty_string("symbol");
      o.side = sub.enumeration("side", kSides);
      o.type = sub.enumeration("ord_type", kOrderTypes);
      o.qty = sub.positive("qty");
      o.cum_qty = sub.non_negative("cum_qty");
      o.price = sub.non_negative_real("price");
      o.stop_price = sub.non_negative_real("stop_price");
      p.orders.push_back(std::move(o));
    }
  }
  return p;
}

Heartbeat read_hb(const Reader& r) { return Heartbeat{r.optional_string("mark")}; }

}  // namespace

std::string_view type_name(const Body& body) {
  static constexpr std::string_view kNames[] = {
      "hello",         "tick",      "book", "bar",       "order_new", "order_cancel",
      "order_replace", "order_ack", "fill", "positions", "hb"};
  static_assert(std::size(kNames) == std::variant_size_v<Body>);
  return kNames[body.index()];
}

std::string_view to_string(ExecType t) { return name_of(kExecTypes, t); }
std::string_view to_string(OrdStatus s) { return name_of(kOrdStatuses, s); }
std::string_view purpose_name(OrderPurpose p) { return name_of(kPurposes, p); }
std::optional<OrderPurpose> purpose_of(std::string_view text) {
  for (const auto& n : kPurposes)
    if (n.text == text) return n.value;
  return std::nullopt;
}

std::string encode(const Message& message) {
  Json j = Json::object();
  j["type"] = type_name(message.body);
  j["seq"] = message.seq;
  j["t_ms"] = message.t_ms;
  std::visit(BodyEncoder{j}, message.body);
  // Strings are UTF-8 on the wire; an invalid byte is replaced rather than thrown on.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Expected<Message> decode(std::string_view line) {
  try {
    Json j;
    try {
      j = Json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
      return make_error(std::string("not a JSON line: ") + e.what());
    }
    if (!j.is_object()) return make_error("not a JSON object: a bridge message is one object per line");
    const auto type_it = j.find("type");
    if (type_it == j.end()) return make_error("message: field type: missing");
    if (!type_it->is_string()) return make_error("message: field type: must be a string");
    const std::string type = type_it->get<std::string>();
    const Reader r(j, type);

    Message m;
    m.seq = r.positive("seq");
    m.t_ms = r.time_ms("t_ms");
    if (type == "hello") {
      m.body = read_hello(r);
    } else if (type == "tick") {
      m.body = read_tick(r);
    } else if (type == "book") {
      m.body = read_book(r);
    } else if (type == "bar") {
      m.body = read_bar(r);
    } else if (type == "order_new") {
      m.body = read_order_new(r);
    } else if (type == "order_cancel") {
      m.body = read_order_cancel(r);
    } else if (type == "order_replace") {
      m.body = read_order_replace(r);
    } else if (type == "order_ack") {
      m.body = read_order_ack(r);
    } else if (type == "fill") {
      m.body = read_fill(r);
    } else if (type == "positions") {
      m.body = read_positions(r);
    } else if (type == "hb") {
      m.body = read_hb(r);
    } else {
      return make_error("unknown message type '" + type +
                        "' (expected hello, tick, book, bar, order_new, order_cancel, order_replace, order_ack, "
                        "fill, positions or hb)");
    }
    return m;
  } catch (const Fail& f) {
    return make_error(f.message);
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("malformed message: ") + e.what());
  }
}

Expected<void> LineReader::feed(std::string_view bytes) {
  // Compact before growing: what next() consumed is dropped.
  if (start_ > 0 && (start_ == buffer_.size() || start_ >= 64 * 1024)) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  // The unterminated tail begins after the last '\n' already in the buffer.
  std::size_t line_begin = buffer_.rfind('\n');
  line_begin = line_begin == std::string::npos ? start_ : std::max(start_, line_begin + 1);
  const std::size_t old_size = buffer_.size();
  buffer_.append(bytes);
  for (std::size_t i = old_size; i < buffer_.size(); ++i) {
    if (buffer_[i] != '\n') continue;
    if (i - line_begin + 1 > kMaxLine) break;
    line_begin = i + 1;
  }
  // A complete line over the cap, or a tail that cannot end within it.
  const std::size_t nl = buffer_.find('\n', line_begin);
  const std::size_t length = nl == std::string::npos ? buffer_.size() - line_begin : nl - line_begin + 1;
  if (length > kMaxLine || (nl == std::string::npos && length >= kMaxLine)) {
    buffer_.clear();
    start_ = 0;
    return make_error("line longer than " + std::to_string(kMaxLine) +
                      " bytes (the newline included): the peer is broken or hostile");
  }
  return {};
}

std::optional<std::string> LineReader::next() {
  const std::size_t nl = buffer_.find('\n', start_);
  if (nl == std::string::npos) return std::nullopt;
  std::size_t end = nl;
  if (end > start_ && buffer_[end - 1] == '\r') --end;
  std::string line = buffer_.substr(start_, end - start_);
  start_ = nl + 1;
  return line;
}

Expected<void> SeqTracker::check(std::int64_t seq) {
  if (seq == last_ + 1) {
    last_ = seq;
    fault_ = SeqFault::None;
    return {};
  }
  fault_ = seq <= last_ ? SeqFault::Repeat : SeqFault::Gap;
  if (seq <= last_)
    return make_error("seq " + std::to_string(seq) + " repeats or goes back (last was " + std::to_string(last_) +
                      ", expected " + std::to_string(last_ + 1) + ")");
  return make_error("seq gap: expected " + std::to_string(last_ + 1) + ", got " + std::to_string(seq) + " (last was " +
                    std::to_string(last_) + ")");
}

OrderNew order_new_of(const Order& order, std::string cl_ord_id, std::string symbol) {
  OrderNew m;
  m.cl_ord_id = std::move(cl_ord_id);
  m.symbol = std::move(symbol);
  m.side = order.side;
  m.qty = order.qty;
  m.type = order.type;
  m.tif = order.tif;
  m.price = order.limit_price;
  m.stop_price = order.stop_price;
  m.purpose = order.purpose;
  return m;
}

Order order_of(const OrderNew& message) {
  Order o;
  o.side = message.side;
  o.type = message.type;
  o.tif = message.tif;
  o.purpose = message.purpose;
  o.qty = message.qty;
  o.limit_price = message.price;
  o.stop_price = message.stop_price;
  return o;
}

}  // namespace quant::execution::bridge
