#pragma once
// Test helper: a RecordSink that keeps everything it receives.

#include <vector>

#include "ingest/importer.h"

namespace quant::ingest::testing {

struct CollectSink : RecordSink {
  std::vector<Bar> bars;
  std::vector<Tick> ticks;
  std::vector<Trade> trades;
  std::vector<BookSnapshot> books;
  std::vector<RowError> rejects;
  void on_bar(const Bar& bar) override { bars.push_back(bar); }
  void on_tick(const Tick& tick) override { ticks.push_back(tick); }
  void on_trade(const Trade& trade) override { trades.push_back(trade); }
  void on_book(const BookSnapshot& book) override { books.push_back(book); }
  void on_reject(const RowError& error) override { rejects.push_back(error); }
};

}  // namespace quant::ingest::testing
