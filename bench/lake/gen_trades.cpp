// A month of WIN-like trades as CSV for bench/lake/run.sh (a benchmark tool,
// not part of the platform). 21 B3 sessions of March 2026 (weekdays 2..30),
// 09:00:00-18:25:00 America/Sao_Paulo wall time, prices on the 5-point grid
// random-walking near 130,000, sizes 1-50, the aggressor side; a third of the
// trades share the previous trade's millisecond (bursts), as on B3.
//
//   gen_trades OUT.csv [--trades N] [--sessions M] [--session K] [--revise] [--seed S]
//
// --session K writes only session K (1..21), the same rows the whole month
// holds for it (each session has its own random stream); --revise changes the
// price of every 10th trade by one tick (a corrected re-export of that day);
// --sessions M puts the trades into the first M sessions only (M = 1: one huge
// day, to show that a day larger than the memory budget still works).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Rng {  // splitmix64: fast, seeded, the same on every machine
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

char* put_uint(char* p, std::uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

char* put_num(char* p, std::uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gen_trades OUT.csv [--trades N] [--sessions M] [--session K] [--revise] [--seed S]\n");
    return 2;
  }
  const char* out_path = argv[1];
  std::int64_t total = 20'000'000;
  int only_session = 0;
  int max_sessions = 21;
  bool revise = false;
  std::uint64_t seed = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--trades" && i + 1 < argc) {
      total = std::atoll(argv[++i]);
    } else if (a == "--sessions" && i + 1 < argc) {
      max_sessions = std::atoi(argv[++i]);
    } else if (a == "--session" && i + 1 < argc) {
      only_session = std::atoi(argv[++i]);
    } else if (a == "--revise") {
      revise = true;
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "gen_trades: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  // March 2026 weekdays 2..30: 21 sessions (no B3 holiday in that span).
  std::vector<int> days;
  for (int d = 2; d <= 30; ++d) {
    if (d % 7 != 1 && d % 7 != 0) days.push_back(d);  // March 1st 2026 is a Sunday
  }
  if (max_sessions < 1 || max_sessions > static_cast<int>(days.size())) {
    std::fprintf(stderr, "gen_trades: --sessions must be 1..%zu\n", days.size());
    return 2;
  }
  days.resize(static_cast<std::size_t>(max_sessions));
  const int sessions = static_cast<int>(days.size());
  if (only_session < 0 || only_session > sessions) {
    std::fprintf(stderr, "gen_trades: --session must be 1..%d\n", sessions);
    return 2;
  }
  std::FILE* out = std::fopen(out_path, "wb");
  if (out == nullptr) {
    std::perror(out_path);
    return 1;
  }
  std::vector<char> buf(1 << 22);
  char* p = buf.data();
  const char* header = "time,price,volume,side\n";
  p = static_cast<char*>(std::memcpy(p, header, std::strlen(header))) + std::strlen(header);
  constexpr std::int64_t kSessionMs = (9 * 3600 + 25 * 60) * 1000LL;  // 09:00 .. 18:25
  std::int64_t written = 0;
  for (int s = 0; s < sessions; ++s) {
    const std::int64_t n = total / sessions + (s < total % sessions ? 1 : 0);
    if (only_session != 0 && only_session != s + 1) continue;
    Rng rng{seed * 1000003ULL + static_cast<std::uint64_t>(s)};
    std::int64_t price = 130'000;
    // A third of the trades share the previous millisecond; the others step
    // by a uniform gap whose mean spreads the session's trades over its hours.
    const double mean_gap = static_cast<double>(kSessionMs - 1) / (static_cast<double>(n) * 2.0 / 3.0);
    const std::uint64_t max_gap = static_cast<std::uint64_t>(2.0 * mean_gap) + 1;
    std::int64_t ms = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t r = rng.next();
      if (i > 0 && r % 3 != 0) ms += static_cast<std::int64_t>((r >> 8) % (max_gap + 1));
      if (ms >= kSessionMs) ms = kSessionMs - 1;
      const std::uint64_t r2 = rng.next();
      const int step = static_cast<int>(r2 % 5);  // -1, 0, 0, 0, +1 ticks, pulled back toward 130,000
      if (step == 0) price -= (price > 130'000 + 2'000 && (r2 >> 8) % 4 == 0) ? 10 : 5;
      if (step == 4) price += (price < 130'000 - 2'000 && (r2 >> 8) % 4 == 0) ? 10 : 5;
      const std::int64_t size = 1 + static_cast<std::int64_t>((r2 >> 16) % 50);
      const bool buy = ((r2 >> 40) & 1) != 0;
      std::int64_t px = price;
      if (revise && i % 10 == 0) px += 5;
      const std::int64_t sec = ms / 1000;
      // "2026-03-DD HH:MM:SS.mmm" (Sao Paulo wall time)
      p = static_cast<char*>(std::memcpy(p, "2026-03-", 8)) + 8;
      p = put_uint(p, static_cast<std::uint64_t>(days[static_cast<std::size_t>(s)]), 2);
      *p++ = ' ';
      p = put_uint(p, static_cast<std::uint64_t>(9 + sec / 3600), 2);
      *p++ = ':';
      p = put_uint(p, static_cast<std::uint64_t>(sec / 60 % 60), 2);
      *p++ = ':';
      p = put_uint(p, static_cast<std::uint64_t>(sec % 60), 2);
      *p++ = '.';
      p = put_uint(p, static_cast<std::uint64_t>(ms % 1000), 3);
      *p++ = ',';
      p = put_num(p, static_cast<std::uint64_t>(px));
      *p++ = ',';
      p = put_num(p, static_cast<std::uint64_t>(size));
      *p++ = ',';
      p = static_cast<char*>(std::memcpy(p, buy ? "buy\n" : "sell\n", buy ? 4 : 5)) + (buy ? 4 : 5);
      if (p > buf.data() + buf.size() - 256) {
        std::fwrite(buf.data(), 1, static_cast<std::size_t>(p - buf.data()), out);
        p = buf.data();
      }
      ++written;
    }
  }
  std::fwrite(buf.data(), 1, static_cast<std::size_t>(p - buf.data()), out);
  if (std::fclose(out) != 0) {
    std::perror(out_path);
    return 1;
  }
  std::fprintf(stderr, "gen_trades: %lld trades in %d session(s) -> %s\n", static_cast<long long>(written),
               only_session != 0 ? 1 : sessions, out_path);
  return 0;
}
