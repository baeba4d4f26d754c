#include "serve/paper_desk.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "execution/journal.h"
#include "serve/metrics.h"

namespace quant::serve {

using nlohmann::json;

namespace {

/// The wall clock: orders are stamped when the desk receives them.
class SystemClock final : public engine::Clock {
 public:
  Timestamp now() const override { return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()); }
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
  static constexpr std::string_view kKeys[] = {"client_order_id", "symbol",     "side", "qty",   "type",
                                               "price",           "stop_price", "tif",  "reason"};
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
    if (f->get_string().get(text) != simdjson::SUCCESS)
      return bad(std::string(key) + " must be a string", std::string(key));
    out = std::string(text);
    return std::nullopt;
  };
  auto price_field = [&](std::string_view key, double& out) -> std::optional<ApiError> {
    const auto& f = field(key);
    if (!f || f->is_null()) return std::nullopt;
    if (f->get_double().get(out) != simdjson::SUCCESS)
      return bad(std::string(key) + " must be a number", std::string(key));
    if (!std::isfinite(out) || out <= 0)
      return bad(std::string(key) + " must be a finite number > 0", std::string(key));
    return std::nullopt;
  };

  execution::OrderRequest r;
  std::string side, type, tif;
  for (auto e : {string_field("client_order_id", true, r.client_order_id), string_field("symbol", true, r.symbol),
                 string_field("side", true, side), string_field("type", true, type), string_field("tif", false, tif),
                 string_field("reason", false, r.reason)}) {
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

/// The desk's audit log: one JSON object per line, appended and flushed as
/// each event happens (a crash loses at most the line being written).
class AuditLog final : public execution::GatewayObserver {
 public:
  ~AuditLog() override {
    // Every line was flushed as it was written, and a failure reported then.
    if (file_ != nullptr) (void)std::fclose(file_);
  }
  Expected<void> open(const std::string& path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return make_error("audit log: cannot create " + parent.string() + ": " + ec.message());
    file_ = std::fopen(path.c_str(), "ab");
    if (file_ == nullptr) return make_error("audit log: cannot open " + path + " for appending");
    path_ = path;
    return {};
  }
  /// Writing failed at least once since it opened.
  bool failed() const { return failed_; }

  void on_order(const execution::OrderReply& reply) override {
    json j = execution::to_json(reply);
    j["event"] = "order";
    j["created"] = format_utc(reply.created);
    j["updated"] = format_utc(reply.updated);
    write(j);
  }
  void on_order_done(const std::string& symbol, const Order& order, std::string_view reason,
                     std::string_view note) override {
    write({{"event", "order_done"},
           {"symbol", symbol},
           {"order_id", order.id},
           {"side", to_string(order.side)},
           {"type", to_string(order.type)},
           {"purpose", to_string(order.purpose)},
           {"qty", order.qty},
           {"filled_qty", order.filled_qty},
           {"avg_fill_price", order.filled_qty > 0 ? json(order.avg_fill_price) : json(nullptr)},
           {"state", to_string(order.status)},
           {"reason", reason},
           {"note", note},
           {"created", format_utc(order.created)},
           {"updated", format_utc(order.updated)}});
  }
  void on_trade(const std::string& symbol, const engine::TradeRecord& t) override {
    write({{"event", "trade"},
           {"symbol", symbol},
           {"entry_time", format_utc(t.entry_time)},
           {"exit_time", format_utc(t.exit_time)},
           {"side", t.side == Side::Buy ? "long" : "short"},
           {"qty", t.qty},
           {"entry_price", t.entry_price},
           {"exit_price", t.exit_price},
           {"gross_pnl", t.gross_pnl},
           {"fees", t.fees},
           {"net_pnl", t.net_pnl},
           {"exit_reason", t.exit_reason},
           {"initial_stop", t.initial_stop}});
  }
  void on_risk_event(const std::string& symbol, const risk::RiskEvent& e) override {
    write({{"event", "risk"},
           {"symbol", symbol},
           {"ts", format_utc(e.ts)},
           {"kind", risk::to_string(e.kind)},
           {"reason", e.reason},
           {"equity", e.equity},
           {"value", e.value}});
  }
  void on_decision(const std::string& symbol, const engine::DecisionRecord& d) override {
    write({{"event", "decision"},
           {"symbol", symbol},
           {"ts", format_utc(d.ts)},
           {"kind", d.kind},
           {"reason", d.reason},
           {"equity", d.equity},
           {"value", d.value}});
  }
  void on_day(const std::string& symbol, const engine::DayRecord& d) override {
    write({{"event", "day"},
           {"symbol", symbol},
           {"start_equity", d.start_equity},
           {"end_equity", d.end_equity},
           {"fees", d.fees},
           {"trades", d.trades},
           {"halted", d.halted}});
  }

 private:
  void write(const json& j) {
    if (file_ == nullptr) return;
    std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
      if (!failed_) std::fprintf(stderr, "serve: audit log %s: write failed\n", path_.c_str());
      failed_ = true;
    }
  }

  std::FILE* file_ = nullptr;
  std::string path_;
  bool failed_ = false;
};

/// The close of the latest bar seen (config.bar_clock): a replayed market's "now".
class BarClock final : public engine::Clock {
 public:
  Timestamp now() const override { return now_; }
  void advance(const Bar& bar) { now_ = std::max(now_, bar.ts + kMinute); }

