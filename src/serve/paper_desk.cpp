#include "serve/paper_desk.h"

#include <cmath>
#include <iterator>
#include <optional>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "serve/metrics.h"

namespace quant::serve {

using nlohmann::json;

namespace {

/// The wall clock: orders are stamped when the desk receives them.
class SystemClock final : public engine::Clock {
 public:
  Timestamp now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

ApiError bad(std::string message, std::string field) { return {400, std::move(message), std::move(field)}; }

}  // namespace

tl::expected<execution::OrderRequest, ApiError> parse_order_body(std::string_view body) {
  using Fail = tl::unexpected<ApiError>;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc); error != simdjson::SUCCESS) {
    return Fail(bad(std::string("body is not valid JSON: ") + simdjson::error_message(error), ""));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return Fail(bad("body must be a JSON object", ""));
  // Every field once: an order with two quantities is refused, never guessed.
  static constexpr std::string_view kKeys[] = {"client_order_id", "symbol", "side", "qty",
                                               "type",            "price",  "stop_price", "tif"};
  std::optional<simdjson::dom::element> fields[std::size(kKeys)];
  for (auto [key, value] : obj) {
    std::size_t at = 0;
    while (at < std::size(kKeys) && kKeys[at] != key) ++at;
    if (at == std::size(kKeys)) {
      const std::string shown(key.substr(0, 64));
      return Fail(bad("unknown field '" + shown + "'", shown));
    }
    if (fields[at]) return Fail(bad("field '" + std::string(key) + "' is given twice", std::string(key)));
    fields[at] = value;
  }
  auto field = [&](std::string_view key) -> const std::optional<simdjson::dom::element>& {
    std::size_t at = 0;
    while (kKeys[at] != key) ++at;
    return fields[at];
  };
  auto string_field = [&](std::string_view key, bool required, std::string& out) -> std::optional<ApiError> {
    const auto& f = field(key);
    if (!f) {
      if (required) return bad(std::string(key) + " is required", std::string(key));
      return std::nullopt;
    }
    std::string_view text;
    if (f->get_string().get(text) != simdjson::SUCCESS) return bad(std::string(key) + " must be a string", std::string(key));
    out = std::string(text);
    return std::nullopt;
  };
  auto price_field = [&](std::string_view key, double& out) -> std::optional<ApiError> {
    const auto& f = field(key);
    if (!f || f->is_null()) return std::nullopt;
    if (f->get_double().get(out) != simdjson::SUCCESS) return bad(std::string(key) + " must be a number", std::string(key));
    if (!std::isfinite(out) || out <= 0) return bad(std::string(key) + " must be a finite number > 0", std::string(key));
    return std::nullopt;
  };

  execution::OrderRequest r;
  std::string side, type, tif;
  for (auto e : {string_field("client_order_id", true, r.client_order_id), string_field("symbol", true, r.symbol),
                 string_field("side", true, side), string_field("type", true, type), string_field("tif", false, tif)}) {
    if (e) return Fail(*e);
  }
  if (side == "buy") {
    r.side = Side::Buy;
  } else if (side == "sell") {
    r.side = Side::Sell;
  } else {
    return Fail(bad("side must be \"buy\" or \"sell\"", "side"));
  }
  if (type == "market") {
    r.type = OrderType::Market;
  } else if (type == "limit") {
    r.type = OrderType::Limit;
  } else if (type == "stop") {
    r.type = OrderType::Stop;
  } else {
    return Fail(bad("type must be \"market\", \"limit\" or \"stop\"", "type"));
  }
  if (tif.empty() || tif == "day") {
    r.tif = TimeInForce::Day;
  } else if (tif == "gtc") {
    r.tif = TimeInForce::Gtc;
  } else if (tif == "ioc") {
    r.tif = TimeInForce::Ioc;
  } else {
    return Fail(bad("tif must be \"day\", \"gtc\" or \"ioc\"", "tif"));
  }
  const auto& qty = field("qty");
  if (!qty) return Fail(bad("qty is required", "qty"));
  std::int64_t q = 0;
  if (qty->get_int64().get(q) != simdjson::SUCCESS || q < 1 || q > 1000000000) {
    return Fail(bad("qty must be a whole number of contracts from 1 to 1000000000", "qty"));
  }
  r.qty = q;
  if (auto e = price_field("price", r.price)) return Fail(*e);
  if (auto e = price_field("stop_price", r.stop_price)) return Fail(*e);
  return r;
}

struct PaperDesk::Impl {
  SystemClock clock;
  std::unique_ptr<execution::OrderGateway> gateway;
};

PaperDesk::~PaperDesk() = default;

Expected<std::unique_ptr<PaperDesk>> PaperDesk::create(const PaperDeskConfig& config, Metrics* metrics) {
  execution::GatewayConfig gc;
  gc.initial_equity = config.initial_equity;
  for (const auto& s : config.symbols) {
    execution::SymbolConfig sc;
    sc.spec = s.spec;
    auto zone = TimeZone::find(s.spec.time_zone);
    if (!zone) return make_error("paper venue: " + s.spec.symbol + ": " + zone.error().message);
    sc.zone = *zone;
    sc.risk = s.risk;
    sc.atr_period = config.atr_period;
    sc.paper.slippage_ticks = s.slippage_ticks;
    gc.symbols.push_back(std::move(sc));
  }
  if (auto ok = execution::validate(gc); !ok) return make_error("paper venue: " + ok.error().message);
  std::unique_ptr<PaperDesk> desk(new PaperDesk());
  desk->impl_ = std::make_unique<Impl>();
  desk->impl_->gateway = std::make_unique<execution::OrderGateway>(std::move(gc), desk->impl_->clock);
  desk->metrics_ = metrics;
  return desk;
}

Answer PaperDesk::submit(std::string_view body) {
  auto request = parse_order_body(body);
  if (!request) return error_answer(request.error());
  std::lock_guard lock(mutex_);
  auto reply = impl_->gateway->submit(*request);
  if (!reply) {
    const auto& e = reply.error();
    using Kind = execution::GatewayError::Kind;
    const int status = e.kind == Kind::Conflict ? 409 : e.kind == Kind::NotReady ? 503 : 400;
    return error_answer({status, e.message, e.field});
  }
  if (metrics_ != nullptr && !reply->replayed) metrics_->record_order(risk::to_string(reply->decision));
  return {200, execution::to_json(*reply).dump(-1, ' ', false, json::error_handler_t::replace)};
}

bool PaperDesk::ready(std::string& reason) const {
  std::lock_guard lock(mutex_);
  for (const auto& symbol : impl_->gateway->symbols()) {
    if (!impl_->gateway->ready(symbol)) {
      reason = "no price yet for " + symbol;
      return false;
    }
  }
  return true;
}

void PaperDesk::on_bar(const std::string& symbol, const Bar& bar) {
  std::lock_guard lock(mutex_);
  impl_->gateway->on_bar(symbol, bar);
}

double PaperDesk::equity() const {
  std::lock_guard lock(mutex_);
  return impl_->gateway->equity();
}

bool PaperDesk::halted() const {
  std::lock_guard lock(mutex_);
  return impl_->gateway->halted();
}

}  // namespace quant::serve
