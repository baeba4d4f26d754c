#include "live/live_service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "execution/journal.h"
#include "live/engine_leases.h"
#include "stream/metrics.h"

namespace quant::live {

namespace {

namespace bridge = execution::bridge;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t ns_of(Timestamp ts) { return ts.time_since_epoch().count(); }
Timestamp from_ns(std::int64_t ns) { return Timestamp(Duration(ns)); }

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_order(const bridge::Body& body) {
  return std::holds_alternative<bridge::OrderNew>(body) || std::holds_alternative<bridge::OrderCancel>(body) ||
         std::holds_alternative<bridge::OrderReplace>(body);
}

/// A message as it goes through exec:orders (the bridge gives it its own seq and t_ms on the socket).
std::string line_of(const bridge::Body& body) { return bridge::encode(bridge::Message{1, 0, body}); }

json bar_json(const Bar& b) {
  return json::array({ns_of(b.ts), b.open, b.high, b.low, b.close, b.tick_volume, b.volume, b.spread});
}

Bar bar_of(const json& j) {
  Bar b;
  b.ts = from_ns(j.at(0).get<std::int64_t>());
  b.open = j.at(1).get<double>();
  b.high = j.at(2).get<double>();
  b.low = j.at(3).get<double>();
  b.close = j.at(4).get<double>();
  b.tick_volume = j.at(5).get<std::int64_t>();
  b.volume = j.at(6).get<double>();
  b.spread = j.at(7).get<std::int32_t>();
  return b;
}

struct Source {
  std::string stream;
  stream::StreamId id;
};

json step_json(const Derived& s, const std::optional<Source>& src) {
  json j{{"k", "step"}};
  switch (s.kind) {
    case Derived::Kind::Start:
      j["t"] = "start";
      j["sym"] = s.symbol;
      j["ts"] = ns_of(s.bar.ts);
      break;
    case Derived::Kind::Bar:
      j["t"] = "bar";
      j["sym"] = s.symbol;
      j["bar"] = bar_json(s.bar);
      break;
    case Derived::Kind::Report:
      j["t"] = "report";
      j["msg"] = line_of(s.report.body);
      break;
    case Derived::Kind::Halt:
      j["t"] = "halt";
      j["ts"] = ns_of(s.bar.ts);
      j["reason"] = s.reason;
      break;
  }
  if (src) {
    j["s"] = src->stream;
    j["id"] = src->id.str();
  }
  return j;
}

Expected<Derived> step_of(const json& j) {
  Derived s;
  const std::string t = j.value("t", "");
  try {
    if (t == "start") {
      s.kind = Derived::Kind::Start;
      s.symbol = j.at("sym").get<std::string>();
      s.bar.ts = from_ns(j.at("ts").get<std::int64_t>());
    } else if (t == "bar") {
      s.kind = Derived::Kind::Bar;
      s.symbol = j.at("sym").get<std::string>();
      s.bar = bar_of(j.at("bar"));
    } else if (t == "report") {
      s.kind = Derived::Kind::Report;
      auto m = bridge::decode(j.at("msg").get<std::string>());
      if (!m) return tl::unexpected(m.error());
      s.report = std::move(*m);
      if (const auto* a = std::get_if<bridge::OrderAck>(&s.report.body)) s.symbol = a->symbol;
      if (const auto* f = std::get_if<bridge::FillMsg>(&s.report.body)) s.symbol = f->symbol;
    } else if (t == "halt") {
      s.kind = Derived::Kind::Halt;
      s.bar.ts = from_ns(j.at("ts").get<std::int64_t>());
      s.reason = j.at("reason").get<std::string>();
    } else {
      return make_error("unknown step '" + t + "'");
    }
  } catch (const json::exception& e) {
    return make_error(std::string("damaged step: ") + e.what());
  }
  return s;
}

/// The orders sent, with their last stop price, for orders.csv.
class OrderLedger {
 public:
  void sent(const bridge::Body& body) {
    if (const auto* n = std::get_if<bridge::OrderNew>(&body)) {
      index_[n->cl_ord_id] = orders_.size();
      orders_.push_back(*n);
    }
  }
  void reported(const bridge::Body& body) {
    const auto* a = std::get_if<bridge::OrderAck>(&body);
    if (a == nullptr || a->exec_type != bridge::ExecType::Replaced) return;
    if (auto it = index_.find(a->cl_ord_id); it != index_.end()) orders_[it->second].stop_price = a->stop_price;
  }
  Expected<void> write(const std::string& path) const {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return make_error("live: cannot write " + path);
    bool ok = std::fputs("cl_ord_id,symbol,side,type,tif,purpose,qty,price,stop_price\n", f) >= 0;
    for (const auto& o : orders_) {
      ok = ok && std::fprintf(f, "%s,%s,%s,%s,%s,%s,%lld,%.10g,%.10g\n", o.cl_ord_id.c_str(), o.symbol.c_str(),
                              std::string(to_string(o.side)).c_str(), std::string(to_string(o.type)).c_str(),
                              std::string(to_string(o.tif)).c_str(), std::string(to_string(o.purpose)).c_str(),
                              static_cast<long long>(o.qty), o.price, o.stop_price) > 0;
    }
    if (std::fclose(f) != 0 || !ok) return make_error("live: write failed for " + path);
    return {};
  }

