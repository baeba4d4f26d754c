#include "ingest/batch_queue.h"

#include <utility>

namespace quant::ingest {

void Batch::deliver(RecordSink& sink) const {
  for (const Bar& bar : bars) sink.on_bar(bar);
  for (const Tick& tick : ticks) sink.on_tick(tick);
  for (const Trade& trade : trades) sink.on_trade(trade);
  for (const BookSnapshot& book : books) sink.on_book(book);
  for (const RowError& error : rejects) sink.on_reject(error);
}

BatchQueue::BatchQueue(std::size_t capacity) : capacity_(capacity) { QUANT_CHECK(capacity >= 1); }

bool BatchQueue::push(Batch batch) {
  std::unique_lock lock(mutex_);
  not_full_.wait(lock, [&] { return queue_.size() < capacity_ || cancelled_; });
  if (cancelled_) return false;
  queue_.push_back(std::move(batch));
  not_empty_.notify_one();
  return true;
}

std::optional<Batch> BatchQueue::pop() {
  std::unique_lock lock(mutex_);
  not_empty_.wait(lock, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  Batch batch = std::move(queue_.front());
  queue_.pop_front();
  not_full_.notify_one();
  return batch;
}

void BatchQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  not_empty_.notify_all();
}

void BatchQueue::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  not_full_.notify_all();
}

bool BatchQueue::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

std::size_t BatchQueue::size() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

BatchingSink::BatchingSink(BatchQueue& queue, std::size_t batch_records)
    : queue_(queue), batch_records_(batch_records) {
  QUANT_CHECK(batch_records >= 1);
}

void BatchingSink::end_file(Expected<ImportStats> stats, double seconds) {
  batch_.end_of_file = std::move(stats);
  batch_.seconds = seconds;
  flush();
}

void BatchingSink::flush() {
  // A cancelled queue drops the batch: the consumer has stopped reading.
  queue_.push(std::move(batch_));
  batch_ = Batch{};
}

}  // namespace quant::ingest
