// The stream hub end to end: one Producer thread publishing md:tick:S000..S099
// and one Consumer (group "bench") reading all 100 streams in merged order and
// acknowledging each batch, in the same process (so the lag clock is shared).
//   paced:    10 Hz x 100 symbols (one pipeline of 100 XADD every 100 ms)
//   flat-out: pipelines of 1000 XADD back to back
// Prints messages/s published and consumed and the end-to-end lag (producer's
// `ts` field vs the time read() returned it) p50/p99/max, one line per mode.
// bench/stream/run.sh starts the redis-server and adds redis-benchmark's ceiling.
// Usage: stream_bench --port P [--seconds S] [--symbols N] [--hz H] [--batch B] [--read-count C]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "stream/stream.h"

namespace {

using namespace quant::stream;
using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Options {
  int port = 6379;
  double seconds = 10;
  int symbols = 100;
  int hz = 10;
  int batch = 1000;
  int read_count = 1000;  ///< entries per read() (and per XACK)
};

struct Result {
  std::size_t published = 0;
  std::size_t consumed = 0;
  double publish_s = 0;
  double consume_s = 0;
  std::vector<double> lag_us;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "stream_bench: %s\n", what.c_str());
  std::exit(1);
}

Result run(const Options& o, bool paced, const std::string& prefix) {
  Endpoint endpoint;
  endpoint.port = o.port;
  std::vector<std::string> keys;
  for (int s = 0; s < o.symbols; ++s) {
    char sym[16];
    std::snprintf(sym, sizeof sym, "S%03d", s);
    keys.push_back(prefix + tick_key(sym));
  }
  auto consumer = Consumer::connect(endpoint, "bench", "bench-1", keys, "$");
  if (!consumer) die(consumer.error().message);
  auto producer = Producer::connect(endpoint, 100'000);
  if (!producer) die(producer.error().message);

  Result r;
  std::atomic<bool> producing{true};
  std::atomic<std::size_t> published{0};
  std::thread consume([&] {
    Clock::time_point first{}, last{};
    r.lag_us.reserve(1 << 20);
    for (;;) {
      auto batch = consumer->read(o.read_count, std::chrono::milliseconds(200));
      if (!batch) die(batch.error().message);
      const std::int64_t t = now_ns();
      if (!batch->empty()) {
        if (r.consumed == 0) first = Clock::now();
        last = Clock::now();
      }
      for (const Entry& e : *batch) {
        const std::string ts(e.field("ts"));
        r.lag_us.push_back(static_cast<double>(t - std::stoll(ts)) / 1000.0);
      }
      r.consumed += batch->size();
      if (auto acked = consumer->ack(*batch); !acked) die(acked.error().message);
      if (!producing && r.consumed >= published) break;
    }
    r.consume_s = std::chrono::duration<double>(last - first).count();
  });

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  const auto period = std::chrono::nanoseconds(1'000'000'000 / o.hz);
  std::size_t seq = 0;
  auto next = start;
  while (Clock::now() < end) {
    const int n = paced ? o.symbols : o.batch;
    for (int i = 0; i < n; ++i, ++seq) {
      producer->add(keys[seq % keys.size()],
                    Fields{{"ts", std::to_string(now_ns())}, {"px", std::to_string(100000 + seq % 50)}});
    }
    auto added = producer->flush();
    if (!added) die(added.error().message);
    published += added->size();
    if (paced) {
      next += period;
      std::this_thread::sleep_until(next);
    }
  }
  r.publish_s = std::chrono::duration<double>(Clock::now() - start).count();
  r.published = published;
  producing = false;
  consume.join();
  return r;
}

void report(const char* mode, Result r) {
  const double p50 = percentile(r.lag_us, 0.50);
  const double p99 = percentile(r.lag_us, 0.99);
  const double max = r.lag_us.empty() ? 0 : r.lag_us.back();
  std::printf(
      "%-9s published %8zu in %5.2f s = %9.0f msg/s | consumed %8zu = %9.0f msg/s | lag p50 %8.0f us  p99 %8.0f us  "
      "max %8.0f us\n",
      mode, r.published, r.publish_s, static_cast<double>(r.published) / r.publish_s, r.consumed,
      r.consume_s > 0 ? static_cast<double>(r.consumed) / r.consume_s : 0.0, p50, p99, max);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--port")
      o.port = std::atoi(v);
    else if (a == "--seconds")
      o.seconds = std::atof(v);
    else if (a == "--symbols")
      o.symbols = std::atoi(v);
    else if (a == "--hz")
      o.hz = std::atoi(v);
    else if (a == "--batch")
      o.batch = std::atoi(v);
    else if (a == "--read-count")
      o.read_count = std::atoi(v);
    else
      die("unknown option " + a + " (--port, --seconds, --symbols, --hz, --batch, --read-count)");
  }
  if (o.symbols <= 0 || o.hz <= 0 || o.batch <= 0 || o.read_count <= 0 || o.seconds <= 0)
    die("options must be positive");
  std::printf("# %d symbols; paced %d Hz per symbol (%d msg/s offered); flat-out pipelines of %d XADD; %.0f s each\n",
              o.symbols, o.hz, o.symbols * o.hz, o.batch, o.seconds);
  report("paced", run(o, true, "paced:"));
  report("flat-out", run(o, false, "flat:"));
  return 0;
}
