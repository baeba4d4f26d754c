// The write path above the partition: Lake::writer() (one writer lock per
// lake), buffering records per partition (month for bars, day for ticks,
// trades and book) within the memory budget, numbering seqs and turning
// records into column chunks for PartitionWriter.
#include "lake/lake_writer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <map>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "lake/lake_impl.h"
#include "lake/partition_files.h"
#include "lake/partition_writer.h"

namespace quant::lake {

/// Exclusive writer lock on <root>/.lock, released when destroyed.
class WriterLock {
 public:
  static Expected<std::unique_ptr<WriterLock>> acquire(const std::string& root) {
    const std::string path = root + "/.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return make_error("lake: cannot open lock file " + path + ": " + std::generic_category().message(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return make_error("lake: another writer holds the lock " + path +
                          " (one writer per lake at a time; wait for it to finish)");
      }
      return make_error("lake: cannot lock " + path + ": " + std::generic_category().message(err));
    }
    return std::unique_ptr<WriterLock>(new WriterLock(fd));
  }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock() { ::close(fd_); }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

namespace {

inline void set_nullable(double* data, std::uint64_t* validity, std::size_t row, double value) {
  const bool valid = !std::isnan(value);
  data[row] = valid ? value : 0.0;
  const std::uint64_t bit = std::uint64_t{1} << (row % 64);
  if (valid) {
    validity[row / 64] |= bit;
  } else {
    validity[row / 64] &= ~bit;
  }
}

/// Writes rows [begin, end) into chunk rows [0, end - begin).
void fill(duck::ChunkBuilder& b, const std::vector<Bar>& rows, std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* open = b.column<double>(1);
  auto* high = b.column<double>(2);
  auto* low = b.column<double>(3);
  auto* close = b.column<double>(4);
  auto* tick_volume = b.column<std::int64_t>(5);
  auto* volume = b.column<double>(6);
  auto* spread = b.column<std::int32_t>(7);
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const Bar& bar = rows[i];
    ts[r] = to_epoch_ns(bar.ts);
    open[r] = bar.open;
    high[r] = bar.high;
    low[r] = bar.low;
    close[r] = bar.close;
    tick_volume[r] = bar.tick_volume;
    volume[r] = bar.volume;
    spread[r] = bar.spread;
  }
}

void fill(duck::ChunkBuilder& b, const std::vector<Tick>& rows, const std::vector<std::int32_t>& seqs,
          std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* seq = b.column<std::int32_t>(1);
  double* values[6];
  std::uint64_t* valid[6];
  for (std::size_t c = 0; c < 6; ++c) {
    values[c] = b.column<double>(c + 2);
    valid[c] = b.validity(c + 2);
  }
  auto* flags = b.column<std::uint32_t>(8);
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const Tick& t = rows[i];
    ts[r] = to_epoch_ns(t.ts);
    seq[r] = seqs[i];
    set_nullable(values[0], valid[0], r, t.bid);
    set_nullable(values[1], valid[1], r, t.ask);
    set_nullable(values[2], valid[2], r, t.last);
    set_nullable(values[3], valid[3], r, t.volume);
    set_nullable(values[4], valid[4], r, t.bid_size);
    set_nullable(values[5], valid[5], r, t.ask_size);
    flags[r] = t.flags;
  }
}

void fill(duck::ChunkBuilder& b, const std::vector<Trade>& rows, const std::vector<std::int32_t>& seqs,
          std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* seq = b.column<std::int32_t>(1);
  auto* price = b.column<double>(2);
  auto* volume = b.column<double>(3);
  auto* aggressor = b.column<std::int8_t>(4);
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const Trade& t = rows[i];
    ts[r] = to_epoch_ns(t.ts);
    seq[r] = seqs[i];
    price[r] = t.price;
    volume[r] = t.volume;
    aggressor[r] = static_cast<std::int8_t>(t.aggressor);
  }
}

/// One book row: snapshot `index` of the sorted input, `level`.
struct BookRow {
  std::uint32_t index;
  std::int16_t level;
};