 private:
  std::vector<bridge::OrderNew> orders_;
  std::map<std::string, std::size_t> index_;
};

class Service {
 public:
  Service(LiveEngine& engine, const ServiceConfig& config) : engine_(engine), config_(config) {}

  Expected<ServiceStats> run() {
    if (auto r = open(); !r) return tl::unexpected(r.error());
    if (auto r = recover(); !r) {
      (void)leases_->release();  // a journal that is not this engine's: let the right one start at once
      return tl::unexpected(r.error());
    }
    // Before trading: what does the venue hold? (The answer is compared when it comes.)
    queue_marker(bridge::PositionsMsg{true, {}, {}});
    if (auto r = commit(); !r) return tl::unexpected(r.error());
    log("live: trading " + std::to_string(engine_.symbols().size()) + " symbol(s); journal " + journal_->path());

    if (config_.metrics != nullptr) config_.metrics->state(engine_);  // counters start here, after recovery
    metered_ = {stats_.entries, stats_.route_reports, engine_.halted()};
    auto last_sync = Clock::now();
    auto last_halt_poll = Clock::time_point{};
    while (!(config_.should_stop && config_.should_stop())) {
      if (Clock::now() - last_halt_poll >= config_.halt_poll) {
        last_halt_poll = Clock::now();
        if (auto r = honour_halt_flag(); !r) return tl::unexpected(r.error());
        if (auto r = leases_->renew_if_due(); !r) return tl::unexpected(r.error());
      }
      auto entries = consumer_->read(config_.read_count, config_.block);
      if (!entries) return tl::unexpected(entries.error());
      // The route's reports first: a lock-step terminal makes sure those it
      // sent before the entries just read have arrived before it sent them.
      if (config_.route != nullptr) {
        if (auto r = take_route_reports(); !r) return tl::unexpected(r.error());
      }
      for (auto& e : *entries) process(e);
      if (auto r = publish_halt_if_tripped(); !r) return tl::unexpected(r.error());
      if (!advanced_.empty()) {
        json ids = json::object();
        for (const auto& s : advanced_) ids[s] = cursor_[s].str();
        journal_->append({{"k", "cur"}, {"ids", ids}});
        advanced_.clear();
      }
      // An fsync costs milliseconds (4 ms on a virtual disk): only a batch
      // with orders pays for one at once, since its orders may leave only once
      // journaled. Other steps wait for the next sync (at most sync_every), and
      // so do the acknowledgements of their inputs: until then a crash merely
      // delivers those inputs again, and they replay to the same steps.
      const bool due = Clock::now() - last_sync >= config_.sync_every;
      if (orders_queued_ || engine_.halted() != halted_synced_ || due) {
        if (auto r = commit(); !r) return tl::unexpected(r.error());
        last_sync = Clock::now();
      } else if (!publish_.empty()) {
        if (auto r = publish_markers(); !r) return tl::unexpected(r.error());
      }
      // The book's figures move only with an input, a report or the halt:
      // the gauges follow then, not on every empty read.
      if (config_.metrics != nullptr && (stats_.entries != metered_.entries ||
                                         stats_.route_reports != metered_.route_reports ||
                                         engine_.halted() != metered_.halted)) {
        config_.metrics->state(engine_);
        metered_ = {stats_.entries, stats_.route_reports, engine_.halted()};
      }
    }
    if (auto r = commit(); !r) return tl::unexpected(r.error());
    if (config_.route != nullptr) config_.route->stop();
    if (!config_.orders_csv.empty()) {
      if (auto r = ledger_.write(config_.orders_csv); !r) return tl::unexpected(r.error());
    }
    if (auto r = leases_->release(); !r) log("live: leases not released (they lapse): " + r.error().message);
    stats_.halted = engine_.halted();
    return stats_;
  }

