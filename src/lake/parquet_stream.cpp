#include "lake/parquet_stream.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "lake/duckdb_connection.h"
#include "lake/schema.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

/// Rows per block handed to the writer (one DuckDB vector).
constexpr std::size_t kBlockRows = 2048;
/// Blocks the producer may be ahead of the writer.
constexpr std::size_t kMaxQueued = 64;

/// Column-major rows; `rows` of kBlockRows used.
struct Block {
  std::vector<std::int64_t> values;  // column c at [c * kBlockRows, (c + 1) * kBlockRows)
  std::size_t rows = 0;
};

class StreamWriterImpl final : public ParquetStreamWriter {
 public:
  StreamWriterImpl(std::string path, std::size_t columns) : path_(std::move(path)), columns_(columns) {
    current_.values.resize(columns_ * kBlockRows);
  }

  ~StreamWriterImpl() override {
    if (thread_.joinable()) {
      {
        std::lock_guard lock(mutex_);
        ended_ = true;
        abandoned_ = true;
      }
      changed_.notify_all();
      thread_.join();
    }
    if (!closed_) {
      std::error_code ec;
      fs::remove(partial_path(), ec);
    }
  }

  std::string partial_path() const { return path_ + ".partial"; }

  Expected<void> start(std::vector<ParquetColumn> columns) {
    auto db = duck::Database::open(1, "256MB");
    if (!db) return tl::unexpected(db.error());
    auto con = duck::Connection::make(*db);
    if (!con) return tl::unexpected(con.error());
    con_ = std::move(*con);
    if (auto ok = con_.register_source("quant_rows", std::move(columns),
                                       [this](std::int64_t* const* out, std::size_t capacity) {
                                         return fill(out, capacity);
                                       });
        !ok) {
      return ok;
    }
    // zstd level 1 without dictionaries: these columns (times a minute apart,
    // cents that drift) gain nothing from a dictionary, and analysing one cost
    // more than the engine's own loop on 10 M rows; delta encodings (v2) do the work.
    thread_ = std::thread([this] {
      auto done = con_.exec("COPY (SELECT * FROM quant_rows()) TO " + sql_string(partial_path()) +
                                " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION v2, ROW_GROUP_SIZE 122880, DICTIONARY_SIZE_LIMIT 1)",
                            "writing " + path_);
      std::lock_guard lock(mutex_);
      if (!done && !abandoned_) error_ = done.error();
      finished_ = true;
      changed_.notify_all();
    });
    return {};
  }

  void add_row(const std::int64_t* values) override {
    for (std::size_t c = 0; c < columns_; ++c) current_.values[c * kBlockRows + current_.rows] = values[c];
    ++rows_;
    if (++current_.rows == kBlockRows) hand_over();
  }

  Expected<std::int64_t> close() override {
    if (current_.rows > 0) hand_over();
    {
      std::unique_lock lock(mutex_);
      ended_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return finished_; });
    }
    thread_.join();
    if (error_) return tl::unexpected(*error_);
    std::error_code ec;
    fs::rename(partial_path(), path_, ec);
    if (ec) return make_error("cannot write " + path_ + ": " + ec.message());
    closed_ = true;
    return rows_;
  }

 private:
  void hand_over() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < kMaxQueued || finished_; });
    if (!finished_) {
      Block next;
      if (!spare_.empty()) {
        next = std::move(spare_.back());
        spare_.pop_back();
      } else {
        next.values.resize(columns_ * kBlockRows);
      }
      std::swap(next, current_);
      queue_.push_back(std::move(next));
      changed_.notify_all();
    }
    current_.rows = 0;  // after a write error the rows are dropped; close() reports it
  }

  /// The writer thread (inside DuckDB): the next block, or 0 at the end.
  Expected<std::size_t> fill(std::int64_t* const* out, std::size_t capacity) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || ended_; });
    if (queue_.empty()) return std::size_t{0};
    Block block = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    lock.unlock();
    const std::size_t n = std::min(block.rows, capacity);  // capacity is DuckDB's vector size: ≥ kBlockRows
    for (std::size_t c = 0; c < columns_; ++c) {
      std::copy_n(block.values.data() + c * kBlockRows, n, out[c]);
    }
    lock.lock();
    block.rows = 0;
    spare_.push_back(std::move(block));
    return n;
  }

  std::string path_;
  std::size_t columns_;
  duck::Connection con_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Block> queue_;
  std::vector<Block> spare_;
  Block current_;
  std::int64_t rows_ = 0;
  bool ended_ = false, finished_ = false, abandoned_ = false, closed_ = false;
  std::optional<Error> error_;
};

}  // namespace

Expected<std::unique_ptr<ParquetStreamWriter>> ParquetStreamWriter::open(const std::string& path,
                                                                         std::vector<ParquetColumn> columns) {
  if (columns.empty()) return make_error("cannot write " + path + ": no columns");
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec)) return make_error("cannot write " + path + ": no such directory");
  auto writer = std::make_unique<StreamWriterImpl>(path, columns.size());
  if (auto ok = writer->start(std::move(columns)); !ok) return tl::unexpected(ok.error());
  return std::unique_ptr<ParquetStreamWriter>(std::move(writer));
}

}  // namespace quant::lake
