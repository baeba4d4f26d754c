#include "fix/fix_codec.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace quant::fix {

namespace {

// Tags (FIX 4.4 and B3).
enum Tag : int {
  kAccount = 1,
  kAvgPx = 6,
  kClOrdId = 11,
  kCommission = 12,
  kCommType = 13,
  kCumQty = 14,
  kExecId = 17,
  kSecurityIdSource = 22,
  kLastPx = 31,
  kLastQty = 32,
  kOrderId = 37,
  kOrderQty = 38,
  kOrdStatus = 39,
  kOrdType = 40,
  kOrigClOrdId = 41,
  kPrice = 44,
  kSecurityId = 48,
  kSide = 54,
  kSymbol = 55,
  kText = 58,
  kTimeInForce = 59,
  kTransactTime = 60,
  kStopPx = 99,
  kCxlRejReason = 102,
  kOrdRejReason = 103,
  kExecType = 150,
  kLeavesQty = 151,
  kSecurityExchange = 207,
  kCxlRejResponseTo = 434,
  kPartyIdSource = 447,
  kPartyId = 448,
  kPartyRole = 452,
  kNoPartyIds = 453,
  kMemo = 5149,
};

void add(RawMessage& m, int tag, std::string value) { m.fields.push_back({tag, std::move(value)}); }

char side_char(Side s) { return s == Side::Buy ? '1' : '2'; }
char ord_type_char(OrderType t) {
  switch (t) {
    case OrderType::Market: return '1';
    case OrderType::Limit: return '2';
    case OrderType::Stop: return '3';
    case OrderType::StopLimit: return '4';
  }
  return '1';
}
char tif_char(TimeInForce t) {
  switch (t) {
    case TimeInForce::Day: return '0';
    case TimeInForce::Gtc: return '1';
    case TimeInForce::Ioc: return '3';
  }
  return '0';
}
char exec_type_char(bridge::ExecType t) {
  switch (t) {
    case bridge::ExecType::New: return '0';
    case bridge::ExecType::Canceled: return '4';
    case bridge::ExecType::Replaced: return '5';
    case bridge::ExecType::Rejected: return '8';
    case bridge::ExecType::Expired: return 'C';
    case bridge::ExecType::Trade: return 'F';
  }
  return '0';
}
char ord_status_char(bridge::OrdStatus s) {
  switch (s) {
    case bridge::OrdStatus::New: return '0';
    case bridge::OrdStatus::PartiallyFilled: return '1';
    case bridge::OrdStatus::Filled: return '2';
    case bridge::OrdStatus::Canceled: return '4';
    case bridge::OrdStatus::Replaced: return '5';
    case bridge::OrdStatus::Rejected: return '8';
    case bridge::OrdStatus::Expired: return 'C';
  }
  return '0';
}

std::string one(char c) { return std::string(1, c); }
bool has_limit(OrderType t) { return t == OrderType::Limit || t == OrderType::StopLimit; }
bool has_stop(OrderType t) { return t == OrderType::Stop || t == OrderType::StopLimit; }

/// Reads a message's fields by tag, naming the message and tag in errors.
class Reader {
 public:
  explicit Reader(const RawMessage& m) : m_(m) {}
  const std::string* get(int tag) const { return find_field(m_, tag); }
  Expected<std::string> text(int tag) const {
    if (const std::string* v = get(tag); v != nullptr && !v->empty()) return *v;
    return fail(tag, "is missing");
  }
  Expected<char> one_char(int tag, std::string_view allowed) const {
    auto v = text(tag);
    if (!v) return tl::unexpected(v.error());
    if (v->size() != 1 || allowed.find((*v)[0]) == std::string_view::npos)
      return fail(tag, "'" + *v + "' is not one of " + std::string(allowed));
    return (*v)[0];
  }
  Expected<std::int64_t> integer(int tag, std::int64_t fallback, bool required) const {
    const std::string* v = get(tag);
    if (v == nullptr) return required ? Expected<std::int64_t>(fail(tag, "is missing")) : fallback;
    std::int64_t x = 0;
    // Quantities may come as "2" or "2.0" (QTY is a decimal type).
    std::string_view s = *v;
    if (auto dot = s.find('.'); dot != std::string_view::npos && s.find_first_not_of('0', dot + 1) == std::string_view::npos)
      s = s.substr(0, dot);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec != std::errc() || end != s.data() + s.size()) return fail(tag, "'" + *v + "' is not a whole number");
    return x;
  }
  static constexpr double kMaxDecimal = 1e15;
  Expected<double> decimal(int tag, double fallback, bool required) const {
    const std::string* v = get(tag);
    if (v == nullptr) return required ? Expected<double>(fail(tag, "is missing")) : fallback;
    double x = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
    if (ec != std::errc() || end != v->data() + v->size() || !std::isfinite(x))
      return fail(tag, "'" + *v + "' is not a number");
    // No price, quantity or amount of ours comes near this: a peer's garbage.
    if (std::fabs(x) > kMaxDecimal) return fail(tag, "'" + v->substr(0, 40) + "' is out of range");
    return x;
  }
  Expected<std::int64_t> time_ms(int tag) const {
    const std::string* v = get(tag);
    if (v == nullptr) return std::int64_t{0};
    auto t = parse_utc_ms(*v);
    if (!t) return fail(tag, t.error().message);
    return *t;
  }

