// Opening a lake (one DuckDB instance per Lake object) and the names of its
// datasets and symbols. The write, read and query paths live in lake_writer.cpp,
// lake_reader.cpp and lake_query.cpp.
#include "lake/lake.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "lake/lake_impl.h"
#include "lake/partition_files.h"

namespace quant::lake {

namespace fs = std::filesystem;

LakeImpl::LakeImpl(std::shared_ptr<LakeShared> shared, duck::Connection con)
    : shared_(std::move(shared)), con_(std::move(con)) {}

const std::string& LakeImpl::root() const { return shared_->root; }

std::string_view dataset_name(Dataset dataset) {
  switch (dataset) {
    case Dataset::Bars1m: return "bars_1m";
    case Dataset::Ticks: return "ticks";
    case Dataset::Trades: return "trades";
    case Dataset::Book: return "book";
  }
  return "unknown";
}

Expected<Dataset> parse_dataset(std::string_view name) {
  for (Dataset d : {Dataset::Bars1m, Dataset::Ticks, Dataset::Trades, Dataset::Book}) {
    if (dataset_name(d) == name) return d;
  }
  return make_error("unknown dataset '" + std::string(name) + "' (expected bars_1m, ticks, trades or book)");
}

Expected<void> validate_symbol(std::string_view symbol) {
  if (symbol.empty()) return make_error("empty symbol");
  if (symbol.size() > 64) return make_error("symbol '" + std::string(symbol) + "' is longer than 64 characters");
  if (symbol == "." || symbol == "..") return make_error("symbol '" + std::string(symbol) + "' is not a valid name");
  for (char c : symbol) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '$';
    if (!ok) {
      return make_error("symbol '" + std::string(symbol) + "' has the character '" + std::string(1, c) +
                        "': only letters, digits and . _ - $ are allowed");
    }
  }
  return {};
}

Expected<std::unique_ptr<Lake>> Lake::open(const std::string& root, bool create, const LakeOptions& options) {
  std::error_code ec;
  if (!fs::exists(root, ec)) {
    if (!create) return make_error("lake: " + root + " does not exist");
    fs::create_directories(root, ec);
    if (ec) return make_error("lake: cannot create " + root + ": " + ec.message());
  }
  if (!fs::is_directory(root, ec)) return make_error("lake: root " + root + " is not a directory");
  auto shared = std::make_shared<LakeShared>();
  shared->root = fs::absolute(root, ec).lexically_normal().string();
  while (shared->root.size() > 1 && shared->root.back() == '/') shared->root.pop_back();
  shared->options = options;

  // A memory budget bounds DuckDB too (half of it, unless memory_limit says
  // otherwise); beyond it DuckDB spills to a directory inside the lake, so a
  // day larger than the budget is still merged and written (out-of-core sort
  // and joins).
  std::string memory_limit = options.memory_limit;
  if (memory_limit.empty() && options.memory_budget_bytes > 0) {
    // DuckDB needs some room of its own: never below 64 MiB.
    memory_limit = std::to_string(std::max<std::int64_t>(64, options.memory_budget_bytes / 2 / (1024 * 1024))) + "MiB";
  }
  auto db = duck::Database::open(options.threads, memory_limit, shared->root + "/" + kSpillDir);
  if (!db) return tl::unexpected(db.error());
  shared->db = std::move(*db);
  auto con = duck::Connection::make(shared->db);
  if (!con) return tl::unexpected(con.error());
  return std::unique_ptr<Lake>(new LakeImpl(std::move(shared), std::move(*con)));
}

}  // namespace quant::lake
