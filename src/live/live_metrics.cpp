#include "live/live_metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <variant>

#include "core/session_locator.h"

namespace quant::live {

namespace bridge = execution::bridge;

namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double seconds(std::int64_t ns) { return std::max<double>(0.0, static_cast<double>(ns) / 1e9); }

std::vector<double> slippage_buckets() { return {-5, -2, -1, 0, 1, 2, 3, 5, 10, 20}; }

}  // namespace

LiveMetrics::LiveMetrics(monitor::Registry& r, const std::vector<std::pair<std::string, double>>& symbols) {
  for (const auto& [name, tick] : symbols) {
    Symbol& s = symbols_[name];
    s.tick_size = tick;
    const monitor::Labels l{{"symbol", name}};
    auto with = [&](const char* key, std::string value) {
      monitor::Labels out = l;
      out.emplace_back(key, std::move(value));
      return out;
    };
    s.feed_latency = r.histogram("quant_live_feed_latency_seconds",
                                 "Terminal send time (t_ms) to quant live's receipt, ticks and bars",
                                 monitor::latency_buckets(), l);
    s.exchange_latency = r.histogram(
        "quant_live_exchange_latency_seconds",
        "A tick's exchange time (time_msc) to quant live's receipt, ticks up to 10 minutes old",
        monitor::latency_buckets(), l);
    s.exchange_outside = r.counter("quant_live_exchange_time_outside_total",
                                   "Ticks whose exchange time was over 10 minutes old at receipt (history, a clock off)",
                                   l);
    s.hub_latency = r.histogram("quant_live_hub_latency_seconds",
                                "quant bridge's receipt (recv_ns) to quant live's receipt: the Redis hop",
                                monitor::latency_buckets(), l);
    s.bar_lag = r.histogram("quant_live_bar_lag_seconds",
                            "Wall time from the feed's clock reaching a bar's close to the engine closing the bar",
                            monitor::latency_buckets(), l);
    s.tick_to_order = r.histogram("quant_live_tick_to_order_seconds",
                                  "Terminal send time of the input to its order published (after the journal fsync)",
                                  monitor::latency_buckets(), l);
    s.slippage = r.histogram("quant_live_slippage_ticks",
                             "Fill price against the order's reference price in ticks (> 0 worse for us)",
                             slippage_buckets(), l);
    s.last_tick = r.gauge("quant_live_last_tick_received_timestamp_seconds",
                          "Wall time quant live last received a tick or bar of the symbol (Unix s)", l);
    s.position = r.gauge("quant_live_position_contracts", "Signed position, contracts (> 0 long)", l);
    s.realized = r.gauge("quant_live_realized_pnl", "Realised PnL since start after fees, account currency", l);
    s.open_pnl = r.gauge("quant_live_open_pnl", "Open PnL at the last bar close, account currency", l);
    const char* working = "Working orders now, by state (pending_new: sent, not yet acknowledged)";
    s.working_new = r.gauge("quant_live_working_orders", working, with("state", "pending_new"));
    s.working_accepted = r.gauge("quant_live_working_orders", working, with("state", "accepted"));
    s.working_partial = r.gauge("quant_live_working_orders", working, with("state", "partially_filled"));
    const char* sent = "Order messages sent by kind (new, cancel, replace)";
    s.orders_new = r.counter("quant_live_orders_sent_total", sent, with("kind", "new"));
    s.orders_cancel = r.counter("quant_live_orders_sent_total", sent, with("kind", "cancel"));
    s.orders_replace = r.counter("quant_live_orders_sent_total", sent, with("kind", "replace"));
    s.fills_buy = r.counter("quant_live_fills_total", "Fills received, by side", with("side", "buy"));
    s.fills_sell = r.counter("quant_live_fills_total", "Fills received, by side", with("side", "sell"));
    s.contracts = r.counter("quant_live_filled_contracts_total", "Contracts filled", l);
    const char* signals = "Strategy signals: entry (an entry order left) or blocked (a filter, the gate or an entry block)";
    s.signals_entry = r.counter("quant_live_signals_total", signals, with("outcome", "entry"));
    s.signals_blocked = r.counter("quant_live_signals_total", signals, with("outcome", "blocked"));
    s.orders_rejected = r.counter("quant_live_orders_refused_total", "Orders the book refused before sending", l);
    for (auto t : {bridge::ExecType::New, bridge::ExecType::Rejected, bridge::ExecType::Canceled,
                   bridge::ExecType::Replaced, bridge::ExecType::Expired, bridge::ExecType::Trade}) {
      s.reports[t] = r.counter("quant_live_order_reports_total", "Execution reports applied, by FIX ExecType",
                               with("exec_type", std::string(bridge::to_string(t))));
    }
  }
  equity_ = r.gauge("quant_live_equity", "Account equity marked at the last bar close, account currency");
  day_start_equity_ = r.gauge("quant_live_day_start_equity", "Equity at the trading day's start (0 before one)");
  drawdown_ = r.gauge("quant_live_drawdown_ratio",
                      "The day's loss as a fraction of start-of-day equity (<= 0): the figure the breaker compares");
  breaker_drawdown_ =
      r.gauge("quant_live_breaker_drawdown_ratio", "Where the daily breaker trips, as a drawdown ratio (e.g. -0.03)");
  halted_ = r.gauge("quant_live_halted", "1 while trading is halted (breaker, risk:halt, reconciliation), else 0");
  inputs_ = r.counter("quant_live_inputs_total", "Stream entries processed (ticks, bars, reports)");
}