void fill(duck::ChunkBuilder& b, const std::vector<BookSnapshot>& books, const std::vector<std::int32_t>& seqs,
          const std::vector<BookRow>& rows, std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* seq = b.column<std::int32_t>(1);
  auto* level = b.column<std::int16_t>(2);
  double* values[4];
  std::uint64_t* valid[4];
  for (std::size_t c = 0; c < 4; ++c) {
    values[c] = b.column<double>(c + 3);
    valid[c] = b.validity(c + 3);
  }
  constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const BookSnapshot& snap = books[rows[i].index];
    const auto lv = static_cast<std::size_t>(rows[i].level);
    ts[r] = to_epoch_ns(snap.ts);
    seq[r] = seqs[rows[i].index];
    level[r] = rows[i].level;
    const bool has_bid = lv < snap.bids.size();
    const bool has_ask = lv < snap.asks.size();
    set_nullable(values[0], valid[0], r, has_bid ? snap.bids[lv].price : kNull);
    set_nullable(values[1], valid[1], r, has_bid ? snap.bids[lv].size : kNull);
    set_nullable(values[2], valid[2], r, has_ask ? snap.asks[lv].price : kNull);
    set_nullable(values[3], valid[3], r, has_ask ? snap.asks[lv].size : kNull);
  }
}

constexpr std::int64_t kNsPerDay = 86'400'000'000'000;

/// Bytes a buffered record holds (its seq included), for the memory budget.
template <class Record>
std::size_t record_bytes(const Record& record) {
  if constexpr (std::is_same_v<Record, BookSnapshot>) {
    return sizeof(BookSnapshot) + sizeof(std::int32_t) +
           (record.bids.capacity() + record.asks.capacity()) * sizeof(BookLevel) +
           std::max(record.bids.size(), record.asks.size()) * sizeof(BookRow);
  } else {
    return sizeof(Record) + sizeof(std::int32_t);
  }
}

/// Buffers records per partition (a UTC month for bars, a UTC day for ticks,
/// trades and book) and writes each partition through a PartitionWriter.
/// With a memory budget, a partition whose records outgrow the writer's share
/// is handed to DuckDB block by block (sorted, numbered) and merged when the
/// input leaves it: memory holds one block, DuckDB spills the rest.
template <class Record>
class WriterImpl final : public LakeWriter {
 public:
  WriterImpl(std::shared_ptr<const LakeShared> lake, Dataset dataset, std::string symbol, duck::Connection con,
             std::shared_ptr<WriterLock> lock, const WriteOptions& options)
      : lake_(std::move(lake)),
        dataset_(dataset),
        daily_(day_partitioned(dataset)),
        lock_(std::move(lock)),
        provisional_tail_(options.provisional_tail && std::is_same_v<Record, Bar>),
        block_bytes_(std::is_same_v<Record, Bar> || lake_->options.memory_budget_bytes <= 0
                         ? std::numeric_limits<std::size_t>::max()
                         : static_cast<std::size_t>(
                               std::max<std::int64_t>(lake_->options.memory_budget_bytes / 4, std::int64_t{1} << 16))),
        partition_(*lake_, dataset, std::move(symbol), std::move(con), options) {}

  void add(const Bar& bar) override { push(bar); }
  void add(const Tick& tick) override { push(tick); }
  void add(const Trade& trade) override { push(trade); }
  void add(const BookSnapshot& book) override { push(book); }

  Expected<WriteStats> flush() override {
    if (error_) return tl::unexpected(*error_);
    flushing_ = true;
    if (current_) {
      if (auto written = write(*current_); !written) {
        error_ = written.error();
        return tl::unexpected(*error_);
      }
    }
    return stats_;
  }

  const std::optional<Error>& error() const override { return error_; }

 private:
  template <class T>
  void push(const T& record) {
    if (error_) return;
    if constexpr (!std::is_same_v<T, Record>) {
      error_ = Error{"lake: a " + std::string(dataset_name(dataset_)) + " writer cannot take this kind of record"};
      return;
    } else {
      ++stats_.received;
      if (stats_.received == 1 || record.ts > last_ts_) last_ts_ = record.ts;
      // Fast path: still inside the current partition (most records of ordered input).
      if (!(current_ && record.ts >= current_begin_ && record.ts < current_end_)) {
        const int key = key_of(record.ts);
        // The input leaves a partition: write it out now so memory holds one
        // partition at a time (time-ordered input writes each partition once;
        // other input merges into partitions already written).
        if (current_ && *current_ != key) {
          if (auto written = write(*current_); !written) {
            error_ = written.error();
            return;
          }
        }
        if (!current_) {
          current_ = key;
          if (buffer_.capacity() == 0) {
            const std::size_t cap = block_bytes_ == std::numeric_limits<std::size_t>::max()
                                        ? last_partition_rows_ + last_partition_rows_ / 8
                                        : std::min(last_partition_rows_ + last_partition_rows_ / 8,
                                                   block_bytes_ / (sizeof(Record) + sizeof(std::int32_t)));
            buffer_.reserve(cap);
          }
          std::tie(current_begin_, current_end_) = span_of(key);
        }
      }
      buffer_.push_back(record);
      if (block_bytes_ != std::numeric_limits<std::size_t>::max()) {
        buffer_bytes_ += record_bytes(record);
        if (buffer_bytes_ >= block_bytes_) {
          // Over the writer's share of the budget: DuckDB takes this block now.
          if (auto staged = stage_block(); !staged) error_ = staged.error();
        }
      }
    }
  }

