#include "replay/replay.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <thread>

#include "execution/bridge_socket.h"
#include "replay/journal.h"

namespace quant::replay {

namespace {

using Clock = std::chrono::steady_clock;
using execution::bridge::BridgeSocket;
using std::chrono::milliseconds;

enum class Outcome { Finished, Disconnected, Stopped };

/// Per symbol: how many ticks with the latest time_msc went out, for the
/// resume test of ticks that share a millisecond.
struct TickCount {
  std::int64_t msc = -1;
  std::int64_t n = 0;
  std::int64_t ordinal(std::int64_t at) const { return at == msc ? n + 1 : 1; }
  void add(std::int64_t at) {
    n = at == msc ? n + 1 : 1;
    msc = at;
  }
};

std::string mark_of_tick(const std::string& symbol, std::int64_t msc) {
  return "tick:" + symbol + ":" + std::to_string(msc);
}
std::string mark_of_bar(const std::string& symbol, Timestamp ts) {
  return "bar:" + symbol + ":" + std::to_string(unix_ms(ts) / 1000);
}

/// One connection's run: hello, the events from the start, the end.
class Session {
 public:
  Session(const ReplayConfig& config, const EventSourceFactory& events, Journal& journal, ReplayStats& stats,
          BridgeSocket& socket)
      : config_(config), events_(events), journal_(journal), stats_(stats), socket_(socket) {}

  Expected<Outcome> run() {
    bridge::Hello hello;
    hello.role = "terminal";
    hello.terminal = "replay";
    hello.account = "replay";
    hello.server_utc_offset_s = config_.server_utc_offset_s;
    for (const auto& i : config_.instruments) hello.symbols.push_back(i.spec.symbol);
    if (!send(hello)) return Outcome::Disconnected;
    last_rx_ = Clock::now();
    std::optional<bridge::Hello> answer;
    while (!answer) {
      if (stopping()) return Outcome::Stopped;
      if (Clock::now() - last_rx_ > config_.silence_timeout) return lost("no hello from the platform");
      auto got = socket_.receive(milliseconds(100));
      if (!got) return lost(got.error().message);
      if (!*got) continue;
      last_rx_ = Clock::now();
      if (auto* h = std::get_if<bridge::Hello>(&(*got)->body)) answer = *h;
    }
    if (answer->role != "platform") return lost("the peer's hello says role '" + answer->role + "', not platform");

    auto terminal = Terminal::create(config_.instruments, config_.mode);
    if (!terminal) return tl::unexpected(terminal.error());
    terminal_ = std::move(*terminal);
    resume_.assign(terminal_->symbols(), bridge::Resume{});
    ticks_.assign(terminal_->symbols(), TickCount{});
    for (const auto& [symbol, point] : answer->resume) {
      if (auto i = terminal_->symbol_index(symbol)) resume_[*i] = point;
    }
    auto source = events_();
    if (!source) return tl::unexpected(source.error());

    const std::int64_t position = journal_.position();
    // The journal grows while this connection runs: only what was there
    // before is replayed; what comes now is applied as it arrives.
    const std::size_t journaled = journal_.orders().size();
    std::size_t next_order = 0;
    Event event;
    for (;;) {
      auto more = (*source)->next(event);
      if (!more) return tl::unexpected(more.error());
      const bool have = *more;
      const bool covered = have && is_covered(event);
      // The positions snapshot goes before the first event the platform lacks
      // when that event starts something (a bar's open, a tick: what came
      // before it the platform has, fills included), else right after it (below).
      if (!covered && !snapshot_sent_ && (!have || event.kind == EventKind::Open || event.kind == EventKind::Tick)) {
        if (auto r = caught_up(); !r || *r != Outcome::Finished) return r;
      }
      while (next_order < journaled && journal_.orders()[next_order].index <= index_) {
        out_.clear();
        const bridge::Body& request = journal_.orders()[next_order].body;
        terminal_->on_request(request, out_);
        ++next_order;
        if (!covered && !send_out(&request)) return Outcome::Disconnected;
      }
      if (!live_ && index_ >= position) {
        live_ = true;
        if (snapshot_sent_) {
          if (auto r = drain_queue(); !r || *r != Outcome::Finished) return r;
        }
      }
      if (!have) break;
      if (!covered && live_) {
        if (auto r = pace(event); !r || *r != Outcome::Finished) return r;
      }
      out_.clear();
      terminal_->on_event(event, out_);
      // The event is processed: what arrives from now on (while its data goes
      // out and, in lock-step, until its mark) comes before the next one.
      ++index_;
      if (!covered) {
        if (auto r = send_event(event); !r || *r != Outcome::Finished) return r;
        // The first event the platform lacked is the rest of a bar whose fills
        // it may have already (the bridge drops them as duplicates): a snapshot
        // from before them would contradict the books it is checked against.
        if (!snapshot_sent_) {
          if (auto r = caught_up(); !r || *r != Outcome::Finished) return r;
        }
      } else if (event.kind == EventKind::Tick || (event.kind == EventKind::Open && config_.mode == ReplayMode::Bars)) {
        ticks_[event.symbol].add(tick_msc(event));
      }
      ++stats_.progress.events;
      stats_.progress.at = event.time();
      if (auto j = journal_.note_position(index_); !j) return tl::unexpected(j.error());
      if (auto r = service(milliseconds(0)); !r || *r != Outcome::Finished) return r;
    }
    if (auto j = journal_.note_position(index_, true); !j) return tl::unexpected(j.error());
    // Answer what arrived with the last mark, then the final snapshot.
    if (auto r = service(milliseconds(0)); !r || *r != Outcome::Finished) return r;
    stats_.final_positions = terminal_->positions();
    if (!send(stats_.final_positions)) return Outcome::Disconnected;
    sync_stats();
    return Outcome::Finished;
  }