 private:
  void log(const std::string& text) const {
    if (config_.log) config_.log(text);
  }

  Expected<void> open() {
    // One engine per state directory, session, group, order stream and symbol.
    LeaseRequest lease{config_.state_dir, config_.session,
                       config_.group,     config_.route != nullptr ? std::string() : config_.orders_stream,
                       engine_.symbols(), config_.lease_ttl};
    auto leases = EngineLeases::take(config_.redis, lease);
    if (!leases) return tl::unexpected(leases.error());
    leases_.emplace(std::move(*leases));
    auto journal = execution::Journal::open(config_.state_dir + "/journal.jsonl");
    if (!journal) return tl::unexpected(journal.error());
    journal_.emplace(std::move(*journal));
    if (journal_->torn_bytes() > 0) {
      log("live: the journal's last record was cut by a crash (" + std::to_string(journal_->torn_bytes()) +
          " bytes): dropped; its inputs were never acknowledged and come again");
    }
    auto producer = stream::Producer::connect(config_.redis);
    if (!producer) return tl::unexpected(producer.error());
    producer_.emplace(std::move(*producer));
    std::vector<std::string> streams;
    for (const auto& sym : engine_.symbols()) {
      streams.push_back(stream::tick_key(sym));
      streams.push_back(stream::bar_key(sym));
    }
    streams.emplace_back(stream::kFills);
    auto consumer =
        stream::Consumer::connect(config_.redis, config_.group, config_.consumer, streams, config_.start_id);
    if (!consumer) return tl::unexpected(consumer.error());
    consumer_.emplace(std::move(*consumer));
    return {};
  }

