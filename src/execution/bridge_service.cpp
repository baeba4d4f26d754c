#include "execution/bridge_service.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "execution/bridge_protocol.h"
#include "execution/bridge_socket.h"

namespace quant::execution::bridge {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kGroup = stream::kBridgeGroup;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t now_ms() { return now_ns() / 1'000'000; }
std::int64_t to_ms(Timestamp t) { return to_epoch_ns(t) / 1'000'000; }
std::int64_t to_s(Timestamp t) { return to_epoch_ns(t) / 1'000'000'000; }

std::string ack_key(const OrderAck& a) {
  std::array<char, 32> price{};
  std::snprintf(price.data(), price.size(), "%.17g", a.stop_price);
  return a.cl_ord_id + '\x1f' + std::string(to_string(a.exec_type)) + '\x1f' + std::string(to_string(a.ord_status)) +
         '\x1f' + price.data();
}

std::string symbol_of(const Body& body) {
  return std::visit(
      [](const auto& m) -> std::string {
        if constexpr (requires { m.symbol; })
          return m.symbol;
        else
          return {};
      },
      body);
}

}  // namespace

/// quant bridge's Prometheus series (every label from a fixed set: message
/// types, directions, kinds of sequence fault).
struct BridgeMeters {
  explicit BridgeMeters(monitor::Registry* r) : registry(r) {
    if (r == nullptr) return;
    connected = r->gauge("quant_bridge_terminal_connected", "1 while a terminal is connected (after its hello), else 0");
    connections = r->counter("quant_bridge_connections_total", "Terminals that completed the hello");
    dropped = r->counter("quant_bridge_terminal_drops_total", "Connections ended by an error or silence");
    gaps = r->counter("quant_bridge_sequence_faults_total", "Connections dropped for a seq fault, by kind",
                      {{"kind", "gap"}});
    repeats = r->counter("quant_bridge_sequence_faults_total", "Connections dropped for a seq fault, by kind",
                         {{"kind", "repeat"}});
    duplicates = r->counter("quant_bridge_duplicates_total",
                            "Inbound messages dropped as already published (a terminal resending after a reconnect)");
    halted = r->counter("quant_bridge_halt_refusals_total", "Entry orders refused because risk:halt is set");
    last_received = r->gauge("quant_bridge_last_received_timestamp_seconds",
                             "Wall time of the terminal's last message, heartbeats included (Unix s)");
  }
  /// One counter per direction and message type, made on first use: a
  /// message costs an index, not a lookup by name.
  void message(bool inbound, const Body& body) {
    if (registry == nullptr) return;
    auto& counter = (inbound ? in : out)[body.index()];
    if (!counter) {
      counter = registry->counter("quant_bridge_messages_total", "Bridge protocol messages by direction and type",
                                  {{"direction", inbound ? "in" : "out"}, {"type", std::string(type_name(body))}});
    }
    counter->inc();
  }
  void received(std::int64_t wall_ns) { last_received.set(static_cast<double>(wall_ns) / 1e9); }
  void drop(SeqFault fault) {
    connected.set(0);
    dropped.inc();
    if (fault == SeqFault::Gap) gaps.inc();
    if (fault == SeqFault::Repeat) repeats.inc();
  }
  monitor::Registry* registry;
  monitor::Gauge connected, last_received;
  monitor::Counter connections, dropped, gaps, repeats, duplicates, halted;
  std::array<std::optional<monitor::Counter>, std::variant_size_v<Body>> in, out;
};

struct BridgeService::Impl {
  BridgeServiceConfig config;
  BridgeMeters meters{config.metrics};
  BridgeLog log;
  BridgeListener listener;
  stream::Producer producer;
  stream::Consumer consumer;  ///< XACK of exec:orders (the reader thread's connection blocks in XREADGROUP)
  Counters counters;

  /// exec:orders is read on its own thread with XREADGROUP BLOCK, so an order
  /// wakes the loop at once (eventfd) instead of waiting for its next poll of
  /// Redis; the loop itself sleeps in poll() on the socket and the eventfd.
  std::optional<stream::Consumer> reader_consumer;
  std::vector<std::string> order_streams;  ///< what reader_consumer reads (the reader thread's, once started)
  std::vector<std::string> notes;          ///< lines for the log from the reader thread (under inbox_mutex)
  std::thread reader;
  std::atomic<bool> reader_stop{false};
  std::mutex inbox_mutex;
  std::deque<stream::Entry> inbox;
  std::optional<std::string> reader_error;
  int wake_fd = -1;
  bool inbound_backlog = false;  ///< the last pump stopped at its limit: lines may be buffered

