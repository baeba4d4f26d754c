// The write path above the partition: Lake::writer() (one writer lock per
// lake), buffering records per month, numbering seqs and turning records into
// column chunks for PartitionWriter.
#include "lake/lake_writer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <map>
#include <system_error>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "lake/lake_impl.h"
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

struct SeqTick {
  Tick tick;
  std::int32_t seq;
};
struct SeqTrade {
  Trade trade;
  std::int32_t seq;
};
struct SeqBook {
  const BookSnapshot* book;
  std::int32_t seq;
};

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

void fill(duck::ChunkBuilder& b, const std::vector<SeqTick>& rows, std::size_t begin, std::size_t end) {
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
    const Tick& t = rows[i].tick;
    ts[r] = to_epoch_ns(t.ts);
    seq[r] = rows[i].seq;
    set_nullable(values[0], valid[0], r, t.bid);
    set_nullable(values[1], valid[1], r, t.ask);
    set_nullable(values[2], valid[2], r, t.last);
    set_nullable(values[3], valid[3], r, t.volume);
    set_nullable(values[4], valid[4], r, t.bid_size);
    set_nullable(values[5], valid[5], r, t.ask_size);
    flags[r] = t.flags;
  }
}

void fill(duck::ChunkBuilder& b, const std::vector<SeqTrade>& rows, std::size_t begin, std::size_t end) {
  auto* ts = b.column<std::int64_t>(0);
  auto* seq = b.column<std::int32_t>(1);
  auto* price = b.column<double>(2);
  auto* volume = b.column<double>(3);
  auto* aggressor = b.column<std::int8_t>(4);
  for (std::size_t i = begin, r = 0; i < end; ++i, ++r) {
    const Trade& t = rows[i].trade;
    ts[r] = to_epoch_ns(t.ts);
    seq[r] = rows[i].seq;
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

void fill(duck::ChunkBuilder& b, const std::vector<SeqBook>& books, const std::vector<BookRow>& rows, std::size_t begin,
          std::size_t end) {
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
    const SeqBook& snap = books[rows[i].index];
    const auto lv = static_cast<std::size_t>(rows[i].level);
    ts[r] = to_epoch_ns(snap.book->ts);
    seq[r] = snap.seq;
    level[r] = rows[i].level;
    const bool has_bid = lv < snap.book->bids.size();
    const bool has_ask = lv < snap.book->asks.size();
    set_nullable(values[0], valid[0], r, has_bid ? snap.book->bids[lv].price : kNull);
    set_nullable(values[1], valid[1], r, has_bid ? snap.book->bids[lv].size : kNull);
    set_nullable(values[2], valid[2], r, has_ask ? snap.book->asks[lv].price : kNull);
    set_nullable(values[3], valid[3], r, has_ask ? snap.book->asks[lv].size : kNull);
  }
}

std::pair<int, int> year_month(Timestamp ts) {
  const CivilTime c = to_civil_utc(ts);
  return {c.year, static_cast<int>(c.month)};
}

template <class Record>
class WriterImpl final : public LakeWriter {
 public:
  WriterImpl(std::shared_ptr<const LakeShared> lake, Dataset dataset, std::string symbol, duck::Connection con,
             std::shared_ptr<WriterLock> lock, const WriteOptions& options)
      : lake_(std::move(lake)),
        dataset_(dataset),
        lock_(std::move(lock)),
        provisional_tail_(options.provisional_tail && std::is_same_v<Record, Bar>),
        partition_(*lake_, dataset, std::move(symbol), std::move(con), options) {}

  void add(const Bar& bar) override { push(bar); }
  void add(const Tick& tick) override { push(tick); }
  void add(const Trade& trade) override { push(trade); }
  void add(const BookSnapshot& book) override { push(book); }

  Expected<WriteStats> flush() override {
    if (error_) return tl::unexpected(*error_);
    flushing_ = true;
    while (!buffers_.empty()) {
      auto it = buffers_.begin();
      if (auto written = write(it->first, it->second); !written) {
        error_ = written.error();
        return tl::unexpected(*error_);
      }
      buffers_.erase(it);
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
      // Fast path: still inside the current month (most records of ordered input).
      if (current_buffer_ != nullptr && record.ts >= current_begin_ && record.ts < current_end_) {
        current_buffer_->push_back(record);
        return;
      }
      const auto [year, month] = year_month(record.ts);
      const int key = year * 12 + (month - 1);
      // Time-ordered input leaves a partition for good: write it out now so
      // memory holds one month at a time.
      if (current_ && *current_ != key) {
        auto prev = buffers_.find(*current_);
        if (prev != buffers_.end() && !prev->second.empty()) {
          if (auto written = write(prev->first, prev->second); !written) {
            error_ = written.error();
            return;
          }
          buffers_.erase(prev);
        }
      }
      current_ = key;
      current_buffer_ = &buffers_[key];
      if (current_buffer_->capacity() == 0) {
        if (spare_.capacity() > 0) current_buffer_->swap(spare_);
        current_buffer_->reserve(last_partition_rows_ + last_partition_rows_ / 8);
      }
      current_begin_ = month_start(year, month);
      current_end_ = month == 12 ? month_start(year + 1, 1) : month_start(year, month + 1);
      current_buffer_->push_back(record);
    }
  }

  static Timestamp month_start(int year, int month) {
    LocalTime t;
    QUANT_CHECK(make_local_time(year, month, 1, 0, 0, 0, 0, t));
    return Timestamp(t.time_since_epoch());
  }

  Expected<void> write(int key, std::vector<Record>& records) {
    const int year = key >= 0 ? key / 12 : -((-key + 11) / 12);
    const int month = key - year * 12 + 1;
    // A buffer being written is never appended to again through the cached pointer.
    if (current_buffer_ == &records) current_buffer_ = nullptr;
    last_partition_rows_ = records.size();
    auto by_time = [](const Record& a, const Record& b) { return a.ts < b.ts; };
    if (!std::is_sorted(records.begin(), records.end(), by_time)) {
      std::stable_sort(records.begin(), records.end(), by_time);
    }
    Expected<void> staged;
    StagedRows rows_info;
    if (!records.empty()) {
      rows_info.first = records.front().ts;
      rows_info.last = records.back().ts;
    }
    // The write's last bar, when it is in this partition: only known once the
    // input has ended (flush), which is when time-ordered input writes its last month.
    if (provisional_tail_ && flushing_ && !records.empty() && records.back().ts == last_ts_) rows_info.tail = last_ts_;
    std::int64_t& staged_records = rows_info.records;
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
      staged_records = static_cast<std::int64_t>(unique.size());
      staged = partition_.stage(unique.size(), [&](duck::ChunkBuilder& b, std::size_t begin, std::size_t end) {
        fill(b, unique, begin, end);
      });
    } else if constexpr (std::is_same_v<Record, BookSnapshot>) {
      std::vector<SeqBook> books;
      std::vector<BookRow> rows;
      books.reserve(records.size());
      for (std::size_t i = 0; i < records.size(); ++i) {
        const BookSnapshot& b = records[i];
        const std::int32_t seq = (i > 0 && records[i - 1].ts == b.ts) ? books.back().seq + 1 : 0;
        books.push_back(SeqBook{&b, seq});
        // An empty snapshot keeps one all-NULL level so that it is not lost.
        const std::size_t levels = std::max<std::size_t>(1, std::max(b.bids.size(), b.asks.size()));
        for (std::size_t lv = 0; lv < levels && lv <= 32767; ++lv) {
          rows.push_back(BookRow{static_cast<std::uint32_t>(i), static_cast<std::int16_t>(lv)});
        }
      }
      staged_records = static_cast<std::int64_t>(books.size());
      staged = partition_.stage(rows.size(), [&](duck::ChunkBuilder& b, std::size_t begin, std::size_t end) {
        fill(b, books, rows, begin, end);
      });
    } else {
      using Row = std::conditional_t<std::is_same_v<Record, Tick>, SeqTick, SeqTrade>;
      std::vector<Row> rows;
      rows.reserve(records.size());
      for (std::size_t i = 0; i < records.size(); ++i) {
        const std::int32_t seq = (i > 0 && records[i - 1].ts == records[i].ts) ? rows.back().seq + 1 : 0;
        rows.push_back(Row{records[i], seq});
      }
      staged_records = static_cast<std::int64_t>(rows.size());
      staged = partition_.stage(
          rows.size(), [&](duck::ChunkBuilder& b, std::size_t begin, std::size_t end) { fill(b, rows, begin, end); });
    }
    if (!staged) return staged;
    records.clear();
    // Keep the storage for the next month: fresh pages cost a fault each.
    if (records.capacity() > spare_.capacity()) spare_.swap(records);
    records.shrink_to_fit();
    return partition_.commit(year, month, rows_info, stats_);
  }

  std::shared_ptr<const LakeShared> lake_;
  Dataset dataset_;
  std::shared_ptr<WriterLock> lock_;
  bool provisional_tail_;
  bool flushing_ = false;  ///< flush() has started: the input has ended
  Timestamp last_ts_{};    ///< the latest record received
  PartitionWriter partition_;
  std::map<int, std::vector<Record>> buffers_;
  std::optional<int> current_;
  std::vector<Record>* current_buffer_ = nullptr;  ///< buffers_[*current_], valid until it is written
  Timestamp current_begin_{}, current_end_{};      ///< the UTC month of current_
  std::size_t last_partition_rows_ = 0;            ///< capacity hint for the next month
  std::vector<Record> spare_;                      ///< storage of the last written month, reused
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