  /// Replays the journal through the engine (which is fresh) and checks it
  /// gives the journaled orders; publishes what never reached Redis.
  Expected<void> recover() {
    std::vector<std::pair<std::uint64_t, std::string>> journaled;  // (n, msg) of every order sent
    std::vector<bridge::Body> regenerated;
    std::map<std::string, Source> minute_start;  // symbol → the tick that started its current minute
    std::vector<bridge::Body> reports;           // for the ledger, once it knows the orders

    bool meta = false;
    for (const json& rec : journal_->recovered()) {
      const std::string k = rec.value("k", "");
      if (k == "meta") {
        meta = true;
        const std::string prefix = rec.value("prefix", "");
        if (prefix != config_.session) {
          return make_error("live: the journal in " + config_.state_dir + " belongs to session '" + prefix +
                            "', not '" + config_.session + "' (use its --session, or another --state dir)");
        }
        // Its orders' ids continue in one stream: another would get them all again.
        const std::string orders = rec.value("orders", std::string(stream::kOrders));
        if (config_.route == nullptr && orders != config_.orders_stream) {
          return make_error("live: the journal in " + config_.state_dir + " sent its orders to " + orders + ", not " +
                            config_.orders_stream + " (use its --orders, or another --state dir)");
        }
      } else if (k == "step") {
        auto step = step_of(rec);
        if (!step) return make_error("live: journal: " + step.error().message);
        engine_.apply(*step);
        ++stats_.recovered_steps;
        last_route_seq_ = std::max(last_route_seq_, rec.value("fseq", std::int64_t{0}));
        if (step->kind == Derived::Kind::Report) reports.push_back(step->report.body);
        if (rec.contains("s")) {
          auto id = stream::StreamId::parse(rec.value("id", ""));
          if (id) {
            advance(rec["s"].get<std::string>(), *id);
            if (step->kind == Derived::Kind::Start) minute_start[step->symbol] = {rec["s"].get<std::string>(), *id};
          }
        }
        for (auto& body : engine_.outbox()) {
          if (is_order(body)) regenerated.push_back(std::move(body));
        }
        engine_.outbox().clear();
        engine_.take_steps();
      } else if (k == "out") {
        journaled.emplace_back(rec.value("n", std::uint64_t{0}), rec.value("msg", ""));
        next_n_ = std::max(next_n_, rec.value("n", std::uint64_t{0}) + 1);
      } else if (k == "sent") {
        route_sent_ = std::max(route_sent_, rec.value("n", std::uint64_t{0}));
      } else if (k == "cur") {
        for (const auto& [s, id] : rec["ids"].items()) {
          if (auto parsed = stream::StreamId::parse(id.get<std::string>())) advance(s, *parsed);
        }
      }
    }
    advanced_.clear();
    // Determinism: the journal's steps must give exactly the orders the journal says were sent.
    for (std::size_t i = 0; i < journaled.size(); ++i) {
      if (i >= regenerated.size() || line_of(regenerated[i]) != journaled[i].second) {
        return make_error("live: the journal in " + config_.state_dir +
                          " does not replay to the orders it recorded (order " + std::to_string(i + 1) +
                          "): the configuration, the models or the code changed since it was written; " +
                          "start a new session (another --state dir)");
      }
      ledger_.sent(regenerated[i]);
    }
    // The stops moved since (replaced acks): only now does the ledger know their orders.
    for (const auto& body : reports) ledger_.reported(body);
    if (!meta) journal_->append({{"k", "meta"}, {"prefix", config_.session}, {"orders", config_.orders_stream}});
    // Orders of a batch whose journal write was torn after its steps: send them now.
    for (std::size_t i = journaled.size(); i < regenerated.size(); ++i) queue_order(std::move(regenerated[i]));

    // An engine's own order stream: the bridge's group on it before its first entry.
    if (config_.route == nullptr && config_.orders_stream != stream::kOrders) {
      if (auto r = stream::register_order_stream(config_.redis, config_.orders_stream, stream::kBridgeGroup); !r)
        return r;
    }
    auto last = producer_->last(config_.orders_stream);
    if (!last) return tl::unexpected(last.error());
    const std::uint64_t published = *last ? (*last)->id.ms : 0;
    next_n_ = std::max(next_n_, published + 1);
    if (config_.route != nullptr) {
      if (auto r = recover_route(journaled); !r) return r;
      journaled.clear();  // the route's, not exec:orders'
    }
    for (const auto& [n, msg] : journaled) {
      if (n <= published) continue;  // it made it to Redis before the crash
      producer_->add(config_.orders_stream, stream::StreamId{n, 1},
                     {{"type", "order"}, {"msg", msg}, {"sent_ns", std::to_string(wall_ns())}});
      ++stats_.republished;
    }
    if (producer_->queued() > 0) {
      auto flushed = producer_->flush();
      if (!flushed) return tl::unexpected(flushed.error());
    }
    // The half-built bar (ticks mode): the ticks of its minute, from the one that started it.
    for (const auto& [symbol, start] : minute_start) {
      auto it = cursor_.find(start.stream);
      if (it == cursor_.end()) continue;
      auto ticks = stream::read_range(config_.redis, start.stream, start.id.str(), it->second.str());
      if (!ticks) return tl::unexpected(ticks.error());
      for (const auto& e : *ticks) {
        auto m = bridge::decode(e.field("msg"));
        if (!m) continue;
        if (const auto* t = std::get_if<bridge::TickMsg>(&m->body)) engine_.restore_tick(symbol, t->tick);
      }
    }
    engine_.outbox().clear();
    engine_.take_steps();
    if (stats_.recovered_steps > 0) {
      log("live: recovered " + std::to_string(stats_.recovered_steps) + " journal steps, " +
          std::to_string(journaled.size()) + " orders (" + std::to_string(stats_.republished) + " published again)");
    }
    return {};
  }