  int key_of(Timestamp ts) const {
    if (daily_) {
      const std::int64_t ns = to_epoch_ns(ts);
      return static_cast<int>(ns >= 0 ? ns / kNsPerDay : -((-ns + kNsPerDay - 1) / kNsPerDay));
    }
    const CivilTime c = to_civil_utc(ts);
    return c.year * 12 + static_cast<int>(c.month) - 1;
  }

  std::pair<Timestamp, Timestamp> span_of(int key) const {
    const PartitionKey k = parts_of(key);
    return partition_span(k.year, k.month, k.day);
  }

  PartitionKey parts_of(int key) const {
    if (daily_) {
      const CivilTime c = to_civil_utc(from_epoch_ns(std::int64_t{key} * kNsPerDay));
      return PartitionKey{c.year, static_cast<int>(c.month), static_cast<int>(c.day)};
    }
    const int year = key >= 0 ? key / 12 : -((-key + 11) / 12);
    return PartitionKey{year, key - year * 12 + 1, 0};
  }

  /// Sorts the buffered records by time, numbers them (seq, continuing the
  /// blocks already staged for this partition) and appends them to the
  /// staging table; the buffer is emptied.
  Expected<void> stage_block() {
    std::vector<Record>& records = buffer_;
    last_partition_rows_ = std::max(last_partition_rows_, records.size());
    buffer_bytes_ = 0;
    if (records.empty()) return {};
    auto by_time = [](const Record& a, const Record& b) { return a.ts < b.ts; };
    if (!std::is_sorted(records.begin(), records.end(), by_time)) {
      std::stable_sort(records.begin(), records.end(), by_time);
    }
    const bool append = staged_.records > 0;
    if (!append) {
      staged_.first = records.front().ts;
      staged_.last = records.back().ts;
    } else {
      // A block that starts before the last one ended: the seqs of records
      // sharing a timestamp across blocks are renumbered in DuckDB at commit.
      if (records.front().ts < staged_.last) staged_.resequence = true;
      staged_.first = std::min(staged_.first, records.front().ts);
      staged_.last = std::max(staged_.last, records.back().ts);
    }
    // The write's last bar, when it is in this partition: only known once the
    // input has ended (flush), which is when time-ordered input writes its last month.
    if (provisional_tail_ && flushing_ && records.back().ts == last_ts_) staged_.tail = last_ts_;
    Expected<void> staged;
    if constexpr (std::is_same_v<Record, Bar>) {
      // Repeated timestamps inside the input: the first one wins.
      std::vector<Bar> unique;
      unique.reserve(records.size());
      for (const Bar& bar : records) {
        if (!unique.empty() && unique.back().ts == bar.ts) {
          ++(unique.back() == bar ? stats_.duplicates : stats_.conflicts);
          continue;
        }
        unique.push_back(bar);
      }
      staged_.records += static_cast<std::int64_t>(unique.size());
      staged = partition_.stage(append, unique.size(), [&](duck::ChunkBuilder& b, std::size_t begin, std::size_t end) {
        fill(b, unique, begin, end);
      });
    } else {
      // seq: arrival order among records sharing a timestamp.
      seqs_.resize(records.size());
      for (std::size_t i = 0; i < records.size(); ++i) {
        if (i > 0 && records[i - 1].ts == records[i].ts) {
          seqs_[i] = seqs_[i - 1] + 1;
        } else if (i == 0 && append && records[0].ts == staged_last_ts_) {
          seqs_[i] = staged_last_seq_ + 1;
        } else {
          seqs_[i] = 0;
        }
      }
      staged_last_ts_ = records.back().ts;
      staged_last_seq_ = seqs_.back();
      staged_.records += static_cast<std::int64_t>(records.size());
      if constexpr (std::is_same_v<Record, BookSnapshot>) {
        std::vector<BookRow> rows;
        rows.reserve(records.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
          const BookSnapshot& b = records[i];
          // An empty snapshot keeps one all-NULL level so that it is not lost.
          const std::size_t levels = std::max<std::size_t>(1, std::max(b.bids.size(), b.asks.size()));
          for (std::size_t lv = 0; lv < levels && lv <= 32767; ++lv) {
            rows.push_back(BookRow{static_cast<std::uint32_t>(i), static_cast<std::int16_t>(lv)});
          }
        }
        staged = partition_.stage(append, rows.size(), [&](duck::ChunkBuilder& b, std::size_t begin, std::size_t end) {
          fill(b, records, seqs_, rows, begin, end);
        });
      } else {
        staged = partition_.stage(
            append, records.size(),
            [&](duck::ChunkBuilder& b, std::size_t begin, std::size_t end) { fill(b, records, seqs_, begin, end); });
      }
    }
    records.clear();
    return staged;
  }

