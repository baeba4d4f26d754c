#include "live/live_engine.h"

#include <chrono>
#include <cstdio>
#include <utility>
#include <variant>

namespace quant::live {

namespace bridge = execution::bridge;

namespace {

Timestamp minute_of(Timestamp ts) { return std::chrono::floor<std::chrono::minutes>(ts); }
Timestamp from_msc(std::int64_t msc) { return Timestamp(std::chrono::milliseconds(msc)); }
std::int64_t to_msc(Timestamp ts) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count();
}
std::int64_t to_s(Timestamp ts) {
  return std::chrono::duration_cast<std::chrono::seconds>(ts.time_since_epoch()).count();
}

/// Counts what the kernel reports about signals it did not act on (for the
/// metrics; the kernel's decisions themselves are untouched).
struct DecisionCounter final : engine::EngineObserver {
  void on_decision(const engine::DecisionRecord& d) override {
    const std::string_view kind = d.kind;
    if (kind == "signal_blocked") ++counts.signals_blocked;
    if (kind == "order_rejected") ++counts.orders_rejected;
  }
  LiveEngine::Decisions counts;
};

}  // namespace

struct LiveEngine::Runner {
  Runner(engine::Account& account, const LiveConfig& config, LiveSymbol s, TimeZone zone,
         std::vector<bridge::Body>& outbox)
      : symbol(std::move(s)),
        venue(symbol.spec.symbol, config.id_prefix, outbox),
        engine(account, config.engine, symbol.spec, zone, symbol.risk ? *symbol.risk : config.risk, symbol.costs,
               *symbol.strategy, venue, observer, symbol.gate.get()) {}
  LiveSymbol symbol;
  RemoteVenue venue;
  DecisionCounter observer;
  engine::Engine engine;
  BarAggregator aggregator;
  Timestamp started = Timestamp::min();  ///< the minute before_bar was called for
  Timestamp closed = Timestamp::min();   ///< the last bar given to on_bar_close
};

LiveEngine::LiveEngine(LiveConfig config, std::vector<LiveSymbol> symbols)
    : config_(std::move(config)), account_(config_.engine.initial_equity) {
  for (auto& s : symbols) {
    auto zone = TimeZone::find(s.spec.time_zone);
    names_.push_back(s.spec.symbol);
    runners_.push_back(
        std::make_unique<Runner>(account_, config_, std::move(s), zone ? *zone : TimeZone::utc(), outbox_));
  }
}

LiveEngine::~LiveEngine() = default;

LiveEngine::Runner* LiveEngine::find(const std::string& symbol) {
  for (auto& r : runners_) {
    if (r->symbol.spec.symbol == symbol) return r.get();
  }
  return nullptr;
}

const LiveEngine::Runner* LiveEngine::find(const std::string& symbol) const {
  return const_cast<LiveEngine*>(this)->find(symbol);
}

void LiveEngine::mark(const char* kind, const std::string& symbol, std::int64_t time) {
  if (!config_.marks) return;
  bridge::Heartbeat hb;
  hb.mark = std::string(kind) + ":" + symbol + ":" + std::to_string(time);
  outbox_.emplace_back(std::move(hb));
}

void LiveEngine::start_minute(Runner& r, Timestamp minute) {
  if (minute <= r.started) return;
  r.started = minute;
  Bar start{};
  start.ts = minute;
  r.engine.before_bar(start);
  steps_.push_back({Derived::Kind::Start, r.symbol.spec.symbol, start, {}, {}});
}

void LiveEngine::close_bar(Runner& r, const Bar& bar) {
  if (bar.ts <= r.closed) return;  // a bar twice (a re-sent message) or out of order
  start_minute(r, bar.ts);
  r.closed = bar.ts;
  r.engine.on_bar_close(bar);
  steps_.push_back({Derived::Kind::Bar, r.symbol.spec.symbol, bar, {}, {}});
}

void LiveEngine::on_message(const bridge::Message& message) {
  if (const auto* t = std::get_if<bridge::TickMsg>(&message.body)) {
    Runner* r = find(t->symbol);
    if (r == nullptr) return;
    const Timestamp minute = minute_of(t->tick.ts);
    if (config_.bars == BarSource::Ticks) {
      if (auto closed = r->aggregator.add_tick(t->tick)) close_bar(*r, *closed);
    }
    if (minute > r->started) {
      start_minute(*r, minute);
      mark("tick", t->symbol, to_msc(t->tick.ts));
    }
  } else if (const auto* b = std::get_if<bridge::BarMsg>(&message.body)) {
    Runner* r = find(b->symbol);
    if (r == nullptr || config_.bars != BarSource::Terminal) return;
    close_bar(*r, b->bar);
    mark("bar", b->symbol, to_s(b->bar.ts));
  } else if (const auto* a = std::get_if<bridge::OrderAck>(&message.body)) {
    // An ack never starts a minute: a Day order expired at the day change is
    // applied before the new day's before_bar, as the backtest does it.
    Runner* r = find(a->symbol);
    if (r == nullptr) return;
    if (r->venue.on_report(*a)) steps_.push_back({Derived::Kind::Report, a->symbol, {}, message, {}});
  } else if (const auto* f = std::get_if<bridge::FillMsg>(&message.body)) {
    Runner* r = find(f->symbol);
    if (r == nullptr) return;
    start_minute(*r, minute_of(from_msc(f->time_msc)));
    if (r->venue.on_report(*f)) steps_.push_back({Derived::Kind::Report, f->symbol, {}, message, {}});
    if (config_.marks) outbox_.emplace_back(bridge::Heartbeat{"fill:" + f->exec_id});
  } else if (const auto* p = std::get_if<bridge::PositionsMsg>(&message.body)) {
    if (!p->request) venue_positions_ = *p;
  }
}

