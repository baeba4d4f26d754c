// BatchQueue and BatchingSink with real threads. Waiting is done on the queue
// itself or on futures, never on sleeps; the one timed wait only checks that a
// producer is *still* blocked, so a slow machine can make it pass vacuously but
// never fail spuriously.
#include "ingest/batch_queue.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "ingest/test_sink.h"

namespace quant::ingest {
namespace {

using testing::CollectSink;

Timestamp ts_of(std::int64_t n) { return from_epoch_ns(n); }

// A batch holding one bar whose timestamp is its sequence number.
Batch numbered(std::int64_t n) {
  Batch batch;
  Bar bar;
  bar.ts = ts_of(n);
  batch.bars.push_back(bar);
  return batch;
}

std::int64_t number_of(const Batch& batch) { return to_epoch_ns(batch.bars.at(0).ts); }

TEST(BatchQueueTest, BatchesComeOutInPushOrderExactlyOnce) {
  constexpr std::int64_t kBatches = 500;
  BatchQueue queue(3);
  std::atomic<std::int64_t> pushed{0};
  std::thread producer([&] {
    for (std::int64_t i = 0; i < kBatches; ++i) {
      EXPECT_TRUE(queue.push(numbered(i)));
      pushed.store(i + 1);
    }
    queue.close();
  });
  std::vector<std::int64_t> seen;
  std::int64_t popped = 0;
  while (auto batch = queue.pop()) {
    ++popped;
    seen.push_back(number_of(*batch));
    // Bounded memory: the producer can be at most `capacity` batches ahead of
    // what the consumer has taken (pushed counts completed pushes only).
    EXPECT_LE(pushed.load(), popped + 3);
    EXPECT_LE(queue.size(), queue.capacity());
  }
  producer.join();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kBatches));
  for (std::int64_t i = 0; i < kBatches; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST(BatchQueueTest, ProducerBlocksWhileFullAndResumesWhenOneIsTaken) {
  BatchQueue queue(2);
  ASSERT_TRUE(queue.push(numbered(0)));
  ASSERT_TRUE(queue.push(numbered(1)));
  ASSERT_EQ(queue.size(), 2u);

  std::promise<bool> result;
  auto third = result.get_future();
  std::thread producer([&] { result.set_value(queue.push(numbered(2))); });
  // Still waiting: the queue is full (memory stays bounded).
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(queue.size(), 2u);

  auto first = queue.pop();  // frees one slot: the producer resumes
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(number_of(*first), 0);
  EXPECT_TRUE(third.get());
  producer.join();
  EXPECT_EQ(queue.size(), 2u);
  queue.close();
  EXPECT_EQ(number_of(*queue.pop()), 1);
  EXPECT_EQ(number_of(*queue.pop()), 2);
  EXPECT_FALSE(queue.pop().has_value());
}

TEST(BatchQueueTest, CloseAfterTheLastBatchEndsTheConsumerLoop) {
  BatchQueue queue;
  std::promise<std::vector<std::int64_t>> result;
  auto consumed = result.get_future();
  std::thread consumer([&] {
    std::vector<std::int64_t> seen;
    while (auto batch = queue.pop()) seen.push_back(number_of(*batch));
    result.set_value(seen);
  });
  for (std::int64_t i = 0; i < 3; ++i) ASSERT_TRUE(queue.push(numbered(i)));
  queue.close();
  EXPECT_EQ(consumed.get(), (std::vector<std::int64_t>{0, 1, 2}));
  consumer.join();
  EXPECT_FALSE(queue.pop().has_value());  // closed and empty: no wait
}

TEST(BatchQueueTest, CloseWakesAConsumerWaitingOnAnEmptyQueue) {
  BatchQueue queue;
  auto popped = std::async(std::launch::async, [&] { return queue.pop(); });
  queue.close();
  EXPECT_FALSE(popped.get().has_value());
}

TEST(BatchQueueTest, CancelUnblocksABlockedProducer) {
  BatchQueue queue(1);
  ASSERT_TRUE(queue.push(numbered(0)));
  auto blocked = std::async(std::launch::async, [&] { return queue.push(numbered(1)); });
  queue.cancel();
  EXPECT_FALSE(blocked.get());  // returned without queuing
  EXPECT_TRUE(queue.cancelled());
  EXPECT_FALSE(queue.push(numbered(2)));  // later pushes are dropped at once
  EXPECT_EQ(queue.size(), 1u);
  queue.close();
  auto kept = queue.pop();  // what was queued before the cancel stays
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(number_of(*kept), 0);
  EXPECT_FALSE(queue.pop().has_value());
}

TEST(BatchingSinkTest, FillsBatchesOfTheGivenSize) {
  BatchQueue queue(16);
  BatchingSink sink(queue, 3);
  Bar bar;
  for (int i = 0; i < 7; ++i) sink.on_bar(bar);
  EXPECT_EQ(queue.size(), 2u);  // 3 + 3 pushed, 1 still being filled
  sink.on_reject(RowError{"x.csv", 9, "HIGH", "bad", "text"});
  sink.on_reject(RowError{"x.csv", 10, "HIGH", "bad", "text"});  // rejects count towards the size
  EXPECT_EQ(queue.size(), 3u);
}

TEST(BatchingSinkTest, TheFileOutcomeTravelsWithItsLastBatch) {
  BatchQueue queue(16);
  BatchingSink sink(queue, 3);
  for (int i = 0; i < 7; ++i) {
    Bar bar;
    bar.ts = ts_of(i);
    sink.on_bar(bar);
  }
  ImportStats stats;
  stats.records = 7;
  sink.end_file(stats, 1.5);
  Tick tick;
  tick.bid = 1;
  sink.on_tick(tick);
  sink.end_file(make_error("b.csv:2: row: broken"), 0.25);
  sink.end_file(make_error("c.csv: no such file"), 0);  // a file that never opened: no records
  queue.close();

  std::vector<Batch> batches;
  while (auto batch = queue.pop()) batches.push_back(std::move(*batch));
  ASSERT_EQ(batches.size(), 5u);
  EXPECT_EQ(batches[0].bars.size(), 3u);
  EXPECT_FALSE(batches[0].end_of_file.has_value());
  EXPECT_EQ(batches[1].bars.size(), 3u);
  EXPECT_FALSE(batches[1].end_of_file.has_value());

  ASSERT_TRUE(batches[2].end_of_file.has_value());
  EXPECT_EQ(batches[2].bars.size(), 1u);
  EXPECT_EQ(to_epoch_ns(batches[2].bars[0].ts), 6);
  ASSERT_TRUE(batches[2].end_of_file->has_value());
  EXPECT_EQ((*batches[2].end_of_file)->records, 7);
  EXPECT_EQ(batches[2].seconds, 1.5);

  ASSERT_TRUE(batches[3].end_of_file.has_value());
  EXPECT_EQ(batches[3].bars.size(), 0u);
  EXPECT_EQ(batches[3].ticks.size(), 1u);
  ASSERT_FALSE(batches[3].end_of_file->has_value());
  EXPECT_EQ(batches[3].end_of_file->error().message, "b.csv:2: row: broken");
  EXPECT_EQ(batches[3].seconds, 0.25);

  ASSERT_TRUE(batches[4].end_of_file.has_value());
  EXPECT_EQ(batches[4].size(), 0u);
  EXPECT_EQ(batches[4].end_of_file->error().message, "c.csv: no such file");
}

TEST(BatchingSinkTest, ACancelledQueueDropsBatchesWithoutBlocking) {
  BatchQueue queue(1);
  queue.cancel();
  BatchingSink sink(queue, 1);
  Bar bar;
  for (int i = 0; i < 10; ++i) sink.on_bar(bar);  // would block forever if pushes waited
  sink.end_file(ImportStats{}, 0);
  EXPECT_EQ(queue.size(), 0u);
}

TEST(BatchTest, DeliverHandsEveryRecordToTheSinkKindByKind) {
  Batch batch;
  batch.bars.resize(2);
  batch.ticks.resize(1);
  batch.trades.resize(3);
  batch.books.resize(1);
  batch.rejects.push_back(RowError{"x.csv", 4, "OPEN", "not a number: 'x'", "x"});
  CollectSink sink;
  batch.deliver(sink);
  EXPECT_EQ(sink.bars.size(), 2u);
  EXPECT_EQ(sink.ticks.size(), 1u);
  EXPECT_EQ(sink.trades.size(), 3u);
  EXPECT_EQ(sink.books.size(), 1u);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].to_string(), "x.csv:4: OPEN: not a number: 'x'");
}

