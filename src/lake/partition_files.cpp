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

std::string partition_dir(const std::string& root, Dataset dataset, const std::string& symbol, int year, int month) {
  char ym[48];
  std::snprintf(ym, sizeof ym, "/year=%04d/month=%02d", year, month);
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
        const fs::path data = month_dir / kDataFile;
        if (!fs::is_regular_file(data, ec)) continue;
        file.path = data.string();
        files.push_back(file);
      }
    }
  }
  std::sort(files.begin(), files.end(), [](const PartitionFile& a, const PartitionFile& b) {
    return std::tie(a.symbol, a.year, a.month) < std::tie(b.symbol, b.year, b.month);
  });
  return files;
}

bool month_overlaps(int year, int month, Timestamp from, Timestamp to) {
  constexpr std::int64_t kNsPerDay = 86'400'000'000'000;
  const std::int64_t start = days_from_civil(year, static_cast<unsigned>(month), 1) * kNsPerDay;
  const std::int64_t end =
      (month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, static_cast<unsigned>(month + 1), 1)) *
      kNsPerDay;
  return start < to_epoch_ns(to) && end > to_epoch_ns(from);
}

}  // namespace quant::lake
