// Tick-to-order latency of the live path: this program plays the MT5 terminal
// (docs/contracts/bridge.md) against a running `quant bridge` + `quant live`
// + redis-server (bench/live/run.sh starts them).
//
// Market data, with time compressed 60x: each symbol's minute lasts 1 s of wall
// time. Per symbol and second: 10 ticks (evenly spread over the second, the
// symbols interleaved) and then, at the second boundary, the closed `bar` of
// that minute (all symbols' bars in one burst, as real minute closes come).
// Prices are a random walk on the instrument's tick grid; bar times advance by
// one minute per second from --start (inside the session).
//
// The venue: every order_new is acknowledged at once (order_ack new); market
// orders are also filled at once at the last price (so positions change and
// the strategy keeps reversing); stops and limits rest until cancelled or
// replaced (acked canceled / replaced). Positions requests are answered with
// the venue's positions and resting orders.
//
// Latency: for each order_new, its arrival time (steady clock, right after
// the socket read) minus the send time of the last bar this program sent for
// its symbol. Orders for bars sent during the first --warmup seconds are
// counted but left out of the percentiles.
//
// Usage: live_latency_bench --port P [--symbols N] [--seconds S] [--warmup W]
//          [--hz 10] [--start 2025-06-02T13:00] [--seed 1] [--tick-size 5] [--price 120000]
//          [--dump orders.csv]
// Prints one result line (key=value) on stdout, progress on stderr.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>

#include "execution/bridge_protocol.h"
#include "execution/bridge_socket.h"

namespace {

namespace br = quant::execution::bridge;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Options {
  int port = 0;
  int symbols = 1;
  double seconds = 30;
  double warmup = 5;
  int hz = 10;
  std::int64_t start_s = 0;  ///< Unix s of the first bar's open
  unsigned seed = 1;
  double tick_size = 5;
  double price = 120000;
  std::string dump;  ///< CSV of every order: symbol,cl_ord_id,bar_sent_wall_ns,arrived_wall_ns,latency_ms
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "live_latency_bench: %s\n", what.c_str());
  std::exit(1);
}

std::int64_t parse_start(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d", &y, &mo, &d, &h, &mi) != 5)
    die("--start must be YYYY-MM-DDTHH:MM (UTC)");
  const std::chrono::sys_days day{std::chrono::year(y) / std::chrono::month(static_cast<unsigned>(mo)) /
                                  std::chrono::day(static_cast<unsigned>(d))};
  return std::chrono::duration_cast<std::chrono::seconds>(day.time_since_epoch()).count() + h * 3600 + mi * 60;
}

struct Symbol {
  std::string name;
  double price = 0;
  quant::Bar bar;  ///< the minute being built
  bool bar_open = false;
  Clock::time_point last_bar_sent{};  ///< zero before the first bar
  std::int64_t last_bar_wall_ns = 0;
  int bar_index = -1;  ///< which second's bar was sent last
  std::int64_t position = 0;
};

