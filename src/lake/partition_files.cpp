#include "lake/partition_files.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <tuple>

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

bool parse_key(const std::string& name, std::string_view key, std::string& value) {
  if (name.size() <= key.size() + 1 || name.compare(0, key.size(), key) != 0 || name[key.size()] != '=') return false;
  value = name.substr(key.size() + 1);
  return true;
}

bool parse_int_key(const std::string& name, std::string_view key, int& value) {
  std::string text;
  if (!parse_key(name, key, text)) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string dataset_dir(const std::string& root, Dataset dataset) {
  return root + "/kind=" + std::string(dataset_name(dataset));
}

bool day_partitioned(Dataset dataset) { return dataset != Dataset::Bars1m; }

std::string partition_dir(const std::string& root, Dataset dataset, const std::string& symbol, int year, int month,
                          int day) {
  char ym[64];
  if (day > 0) {
    std::snprintf(ym, sizeof ym, "/year=%04d/month=%02d/day=%02d", year, month, day);
  } else {
    std::snprintf(ym, sizeof ym, "/year=%04d/month=%02d", year, month);
  }
  return dataset_dir(root, dataset) + "/symbol=" + symbol + ym;
}

Expected<std::vector<PartitionFile>> list_files(const std::string& root, Dataset dataset, const std::string& symbol) {
  std::vector<PartitionFile> files;
  std::error_code ec;
  const fs::path base = dataset_dir(root, dataset);
  if (!fs::is_directory(base, ec)) return files;
  auto dirs = [&](const fs::path& dir) -> Expected<std::vector<fs::path>> {
    std::vector<fs::path> out;
    std::error_code iter_ec;
    for (fs::directory_iterator it(dir, iter_ec), end; !iter_ec && it != end; it.increment(iter_ec)) {
      if (it->is_directory(iter_ec)) out.push_back(it->path());
    }
    if (iter_ec) return make_error("lake: cannot list " + dir.string() + ": " + iter_ec.message());
    return out;
  };
  auto symbols = dirs(base);
  if (!symbols) return tl::unexpected(symbols.error());
  for (const fs::path& sym_dir : *symbols) {
    PartitionFile file;
    if (!parse_key(sym_dir.filename().string(), "symbol", file.symbol)) continue;
    if (!symbol.empty() && file.symbol != symbol) continue;
    auto years = dirs(sym_dir);
    if (!years) return tl::unexpected(years.error());
    for (const fs::path& year_dir : *years) {
      if (!parse_int_key(year_dir.filename().string(), "year", file.year)) continue;
      auto months = dirs(year_dir);
      if (!months) return tl::unexpected(months.error());
      for (const fs::path& month_dir : *months) {
        if (!parse_int_key(month_dir.filename().string(), "month", file.month)) continue;
        file.day = 0;
        const fs::path data = month_dir / kDataFile;
        if (fs::is_regular_file(data, ec)) {
          // A whole month (bars, or a lake from before day partitions): while
          // it exists it is the month's only data.
          file.path = data.string();
          files.push_back(file);
          continue;
        }
        if (!day_partitioned(dataset)) continue;
        auto days = dirs(month_dir);
        if (!days) return tl::unexpected(days.error());
        for (const fs::path& day_dir : *days) {
          if (!parse_int_key(day_dir.filename().string(), "day", file.day) || file.day < 1 || file.day > 31) continue;
          const fs::path day_data = day_dir / kDataFile;
          if (!fs::is_regular_file(day_data, ec)) continue;
          file.path = day_data.string();
          files.push_back(file);
        }
      }
    }
  }
  std::sort(files.begin(), files.end(), [](const PartitionFile& a, const PartitionFile& b) {
    return std::tie(a.symbol, a.year, a.month, a.day) < std::tie(b.symbol, b.year, b.month, b.day);
  });
  return files;
}

std::pair<Timestamp, Timestamp> partition_span(int year, int month, int day) {
  constexpr std::int64_t kNsPerDay = 86'400'000'000'000;
  if (day > 0) {
    const std::int64_t start = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return {from_epoch_ns(start * kNsPerDay), from_epoch_ns((start + 1) * kNsPerDay)};
  }
  const std::int64_t start = days_from_civil(year, static_cast<unsigned>(month), 1) * kNsPerDay;
  const std::int64_t end =
      (month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, static_cast<unsigned>(month + 1), 1)) *
      kNsPerDay;
  return {from_epoch_ns(start), from_epoch_ns(end)};
}

bool overlaps(const PartitionFile& file, Timestamp from, Timestamp to) {
  const auto [start, end] = partition_span(file.year, file.month, file.day);
  return start < to && end > from;
}

}  // namespace quant::lake