  void advance(const std::string& stream, stream::StreamId id) {
    auto& c = cursor_[stream];
    if (id > c) {
      c = id;
      advanced_.insert(stream);
    }
  }

  /// One stream entry: its steps into the journal, its orders and marks queued.
  void process(const stream::Entry& e) {
    held_acks_.push_back(e);
    if (config_.route != nullptr && e.stream == stream::kFills && e.field("origin") == "fix") {
      advance(e.stream, e.id);  // our own copy of a report applied from the route
      return;
    }
    if (auto it = cursor_.find(e.stream); it != cursor_.end() && e.id <= it->second) {
      ++stats_.skipped;  // processed before a crash: its steps are in the journal
      // Its marks may have died with the process: a lock-step terminal waits for them.
      if (auto message = bridge::decode(e.field("msg"))) {
        engine_.remark(*message);
        for (auto& body : engine_.outbox()) queue_marker(std::move(body));
        engine_.outbox().clear();
      }
      return;
    }
    ++stats_.entries;
    auto message = bridge::decode(e.field("msg"));
    if (!message) {
      log("live: " + e.stream + " " + e.id.str() + ": skipped: " + message.error().message);
      advance(e.stream, e.id);
      return;
    }
    const Source src{e.stream, e.id};
    if (config_.metrics != nullptr) config_.metrics->input(e, *message, wall_ns());
    if (config_.route != nullptr && !route_caught_up(message->body)) {
      advance(e.stream, e.id);
      return;
    }
    engine_.on_message(*message);
    // risk:halt outlives the day: a new session clears the books' halt (the
    // breaker's rule), and while the flag is set it is put back at once,
    // before the new day's first bar can enter (journaled after the step that
    // cleared it, so recovery replays the same sequence).
    if (flag_reason_ && !engine_.halted()) engine_.halt(engine_last_time(), "risk:halt: " + *flag_reason_);
    if (const auto* p = std::get_if<bridge::PositionsMsg>(&message->body); p != nullptr && !p->request) {
      ++stats_.reconciliations;
      const std::string diff = engine_.reconcile(*p);
      if (!diff.empty() && !engine_.halted()) {
        log("live: the venue's positions differ from the books: " + diff + ": halting");
        engine_.halt(engine_last_time(), "reconciliation: " + diff);
        halt_reason_ = "reconciliation: " + diff;
      }
    }
    advance(e.stream, e.id);
    record(src, 0);
  }

  /// What the last input did: its steps into the journal (with their source,
  /// or the route's sequence number `fseq` > 0), its orders and marks queued.
  void record(const std::optional<Source>& src, std::int64_t fseq) {
    for (const Derived& step : engine_.take_steps()) {
      json j = step_json(step, src);
      if (fseq > 0) j["fseq"] = fseq;
      journal_->append(j);
      if (step.kind == Derived::Kind::Report) ledger_.reported(step.report.body);
      if (step.kind == Derived::Kind::Bar) queue_metrics(step);
      if (config_.metrics != nullptr && step.kind == Derived::Kind::Bar)
        config_.metrics->bar_closed(step.symbol, step.bar.ts, wall_ns());
      if (config_.metrics != nullptr && step.kind == Derived::Kind::Report) config_.metrics->report(step.report.body);
    }
    for (auto& body : engine_.outbox()) {
      if (is_order(body)) {
        queue_order(std::move(body));
      } else {
        queue_marker(std::move(body));
      }
    }
    engine_.outbox().clear();
  }