struct Resting {
  br::OrderNew order;
};

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double r = p * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(r);
  const double f = r - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o), rng_(o.seed) {
    if (!o.dump.empty()) {
      dump_ = std::fopen(o.dump.c_str(), "w");
      if (dump_ == nullptr) die("cannot write " + o.dump);
      std::fputs("symbol,cl_ord_id,bar_sent_wall_ns,arrived_wall_ns,latency_ms\n", dump_);
    }
    for (int i = 0; i < o.symbols; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "S%03d", i);
      Symbol s;
      s.name = name;
      s.price = o.price;
      index_[s.name] = symbols_.size();
      symbols_.push_back(std::move(s));
    }
  }

  int run() {
    auto sock = br::BridgeSocket::connect("127.0.0.1", o_.port, milliseconds(5000));
    if (!sock) die(sock.error().message);
    sock_.emplace(std::move(*sock));
    br::Hello hello;
    hello.role = "terminal";
    hello.terminal = "live_latency_bench";
    hello.account = "bench";
    for (const auto& s : symbols_) hello.symbols.push_back(s.name);
    send(hello);
    // The platform's hello, then its positions request (answered by on_message).
    const auto hello_deadline = Clock::now() + std::chrono::seconds(10);
    bool got_hello = false;
    while (!got_hello && Clock::now() < hello_deadline) {
      auto m = sock_->receive(milliseconds(100));
      if (!m) die("waiting for the platform's hello: " + m.error().message);
      if (*m && std::holds_alternative<br::Hello>((*m)->body)) got_hello = true;
    }
    if (!got_hello) die("no hello from the platform within 10 s");

    // The schedule: second k, slot j (0..hz-1), symbol i: tick at
    // t0 + k s + (j + i / N) / hz s; bar of second k at t0 + (k + 1) s.
    const auto t0 = Clock::now() + milliseconds(200);
    const int total_seconds = static_cast<int>(std::ceil(o_.seconds));
    const std::int64_t n = o_.symbols;
    const std::int64_t per_second = n * o_.hz;
    std::int64_t next_event = 0;  // index into the per-second sequence of ticks, then bars
    int second = 0;
    const auto event_time = [&](int sec, std::int64_t e) {
      if (e >= per_second) return t0 + std::chrono::seconds(sec + 1);
      const double frac = static_cast<double>(e) / static_cast<double>(per_second);
      return t0 + std::chrono::seconds(sec) + std::chrono::nanoseconds(static_cast<std::int64_t>(frac * 1e9));
    };
    while (second < total_seconds) {
      const auto due = event_time(second, next_event);
      const auto now = Clock::now();
      if (now < due) {
        wait_until(due);  // reads what arrives meanwhile, stamped as it arrives
        continue;
      }
      if (next_event < per_second) {
        const std::int64_t slot = next_event / n;
        send_tick(symbols_[static_cast<std::size_t>(next_event % n)], second, static_cast<int>(slot));
        ++next_event;
      } else {
        // Every symbol's bar, one burst; orders they cause arrive while later ones go out.
        for (auto& s : symbols_) send_bar(s, second);
        poll(milliseconds(0));
        next_event = 0;
        ++second;
      }
    }
    const auto sent_end = Clock::now();
    // Let the last orders arrive.
    const auto drain = Clock::now() + milliseconds(1500);
    while (Clock::now() < drain) poll(milliseconds(50));
    report(std::chrono::duration<double>(sent_end - t0).count());
    if (dump_ != nullptr) std::fclose(dump_);
    sock_->close();
    return 0;
  }

 private:
  static std::int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void send(br::Body body) {
    auto r = sock_->send(std::move(body));
    if (!r) die("send: " + r.error().message);
  }

  std::int64_t bar_open_s(int second) const { return o_.start_s + static_cast<std::int64_t>(second) * 60; }

  void send_tick(Symbol& s, int second, int slot) {
    const double step = (rng_() % 3 == 0) ? 0 : ((rng_() & 1) ? 1 : -1);
    s.price = std::max(o_.tick_size, s.price + step * o_.tick_size * static_cast<double>(1 + rng_() % 3));
    const std::int64_t msc = bar_open_s(second) * 1000 + slot * (60'000 / o_.hz);
    br::TickMsg t;
    t.symbol = s.name;
    t.tick.ts = quant::Timestamp(std::chrono::milliseconds(msc));
    t.tick.bid = s.price;
    t.tick.ask = s.price + o_.tick_size;
    t.tick.last = s.price;
    t.tick.volume = 1;
    t.tick.flags = 2 | 4 | 8 | 16;
    if (!s.bar_open) {
      s.bar = quant::Bar{};
      s.bar.ts = quant::Timestamp(std::chrono::seconds(bar_open_s(second)));
      s.bar.open = s.bar.high = s.bar.low = s.price;
      s.bar_open = true;
    }
    s.bar.high = std::max(s.bar.high, s.price);
    s.bar.low = std::min(s.bar.low, s.price);
    s.bar.close = s.price;
    s.bar.tick_volume += 1;
    s.bar.volume += 1;
    send(std::move(t));
    ++ticks_sent_;
  }

  void send_bar(Symbol& s, int second) {
    if (!s.bar_open) return;
    s.bar.spread = 1;
    br::BarMsg b{s.name, s.bar};
    s.bar_open = false;
    send(std::move(b));
    s.last_bar_sent = Clock::now();
    s.last_bar_wall_ns = wall_ns();
    s.bar_index = second;
    ++bars_sent_;
  }

  /// Sleeps in ppoll() on the socket (nanosecond timeout) until `due`,
  /// handling every message as soon as it arrives.
  void wait_until(Clock::time_point due) {
    for (;;) {
      const auto now = Clock::now();
      if (now >= due) return;
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(due - now).count();
      timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
      pollfd p{sock_->fd(), POLLIN, 0};
      const int n = ::ppoll(&p, 1, &ts, nullptr);
      if (n > 0) poll(milliseconds(0));
    }
  }

  void poll(milliseconds timeout) {
    for (int i = 0;; ++i) {
      auto m = sock_->receive(i == 0 ? timeout : milliseconds(0));
      if (!m) die("receive: " + m.error().message);
      if (!*m) return;
      on_message(**m, Clock::now());
    }
  }

  void on_message(const br::Message& m, Clock::time_point at) {
    const auto now_msc =
        std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (const auto* o = std::get_if<br::OrderNew>(&m.body)) {
      ++orders_;
      auto it = index_.find(o->symbol);
      if (it == index_.end()) die("order for an unknown symbol " + o->symbol);
      Symbol& s = symbols_[it->second];
      ++by_type_[std::string(quant::to_string(o->type)) + "/" + std::string(quant::to_string(o->purpose))];
      const double ms = std::chrono::duration<double, std::milli>(at - s.last_bar_sent).count();
      if (s.bar_index >= 0 && s.bar_index >= static_cast<int>(o_.warmup)) latencies_ms_.push_back(ms);
      if (dump_ != nullptr) {
        std::fprintf(dump_, "%s,%s,%lld,%lld,%.3f\n", o->symbol.c_str(), o->cl_ord_id.c_str(),
                     static_cast<long long>(s.last_bar_wall_ns), static_cast<long long>(wall_ns()), ms);
      }
      send(br::OrderAck{o->cl_ord_id, o->symbol, std::to_string(++venue_id_), br::ExecType::New, br::OrdStatus::New, "",
                        0, now_msc});
      if (o->type == quant::OrderType::Market) {
        br::FillMsg f;
        f.cl_ord_id = o->cl_ord_id;
        f.exec_id = "D" + std::to_string(++exec_id_);
        f.symbol = o->symbol;
        f.side = o->side;
        f.qty = o->qty;
        f.price = s.price;
        f.fee = 0;
        f.time_msc = now_msc;
        f.cum_qty = o->qty;
        f.leaves_qty = 0;
        f.ord_status = br::OrdStatus::Filled;
        s.position += o->side == quant::Side::Buy ? o->qty : -o->qty;
        send(std::move(f));
      } else {
        resting_[o->cl_ord_id] = Resting{*o};
      }
    } else if (const auto* c = std::get_if<br::OrderCancel>(&m.body)) {
      ++cancels_;
      const bool known = resting_.erase(c->orig_cl_ord_id) > 0;
      send(br::OrderAck{c->orig_cl_ord_id, c->symbol, "", known ? br::ExecType::Canceled : br::ExecType::Rejected,
                        known ? br::OrdStatus::Canceled : br::OrdStatus::New, known ? "" : "unknown order", 0,
                        now_msc});
    } else if (const auto* r = std::get_if<br::OrderReplace>(&m.body)) {
      ++replaces_;
      auto it = resting_.find(r->orig_cl_ord_id);
      if (it != resting_.end()) it->second.order.stop_price = r->stop_price;
      send(br::OrderAck{r->orig_cl_ord_id, r->symbol, "",
                        it != resting_.end() ? br::ExecType::Replaced : br::ExecType::Rejected,
                        it != resting_.end() ? br::OrdStatus::Replaced : br::OrdStatus::New,
                        it != resting_.end() ? "" : "unknown order", r->stop_price, now_msc});
    } else if (const auto* p = std::get_if<br::PositionsMsg>(&m.body)) {
      if (p->request) {
        br::PositionsMsg snap;
        for (const auto& s : symbols_) {
          if (s.position != 0) snap.positions.push_back({s.name, s.position, s.price});
        }
        for (const auto& [id, rest] : resting_) {
          snap.orders.push_back({id, rest.order.symbol, rest.order.side, rest.order.type, rest.order.qty, 0,
                                 rest.order.price, rest.order.stop_price});
        }
        send(std::move(snap));
      }
    }
  }

  void report(double wall_s) {
    const std::size_t measured = latencies_ms_.size();
    std::vector<double> v = latencies_ms_;
    const double p50 = pct(v, 0.50), p99 = pct(v, 0.99), p999 = pct(v, 0.999);
    const double mx = v.empty() ? NAN : v.back();
    std::string kinds;
    for (const auto& [k, c] : by_type_) kinds += (kinds.empty() ? "" : ",") + k + ":" + std::to_string(c);
    std::printf(
        "symbols=%d seconds=%.0f ticks=%lld bars=%lld tick_rate=%.1f/s orders=%lld measured=%zu p50_ms=%.3f "
        "p99_ms=%.3f p999_ms=%.3f max_ms=%.3f cancels=%lld replaces=%lld kinds=%s\n",
        o_.symbols, wall_s, static_cast<long long>(ticks_sent_), static_cast<long long>(bars_sent_),
        static_cast<double>(ticks_sent_) / wall_s, static_cast<long long>(orders_), measured, p50, p99, p999, mx,
        static_cast<long long>(cancels_), static_cast<long long>(replaces_), kinds.c_str());
    std::fflush(stdout);
  }

  Options o_;
  std::mt19937_64 rng_;
  std::vector<Symbol> symbols_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, Resting> resting_;
  std::map<std::string, std::int64_t> by_type_;
  std::optional<br::BridgeSocket> sock_;
  std::FILE* dump_ = nullptr;
  std::vector<double> latencies_ms_;
  std::int64_t ticks_sent_ = 0, bars_sent_ = 0, orders_ = 0, cancels_ = 0, replaces_ = 0;
  std::int64_t venue_id_ = 0, exec_id_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.start_s = parse_start("2025-06-02T13:00");
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--port")
      o.port = std::atoi(val().c_str());
    else if (a == "--symbols")
      o.symbols = std::atoi(val().c_str());
    else if (a == "--seconds")
      o.seconds = std::atof(val().c_str());
    else if (a == "--warmup")
      o.warmup = std::atof(val().c_str());
    else if (a == "--hz")
      o.hz = std::atoi(val().c_str());
    else if (a == "--start")
      o.start_s = parse_start(val());
    else if (a == "--seed")
      o.seed = static_cast<unsigned>(std::atoi(val().c_str()));
    else if (a == "--tick-size")
      o.tick_size = std::atof(val().c_str());
    else if (a == "--price")
      o.price = std::atof(val().c_str());
    else if (a == "--dump")
      o.dump = val();
    else
      die("unknown option " + a);
  }
  if (o.port <= 0) die("--port is required");
  if (o.symbols < 1 || o.symbols > 1000) die("--symbols must be 1..1000");
  return Bench(o).run();
}