 private:
  bool stopping() const { return config_.should_stop && config_.should_stop(); }

  Expected<Outcome> lost(const std::string& why) {
    if (config_.log) config_.log("replay: connection lost: " + why + "; reconnecting");
    return Outcome::Disconnected;
  }

  static std::int64_t tick_msc(const Event& e) {
    return unix_ms(e.kind == EventKind::Open && e.tick.ts == Timestamp{} ? e.bar.ts : e.tick.ts);
  }

  /// Whether the platform has this event's data already (its resume point).
  bool is_covered(const Event& e) const {
    const bridge::Resume& r = resume_[e.symbol];
    if (e.kind == EventKind::Close || e.kind == EventKind::OpenFills)
      return r.bar_time > 0 && unix_ms(e.bar.ts) / 1000 <= r.bar_time;
    // An Open in ticks mode carries its bar's first trade, which follows it.
    const std::int64_t msc = e.kind == EventKind::Open
                                 ? unix_ms(config_.mode == ReplayMode::Bars ? e.bar.ts : e.tick.ts)
                                 : unix_ms(e.tick.ts);
    if (r.tick_msc <= 0) return false;
    if (msc < r.tick_msc) return true;
    return msc == r.tick_msc && ticks_[e.symbol].ordinal(msc) <= r.ticks_at_msc;
  }

  bool send(bridge::Body body) {
    if (channel_dirty_) {
      // Reports went out over the order channel since the last sync: the
      // platform must have them before anything that follows them here.
      if (auto synced = config_.orders->sync(); !synced) {
        if (config_.log) config_.log("replay: order channel: " + synced.error().message + "; reconnecting");
        return false;
      }
      channel_dirty_ = false;
    }
    auto sent = socket_.send(std::move(body));
    if (!sent) {
      if (config_.log) config_.log("replay: send failed: " + sent.error().message + "; reconnecting");
      return false;
    }
    last_tx_ = Clock::now();
    return true;
  }

  /// The Terminal's reports (answering `request`, or a market event's when
  /// null): over the order channel when there is one, else the bridge.
  bool send_out(const bridge::Body* request = nullptr) {
    if (config_.orders != nullptr) {
      if (!out_.empty()) channel_dirty_ = true;
      auto sent = config_.orders->send(request, out_);
      out_.clear();
      if (!sent && config_.log) config_.log("replay: order channel: " + sent.error().message);
      return static_cast<bool>(sent);
    }
    for (auto& b : out_) {
      if (!send(std::move(b))) return false;
    }
    out_.clear();
    return true;
  }

  bool send_positions() { return send(terminal_->positions()); }

  void sync_stats() {
    stats_.progress.orders = terminal_->orders();
    stats_.progress.fills = terminal_->fills();
  }