  Timestamp engine_last_time() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }

  void queue_order(bridge::Body body) {
    const std::string msg = line_of(body);
    const std::uint64_t n = next_n_++;
    journal_->append({{"k", "out"}, {"n", n}, {"msg", msg}});
    ledger_.sent(body);
    if (config_.metrics != nullptr) config_.metrics->order_queued(body);
    publish_.push_back({n, "order", msg});
    orders_queued_ = true;
    ++stats_.orders;
  }

  /// mon:metrics (stream/metrics.h): the book at this bar close, for the
  /// ClickHouse logger. Sent with the next flush under a Redis-assigned id;
  /// (symbol, ts_ms, session) names it, so a bar processed again after a crash
  /// collapses with its first copy. A crash between the journal's sync and
  /// that flush loses the entry (monitoring, not the ledger: the journal is).
  void queue_metrics(const Derived& bar) {
    const auto book = engine_.book_state(bar.symbol);
    if (!book) return;
    stream::Metrics m;
    m.symbol = bar.symbol;
    m.ts_ms = ns_of(bar.bar.ts + kMinute) / 1'000'000;
    m.session = config_.session;
    m.equity = engine_.equity();
    m.position = book->position;
    m.realized_pnl = book->realized_pnl;
    m.open_pnl = book->open_pnl;
    m.day_start_equity = book->day_start_equity;
    m.drawdown = book->drawdown;  // the risk engine's figure, the one the breaker compares (and Prometheus shows)
    m.halted = engine_.halted();
    m.sent_ns = wall_ns();
    m.breaker_drawdown = book->breaker_drawdown;
    producer_->add(stream::kMetrics, stream::metrics_fields(m));
  }

  void queue_marker(bridge::Body body) {
    publish_.push_back({next_n_++, std::string(bridge::type_name(body)), line_of(body)});
  }

  /// Publishes what is queued, in order. Alone: a batch without orders, whose
  /// marks (hb for a lock-step terminal) leave at once — they promise nothing
  /// durable (an input processed again after a crash marks again), and its
  /// steps and acknowledgements wait for commit(). From commit(): after the sync.
  Expected<void> publish_markers() {
    if (publish_.empty() && producer_->queued() == 0) return {};
    const std::string now = std::to_string(wall_ns());
    for (auto& p : publish_) {
      if (config_.route != nullptr && p.type == "order") {
        if (auto r = send_route(p.n, p.msg); !r) return r;
        continue;
      }
      producer_->add(config_.orders_stream, stream::StreamId{p.n, 1},
                     {{"type", p.type}, {"msg", p.msg}, {"sent_ns", now}});
    }
    publish_.clear();
    auto flushed = producer_->flush();
    if (!flushed) return tl::unexpected(flushed.error());
    if (config_.metrics != nullptr) config_.metrics->orders_published(wall_ns());
    return {};
  }

  /// Journal first (fsync), then the orders leave, then the inputs are acknowledged.
  Expected<void> commit() {
    if (journal_->dirty()) {
      if (auto r = journal_->sync(); !r) return r;
    }
    orders_queued_ = false;
    halted_synced_ = engine_.halted();
    if (auto r = publish_markers(); !r) return r;
    if (!held_acks_.empty()) {
      auto acked = consumer_->ack(held_acks_);
      if (!acked) return acked;
      held_acks_.clear();
    }
    return {};
  }