 private:
  tl::unexpected<Error> fail(int tag, const std::string& what) const {
    return make_error("fix " + m_.type + ": tag " + std::to_string(tag) + " " + what);
  }
  const RawMessage& m_;
};

Side side_of(char c) { return c == '1' ? Side::Buy : Side::Sell; }
OrderType ord_type_of(char c) {
  return c == '2' ? OrderType::Limit : c == '3' ? OrderType::Stop : c == '4' ? OrderType::StopLimit : OrderType::Market;
}
TimeInForce tif_of(char c) { return c == '1' ? TimeInForce::Gtc : c == '3' ? TimeInForce::Ioc : TimeInForce::Day; }
bridge::ExecType exec_type_of(char c) {
  switch (c) {
    case '4': return bridge::ExecType::Canceled;
    case '5': return bridge::ExecType::Replaced;
    case '8': return bridge::ExecType::Rejected;
    case 'C': return bridge::ExecType::Expired;
    case 'F': return bridge::ExecType::Trade;
    default: return bridge::ExecType::New;
  }
}
bridge::OrdStatus ord_status_of(char c) {
  switch (c) {
    case '1': return bridge::OrdStatus::PartiallyFilled;
    case '2': return bridge::OrdStatus::Filled;
    case '4': return bridge::OrdStatus::Canceled;
    case '5': return bridge::OrdStatus::Replaced;
    case '8': return bridge::OrdStatus::Rejected;
    case 'C': return bridge::OrdStatus::Expired;
    default: return bridge::OrdStatus::New;
  }
}

constexpr std::string_view kSides = "12";
constexpr std::string_view kOrdTypes = "1234";
constexpr std::string_view kTifs = "013";
constexpr std::string_view kExecTypes = "0458CF";
constexpr std::string_view kOrdStatuses = "012458C";

/// Memo (5149) carries what B3 echoes and the bridge needs: the purpose, and the OCO partner.
std::string memo_of(const bridge::OrderNew& o) {
  std::string memo(bridge::purpose_name(o.purpose));
  if (!o.oco_with.empty()) memo += " oco=" + o.oco_with;
  return memo;
}

void apply_memo(const std::string* memo, bridge::OrderNew& o) {
  if (memo == nullptr) return;
  std::string_view m = *memo;
  const auto space = m.find(' ');
  if (auto p = bridge::purpose_of(m.substr(0, space))) o.purpose = *p;
  if (space != std::string_view::npos && m.substr(space + 1).starts_with("oco=")) o.oco_with = m.substr(space + 5);
}

}  // namespace

std::string format_decimal(double x) {
  char buf[400];  // the longest fixed-notation double (about 1.8e308) fits
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

std::string format_utc_ms(std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(unix_ms)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const auto in_day = t - day;
  const auto h = duration_cast<hours>(in_day);
  const auto mi = duration_cast<minutes>(in_day - h);
  const auto s = duration_cast<seconds>(in_day - h - mi);
  const auto ms = in_day - h - mi - s;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u-%02d:%02d:%02d.%03d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(h.count()),
                static_cast<int>(mi.count()), static_cast<int>(s.count()), static_cast<int>(ms.count()));
  return buf;
}