  /// The last `<n>` used: one counter over every stream the bridge writes.
  std::uint64_t counter = 0;

  /// What Redis holds per symbol (loaded once, then kept by this process, the only writer).
  struct SymbolState {
    std::int64_t tick_msc = 0;
    std::int64_t ticks_at_msc = 0;
    std::int64_t bar_time = 0;
  };
  std::map<std::string, SymbolState, std::less<>> symbols;
  std::unordered_set<std::string> seen_exec_ids;
  std::unordered_set<std::string> seen_acks;

  /// Per connection and symbol: how the terminal resumed its ticks. A terminal
  /// whose first tick is before the resume point is sending again from the
  /// past: its ticks up to the point (the first `ticks_at_msc` at `tick_msc`)
  /// are dropped. One whose first tick is at or after it honoured the resume.
  struct TickResume {
    bool decided = false;
    bool resending = false;
    std::int64_t seen_at_resume_msc = 0;
  };
  std::map<std::string, TickResume, std::less<>> tick_resume;

  /// exec:orders entries read and not yet acknowledged, in id order.
  struct Outbound {
    Body body;
    /// Acknowledged (XACK) when the terminal acks this id: an order_new's own
    /// id; for a cancel or replace, the order's (the terminal answers every
    /// request with an ack of the order it names). Empty: once written.
    std::string cl_ord_id;
    bool sent = false;      ///< on the current connection
    bool request = false;   ///< a cancel or replace: only an ack after it was written settles it
  };
  /// Keyed by (order stream, id): each engine's stream has its own ids.
  using OrderKey = std::pair<std::string, stream::StreamId>;
  std::map<OrderKey, Outbound> outbound;
  /// cl_ord_ids whose order_ack is queued in the producer: their order_new is
  /// acknowledged once the flush succeeded.
  std::vector<std::string> acked_after_flush;

  std::optional<stream::Halt> halt;
  std::optional<Clock::time_point> halt_read_at;

  std::optional<BridgeSocket> terminal;
  Clock::time_point last_sent{};
  Clock::time_point last_received{};

  Impl(BridgeServiceConfig c, BridgeLog l, BridgeListener li, stream::Producer p, stream::Consumer co)
      : config(std::move(c)),
        log(std::move(l)),
        listener(std::move(li)),
        producer(std::move(p)),
        consumer(std::move(co)),
        wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  ~Impl() {
    stop_reader();
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
  }

  /// exec:orders and the order streams registered in exec:order-streams
  /// (one per engine when several share the hub; the bridge's group on a
  /// stream found missing is created from its start). A new one replaces the
  /// reader's consumer by one over every stream (same name: what was pending
  /// comes again; `outbound` already holds what is not yet acknowledged).
  Expected<void> discover_order_streams() {
    auto registered = stream::order_streams(config.redis);
    if (!registered) return tl::unexpected(registered.error());
    std::vector<std::string> streams{std::string(stream::kOrders)};
    for (auto& s : *registered) {
      if (s != stream::kOrders) streams.push_back(std::move(s));
    }
    if (reader_consumer && streams == order_streams) return {};
    for (std::size_t i = 1; i < streams.size(); ++i) {
      if (auto r = stream::register_order_stream(config.redis, streams[i], kGroup); !r) return r;
    }
    auto c = stream::Consumer::connect(config.redis, std::string(kGroup), config.consumer, streams, "$");
    if (!c) return tl::unexpected(c.error());
    reader_consumer.emplace(std::move(*c));
    order_streams = streams;
    if (streams.size() > 1) {
      std::string list;
      for (const auto& s : streams) list += (list.empty() ? "" : ", ") + s;
      std::lock_guard lock(inbox_mutex);
      notes.push_back("reading the order streams " + list);
    }
    return {};
  }

