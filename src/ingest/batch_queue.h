#pragma once
/// The hand-over between a parsing thread and a writing thread.
///
/// The producer runs `import_source` with a `BatchingSink`, which collects the
/// records into `Batch`es and pushes them into a `BatchQueue`; the consumer pops
/// the batches and delivers them to its own `RecordSink` (e.g. a lake writer),
/// so that parsing the next rows overlaps with writing the last ones. The queue
/// is bounded: a producer that runs ahead by `capacity` batches waits, so at
/// most `capacity + 2` batches exist at once (queued, one being filled, one
/// being written) whatever the size of the input.
///
///     BatchQueue queue;
///     std::thread reader([&] {
///       BatchingSink batching(queue);
///       for (const auto& file : files) {
///         auto source = open_source(file);  // (error handling left out)
///         batching.end_file(import_source(**source, format, options, batching), seconds);
///       }
///       queue.close();
///     });
///     while (auto batch = queue.pop()) {
///       batch->deliver(writer);
///       if (batch->end_of_file) { /* report the file */ }
///     }
///     reader.join();  // (on an early return: queue.cancel() first)
///
/// One producer and one consumer; every member of `BatchQueue` is thread-safe.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "ingest/importer.h"

namespace quant::ingest {

/// Records of one stretch of an input, in file order within each kind. An
/// import emits one record kind (bars, ticks, trades or books) plus rejects, so
/// the order across kinds carries no information and is not kept.
struct Batch {
  std::vector<Bar> bars;
  std::vector<Tick> ticks;
  std::vector<Trade> trades;
  std::vector<BookSnapshot> books;
  std::vector<RowError> rejects;
  /// Set on the last batch of a file only: how its import ended (the stats, or
  /// the error that stopped it; the records before the error are in this and
  /// the earlier batches).
  std::optional<Expected<ImportStats>> end_of_file;
  /// With `end_of_file`: the seconds the producer spent on the file.
  double seconds = 0;

  /// Records of every kind, rejects included.
  std::size_t size() const { return bars.size() + ticks.size() + trades.size() + books.size() + rejects.size(); }
  /// Hands the records to `sink` kind by kind, each kind in file order: bars,
  /// ticks, trades, books, then rejects. `end_of_file` is left to the caller.
  void deliver(RecordSink& sink) const;
};

/// A bounded FIFO of batches between one producer and one consumer.
/// `push` blocks while `capacity` batches wait; `pop` blocks while none does.
/// `close` (producer: no more batches) lets `pop` drain the queue and then
/// return nullopt; `cancel` (consumer: stop) makes every later or waiting
/// `push` return at once without queuing.
class BatchQueue {
 public:
  /// Batches the queue holds before `push` waits (the ingest command's value).
  static constexpr std::size_t kDefaultCapacity = 4;

  /// `capacity` >= 1.
  explicit BatchQueue(std::size_t capacity = kDefaultCapacity);

  /// Appends `batch`, waiting while the queue is full. Returns false, dropping
  /// the batch, once the queue is cancelled (also when cancelled while waiting).
  bool push(Batch batch);
  /// The oldest batch, waiting while the queue is empty and open; nullopt once
  /// the queue is closed and empty.
  std::optional<Batch> pop();
  /// The producer's last call: no more pushes; wakes a waiting `pop`.
  void close();
  /// The consumer gives up: wakes a waiting `push` and drops later ones.
  /// Batches already queued stay poppable.
  void cancel();
  /// True after `cancel()`: the producer may stop parsing.
  bool cancelled() const;
  /// Batches waiting now (never more than `capacity()`).
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Batch> queue_;
  bool closed_ = false, cancelled_ = false;
};

/// The producer's `RecordSink`: appends each record to the current batch and
/// pushes the batch once it holds `batch_records` records (rejects included);
/// `end_file` pushes the rest with the file's outcome. Blocks inside `on_*`
/// while the queue is full. Not thread-safe: the producer's thread only.
class BatchingSink final : public RecordSink {
 public:
  /// Records per batch (the ingest command's value): large enough that the
  /// hand-over costs nothing per record, small enough to bound memory.
  static constexpr std::size_t kDefaultBatchRecords = std::size_t{1} << 16;

  /// `queue` outlives the sink; `batch_records` >= 1.
  explicit BatchingSink(BatchQueue& queue, std::size_t batch_records = kDefaultBatchRecords);

  void on_bar(const Bar& bar) override { add(batch_.bars, bar); }
  void on_tick(const Tick& tick) override { add(batch_.ticks, tick); }
  void on_trade(const Trade& trade) override { add(batch_.trades, trade); }
  void on_book(const BookSnapshot& book) override { add(batch_.books, book); }
  void on_reject(const RowError& error) override { add(batch_.rejects, error); }

  /// Ends the current file: pushes what is left (possibly no records) with
  /// `stats` (the result of `import_source`, or why the file could not be read)
  /// and `seconds` as the batch's `end_of_file`, so exactly one batch per file
  /// carries its outcome, after all of the file's records.
  void end_file(Expected<ImportStats> stats, double seconds);

 private:
  template <class T>
  void add(std::vector<T>& records, const T& record) {
    records.push_back(record);
    if (batch_.size() >= batch_records_) flush();
  }
  void flush();

  BatchQueue& queue_;
  const std::size_t batch_records_;
  Batch batch_;
};

}  // namespace quant::ingest