void LiveEngine::remark(const bridge::Message& message) {
  if (const auto* t = std::get_if<bridge::TickMsg>(&message.body)) mark("tick", t->symbol, to_msc(t->tick.ts));
  if (const auto* b = std::get_if<bridge::BarMsg>(&message.body)) mark("bar", b->symbol, to_s(b->bar.ts));
  // Another engine's fill (exec:fills is shared when engines split the symbols) was never marked here.
  if (const auto* f = std::get_if<bridge::FillMsg>(&message.body); f != nullptr && config_.marks && find(f->symbol))
    outbox_.emplace_back(bridge::Heartbeat{"fill:" + f->exec_id});
}

void LiveEngine::apply(const Derived& step) {
  if (step.kind == Derived::Kind::Halt) {
    halt(step.bar.ts, step.reason);
    return;
  }
  Runner* r = find(step.symbol);
  if (r == nullptr) return;
  switch (step.kind) {
    case Derived::Kind::Start: start_minute(*r, step.bar.ts); break;
    case Derived::Kind::Bar: close_bar(*r, step.bar); break;
    case Derived::Kind::Report:
      if (const auto* a = std::get_if<bridge::OrderAck>(&step.report.body)) {
        r->venue.on_report(*a);
      } else if (const auto* f = std::get_if<bridge::FillMsg>(&step.report.body)) {
        r->venue.on_report(*f);
      }
      steps_.push_back(step);
      break;
    case Derived::Kind::Halt: break;
  }
}

void LiveEngine::restore_tick(const std::string& symbol, const Tick& tick) {
  Runner* r = find(symbol);
  if (r == nullptr || config_.bars != BarSource::Ticks) return;
  if (auto closed = r->aggregator.add_tick(tick)) close_bar(*r, *closed);
}

std::vector<Derived> LiveEngine::take_steps() { return std::exchange(steps_, {}); }

std::string LiveEngine::reconcile(const bridge::PositionsMsg& venue) const {
  std::string diff;
  for (const auto& r : runners_) {
    const std::string& sym = r->symbol.spec.symbol;
    std::int64_t theirs = 0;
    for (const auto& p : venue.positions) {
      if (p.symbol == sym) theirs += p.qty;
    }
    const std::int64_t ours = r->engine.position();
    if (ours != theirs) {
      diff += (diff.empty() ? "" : "; ") + sym + ": engine position " + std::to_string(ours) + ", venue " +
              std::to_string(theirs);
    }
    for (const auto& id : r->venue.working()) {
      bool there = false;
      for (const auto& o : venue.orders) there = there || o.cl_ord_id == id;
      (void)there;  // an order the venue does not list may have finished in a report still on its way
    }
  }
  return diff;
}

void LiveEngine::halt(Timestamp ts, const std::string& reason) {
  Derived step;
  step.kind = Derived::Kind::Halt;
  step.bar.ts = ts;
  step.reason = reason;
  steps_.push_back(std::move(step));
  for (auto& r : runners_) {
    const risk::RiskEngine* risk = r->engine.book().risk();
    if (risk != nullptr && risk->halted()) continue;
    r->engine.book().halt(ts, r->engine.equity(), reason);
  }
}

bool LiveEngine::halted() const {
  for (const auto& r : runners_) {
    const risk::RiskEngine* risk = r->engine.book().risk();
    if (risk != nullptr && risk->halted()) return true;
  }
  return false;
}

std::optional<engine::AccountHalt> LiveEngine::halt_state() const {
  if (account_.halt_state().halted) return account_.halt_state();  // the breaker: symbol, reason, time, equity
  for (const auto& r : runners_) {
    const risk::RiskEngine* risk = r->engine.book().risk();
    if (risk != nullptr && risk->halted()) {
      engine::AccountHalt h;
      h.halted = true;
      h.symbol = r->symbol.spec.symbol;
      h.reason = "daily loss limit reached";
      h.time = r->engine.book().last_bar() + kMinute;
      h.equity = r->engine.equity();
      return h;
    }
  }
  return std::nullopt;
}

std::int64_t LiveEngine::position(const std::string& symbol) const {
  const Runner* r = find(symbol);
  return r == nullptr ? 0 : r->engine.position();
}

std::optional<LiveEngine::BookState> LiveEngine::book_state(const std::string& symbol) const {
  const Runner* r = find(symbol);
  if (r == nullptr) return std::nullopt;
  const engine::TradingBook& book = r->engine.book();
  const risk::RiskEngine* risk = book.risk();
  return BookState{book.position_qty(), book.realized(), book.open_pnl(),
                   risk != nullptr ? risk->day_start_equity() : 0.0,
                   risk != nullptr ? risk->day_drawdown(account_.equity()) : 0.0,
                   risk != nullptr ? -risk->config().daily_loss_pct : 0.0, book.working_counts()};
}

LiveEngine::Decisions LiveEngine::decisions(const std::string& symbol) const {
  const Runner* r = find(symbol);
  return r != nullptr ? r->observer.counts : Decisions{};
}

double LiveEngine::equity() const { return account_.equity(); }

std::int64_t LiveEngine::orders_sent() const {
  std::int64_t n = 0;
  for (const auto& r : runners_) n += r->engine.orders_sent();
  return n;
}

std::int64_t LiveEngine::bars() const {
  std::int64_t n = 0;
  for (const auto& r : runners_) n += r->engine.bars();
  return n;
}

}  // namespace quant::live