  Expected<void> honour_halt_flag() {
    auto flag = stream::read_halt(config_.redis);
    if (!flag) return tl::unexpected(flag.error());
    if (*flag) {
      flag_reason_ = (*flag)->reason;
    } else {
      flag_reason_.reset();
    }
    if (*flag && !engine_.halted()) {
      log("live: risk:halt is set (" + (*flag)->reason + "): no new entries, positions flattened");
      engine_.halt(engine_last_time(), "risk:halt: " + (*flag)->reason);
      for (const Derived& step : engine_.take_steps()) journal_->append(step_json(step, std::nullopt));
      for (auto& body : engine_.outbox()) {
        if (is_order(body)) queue_order(std::move(body));
      }
      engine_.outbox().clear();
      flag_seen_ = true;
      return commit();
    }
    flag_seen_ = flag->has_value();
    return {};
  }

  /// The breaker tripped (or reconciliation failed): raise `risk:halt` for every component.
  Expected<void> publish_halt_if_tripped() {
    if (flag_seen_ || !engine_.halted()) return {};
    stream::Halt h;
    if (auto state = engine_.halt_state()) {
      h.reason = halt_reason_.empty() ? state->symbol + ": " + state->reason : halt_reason_;
      h.time = format_utc(state->time);
      h.equity = state->equity;
    } else {
      h.reason = halt_reason_.empty() ? "halted" : halt_reason_;
      h.time = format_utc(engine_last_time());
      h.equity = engine_.equity();
    }
    h.by = "live";
    auto set = stream::set_halt(config_.redis, h);
    if (!set) return set;
    log("live: trading halted: " + h.reason + " (risk:halt set; clear it with quant halt --clear)");
    flag_seen_ = true;
    return {};
  }

  // ---- orders and reports over the route (FIX) ----

  /// An order out over the route; the journal notes it went (synced with the
  /// next commit: a crash before that sends it again, and the venue answers a
  /// ClOrdID it knows with the order's state).
  Expected<void> send_route(std::uint64_t n, const std::string& msg) {
    auto m = bridge::decode(msg);
    if (!m) return make_error("live: journal order " + std::to_string(n) + ": " + m.error().message);
    if (auto r = config_.route->send(m->body); !r) return r;
    journal_->append({{"k", "sent"}, {"n", n}});
    route_sent_ = std::max(route_sent_, n);
    return {};
  }

  /// At start: the journal's orders become known to the route, those it
  /// never sent go now, and the venue resends every report after the last
  /// journaled one.
  Expected<void> recover_route(const std::vector<std::pair<std::uint64_t, std::string>>& journaled) {
    std::vector<std::pair<std::uint64_t, std::string>> unsent;
    for (const auto& [n, msg] : journaled) {
      auto m = bridge::decode(msg);
      if (!m) return make_error("live: journal order " + std::to_string(n) + ": " + m.error().message);
      if (const auto* o = std::get_if<bridge::OrderNew>(&m->body)) config_.route->remember(*o);
      if (n > route_sent_) unsent.emplace_back(n, msg);
    }
    if (auto r = config_.route->start(last_route_seq_); !r) return r;
    for (const auto& [n, msg] : unsent) {
      if (auto r = send_route(n, msg); !r) return r;
      ++stats_.republished;
    }
    return {};
  }

  /// A positions snapshot (from the terminal, over the bridge) is compared
  /// with the books only once the route's reports sent before it are applied:
  /// they travel another way and may still be on it. When the route cannot
  /// tell (not connected), the snapshot is skipped: it proves nothing then.
  bool route_caught_up(const bridge::Body& body) {
    const auto* p = std::get_if<bridge::PositionsMsg>(&body);
    if (p == nullptr || p->request) return true;
    if (auto synced = config_.route->sync(std::chrono::seconds(5)); !synced) {
      log("live: positions check skipped: " + synced.error().message);
      return false;
    }
    if (auto r = take_route_reports(); !r) {
      log("live: " + r.error().message);
      return false;
    }
    return true;
  }

