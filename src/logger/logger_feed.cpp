// logger_feed: a producer for the logger's tests and benchmark (not part of
// the library). Publishes, as `quant bridge` and `quant live` do:
//   md:tick:S000.. ticks (bridge protocol `msg`, `recv_ns` = now),
//   exec:fills     a fill every --fill-every ticks and an order_ack after each,
//   mon:metrics    a metrics entry every --metrics-every ticks,
//   md:tick:S000   a malformed tick every --malformed-every ticks (0 = none).
// Paced: --hz ticks per second per symbol, one pipeline per round (all the
// symbols' ticks of one 1/hz step); --hz 0 = flat out (pipelines of --batch).
// Stops after --seconds, or after --ticks ticks when given. At the end prints
//   published ticks=N trades=N metrics=N rejects=N skipped=N bid_sum=X seconds=S rate=R
// (rejects = malformed entries; skipped = order acks), the counts the
// logger's tables must show after FINAL.
// Usage: logger_feed --port P [--symbols 100] [--hz 10] [--seconds 60] [--ticks N]
//          [--batch 1000] [--fill-every 50] [--metrics-every 100] [--malformed-every 0]

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "execution/bridge_protocol.h"
#include "stream/metrics.h"
#include "stream/stream.h"

namespace {

using namespace quant;
namespace bridge = execution::bridge;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "logger_feed: %s\n", what.c_str());
  std::exit(1);  // NOLINT(concurrency-mt-unsafe): the program has one thread
}

/// The option's value as a number, or die naming the option.
template <class Number>
Number number(const std::string& option, const char* text) {
  Number out{};
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, out);
  if (ec != std::errc() || ptr != end) die(option + ": not a number: '" + text + "'");
  return out;
}

struct Options {
  int port = 6379;
  int symbols = 100;
  double hz = 10;
  double seconds = 60;
  long long ticks = 0;
  int batch = 1000;
  long long fill_every = 50;
  long long metrics_every = 100;
  long long malformed_every = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port")
      o.port = number<int>(k, v);
    else if (k == "--symbols")
      o.symbols = number<int>(k, v);
    else if (k == "--hz")
      o.hz = number<double>(k, v);
    else if (k == "--seconds")
      o.seconds = number<double>(k, v);
    else if (k == "--ticks")
      o.ticks = number<long long>(k, v);
    else if (k == "--batch")
      o.batch = number<int>(k, v);
    else if (k == "--fill-every")
      o.fill_every = number<long long>(k, v);
    else if (k == "--metrics-every")
      o.metrics_every = number<long long>(k, v);
    else if (k == "--malformed-every")
      o.malformed_every = number<long long>(k, v);
    else
      die("unknown option " + k);
  }
  if (o.symbols <= 0 || o.batch <= 0) die("--symbols and --batch must be > 0");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  stream::Endpoint endpoint;
  endpoint.port = o.port;
  auto producer = stream::Producer::connect(endpoint, 0);  // no trimming: every entry must stay for the logger
  if (!producer) die(producer.error().message);
  std::vector<std::string> symbols;
  for (int s = 0; s < o.symbols; ++s) {
    char sym[16];
    std::snprintf(sym, sizeof sym, "S%03d", s);
    symbols.emplace_back(sym);
  }
  long long ticks = 0, trades = 0, metrics = 0, rejects = 0, skipped = 0;
  double bid_sum = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  const auto step = o.hz > 0 ? std::chrono::duration<double>(1.0 / o.hz) : std::chrono::duration<double>(0);
  const std::int64_t t0_ms = wall_ns() / 1'000'000;
  auto next = start;
  bool done = false;
  long long last_report = 0;
  while (!done) {
    const int per_round = o.hz > 0 ? o.symbols : o.batch;
    for (int i = 0; i < per_round; ++i) {
      const std::string& sym = symbols[static_cast<std::size_t>(ticks % o.symbols)];
      const std::int64_t now = wall_ns();
      bridge::TickMsg t;
      t.symbol = sym;
      t.tick.ts = from_epoch_ns((t0_ms + ticks) * 1'000'000);  // distinct times, one ms apart
      t.tick.bid = 100000 + static_cast<double>(ticks % 1000) * 5;
      t.tick.ask = t.tick.bid + 5;
      t.tick.volume = 1;
      t.tick.flags = 6;
      bid_sum += t.tick.bid;
      producer->add(
          stream::tick_key(sym),
          {{"type", "tick"}, {"msg", bridge::encode({1, now / 1'000'000, t})}, {"recv_ns", std::to_string(now)}});
      ++ticks;
      if (o.fill_every > 0 && ticks % o.fill_every == 0) {
        bridge::FillMsg f;
        f.cl_ord_id = "F" + std::to_string(trades);
        f.exec_id = "deal-" + std::to_string(trades);
        f.symbol = sym;
        f.side = trades % 2 == 0 ? Side::Buy : Side::Sell;
        f.qty = 1;
        f.price = t.tick.ask;
        f.fee = 0.5;
        f.time_msc = t0_ms + ticks;
        f.cum_qty = 1;
        producer->add(
            stream::kFills,
            {{"type", "fill"}, {"msg", bridge::encode({1, now / 1'000'000, f})}, {"recv_ns", std::to_string(now)}});
        ++trades;
        bridge::OrderAck a;
        a.cl_ord_id = f.cl_ord_id;
        a.symbol = sym;
        a.exec_type = bridge::ExecType::Canceled;
        a.ord_status = bridge::OrdStatus::Canceled;
        producer->add(stream::kFills, {{"type", "order_ack"}, {"msg", bridge::encode({1, now / 1'000'000, a})}});
        ++skipped;
      }
      if (o.metrics_every > 0 && ticks % o.metrics_every == 0) {
        stream::Metrics m;
        m.symbol = sym;
        m.ts_ms = t0_ms + ticks;
        m.session = "F";
        m.equity = 100000 - static_cast<double>(metrics);
        m.day_start_equity = 100000;
        m.drawdown = m.equity / 100000 - 1;
        m.sent_ns = now;
        producer->add(stream::kMetrics, stream::metrics_fields(m));
        ++metrics;
      }
      if (o.malformed_every > 0 && ticks % o.malformed_every == 0) {
        producer->add(stream::tick_key(symbols[0]), {{"type", "tick"}, {"msg", "{\"type\":\"tick\",\"seq\":"}});
        ++rejects;
      }
      if ((o.ticks > 0 && ticks >= o.ticks) || (o.ticks == 0 && std::chrono::steady_clock::now() >= end)) {
        done = true;
        break;
      }
    }
    auto flushed = producer->flush();
    if (!flushed) die(flushed.error().message);
    if (ticks - last_report >= 100000) {
      std::fprintf(stderr, "logger_feed: %lld ticks\n", ticks);
      last_report = ticks;
    }
    if (o.hz > 0 && !done) {
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(step);
      std::this_thread::sleep_until(next);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "published ticks=%lld trades=%lld metrics=%lld rejects=%lld skipped=%lld bid_sum=%.0f seconds=%.2f "
      "rate=%.0f\n",
      ticks, trades, metrics, rejects, skipped, bid_sum, seconds,
      static_cast<double>(ticks + 2 * trades + metrics + rejects) / seconds);
  return 0;
}