 private:
  Timestamp now_{};
};

struct PaperDesk::Impl {
  SystemClock system_clock;
  BarClock bar_clock;
  AuditLog audit;
  bool caught_up = false;
  std::unique_ptr<execution::OrderGateway> gateway;
  std::optional<execution::Journal> journal;
  /// Orders of earlier runs, from the journal: client_order_id → (body, reply).
  std::map<std::string, std::pair<std::string, json>> earlier;
};

PaperDesk::~PaperDesk() = default;

Expected<std::unique_ptr<PaperDesk>> PaperDesk::create(const PaperDeskConfig& config, Metrics* metrics,
                                                       const engine::Clock* clock) {
  execution::GatewayConfig gc;
  gc.initial_equity = config.initial_equity;
  for (const auto& s : config.symbols) {
    execution::SymbolConfig sc;
    sc.spec = s.spec;
    auto zone = TimeZone::find(s.spec.time_zone);
    if (!zone) return make_error("paper venue: " + s.spec.symbol + ": " + zone.error().message);
    sc.zone = *zone;
    sc.risk = s.risk;
    sc.session = s.session;
    sc.atr_period = config.atr_period;
    sc.paper.slippage_ticks = s.slippage_ticks;
    gc.symbols.push_back(std::move(sc));
  }
  if (auto ok = execution::validate(gc); !ok) return make_error("paper venue: " + ok.error().message);
  std::unique_ptr<PaperDesk> desk(new PaperDesk());
  desk->impl_ = std::make_unique<Impl>();
  Impl& impl = *desk->impl_;
  execution::GatewayObserver* observer = nullptr;
  if (!config.audit_log.empty()) {
    if (auto opened = impl.audit.open(config.audit_log); !opened) return tl::unexpected(opened.error());
    observer = &impl.audit;
  }
  if (!config.journal.empty()) {
    auto journal = execution::Journal::open(config.journal);
    if (!journal) return make_error("paper venue: order journal: " + journal.error().message);
    for (const json& r : journal->recovered()) {
      if (r.value("k", "") != "order" || !r.contains("cid") || !r.contains("reply")) continue;
      impl.earlier[r["cid"].get<std::string>()] = {r.value("body", ""), r["reply"]};
    }
    impl.journal.emplace(std::move(*journal));
  }
  const engine::Clock* stamp = clock;
  if (stamp == nullptr)
    stamp = config.bar_clock ? static_cast<const engine::Clock*>(&impl.bar_clock) : &impl.system_clock;
  impl.gateway = std::make_unique<execution::OrderGateway>(std::move(gc), *stamp, observer);
  desk->metrics_ = metrics;
  return desk;
}

Answer PaperDesk::submit(std::string_view body) {
  auto request = parse_order_body(body);
  if (!request) return error_answer(request.error());
  std::lock_guard lock(mutex_);
  if (!impl_->caught_up) {
    return error_answer({503, "the paper desk is still replaying the lake's latest bars: try again shortly", ""});
  }
  // An order of an earlier run of the desk: answered from the journal, never placed again.
  if (auto it = impl_->earlier.find(request->client_order_id);
      it != impl_->earlier.end() && !impl_->gateway->find(request->client_order_id)) {
    auto before = parse_order_body(it->second.first);
    if (!before || !(*before == *request)) {
      return error_answer(
          {409,
           "client_order_id " + request->client_order_id + " was used before this desk restarted, with other fields",
           "client_order_id"});
    }
    json answer = it->second.second;
    answer["replayed"] = true;
    answer["note"] = "taken before the desk restarted; the paper account started afresh since";
    return {200, answer.dump(-1, ' ', false, json::error_handler_t::replace)};
  }
  auto reply = impl_->gateway->submit(*request);
  if (reply && !reply->replayed && impl_->journal) {
    impl_->journal->append({{"k", "order"},
                            {"cid", request->client_order_id},
                            {"body", std::string(body)},
                            {"reply", execution::to_json(*reply)}});
    if (auto synced = impl_->journal->sync(); !synced) {
      std::fprintf(stderr, "serve: %s\n", synced.error().message.c_str());
      return error_answer({503, "the order journal cannot be written: " + synced.error().message, ""});
    }
  }
  if (!reply) {
    const auto& e = reply.error();
    using Kind = execution::GatewayError::Kind;
    const int status = e.kind == Kind::Conflict ? 409 : e.kind == Kind::NotReady ? 503 : 400;
    return error_answer({status, e.message, e.field});
  }
  if (metrics_ != nullptr && !reply->replayed) metrics_->record_order(reply->decision);
  return {200, execution::to_json(*reply).dump(-1, ' ', false, json::error_handler_t::replace)};
}

bool PaperDesk::ready(std::string& reason) const {
  std::lock_guard lock(mutex_);
  if (!impl_->caught_up) {
    reason = "catching up with the lake (replaying its latest bars)";
    return false;
  }
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
  impl_->bar_clock.advance(bar);
  impl_->gateway->on_bar(symbol, bar);
}

void PaperDesk::caught_up() {
  std::lock_guard lock(mutex_);
  impl_->caught_up = true;
}

double PaperDesk::equity() const {
  std::lock_guard lock(mutex_);
  return impl_->gateway->equity();
}

bool PaperDesk::halted() const {
  std::lock_guard lock(mutex_);
  return impl_->gateway->halted();
}

std::int64_t PaperDesk::position(const std::string& symbol) const {
  std::lock_guard lock(mutex_);
  return impl_->gateway->position(symbol);
}

}  // namespace quant::serve