  Expected<Outcome> send_event(const Event& e) {
    std::string last_fill;  // the exec_id of the last fill this event caused
    for (const auto& b : out_) {
      if (const auto* f = std::get_if<bridge::FillMsg>(&b)) last_fill = f->exec_id;
    }
    if (!send_out()) return Outcome::Disconnected;
    const std::string& symbol = terminal_->symbol_name(e.symbol);
    std::string mark;
    switch (e.kind) {
      case EventKind::Open: {
        if (config_.mode != ReplayMode::Bars) return Outcome::Finished;  // the trade's tick follows
        bridge::TickMsg t;
        t.symbol = symbol;
        t.tick.ts = e.bar.ts;
        t.tick.bid = t.tick.ask = t.tick.last = e.bar.open;
        t.tick.volume = 0;
        if (!send(t)) return Outcome::Disconnected;
        ticks_[e.symbol].add(unix_ms(e.bar.ts));
        mark = mark_of_tick(symbol, unix_ms(e.bar.ts));
        break;
      }
      case EventKind::Tick: {
        bridge::TickMsg t;
        t.symbol = symbol;
        t.tick = e.tick;
        if (!send(t)) return Outcome::Disconnected;
        ticks_[e.symbol].add(unix_ms(e.tick.ts));
        break;  // ticks mode waits for bar marks only
      }
      case EventKind::OpenFills: {
        // Lock-step: the platform has taken the last of these fills when its mark comes back.
        if (!last_fill.empty()) mark = "fill:" + last_fill;
        break;
      }
      case EventKind::Close: {
        bridge::BarMsg b;
        b.symbol = symbol;
        b.bar = e.bar;
        if (!send(b)) return Outcome::Disconnected;
        mark = mark_of_bar(symbol, e.bar.ts);
        break;
      }
    }
    ++stats_.progress.events_sent;
    if (config_.lockstep && !mark.empty()) return wait_mark(mark);
    return Outcome::Finished;
  }

  /// Waits until the platform's hb carries `mark`, handling what else arrives.
  Expected<Outcome> wait_mark(const std::string& mark) {
    awaited_ = mark;
    mark_seen_ = false;
    while (!mark_seen_) {
      auto r = service(config_.heartbeat / 4);
      if (!r || *r != Outcome::Finished) return r;
    }
    awaited_.clear();
    if (config_.orders != nullptr) {
      // The orders the platform sent before this mark may still be on their way over the channel.
      if (auto synced = config_.orders->sync(); !synced) return lost(synced.error().message);
      return take_channel(milliseconds(0));
    }
    return Outcome::Finished;
  }

  /// Holds the event until its time at `speed` × real time, serving the socket meanwhile.
  Expected<Outcome> pace(const Event& e) {
    if (config_.speed <= 0) return Outcome::Finished;
    if (!pace_base_) pace_base_ = std::make_pair(Clock::now(), e.time());
    const auto offset = std::chrono::duration<double>(e.time() - pace_base_->second) / config_.speed;
    const auto due = pace_base_->first + std::chrono::duration_cast<Clock::duration>(offset);
    while (Clock::now() < due) {
      const auto left = std::chrono::duration_cast<milliseconds>(due - Clock::now()) + milliseconds(1);
      auto r = service(std::min<milliseconds>(left, config_.heartbeat / 4));
      if (!r || *r != Outcome::Finished) return r;
    }
    return Outcome::Finished;
  }

  /// Reads what the platform sent (waiting up to `wait` for the first
  /// message), sends a heartbeat when idle, checks for silence and reports progress.
  /// The requests that came over the order channel, handled as the bridge's are.
  Expected<Outcome> take_channel(milliseconds wait) {
    for (auto& body : config_.orders->poll(wait)) {
      if (auto r = handle(bridge::Message{0, 0, std::move(body)}); !r || *r != Outcome::Finished) return r;
    }
    return Outcome::Finished;
  }

  Expected<Outcome> service(milliseconds wait) {
    if (stopping()) return Outcome::Stopped;
    if (config_.orders != nullptr) {
      if (auto r = take_channel(milliseconds(0)); !r || *r != Outcome::Finished) return r;
    }
    for (bool first = true;; first = false) {
      auto got = socket_.receive(first ? wait : milliseconds(0));
      if (!got) return lost(got.error().message);
      if (!*got) break;
      last_rx_ = Clock::now();
      if (auto r = handle(std::move(**got)); !r || *r != Outcome::Finished) return r;
    }
    const auto now = Clock::now();
    if (now - last_rx_ > config_.silence_timeout) return lost("the platform was silent for too long");
    if (now - last_tx_ >= config_.heartbeat && !send(bridge::Heartbeat{})) return Outcome::Disconnected;
    if (config_.progress && now - last_progress_ >= config_.progress_every) {
      last_progress_ = now;
      sync_stats();
      config_.progress(stats_.progress);
    }
    return Outcome::Finished;
  }