  /// The route's reports, applied as inputs: journaled (with their sequence
  /// number), their orders and marks queued, and a copy published to exec:fills.
  Expected<void> take_route_reports() {
    auto reports = config_.route->poll(std::chrono::milliseconds(0));
    if (reports.empty()) return {};
    for (const bridge::Message& m : reports) {
      ++stats_.route_reports;
      engine_.on_message(m);
      if (flag_reason_ && !engine_.halted()) engine_.halt(engine_last_time(), "risk:halt: " + *flag_reason_);
      last_route_seq_ = std::max(last_route_seq_, m.seq);
      record(std::nullopt, m.seq);
    }
    return publish_fills_copy(reports);
  }

  /// Every report received over the route also goes to exec:fills in the
  /// bridge's entry format (the logger reads trades there), before the journal
  /// is synced: a crash re-asks the venue for them and publishes them again
  /// (at least once; the logger de-duplicates). Ids: the bridge writes
  /// `<n>-1` from one counter over md and exec:fills, so these go right above
  /// both the stream's top and the last entry processed (`<n>-2`, `<n>-3` …),
  /// below the bridge's next; one the bridge overtook meanwhile goes again above it.
  Expected<void> publish_fills_copy(const std::vector<bridge::Message>& reports) {
    std::vector<const bridge::Message*> todo;
    for (const auto& m : reports) todo.push_back(&m);
    const std::string now = std::to_string(wall_ns());
    for (int attempt = 0; attempt < 5 && !todo.empty(); ++attempt) {
      auto top = producer_->last(stream::kFills);
      if (!top) return tl::unexpected(top.error());
      stream::StreamId next = *top ? (*top)->id : stream::StreamId{};
      for (const auto& [name, id] : cursor_) {
        if (id.ms > next.ms) next = stream::StreamId{id.ms, 0};
      }
      next.seq = std::max<std::uint64_t>(next.seq + 1, 2);
      for (const bridge::Message* m : todo) {
        producer_->add(stream::kFills, next, {{"type", std::string(bridge::type_name(m->body))},
                                              {"msg", line_of(m->body)}, {"recv_ns", now}, {"origin", "fix"}});
        ++next.seq;
      }
      auto added = producer_->flush();
      if (!added) return tl::unexpected(added.error());
      std::vector<const bridge::Message*> again;
      for (std::size_t i = 0; i < added->size() && i < todo.size(); ++i) {
        if ((*added)[i].duplicate) again.push_back(todo[i]);
      }
      todo = std::move(again);
    }
    if (!todo.empty()) log("live: " + std::to_string(todo.size()) + " FIX report(s) not copied to exec:fills");
    return {};
  }

  struct Pending {
    std::uint64_t n;
    std::string type;
    std::string msg;
  };

  LiveEngine& engine_;
  const ServiceConfig& config_;
  std::optional<EngineLeases> leases_;
  std::optional<execution::Journal> journal_;
  std::optional<stream::Producer> producer_;
  std::optional<stream::Consumer> consumer_;
  std::map<std::string, stream::StreamId> cursor_;
  std::set<std::string> advanced_;
  std::vector<stream::Entry> held_acks_;
  std::vector<Pending> publish_;
  std::uint64_t next_n_ = 1;
  OrderLedger ledger_;
  ServiceStats stats_;
  /// What the metrics' gauges were last set after.
  struct Metered {
    std::int64_t entries = -1;
    std::int64_t route_reports = -1;
    bool halted = false;
  } metered_;
  bool flag_seen_ = false;
  std::optional<std::string> flag_reason_;  ///< risk:halt's reason while the flag is set (last poll)
  std::string halt_reason_;
  bool orders_queued_ = false;  ///< publish_ holds an order: the next commit is due at once
  bool halted_synced_ = false;  ///< engine_.halted() as of the last commit (a halt is synced at once)
  std::int64_t last_route_seq_ = 0;  ///< the route's last report journaled (its sequence number)
  std::uint64_t route_sent_ = 0;     ///< the last journaled order the route took
};

}  // namespace

Expected<ServiceStats> run_live(LiveEngine& engine, const ServiceConfig& config) {
  Service service(engine, config);
  return service.run();
}

}  // namespace quant::live