Expected<std::int64_t> parse_utc_ms(std::string_view text) {
  // YYYYMMDD-HH:MM:SS[.sss[sss]]
  auto bad = [&] { return make_error("'" + std::string(text) + "' is not a UTC timestamp YYYYMMDD-HH:MM:SS[.sss]"); };
  if (text.size() < 17 || text[8] != '-' || text[11] != ':' || text[14] != ':') return bad();
  auto num = [&](std::size_t at, std::size_t n, int& out) {
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + n, out);
    return ec == std::errc() && end == text.data() + at + n;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, frac = 0;
  if (!num(0, 4, y) || !num(4, 2, mo) || !num(6, 2, d) || !num(9, 2, h) || !num(12, 2, mi) || !num(15, 2, s))
    return bad();
  if (text.size() > 17) {
    if (text[17] != '.' || text.size() < 21 || !num(18, 3, frac)) return bad();
  }
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return bad();
  const auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + milliseconds(frac);
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

const std::string* find_field(const RawMessage& m, int tag) {
  for (const Field& f : m.fields)
    if (f.tag == tag) return &f.value;
  return nullptr;
}

// ---- the platform's side ----

void VenueCodec::add_identity(RawMessage& m, const bridge::OrderNew& order) const {
  if (!identity_.account.empty()) add(m, kAccount, identity_.account);
  std::vector<std::pair<const std::string*, const char*>> parties;
  if (!identity_.entering_trader.empty()) parties.emplace_back(&identity_.entering_trader, "36");
  if (!identity_.entering_firm.empty()) parties.emplace_back(&identity_.entering_firm, "7");
  if (!identity_.sender_location.empty()) parties.emplace_back(&identity_.sender_location, "54");
  if (!parties.empty()) {
    add(m, kNoPartyIds, std::to_string(parties.size()));
    for (const auto& [id, role] : parties) {
      add(m, kPartyId, *id);
      add(m, kPartyIdSource, "D");
      add(m, kPartyRole, role);
    }
  }
  add(m, kSymbol, order.symbol);
  add(m, kSecurityId, order.symbol);
  add(m, kSecurityIdSource, "8");
  if (!identity_.security_exchange.empty()) add(m, kSecurityExchange, identity_.security_exchange);
}

void VenueCodec::remember(const bridge::OrderNew& order) {
  auto [it, inserted] = orders_.try_emplace(order.cl_ord_id);
  if (inserted) {
    it->second.order = order;
    it->second.current = order.cl_ord_id;
    original_of_[order.cl_ord_id] = order.cl_ord_id;
  }
}

std::string VenueCodec::original_of(const std::string& cl_ord_id) const {
  auto it = original_of_.find(cl_ord_id);
  return it == original_of_.end() ? std::string() : it->second;
}

std::string VenueCodec::current_id(const std::string& original) const {
  auto it = orders_.find(original);
  return it == orders_.end() ? original : it->second.current;
}

Expected<RawMessage> VenueCodec::encode(const bridge::Body& body, std::int64_t now_ms) {
  RawMessage m;
  if (const auto* n = std::get_if<bridge::OrderNew>(&body)) {
    remember(*n);
    m.type = "D";
    add(m, kClOrdId, n->cl_ord_id);
    add_identity(m, *n);
    add(m, kSide, one(side_char(n->side)));
    add(m, kTransactTime, format_utc_ms(now_ms));
    add(m, kOrderQty, std::to_string(n->qty));
    add(m, kOrdType, one(ord_type_char(n->type)));
    if (has_limit(n->type)) add(m, kPrice, format_decimal(n->price));
    if (has_stop(n->type)) add(m, kStopPx, format_decimal(n->stop_price));
    add(m, kTimeInForce, one(tif_char(n->tif)));
    add(m, kMemo, memo_of(*n));
    return m;
  }
  const bool cancel = std::holds_alternative<bridge::OrderCancel>(body);
  const bool replace = std::holds_alternative<bridge::OrderReplace>(body);
  if (!cancel && !replace) return make_error("fix: only order_new, order_cancel and order_replace go to the venue");
  const std::string& id = cancel ? std::get<bridge::OrderCancel>(body).cl_ord_id : std::get<bridge::OrderReplace>(body).cl_ord_id;
  const std::string& orig =
      cancel ? std::get<bridge::OrderCancel>(body).orig_cl_ord_id : std::get<bridge::OrderReplace>(body).orig_cl_ord_id;
  auto it = orders_.find(original_of(orig).empty() ? orig : original_of(orig));
  if (it == orders_.end()) {
    return make_error(std::string("fix: ") + (cancel ? "order_cancel" : "order_replace") + " " + id +
                      " names an order this session never sent: " + orig);
  }
  const bridge::OrderNew& o = it->second.order;
  original_of_[id] = it->first;
  m.type = cancel ? "F" : "G";
  add(m, kOrigClOrdId, it->second.current);
  add(m, kClOrdId, id);
  add_identity(m, o);
  add(m, kSide, one(side_char(o.side)));
  add(m, kTransactTime, format_utc_ms(now_ms));
  add(m, kOrderQty, std::to_string(o.qty));
  if (replace) {
    add(m, kOrdType, one(ord_type_char(o.type)));
    if (has_limit(o.type)) add(m, kPrice, format_decimal(o.price));
    add(m, kStopPx, format_decimal(std::get<bridge::OrderReplace>(body).stop_price));
    add(m, kTimeInForce, one(tif_char(o.tif)));
    add(m, kMemo, memo_of(o));
  }
  return m;
}

Expected<std::optional<bridge::Body>> VenueCodec::decode(const RawMessage& report) {
  Reader r(report);
  auto cl = r.text(kClOrdId);
  if (!cl) return tl::unexpected(cl.error());
  std::string original = original_of(*cl);
  if (original.empty()) {
    if (const std::string* orig = r.get(kOrigClOrdId)) original = original_of(*orig);
  }
  if (original.empty()) original = *cl;  // not ours: the live venue counts it as unknown
  const std::string* order_id = r.get(kOrderId);
  const std::string venue_order_id = order_id == nullptr || *order_id == "NONE" ? "" : *order_id;
  auto time = r.time_ms(kTransactTime);
  if (!time) return tl::unexpected(time.error());
  const auto known = orders_.find(original);

  if (report.type == "9") {
    if (!seen_.insert("9:" + *cl).second) return std::optional<bridge::Body>{};
    auto status = r.one_char(kOrdStatus, kOrdStatuses);
    if (!status) return tl::unexpected(status.error());
    bridge::OrderAck a;
    a.cl_ord_id = original;
    const std::string* symbol = r.get(kSymbol);
    a.symbol = symbol != nullptr ? *symbol : known != orders_.end() ? known->second.order.symbol : "";
    a.venue_order_id = venue_order_id;
    a.exec_type = bridge::ExecType::Rejected;
    a.ord_status = ord_status_of(*status);
    const std::string* text = r.get(kText);
    a.reason = text != nullptr ? *text : "cancel/replace rejected";
    a.time_msc = *time;
    return std::optional<bridge::Body>(std::move(a));
  }
  if (report.type != "8") return make_error("fix: a report of type " + report.type + " (only 8 and 9 are reports)");

  auto exec_id = r.text(kExecId);
  if (!exec_id) return tl::unexpected(exec_id.error());
  auto exec_type = r.one_char(kExecType, kExecTypes);
  if (!exec_type) return tl::unexpected(exec_type.error());
  auto status = r.one_char(kOrdStatus, kOrdStatuses);
  if (!status) return tl::unexpected(status.error());
  auto symbol = r.text(kSymbol);
  if (!symbol) return tl::unexpected(symbol.error());
  // Seen before: a resend. Marked seen only once it translated (below).
  if (seen_.count(*exec_id) != 0) return std::optional<bridge::Body>{};

  if (*exec_type == 'F') {
    auto side = r.one_char(kSide, kSides);
    auto qty = r.integer(kLastQty, 0, true);
    auto price = r.decimal(kLastPx, 0, true);
    auto cum = r.integer(kCumQty, 0, true);
    auto leaves = r.integer(kLeavesQty, 0, true);
    auto fee = r.decimal(kCommission, 0, false);
    for (const Error* e : {side ? nullptr : &side.error(), qty ? nullptr : &qty.error(),
                           price ? nullptr : &price.error(), cum ? nullptr : &cum.error(),
                           leaves ? nullptr : &leaves.error(), fee ? nullptr : &fee.error()}) {
      if (e != nullptr) return tl::unexpected(*e);
    }
    bridge::FillMsg f;
    f.cl_ord_id = original;
    f.exec_id = *exec_id;
    f.symbol = *symbol;
    f.side = side_of(*side);
    f.qty = *qty;
    f.price = *price;
    const std::string* comm_type = r.get(kCommType);
    f.fee = comm_type == nullptr || *comm_type == "3" ? *fee : *fee * static_cast<double>(*qty);
    f.time_msc = *time;
    f.cum_qty = *cum;
    f.leaves_qty = *leaves;
    f.ord_status = ord_status_of(*status);
    seen_.insert(*exec_id);
    return std::optional<bridge::Body>(std::move(f));
  }
  bridge::OrderAck a;
  a.cl_ord_id = original;
  a.symbol = *symbol;
  a.venue_order_id = venue_order_id;
  a.exec_type = exec_type_of(*exec_type);
  a.ord_status = ord_status_of(*status);
  if (const std::string* text = r.get(kText)) a.reason = *text;
  a.time_msc = *time;
  if (a.exec_type == bridge::ExecType::Replaced) {
    auto stop = r.decimal(kStopPx, 0, true);
    if (!stop) return tl::unexpected(stop.error());
    a.stop_price = *stop;
    if (known != orders_.end()) {
      known->second.current = *cl;
      known->second.order.stop_price = *stop;
      original_of_[*cl] = original;
    }
  }
  seen_.insert(*exec_id);
  return std::optional<bridge::Body>(std::move(a));
}

// ---- the exchange's side ----

ExchangeCodec::Known* ExchangeCodec::known(const std::string& original) {
  auto it = orders_.find(original);
  return it == orders_.end() ? nullptr : &it->second;
}

Expected<bridge::Body> ExchangeCodec::decode(const RawMessage& request) {
  Reader r(request);
  auto cl = r.text(kClOrdId);
  if (!cl) return tl::unexpected(cl.error());
  auto symbol = r.text(kSymbol);
  if (!symbol) return tl::unexpected(symbol.error());
  if (request.type == "D") {
    auto side = r.one_char(kSide, kSides);
    auto qty = r.integer(kOrderQty, 0, true);
    auto type = r.one_char(kOrdType, kOrdTypes);
    for (const Error* e : {side ? nullptr : &side.error(), qty ? nullptr : &qty.error(), type ? nullptr : &type.error()}) {
      if (e != nullptr) return tl::unexpected(*e);
    }
    bridge::OrderNew o;
    o.cl_ord_id = *cl;
    o.symbol = *symbol;
    o.side = side_of(*side);
    o.qty = *qty;
    o.type = ord_type_of(*type);
    // A price the order type does not use is not the order's (the bridge keeps it 0).
    if (has_limit(o.type)) {
      auto price = r.decimal(kPrice, 0, true);
      if (!price) return tl::unexpected(price.error());
      o.price = *price;
    }
    if (has_stop(o.type)) {
      auto stop = r.decimal(kStopPx, 0, true);
      if (!stop) return tl::unexpected(stop.error());
      o.stop_price = *stop;
    }
    if (r.get(kTimeInForce) != nullptr) {
      auto tif = r.one_char(kTimeInForce, kTifs);
      if (!tif) return tl::unexpected(tif.error());
      o.tif = tif_of(*tif);
    }
    apply_memo(r.get(kMemo), o);
    if (orders_.find(o.cl_ord_id) == orders_.end() && original_of_.find(o.cl_ord_id) == original_of_.end()) {
      orders_[o.cl_ord_id] = Known{o, o.cl_ord_id, "", 0, 0};
      original_of_[o.cl_ord_id] = o.cl_ord_id;
    }
    return bridge::Body(std::move(o));
  }
  if (request.type != "F" && request.type != "G")
    return make_error("fix: message type " + request.type + " is not an order request (D, F, G)");
  auto orig = r.text(kOrigClOrdId);
  if (!orig) return tl::unexpected(orig.error());
  auto it = original_of_.find(*orig);
  const std::string original = it == original_of_.end() ? *orig : it->second;
  const Known* k = known(original);
  request_prior_.try_emplace(*cl, k != nullptr ? k->current : *orig);
  if (request.type == "F") return bridge::Body(bridge::OrderCancel{*cl, original, *symbol});
  auto stop = r.decimal(kStopPx, 0, true);
  if (!stop) return tl::unexpected(stop.error());
  return bridge::Body(bridge::OrderReplace{*cl, original, *symbol, *stop});
}

RawMessage ExchangeCodec::report(Known* k, const bridge::OrderAck& a, const bridge::Body* request) {
  RawMessage m;
  m.type = "8";
  if (k != nullptr && k->order_id.empty()) k->order_id = a.venue_order_id;
  std::string cl = k != nullptr ? k->current : a.cl_ord_id;
  std::string orig;
  const auto* cancel = request != nullptr ? std::get_if<bridge::OrderCancel>(request) : nullptr;
  const auto* replace = request != nullptr ? std::get_if<bridge::OrderReplace>(request) : nullptr;
  if (a.exec_type == bridge::ExecType::Canceled && cancel != nullptr && cancel->orig_cl_ord_id == a.cl_ord_id) {
    orig = request_prior_[cancel->cl_ord_id];
    cl = cancel->cl_ord_id;
  }
  if (a.exec_type == bridge::ExecType::Replaced && replace != nullptr && replace->orig_cl_ord_id == a.cl_ord_id) {
    orig = request_prior_[replace->cl_ord_id];
    cl = replace->cl_ord_id;
  }
  const bool done = a.ord_status == bridge::OrdStatus::Canceled || a.ord_status == bridge::OrdStatus::Rejected ||
                    a.ord_status == bridge::OrdStatus::Expired || a.ord_status == bridge::OrdStatus::Filled;
  add(m, kOrderId, a.venue_order_id.empty() ? "NONE" : a.venue_order_id);
  add(m, kClOrdId, cl);
  if (!orig.empty()) add(m, kOrigClOrdId, orig);
  add(m, kExecId, cl + ":" + one(exec_type_char(a.exec_type)));
  add(m, kExecType, one(exec_type_char(a.exec_type)));
  add(m, kOrdStatus, one(ord_status_char(a.ord_status)));
  if (a.exec_type == bridge::ExecType::Rejected)
    add(m, kOrdRejReason, a.reason.starts_with("unknown symbol") ? "1" : "99");
  add(m, kSymbol, !a.symbol.empty() ? a.symbol : k != nullptr ? k->order.symbol : "?");
  add(m, kSide, one(side_char(k != nullptr ? k->order.side : Side::Buy)));
  if (k != nullptr) {
    add(m, kOrderQty, std::to_string(k->order.qty));
    add(m, kOrdType, one(ord_type_char(k->order.type)));
    if (has_limit(k->order.type)) add(m, kPrice, format_decimal(k->order.price));
  }
  if (a.exec_type == bridge::ExecType::Replaced) {
    add(m, kStopPx, format_decimal(a.stop_price));
  } else if (k != nullptr && has_stop(k->order.type)) {
    add(m, kStopPx, format_decimal(k->order.stop_price));
  }
  const std::int64_t cum = k != nullptr ? k->cum_qty : 0;
  add(m, kLeavesQty, std::to_string(done || k == nullptr ? 0 : k->order.qty - cum));
  add(m, kCumQty, std::to_string(cum));
  add(m, kAvgPx, format_decimal(cum > 0 ? k->notional / static_cast<double>(cum) : 0));
  add(m, kTransactTime, format_utc_ms(a.time_msc));
  if (!a.reason.empty()) add(m, kText, a.reason);
  return m;
}

RawMessage ExchangeCodec::fill_report(Known* k, const bridge::FillMsg& f) {
  if (k != nullptr && f.cum_qty > k->cum_qty) {
    // A state sent again repeats earlier fills: count each once.
    k->cum_qty = f.cum_qty;
    k->notional += static_cast<double>(f.qty) * f.price;
  }
  RawMessage m;
  m.type = "8";
  const std::string cl = k != nullptr ? k->current : f.cl_ord_id;
  add(m, kOrderId, k != nullptr && !k->order_id.empty() ? k->order_id : f.cl_ord_id);
  add(m, kClOrdId, cl);
  add(m, kExecId, f.exec_id);
  add(m, kExecType, "F");
  add(m, kOrdStatus, one(ord_status_char(f.ord_status)));
  add(m, kSymbol, f.symbol);
  add(m, kSide, one(side_char(f.side)));
  if (k != nullptr) {
    add(m, kOrderQty, std::to_string(k->order.qty));
    add(m, kOrdType, one(ord_type_char(k->order.type)));
  }
  add(m, kLastQty, std::to_string(f.qty));
  add(m, kLastPx, format_decimal(f.price));
  add(m, kLeavesQty, std::to_string(f.leaves_qty));
  add(m, kCumQty, std::to_string(f.cum_qty));
  const double avg = k != nullptr && k->cum_qty > 0 ? k->notional / static_cast<double>(k->cum_qty) : f.price;
  add(m, kAvgPx, format_decimal(avg));
  add(m, kTransactTime, format_utc_ms(f.time_msc));
  add(m, kCommission, format_decimal(f.fee));
  add(m, kCommType, "3");
  return m;
}

std::vector<RawMessage> ExchangeCodec::encode(const bridge::Body* request, const std::vector<bridge::Body>& answers) {
  std::vector<RawMessage> out;
  const auto* cancel = request != nullptr ? std::get_if<bridge::OrderCancel>(request) : nullptr;
  const auto* replace = request != nullptr ? std::get_if<bridge::OrderReplace>(request) : nullptr;
  for (const bridge::Body& body : answers) {
    if (const auto* f = std::get_if<bridge::FillMsg>(&body)) {
      out.push_back(fill_report(known(f->cl_ord_id), *f));
      continue;
    }
    const auto* a = std::get_if<bridge::OrderAck>(&body);
    if (a == nullptr) continue;
    Known* k = known(a->cl_ord_id);
    if (a->exec_type == bridge::ExecType::Rejected && (cancel != nullptr || replace != nullptr)) {
      const std::string& id = cancel != nullptr ? cancel->cl_ord_id : replace->cl_ord_id;
      RawMessage m;
      m.type = "9";
      add(m, kOrderId, a->venue_order_id.empty() ? "NONE" : a->venue_order_id);
      add(m, kClOrdId, id);
      add(m, kOrigClOrdId, request_prior_.count(id) ? request_prior_[id] : a->cl_ord_id);
      add(m, kOrdStatus, one(ord_status_char(a->ord_status)));
      if (!a->symbol.empty()) add(m, kSymbol, a->symbol);
      add(m, kTransactTime, format_utc_ms(a->time_msc));
      add(m, kCxlRejResponseTo, cancel != nullptr ? "1" : "2");
      const bool finished = a->ord_status == bridge::OrdStatus::Filled || a->ord_status == bridge::OrdStatus::Canceled ||
                            a->ord_status == bridge::OrdStatus::Expired;
      add(m, kCxlRejReason, k == nullptr ? "1" : finished ? "0" : "99");
      if (!a->reason.empty()) add(m, kText, a->reason);
      out.push_back(std::move(m));
      continue;
    }
    out.push_back(report(k, *a, request));
    if (a->exec_type == bridge::ExecType::Replaced && k != nullptr && replace != nullptr &&
        replace->orig_cl_ord_id == a->cl_ord_id) {
      k->current = replace->cl_ord_id;
      k->order.stop_price = a->stop_price;
      original_of_[replace->cl_ord_id] = a->cl_ord_id;
    }
  }
  return out;
}

}  // namespace quant::fix