  Expected<Outcome> handle(bridge::Message message) {
    bridge::Body& body = message.body;
    if (auto* hb = std::get_if<bridge::Heartbeat>(&body)) {
      if (!awaited_.empty() && hb->mark == awaited_) mark_seen_ = true;
      return Outcome::Finished;
    }
    const bool order = std::holds_alternative<bridge::OrderNew>(body) ||
                       std::holds_alternative<bridge::OrderCancel>(body) ||
                       std::holds_alternative<bridge::OrderReplace>(body);
    const auto* positions = std::get_if<bridge::PositionsMsg>(&body);
    if (!order && !(positions != nullptr && positions->request)) {
      if (config_.log)
        config_.log("replay: ignored a '" + std::string(bridge::type_name(body)) + "' from the platform");
      return Outcome::Finished;
    }
    if (!live_ || !snapshot_sent_) {
      // Still rebuilding, or not yet at what the platform lacks: an order (or
      // a positions request) the platform sent after the last event it has
      // acts from there, not from an earlier event the replay is passing.
      queue_.push_back(std::move(body));
      return Outcome::Finished;
    }
    return apply(body);
  }

  Expected<Outcome> apply(const bridge::Body& body) {
    if (std::holds_alternative<bridge::PositionsMsg>(body)) {
      return send_positions() ? Outcome::Finished : Outcome::Disconnected;
    }
    // Written (and fsynced) before it acts: a kill after this line replays it.
    if (auto j = journal_.append_order(index_, body); !j) return tl::unexpected(j.error());
    out_.clear();
    terminal_->on_request(body, out_);
    sync_stats();
    return send_out(&body) ? Outcome::Finished : Outcome::Disconnected;
  }

  /// The replay has reached the first event the platform lacks: the
  /// positions snapshot, then what the platform sent meanwhile.
  Expected<Outcome> caught_up() {
    if (!send_positions()) return Outcome::Disconnected;
    snapshot_sent_ = true;
    return live_ ? drain_queue() : Outcome::Finished;
  }

  Expected<Outcome> drain_queue() {
    while (!queue_.empty()) {
      const bridge::Body body = std::move(queue_.front());
      queue_.pop_front();
      if (auto r = apply(body); !r || *r != Outcome::Finished) return r;
    }
    return Outcome::Finished;
  }

  const ReplayConfig& config_;
  const EventSourceFactory& events_;
  Journal& journal_;
  ReplayStats& stats_;
  BridgeSocket& socket_;
  std::unique_ptr<Terminal> terminal_;
  std::vector<bridge::Resume> resume_;
  std::vector<TickCount> ticks_;
  std::vector<bridge::Body> out_;
  std::deque<bridge::Body> queue_;
  std::int64_t index_ = 0;
  bool live_ = false;
  bool snapshot_sent_ = false;
  std::string awaited_;
  bool mark_seen_ = false;
  bool channel_dirty_ = false;  ///< reports sent over the order channel since its last sync
  std::optional<std::pair<Clock::time_point, Timestamp>> pace_base_;
  Clock::time_point last_rx_{}, last_tx_{}, last_progress_{Clock::now()};
};

}  // namespace

Expected<ReplayStats> run_replay(const ReplayConfig& config, const EventSourceFactory& events) {
  Journal journal;
  if (!config.state_dir.empty()) {
    auto opened = Journal::open(config.state_dir, config.fingerprint);
    if (!opened) return tl::unexpected(opened.error());
    journal = std::move(*opened);
  }
  ReplayStats stats;
  const std::string where = config.host + ":" + std::to_string(config.port);
  auto stopping = [&] { return config.should_stop && config.should_stop(); };
  for (;;) {
    milliseconds backoff = config.retry_min;
    std::optional<BridgeSocket> socket;
    for (std::int64_t attempt = 1; !socket; ++attempt) {
      if (stopping()) {
        stats.stopped = true;
        return stats;
      }
      auto connected = BridgeSocket::connect(config.host, config.port, config.connect_timeout);
      if (connected) {
        socket.emplace(std::move(*connected));
        break;
      }
      if (config.log) {
        config.log("replay: connect " + where + " failed (" + connected.error().message + "); retry " +
                   std::to_string(attempt) + " in " + std::to_string(backoff.count()) + " ms");
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, config.retry_max);
    }
    ++stats.connections;
    // Every connection starts from the first event: a fresh terminal rebuilt
    // from the journal, silent up to the platform's resume point.
    stats.progress = ReplayProgress{};
    Session session(config, events, journal, stats, *socket);
    auto outcome = session.run();
    if (!outcome) return tl::unexpected(outcome.error());
    if (*outcome == Outcome::Stopped) {
      stats.stopped = true;
      return stats;
    }
    if (*outcome == Outcome::Finished) {
      socket->close();
      return stats;
    }
    socket->close();
  }
}

}  // namespace quant::replay