// Property: whatever goes into a BatchingSink comes out of the queue the same.

// One record of the input: `kind` 0..4 = bar, tick, trade, book, reject;
// kind 5 ends the current file. `value` tells records apart.
struct Event {
  int kind = 0;
  std::int64_t value = 0;
};

rc::Gen<Event> gen_event() {
  return rc::gen::apply(
      [](int kind, std::int64_t value) {
        return Event{kind, value};
      },
      rc::gen::weightedOneOf<int>({{4, rc::gen::inRange(0, 5)}, {1, rc::gen::just(5)}}),
      rc::gen::inRange<std::int64_t>(-1'000'000, 1'000'000));
}

// Bit-exact double comparison (NaN equals NaN: an absent quote side).
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// What the consumer saw: every record (delivered into `records`), and per
// batch carrying a file's outcome, that outcome's `records` field and how many
// records had been delivered up to and including that batch.
struct Consumed {
  CollectSink records;
  std::vector<std::pair<std::int64_t, std::size_t>> outcomes;
  std::size_t largest_batch = 0;
};

std::size_t delivered(const CollectSink& sink) {
  return sink.bars.size() + sink.ticks.size() + sink.trades.size() + sink.books.size() + sink.rejects.size();
}

// Feeds `events` through a BatchingSink on a producer thread, ends the last
// file, and consumes the queue on this thread.
Consumed run_through_queue(const std::vector<Event>& events, std::size_t capacity, std::size_t batch_records) {
  BatchQueue queue(capacity);
  std::thread producer([&] {
    BatchingSink sink(queue, batch_records);
    for (const Event& e : events) {
      const double v = static_cast<double>(e.value);
      switch (e.kind) {
        case 0: sink.on_bar(Bar{ts_of(e.value), v, v + 1, v - 1, v, e.value, v / 3, 1}); break;
        case 1: {
          Tick tick;
          tick.ts = ts_of(e.value);
          tick.bid = v;
          if (e.value % 2 == 0) tick.ask = v + 0.5;  // odd values: no ask side (NaN)
          tick.flags = static_cast<std::uint32_t>(e.value & 0xff);
          sink.on_tick(tick);
          break;
        }
        case 2: sink.on_trade(Trade{ts_of(e.value), v, v / 7, e.value > 0 ? Aggressor::Buy : Aggressor::Sell}); break;
        case 3: {
          BookSnapshot book;
          book.ts = ts_of(e.value);
          book.bids.push_back(BookLevel{v, 1});
          book.asks.push_back(BookLevel{v + 1, 2});
          sink.on_book(book);
          break;
        }
        case 4: sink.on_reject(RowError{"f.csv", e.value, "PRICE", "reason " + std::to_string(e.value), "text"}); break;
        default: {
          ImportStats stats;
          stats.records = e.value;
          sink.end_file(stats, 0);
        }
      }
    }
    ImportStats last;
    last.records = -1;
    sink.end_file(last, 0);
    queue.close();
  });
  Consumed seen;
  while (auto batch = queue.pop()) {
    seen.largest_batch = std::max(seen.largest_batch, batch->size());
    batch->deliver(seen.records);
    if (batch->end_of_file) seen.outcomes.emplace_back((*batch->end_of_file)->records, delivered(seen.records));
  }
  producer.join();
  return seen;
}