LiveMetrics::Symbol* LiveMetrics::find(const std::string& symbol) {
  auto it = symbols_.find(symbol);
  return it == symbols_.end() ? nullptr : &it->second;
}

void LiveMetrics::feed_time(Symbol& s, Timestamp t, std::int64_t now_ns) {
  const Timestamp minute = std::chrono::floor<std::chrono::minutes>(t);
  if (!s.minutes.empty() && minute <= s.minutes.back().first) return;
  s.minutes.emplace_back(minute, now_ns);
  if (s.minutes.size() > 8) s.minutes.pop_front();
}

void LiveMetrics::input(const stream::Entry& entry, const bridge::Message& message, std::int64_t now_ns) {
  inputs_.inc();
  input_t_ms_ = message.t_ms;
  Symbol* s = nullptr;  // one lookup per input: this runs for every tick
  if (const auto* t = std::get_if<bridge::TickMsg>(&message.body)) {
    s = find(t->symbol);
    if (s == nullptr) return;
    feed_time(*s, t->tick.ts, now_ns);
    const std::int64_t age_ns = now_ns - t->tick.ts.time_since_epoch().count();
    if (age_ns <= kExchangeWindowNs) {
      s->exchange_latency.observe(seconds(age_ns));
    } else {
      s->exchange_outside.inc();
    }
    if (t->tick.has_last()) {
      s->last_price = t->tick.last;
    } else if (t->tick.has_bid() && t->tick.has_ask()) {
      s->last_price = (t->tick.bid + t->tick.ask) / 2;
    }
  } else if (const auto* b = std::get_if<bridge::BarMsg>(&message.body)) {
    s = find(b->symbol);
    if (s == nullptr) return;
    feed_time(*s, b->bar.ts + kMinute, now_ns);  // a closed bar: the feed passed its close
    s->last_price = b->bar.close;
  } else {
    return;
  }
  s->last_tick.set(static_cast<double>(now_ns) / 1e9);
  if (message.t_ms > 0) s->feed_latency.observe(seconds(now_ns - message.t_ms * 1'000'000));
  if (const auto recv_ns = entry.integer("recv_ns"); recv_ns && *recv_ns > 0) {
    s->hub_latency.observe(seconds(now_ns - *recv_ns));
  }
}

void LiveMetrics::bar_closed(const std::string& symbol, Timestamp bar_ts, std::int64_t now_ns) {
  Symbol* s = find(symbol);
  if (s == nullptr) return;
  const Timestamp close = bar_ts + kMinute;
  for (const auto& [minute, at_ns] : s->minutes) {
    if (minute >= close) {
      s->bar_lag.observe(seconds(now_ns - at_ns));
      return;
    }
  }
  s->bar_lag.observe(0);  // the feed has not passed the close by itself: the bar is its first sign
}

void LiveMetrics::order_queued(const bridge::Body& body) {
  Symbol* s = nullptr;
  if (const auto* n = std::get_if<bridge::OrderNew>(&body)) {
    s = find(n->symbol);
    if (s == nullptr) return;
    s->orders_new.inc();
    if (n->purpose == OrderPurpose::Entry) s->signals_entry.inc();
    double reference = s->last_price;
    if (n->type == OrderType::Stop || n->type == OrderType::StopLimit) reference = n->stop_price;
    if (n->type == OrderType::Limit) reference = n->price;
    if (reference > 0) references_[n->cl_ord_id] = Reference{n->symbol, n->side, reference};
  } else if (const auto* c = std::get_if<bridge::OrderCancel>(&body)) {
    s = find(c->symbol);
    if (s != nullptr) s->orders_cancel.inc();
  } else if (const auto* r = std::get_if<bridge::OrderReplace>(&body)) {
    s = find(r->symbol);
    if (s != nullptr) s->orders_replace.inc();
  }
  if (s != nullptr) unpublished_.emplace_back(s, input_t_ms_);
}

void LiveMetrics::orders_published(std::int64_t now_ns) {
  for (const auto& [s, t_ms] : unpublished_) {
    if (t_ms > 0) s->tick_to_order.observe(seconds(now_ns - t_ms * 1'000'000));
  }
  unpublished_.clear();
}

