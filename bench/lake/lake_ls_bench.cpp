// Partition statistics of a lake as a desk polls them (bench/lake/run.sh; a
// benchmark tool, not part of the platform): one Lake opened read-only, the
// first partitions() call (every footer read), then repeated calls (footers
// cached by file identity: a directory walk and a stat per partition).
//
//   lake_ls_bench LAKE [REPEATS=21]
// prints: partitions rows first_ms median_repeat_ms
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "lake/lake.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lake_ls_bench LAKE [REPEATS]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 21;
  quant::lake::LakeOptions options;
  options.threads = 1;
  auto lake = quant::lake::Lake::open(argv[1], /*create=*/false, options);
  if (!lake) {
    std::fprintf(stderr, "lake_ls_bench: %s\n", lake.error().message.c_str());
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  auto t0 = Clock::now();
  auto parts = (*lake)->partitions();
  const double first_ms = ms_since(t0);
  if (!parts) {
    std::fprintf(stderr, "lake_ls_bench: %s\n", parts.error().message.c_str());
    return 1;
  }
  std::int64_t rows = 0;
  for (const auto& p : *parts) rows += p.rows;
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    t0 = Clock::now();
    auto again = (*lake)->partitions();
    times.push_back(ms_since(t0));
    if (!again || again->size() != parts->size()) {
      std::fprintf(stderr, "lake_ls_bench: the partitions changed while measuring\n");
      return 1;
    }
  }
  std::sort(times.begin(), times.end());
  std::printf("%zu %lld %.2f %.3f\n", parts->size(), static_cast<long long>(rows), first_ms,
              times.empty() ? 0.0 : times[times.size() / 2]);
  return 0;
}