RC_GTEST_PROP(BatchingSinkProperty, EveryRecordComesOutOnceInOrderWithItsFile, ()) {
  const auto events = *rc::gen::container<std::vector<Event>>(gen_event());
  const auto capacity = *rc::gen::inRange<std::size_t>(1, 4);
  const auto batch_records = *rc::gen::inRange<std::size_t>(1, 9);

  const Consumed seen = run_through_queue(events, capacity, batch_records);
  const CollectSink& out = seen.records;
  RC_ASSERT(seen.largest_batch <= batch_records);

  // Expected: each kind's records in input order; one outcome per file, in
  // order, after exactly the records that came before its end in the input.
  std::vector<std::int64_t> bars, ticks, trades, books, rejects;
  std::vector<std::pair<std::int64_t, std::size_t>> outcomes;
  std::size_t records = 0;
  for (const Event& e : events) {
    std::vector<std::int64_t>* into[] = {&bars, &ticks, &trades, &books, &rejects};
    if (e.kind == 5) {
      outcomes.emplace_back(e.value, records);
    } else {
      into[e.kind]->push_back(e.value);
      ++records;
    }
  }
  outcomes.emplace_back(-1, records);
  RC_ASSERT(seen.outcomes == outcomes);

  RC_ASSERT(out.bars.size() == bars.size());
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const double v = static_cast<double>(bars[i]);
    RC_ASSERT(out.bars[i] == (Bar{ts_of(bars[i]), v, v + 1, v - 1, v, bars[i], v / 3, 1}));
  }
  RC_ASSERT(out.ticks.size() == ticks.size());
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const Tick& t = out.ticks[i];
    const double v = static_cast<double>(ticks[i]);
    RC_ASSERT(t.ts == ts_of(ticks[i]));
    RC_ASSERT(same(t.bid, v));
    RC_ASSERT(same(t.ask, ticks[i] % 2 == 0 ? v + 0.5 : std::nan("")));
    RC_ASSERT(same(t.last, std::nan("")));
    RC_ASSERT(t.flags == static_cast<std::uint32_t>(ticks[i] & 0xff));
  }
  RC_ASSERT(out.trades.size() == trades.size());
  for (std::size_t i = 0; i < trades.size(); ++i) {
    const double v = static_cast<double>(trades[i]);
    RC_ASSERT(out.trades[i].ts == ts_of(trades[i]));
    RC_ASSERT(out.trades[i].price == v);
    RC_ASSERT(out.trades[i].volume == v / 7);
    RC_ASSERT(out.trades[i].aggressor == (trades[i] > 0 ? Aggressor::Buy : Aggressor::Sell));
  }
  RC_ASSERT(out.books.size() == books.size());
  for (std::size_t i = 0; i < books.size(); ++i) {
    const double v = static_cast<double>(books[i]);
    RC_ASSERT(out.books[i].ts == ts_of(books[i]));
    RC_ASSERT(out.books[i].bids == (std::vector<BookLevel>{{v, 1}}));
    RC_ASSERT(out.books[i].asks == (std::vector<BookLevel>{{v + 1, 2}}));
  }
  RC_ASSERT(out.rejects.size() == rejects.size());
  for (std::size_t i = 0; i < rejects.size(); ++i) {
    RC_ASSERT(out.rejects[i].to_string() ==
              "f.csv:" + std::to_string(rejects[i]) + ": PRICE: reason " + std::to_string(rejects[i]));
    RC_ASSERT(out.rejects[i].text == "text");
  }
}

}  // namespace
}  // namespace quant::ingest