  /// Stages what is left of partition `key` and merges it into the lake.
  Expected<void> write(int key) {
    auto staged = stage_block();
    current_.reset();
    if (!staged) return staged;
    StagedRows rows = staged_;
    staged_ = StagedRows{};
    staged_last_seq_ = 0;
    // Keep the storage for the next partition (fresh pages cost a fault each),
    // unless a budget bounds it and it grew beyond one block.
    if (block_bytes_ != std::numeric_limits<std::size_t>::max() && buffer_.capacity() * sizeof(Record) > block_bytes_) {
      buffer_.shrink_to_fit();
    }
    if (rows.records == 0) return {};
    return partition_.commit(parts_of(key), rows, stats_);
  }

  std::shared_ptr<const LakeShared> lake_;
  Dataset dataset_;
  bool daily_;  ///< partitions are UTC days (ticks, trades, book), else UTC months (bars)
  std::shared_ptr<WriterLock> lock_;
  bool provisional_tail_;
  std::size_t block_bytes_;  ///< the writer's share of the memory budget (max: unbounded)
  bool flushing_ = false;    ///< flush() has started: the input has ended
  Timestamp last_ts_{};      ///< the latest record received
  PartitionWriter partition_;
  std::optional<int> current_;                 ///< the partition being buffered
  Timestamp current_begin_{}, current_end_{};  ///< its UTC span
  std::vector<Record> buffer_;                 ///< its records not yet staged
  std::size_t buffer_bytes_ = 0;               ///< what they hold (only counted under a budget)
  std::vector<std::int32_t> seqs_;             ///< seq of each record of the block being staged
  StagedRows staged_;                          ///< what the current partition staged so far
  Timestamp staged_last_ts_{};                 ///< the last staged record's ts and seq: the next
  std::int32_t staged_last_seq_ = 0;           ///< block continues the numbering
  std::size_t last_partition_rows_ = 0;        ///< capacity hint for the next partition
  WriteStats stats_;
  std::optional<Error> error_;
};

}  // namespace

Expected<std::unique_ptr<LakeWriter>> LakeImpl::writer(Dataset dataset, const std::string& symbol,
                                                       const WriteOptions& options) {
  if (auto ok = validate_symbol(symbol); !ok) return tl::unexpected(ok.error());
  std::shared_ptr<WriterLock> held = shared_->writer_lock.lock();
  if (!held) {
    auto acquired = WriterLock::acquire(shared_->root);
    if (!acquired) return tl::unexpected(acquired.error());
    held = std::move(*acquired);
    shared_->writer_lock = held;
    // First writer under this lock: every temporary in the lake is stale.
    if (auto cleaned = remove_stale_partials(shared_->root); !cleaned) return tl::unexpected(cleaned.error());
  }
  Expected<std::shared_ptr<WriterLock>> lock = held;
  auto con = duck::Connection::make(shared_->db);
  if (!con) return tl::unexpected(con.error());
  switch (dataset) {
    case Dataset::Bars1m:
      return std::make_unique<WriterImpl<Bar>>(shared_, dataset, symbol, std::move(*con), std::move(*lock), options);
    case Dataset::Ticks:
      return std::make_unique<WriterImpl<Tick>>(shared_, dataset, symbol, std::move(*con), std::move(*lock), options);
    case Dataset::Trades:
      return std::make_unique<WriterImpl<Trade>>(shared_, dataset, symbol, std::move(*con), std::move(*lock), options);
    case Dataset::Book:
      return std::make_unique<WriterImpl<BookSnapshot>>(shared_, dataset, symbol, std::move(*con), std::move(*lock),
                                                        options);
  }
  return make_error("lake: unknown dataset");
}

}  // namespace quant::lake