  void start_reader() {
    reader_stop = false;
    reader = std::thread([this] {
      auto discovered = Clock::now();
      while (!reader_stop) {
        if (Clock::now() - discovered >= config.discover_interval) {
          discovered = Clock::now();
          if (auto r = discover_order_streams(); !r) {
            std::lock_guard lock(inbox_mutex);
            reader_error = "exec:order-streams: " + r.error().message;
            wake();
            return;
          }
        }
        auto entries = reader_consumer->read(64, milliseconds(100));
        std::lock_guard lock(inbox_mutex);
        if (!entries) {
          reader_error = entries.error().message;
          wake();
          return;
        }
        if (entries->empty()) continue;
        for (auto& e : *entries) inbox.push_back(std::move(e));
        wake();
      }
    });
  }

  void stop_reader() {
    reader_stop = true;
    if (reader.joinable()) reader.join();
  }

  /// Sleeps until the terminal sent something, an order came, or `timeout`.
  void wait_for_work(milliseconds timeout) {
    std::array<pollfd, 2> fds{{{terminal ? terminal->fd() : -1, POLLIN, 0}, {wake_fd, POLLIN, 0}}};
    {
      std::lock_guard lock(inbox_mutex);
      if (!inbox.empty() || reader_error) return;
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (n > 0 && (fds[1].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const auto r = ::read(wake_fd, &count, sizeof count);
    }
  }

  void say(const std::string& line) const {
    if (log) {
      log(line);
    } else {
      std::fprintf(stderr, "bridge: %s\n", line.c_str());
    }
  }

  stream::StreamId next_id() { return stream::StreamId{++counter, 1}; }
  void see_id(const stream::StreamId& id) { counter = std::max(counter, id.ms); }

  // ---- start-up state from Redis ----

  Expected<void> load_fills() {
    auto entries = stream::read_range(config.redis, stream::kFills);
    if (!entries) return make_error("reading exec:fills: " + entries.error().message);
    for (const auto& e : *entries) {
      see_id(e.id);
      auto m = decode(e.field("msg"));
      if (!m) continue;
      if (const auto* f = std::get_if<FillMsg>(&m->body)) seen_exec_ids.insert(f->exec_id);
      if (const auto* a = std::get_if<OrderAck>(&m->body)) seen_acks.insert(ack_key(*a));
    }
    return {};
  }

  /// The trailing run of entries of md:tick:<SYM> sharing the last time_msc.
  /// Ids come from the global counter, so the last K ids hold at most K of
  /// this stream's entries: the window doubles until the run starts inside it.
  Expected<void> load_tick_resume(const std::string& key, const stream::Entry& last, SymbolState& state) {
    auto m = decode(last.field("msg"));
    if (!m || !std::holds_alternative<TickMsg>(m->body)) return {};
    state.tick_msc = to_ms(std::get<TickMsg>(m->body).tick.ts);
    for (std::uint64_t window = 64;; window *= 2) {
      const std::uint64_t from = last.id.ms > window ? last.id.ms - window : 0;
      auto entries = stream::read_range(config.redis, key, stream::StreamId{from, 0}.str(), "+");
      if (!entries) return make_error("reading " + key + ": " + entries.error().message);
      std::int64_t run = 0;
      bool ended = false;
      for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
        auto t = decode(it->field("msg"));
        if (!t || !std::holds_alternative<TickMsg>(t->body) ||
            to_ms(std::get<TickMsg>(t->body).tick.ts) != state.tick_msc) {
          ended = true;
          break;
        }
        ++run;
      }
      state.ticks_at_msc = run;
      if (ended || from == 0) return {};
    }
  }

  Expected<SymbolState*> symbol(const std::string& name) {
    if (auto it = symbols.find(name); it != symbols.end()) return &it->second;
    SymbolState state;
    for (const std::string& key : {stream::tick_key(name), stream::book_key(name), stream::bar_key(name)}) {
      auto last = producer.last(key);
      if (!last) return make_error("reading " + key + ": " + last.error().message);
      if (!*last) continue;
      see_id((*last)->id);
      if (key == stream::tick_key(name)) {
        if (auto r = load_tick_resume(key, **last, state); !r) return tl::unexpected(r.error());
      } else if (key == stream::bar_key(name)) {
        auto m = decode((*last)->field("msg"));
        if (m && std::holds_alternative<BarMsg>(m->body)) state.bar_time = to_s(std::get<BarMsg>(m->body).bar.ts);
      }
    }
    return &symbols.emplace(name, state).first->second;
  }

  // ---- the terminal ----

  void drop_terminal(const std::string& why) {
    if (!terminal) return;
    say("dropping the terminal " + terminal->peer() + ": " + why + " (it reconnects and resumes)");
    meters.drop(terminal->seq_fault());  // before the socket closes: whoever sees it closed sees the metrics too
    terminal.reset();
    ++counters.dropped_terminals;
  }

  bool send(Body body) {
    meters.message(false, body);
    auto sent = terminal->send(std::move(body));
    if (!sent) {
      drop_terminal(sent.error().message);
      return false;
    }
    last_sent = Clock::now();
    return true;
  }

  /// Waits for the hello, answers with resume points and asks for positions.
  Expected<void> handshake(BridgeSocket socket, const std::atomic<bool>& stop) {
    const auto deadline = Clock::now() + config.hello_timeout;
    std::optional<Message> first;
    while (!first && !stop && Clock::now() < deadline) {
      auto m = socket.receive(milliseconds(100));
      if (!m) {
        say("terminal " + socket.peer() + " before its hello: " + m.error().message);
        return {};
      }
      first = std::move(*m);
    }
    if (!first) {
      if (!stop) say("terminal " + socket.peer() + " sent no hello within the timeout; closed");
      return {};
    }
    meters.received(now_ns());
    meters.message(true, first->body);
    const auto* hello = std::get_if<Hello>(&first->body);
    if (hello == nullptr || hello->role != "terminal") {
      say("terminal " + socket.peer() + ": the first message must be a hello with role terminal, got " +
          std::string(type_name(first->body)) + "; closed");
      return {};
    }
    Hello answer;
    answer.role = "platform";
    answer.terminal = "quant bridge";
    answer.account = hello->account;
    answer.server_utc_offset_s = hello->server_utc_offset_s;
    answer.symbols = hello->symbols;
    std::string resumes;
    for (const auto& name : hello->symbols) {
      auto state = symbol(name);
      if (!state) return tl::unexpected(state.error());
      answer.resume.emplace_back(name, Resume{(*state)->tick_msc, (*state)->ticks_at_msc, (*state)->bar_time});
      resumes += " " + name + "@" + std::to_string((*state)->tick_msc) + "/" + std::to_string((*state)->ticks_at_msc) +
                 "/" + std::to_string((*state)->bar_time);
    }
    terminal.emplace(std::move(socket));
    tick_resume.clear();
    for (auto& [id, out] : outbound) out.sent = false;
    ++counters.connections;
    meters.connections.inc();
    meters.connected.set(1);
    say("terminal " + terminal->peer() + " connected (" + hello->terminal + ", account " + hello->account +
        ", server UTC offset " + std::to_string(hello->server_utc_offset_s) + " s, connection #" +
        std::to_string(counters.connections) + "); resume tick_msc/count/bar_time:" + resumes);
    last_received = Clock::now();
    if (!send(answer)) return {};
    if (!send(PositionsMsg{true, {}, {}})) return {};
    return send_outbound();
  }

  // ---- inbound ----

  void publish(const std::string& key, std::string_view type, const std::string& line, std::int64_t recv_ns) {
    producer.add(key, next_id(), {{"type", std::string(type)}, {"msg", line}, {"recv_ns", std::to_string(recv_ns)}});
  }

  bool tick_is_new(const std::string& name, SymbolState& state, std::int64_t msc) {
    TickResume& r = tick_resume[name];
    if (!r.decided) {
      r.decided = true;
      r.resending = msc < state.tick_msc;
    }
    if (msc < state.tick_msc) return false;
    if (msc == state.tick_msc && r.resending && r.seen_at_resume_msc < state.ticks_at_msc) {
      ++r.seen_at_resume_msc;
      return false;
    }
    r.resending = false;
    if (msc == state.tick_msc) {
      ++state.ticks_at_msc;
    } else {
      state.tick_msc = msc;
      state.ticks_at_msc = 1;
    }
    return true;
  }

  /// Queues what the message publishes; false when it was a duplicate.
  Expected<bool> on_inbound(const Message& m, const std::string& line, std::int64_t recv_ns) {
    const std::string_view type = type_name(m.body);
    // Loading a symbol's state also moves the id counter past its streams.
    if (const std::string name = symbol_of(m.body);
        !name.empty() && !std::holds_alternative<FillMsg>(m.body) && !std::holds_alternative<OrderAck>(m.body)) {
      if (auto state = symbol(name); !state) return tl::unexpected(state.error());
    }
    if (const auto* t = std::get_if<TickMsg>(&m.body)) {
      auto state = symbol(t->symbol);
      if (!state) return tl::unexpected(state.error());
      if (!tick_is_new(t->symbol, **state, to_ms(t->tick.ts))) return false;
      publish(stream::tick_key(t->symbol), type, line, recv_ns);
    } else if (const auto* b = std::get_if<BookMsg>(&m.body)) {
      publish(stream::book_key(b->symbol), type, line, recv_ns);
    } else if (const auto* bar = std::get_if<BarMsg>(&m.body)) {
      auto state = symbol(bar->symbol);
      if (!state) return tl::unexpected(state.error());
      const std::int64_t time = to_s(bar->bar.ts);
      if (time <= (*state)->bar_time) return false;
      (*state)->bar_time = time;
      publish(stream::bar_key(bar->symbol), type, line, recv_ns);
    } else if (const auto* f = std::get_if<FillMsg>(&m.body)) {
      if (!seen_exec_ids.insert(f->exec_id).second) return false;
      publish(std::string(stream::kFills), type, line, recv_ns);
    } else if (const auto* a = std::get_if<OrderAck>(&m.body)) {
      // Even a repeated ack settles its order: the first one may have come
      // from a connection that broke before the order was acknowledged.
      acked_after_flush.push_back(a->cl_ord_id);
      if (!seen_acks.insert(ack_key(*a)).second) return false;
      publish(std::string(stream::kFills), type, line, recv_ns);
    } else if (std::holds_alternative<PositionsMsg>(m.body)) {
      publish(std::string(stream::kFills), type, line, recv_ns);
    } else if (!std::holds_alternative<Heartbeat>(m.body)) {
      say("terminal sent " + std::string(type) + ", which only the platform sends; ignored");
    }
    return true;
  }

  Expected<void> pump_inbound() {
    wait_for_work(inbound_backlog ? milliseconds(0) : config.poll_interval);
    inbound_backlog = true;
    for (int n = 0; n < 512 && terminal; ++n) {
      auto m = terminal->receive(milliseconds(0));
      if (!m) {
        drop_terminal(m.error().message);
        break;
      }
      if (!*m) {
        inbound_backlog = false;
        break;
      }
      last_received = Clock::now();
      const std::int64_t received_ns = now_ns();
      meters.received(received_ns);
      meters.message(true, (*m)->body);
      auto fresh = on_inbound(**m, terminal->last_line(), received_ns);
      if (!fresh) return tl::unexpected(fresh.error());
      if (!*fresh) {
        ++counters.duplicates;
        meters.duplicates.inc();
        // A fill published before the connection broke: the platform took it
        // then, and a lock-step terminal waiting for its mark would wait for
        // ever (the mark went to the broken connection): answer it here.
        if (const auto* f = std::get_if<FillMsg>(&(*m)->body)) send(Heartbeat{"fill:" + f->exec_id});
      }
    }
    return flush();
  }

  Expected<void> flush() {
    if (producer.queued() > 0) {
      auto added = producer.flush();
      if (!added) return make_error("publishing to Redis: " + added.error().message);
      for (const auto& a : *added) {
        if (a.duplicate) {
          ++counters.duplicates;
          meters.duplicates.inc();
        } else {
          ++counters.published;
        }
      }
    }
    if (!acked_after_flush.empty()) {
      std::vector<OrderKey> done;
      for (auto it = outbound.begin(); it != outbound.end();) {
        const bool acked = !it->second.cl_ord_id.empty() && (!it->second.request || it->second.sent) &&
                           std::find(acked_after_flush.begin(), acked_after_flush.end(), it->second.cl_ord_id) !=
                               acked_after_flush.end();
        if (acked) {
          done.push_back(it->first);
          it = outbound.erase(it);
        } else {
          ++it;
        }
      }
      acked_after_flush.clear();
      if (!done.empty()) {
        if (auto r = ack_orders(done); !r) return r;
      }
    }
    return {};
  }

  // ---- outbound ----

  Expected<bool> halted() {
    const auto now = Clock::now();
    if (!halt_read_at || now - *halt_read_at >= config.halt_refresh) {
      auto h = stream::read_halt(config.redis);
      if (!h) return make_error("reading risk:halt: " + h.error().message);
      halt = std::move(*h);
      halt_read_at = now;
    }
    return halt.has_value();
  }

  /// XACK of order-stream entries (one XACK per stream, one round trip).
  Expected<void> ack_orders(const std::vector<OrderKey>& keys) {
    if (keys.empty()) return {};
    std::vector<stream::Entry> entries(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      entries[i].stream = keys[i].first;
      entries[i].id = keys[i].second;
    }
    if (auto r = consumer.ack(entries); !r) return make_error("XACK " + keys.front().first + ": " + r.error().message);
    return {};
  }

  Expected<void> pump_outbound() {
    std::vector<stream::Entry> entries;
    std::vector<std::string> lines;
    {
      std::lock_guard lock(inbox_mutex);
      if (reader_error) return make_error("reading exec:orders: " + *reader_error);
      entries.assign(std::make_move_iterator(inbox.begin()), std::make_move_iterator(inbox.end()));
      inbox.clear();
      lines.swap(notes);
    }
    for (const auto& line : lines) say(line);
    std::vector<OrderKey> skip;
    for (auto& e : entries) {
      auto m = decode(e.field("msg"));
      if (!m) {
        say(e.stream + " " + e.id.str() + ": " + m.error().message + "; acknowledged and skipped");
        skip.emplace_back(e.stream, e.id);
        continue;
      }
      Body& body = m->body;
      if (const auto* o = std::get_if<OrderNew>(&body)) {
        if (o->purpose == OrderPurpose::Entry) {
          auto h = halted();
          if (!h) return tl::unexpected(h.error());
          if (*h) {
            OrderAck reject{o->cl_ord_id,
                            o->symbol,
                            "",
                            ExecType::Rejected,
                            OrdStatus::Rejected,
                            "risk:halt is set: " + halt->reason,
                            0,
                            now_ms()};
            seen_acks.insert(ack_key(reject));
            const std::string line = encode(Message{1, now_ms(), reject});
            producer.add(
                stream::kFills, next_id(),
                {{"type", "order_ack"}, {"msg", line}, {"recv_ns", std::to_string(now_ns())}, {"origin", "bridge"}});
            if (auto r = flush(); !r) return r;
            skip.emplace_back(e.stream, e.id);
            ++counters.halted;
            meters.halted.inc();
            say("order " + o->cl_ord_id + " (entry) rejected: risk:halt is set: " + halt->reason);
            continue;
          }
        }
        std::string cl_ord_id = o->cl_ord_id;  // before `body` is moved from
        outbound.emplace(OrderKey{e.stream, e.id}, Outbound{std::move(body), std::move(cl_ord_id), false});
      } else if (const auto* c = std::get_if<OrderCancel>(&body)) {
        // Kept until answered: written to a terminal that dies before reading it, it must go again.
        std::string orig = c->orig_cl_ord_id;
        outbound.emplace(OrderKey{e.stream, e.id}, Outbound{std::move(body), std::move(orig), false, true});
      } else if (const auto* r = std::get_if<OrderReplace>(&body)) {
        std::string orig = r->orig_cl_ord_id;
        outbound.emplace(OrderKey{e.stream, e.id}, Outbound{std::move(body), std::move(orig), false, true});
      } else if (std::holds_alternative<PositionsMsg>(body) || std::holds_alternative<Heartbeat>(body)) {
        outbound.emplace(OrderKey{e.stream, e.id}, Outbound{std::move(body), "", false});
      } else {
        say(e.stream + " " + e.id.str() + ": a " + std::string(type_name(body)) +
            " is not for the terminal; acknowledged and skipped");
        skip.emplace_back(e.stream, e.id);
      }
    }
    if (auto r = ack_orders(skip); !r) return r;
    if (terminal) return send_outbound();
    return {};
  }

  /// Writes what the current connection has not had yet, in id order.
  Expected<void> send_outbound() {
    std::vector<OrderKey> written;
    for (auto it = outbound.begin(); it != outbound.end() && terminal;) {
      if (it->second.sent) {
        ++it;
        continue;
      }
      if (!send(it->second.body)) break;
      ++counters.forwarded;
      if (it->second.cl_ord_id.empty()) {
        written.push_back(it->first);
        it = outbound.erase(it);
      } else {
        it->second.sent = true;
        ++it;
      }
    }
    if (auto r = ack_orders(written); !r) return r;
    return {};
  }

  void keepalive() {
    const auto now = Clock::now();
    if (now - last_received > config.peer_timeout) {
      drop_terminal("silent for " +
                    std::to_string(std::chrono::duration_cast<milliseconds>(now - last_received).count()) + " ms");
      return;
    }
    if (now - last_sent >= config.heartbeat_interval) send(Heartbeat{});
  }

  Expected<void> run(const std::atomic<bool>& stop) {
    say("listening on " + config.listen_host + ":" + std::to_string(listener.port()) + " (Redis " + config.redis.host +
        ":" + std::to_string(config.redis.port) + ")");
    if (wake_fd < 0) return make_error("bridge: eventfd failed: " + std::string(std::strerror(errno)));
    start_reader();
    struct JoinReader {
      Impl* impl;
      ~JoinReader() { impl->stop_reader(); }
    } join_reader{this};
    while (!stop) {
      if (!terminal) {
        auto accepted = listener.accept(milliseconds(50));
        if (!accepted) return make_error(accepted.error().message);
        if (*accepted) {
          if (auto r = handshake(std::move(**accepted), stop); !r) return r;
        }
      } else {
        // One terminal at a time: a second connection is closed before any hello.
        // (Accepting polls the listener without waiting; pump_inbound() sleeps.)
        auto extra = listener.accept(milliseconds(0));
        if (!extra) return make_error(extra.error().message);
        if (*extra) {
          // A terminal that reconnects may have closed its old connection a
          // moment before this poll, its end not read yet: read everything the
          // old one left before judging the newcomer a second terminal.
          do {
            if (auto r = pump_inbound(); !r) return r;
          } while (terminal && inbound_backlog);
          if (!terminal) {
            if (auto r = handshake(std::move(**extra), stop); !r) return r;
          } else {
            say("a second terminal connected from " + (*extra)->peer() + " while " + terminal->peer() +
                " is served; closed it");
          }
        } else if (auto r = pump_inbound(); !r) {
          return r;
        }
      }
      if (auto r = pump_outbound(); !r) return r;
      if (terminal) keepalive();
    }
    if (terminal) {
      say("stopping: closing the terminal " + terminal->peer());
      terminal.reset();
    }
    say("stopped: " + std::to_string(counters.connections) + " connection(s), " + std::to_string(counters.published) +
        " entries published, " + std::to_string(counters.duplicates) + " duplicates dropped, " +
        std::to_string(counters.forwarded) + " orders/requests forwarded, " + std::to_string(counters.halted) +
        " entries refused by risk:halt");
    return {};
  }
};

Expected<std::unique_ptr<BridgeService>> BridgeService::create(BridgeServiceConfig config, BridgeLog log) {
  auto listener = BridgeListener::listen(config.listen_host, config.listen_port);
  if (!listener) return make_error("bridge: " + listener.error().message);
  auto producer = stream::Producer::connect(config.redis, config.maxlen);
  if (!producer) return make_error("bridge: Redis producer: " + producer.error().message);
  auto consumer = stream::Consumer::connect(config.redis, std::string(kGroup), config.consumer,
                                            {std::string(stream::kOrders)}, "$");
  if (!consumer) return make_error("bridge: Redis consumer: " + consumer.error().message);
  auto impl = std::make_unique<Impl>(std::move(config), std::move(log), std::move(*listener), std::move(*producer),
                                     std::move(*consumer));
  // The same consumer of the same group on a second connection: it reads
  // (blocking, on the reader thread); the first one acknowledges.
  if (auto r = impl->discover_order_streams(); !r) return make_error("bridge: Redis consumer: " + r.error().message);
  if (auto r = impl->load_fills(); !r) return make_error("bridge: " + r.error().message);
  return std::unique_ptr<BridgeService>(new BridgeService(std::move(impl)));
}

BridgeService::BridgeService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BridgeService::~BridgeService() = default;

int BridgeService::port() const { return impl_->listener.port(); }

Expected<void> BridgeService::run(const std::atomic<bool>& stop) { return impl_->run(stop); }

BridgeService::Counters BridgeService::counters() const { return impl_->counters; }

}  // namespace quant::execution::bridge