void LiveMetrics::report(const bridge::Body& body) {
  if (const auto* a = std::get_if<bridge::OrderAck>(&body)) {
    if (Symbol* s = find(a->symbol)) {
      if (auto it = s->reports.find(a->exec_type); it != s->reports.end()) it->second.inc();
    }
    if (a->ord_status == bridge::OrdStatus::Canceled || a->ord_status == bridge::OrdStatus::Rejected ||
        a->ord_status == bridge::OrdStatus::Expired) {
      references_.erase(a->cl_ord_id);
    } else if (a->exec_type == bridge::ExecType::Replaced && a->stop_price > 0) {
      // A trailed stop fills against where it stands now, not where it started.
      if (auto it = references_.find(a->cl_ord_id); it != references_.end()) it->second.price = a->stop_price;
    }
  } else if (const auto* f = std::get_if<bridge::FillMsg>(&body)) {
    Symbol* s = find(f->symbol);
    if (s == nullptr) return;
    s->reports[bridge::ExecType::Trade].inc();
    (f->side == Side::Buy ? s->fills_buy : s->fills_sell).inc();
    s->contracts.inc(static_cast<double>(f->qty));
    if (auto it = references_.find(f->cl_ord_id); it != references_.end() && s->tick_size > 0) {
      const double sign = it->second.side == Side::Buy ? 1.0 : -1.0;
      s->slippage.observe(std::round(sign * (f->price - it->second.price) / s->tick_size * 1e6) / 1e6);
      if (f->leaves_qty <= 0) references_.erase(it);
    }
  }
}

void LiveMetrics::watch_sessions(monitor::Registry& registry, const std::vector<InstrumentSpec>& specs,
                                 std::function<Timestamp()> now) {
  struct Watched {
    SessionLocator locator;
    monitor::Gauge open;
  };
  struct State {
    std::mutex mutex;  // two scrapes at once share the locators
    std::vector<Watched> watched;
    std::function<Timestamp()> now;
  };
  auto state = std::make_shared<State>();
  state->now = std::move(now);
  for (const InstrumentSpec& spec : specs) {
    auto zone = TimeZone::find(spec.time_zone);
    if (!zone) continue;  // the engine refused such a spec long before
    state->watched.push_back(
        {SessionLocator(spec, *zone),
         registry.gauge("quant_live_session_open",
                        "1 while the symbol's trading session is open now (core's calendar and hours), else 0",
                        {{"symbol", spec.symbol}})});
  }
  registry.on_collect([state] {
    std::lock_guard lock(state->mutex);
    const Timestamp minute = std::chrono::floor<std::chrono::minutes>(state->now());
    for (Watched& w : state->watched) w.open.set(w.locator.locate(minute).in_session ? 1 : 0);
  });
}

void LiveMetrics::state(const LiveEngine& engine) {
  double day_start = 0, drawdown = 0, breaker = 0;
  for (auto& [name, s] : symbols_) {
    const auto book = engine.book_state(name);
    if (!book) continue;
    s.position.set(static_cast<double>(book->position));
    s.realized.set(book->realized_pnl);
    s.open_pnl.set(book->open_pnl);
    s.working_new.set(static_cast<double>(book->working.pending_new));
    s.working_accepted.set(static_cast<double>(book->working.accepted));
    s.working_partial.set(static_cast<double>(book->working.partially_filled));
    day_start = std::max(day_start, book->day_start_equity);
    drawdown = std::min(drawdown, book->drawdown);
    breaker = std::min(breaker, book->breaker_drawdown);
    const LiveEngine::Decisions d = engine.decisions(name);
    if (based_) {  // counters count from the process's start, not the journal's
      s.signals_blocked.inc(static_cast<double>(d.signals_blocked - s.seen.signals_blocked));
      s.orders_rejected.inc(static_cast<double>(d.orders_rejected - s.seen.orders_rejected));
    }
    s.seen = d;
  }
  based_ = true;
  equity_.set(engine.equity());
  day_start_equity_.set(day_start);
  drawdown_.set(drawdown);
  breaker_drawdown_.set(breaker);
  halted_.set(engine.halted() ? 1 : 0);
}

MeteredGate::MeteredGate(std::unique_ptr<engine::Gate> inner, monitor::Registry& registry, const std::string& symbol,
                         bool remote)
    : inner_(std::move(inner)) {
  duration_ = registry.histogram(
      "quant_live_gate_duration_seconds",
      "The gate's judge() per entry: in process, or the POST /infer round trip as the client sees it",
      monitor::fast_buckets(), {{"symbol", symbol}, {"mode", remote ? "remote" : "process"}});
  const char* help = "Gate decisions on entries the strategy and filters proposed";
  pass_ = registry.counter("quant_live_gate_decisions_total", help, {{"symbol", symbol}, {"decision", "pass"}});
  reject_ = registry.counter("quant_live_gate_decisions_total", help, {{"symbol", symbol}, {"decision", "reject"}});
}

engine::GateVerdict MeteredGate::judge(const engine::EntryCandidate& entry) {
  const std::int64_t t0 = wall_ns();
  const engine::GateVerdict v = inner_->judge(entry);
  duration_.observe(seconds(wall_ns() - t0));
  (v.allowed ? pass_ : reject_).inc();
  return v;
}

}  // namespace quant::live
