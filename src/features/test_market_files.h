#pragma once
// Test-only readers of the real book and trade files in ../shared/data, small
// enough to check by eye (the features module never uses src/ingest). They
// follow the importers' rules: Tardis wide snapshots keep the levels written;
// incremental files go through core's OrderBook and give one snapshot per run
// of rows sharing a timestamp; WIN trades are Brasília time (UTC−3 in 2021).

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "core/market_data.h"
#include "core/order_book.h"
#include "core/time.h"

namespace quant::testing {

inline std::string shared_data(const std::string& relative) {
  return std::string(QUANT_SHARED_DATA_DIR) + "/" + relative;
}

// Skips the test when the file is absent, unless the environment variable CI
// is set: then a missing data folder is a failure, not a silent skip.
#define QUANT_REQUIRE_SHARED_FILE(path)                                                    \
  if (!std::filesystem::exists(path)) {                                                    \
    if (std::getenv("CI") != nullptr) FAIL() << (path) << " is absent and CI is set";      \
    GTEST_SKIP() << (path) << " is absent (needs ../shared/data): real-data test skipped"; \
  }

inline std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) {
    if (!field.empty() && field.back() == '\r') field.pop_back();
    out.push_back(field);
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// Tardis "book_snapshot_N": exchange,symbol,timestamp(µs),local_timestamp,
// then asks[i].price, asks[i].amount, bids[i].price, bids[i].amount for each i.
inline std::vector<BookSnapshot> read_tardis_snapshots(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<BookSnapshot> out;
  while (std::getline(in, line)) {
    const auto f = split_csv(line);
    BookSnapshot b;
    b.ts = from_epoch_ns(std::stoll(f[2]) * 1000);
    for (std::size_t i = 4; i + 3 < f.size(); i += 4) {
      if (!f[i].empty()) b.asks.push_back({std::stod(f[i]), std::stod(f[i + 1])});
      if (!f[i + 2].empty()) b.bids.push_back({std::stod(f[i + 2]), std::stod(f[i + 3])});
    }
    out.push_back(std::move(b));
  }
  return out;
}

// Incremental L2 rows through an OrderBook: one snapshot (top `depth`) per run
// of rows sharing a timestamp. `ts_col`, `side_col`, `price_col`, `size_col`
// pick the columns; `bid` is the side text of bids; timestamps in `ts_unit_ns`.
// A run of snapshot rows (`snapshot_col` true/"snap") after updates clears the book.
struct IncrementalLayout {
  std::size_t ts_col, side_col, price_col, size_col, snapshot_col;
  const char* bid;
  const char* snapshot_value;
  std::int64_t ts_unit_ns;
};

inline void read_incremental(const std::string& path, const IncrementalLayout& l, std::size_t depth, OrderBook& book,
                             std::vector<BookSnapshot>& out) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::optional<std::int64_t> run_ts;
  bool last_was_update = true;
  auto emit = [&] {
    BookSnapshot s;
    book.snapshot(from_epoch_ns(*run_ts * l.ts_unit_ns), depth, s);
    out.push_back(std::move(s));
  };
  while (std::getline(in, line)) {
    const auto f = split_csv(line);
    const std::int64_t ts = std::stoll(f[l.ts_col]);
    if (run_ts && ts != *run_ts) emit();
    run_ts = ts;
    const bool snapshot_row = f[l.snapshot_col] == l.snapshot_value;
    if (snapshot_row && last_was_update) book.clear();
    last_was_update = !snapshot_row;
    book.apply(f[l.side_col] == l.bid ? BookSide::Bid : BookSide::Ask, std::stod(f[l.price_col]),
               std::stod(f[l.size_col]));
  }
  if (run_ts) emit();
}

// WIN time and sales: ",time,price,volume" / "0,2021-06-15 15:41:32,130060.0,1"
// (Brasília time, UTC−3; no aggressor column), gzip'd.
inline std::vector<Trade> read_win_trades_gz(const std::string& path) {
  std::vector<Trade> out;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return out;
  char line[256];
  bool header = true;
  while (gzgets(file, line, sizeof line) != nullptr) {
    if (header) {
      header = false;
      continue;
    }
    long index = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    Trade t;
    // NOLINTNEXTLINE(cert-err34-c): a fixture reader; the field count is checked, the data is the known export
    if (std::sscanf(line, "%ld,%d-%d-%d %d:%d:%d,%lf,%lf", &index, &y, &mo, &d, &h, &mi, &s, &t.price, &t.volume) !=
        9) {
      continue;
    }
    LocalTime local;
    if (!make_local_time(y, mo, d, h, mi, s, 0, local)) continue;
    t.ts = Timestamp(local.time_since_epoch()) + std::chrono::hours(3);
    out.push_back(t);
  }
  gzclose(file);
  return out;
}

}  // namespace quant::testing
