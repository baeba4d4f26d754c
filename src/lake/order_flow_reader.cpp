#include "lake/order_flow_reader.h"

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace quant::lake {
namespace {

/// A stream read one record at a time, with one batch in memory.
template <class Record, class Stream>
class Cursor {
 public:
  explicit Cursor(std::unique_ptr<Stream> stream) : stream_(std::move(stream)) {}

  /// The current record, or nullptr at the end (an error is kept in error()).
  const Record* peek() {
    if (index_ < batch_.size()) return &batch_[index_];
    if (done_) return nullptr;
    auto more = stream_->next(batch_);
    index_ = 0;
    if (!more) {
      error_ = more.error();
      done_ = true;
      batch_.clear();
      return nullptr;
    }
    if (!*more) {
      done_ = true;
      batch_.clear();
      return nullptr;
    }
    return &batch_[0];
  }
  void pop() { ++index_; }
  const std::optional<Error>& error() const { return error_; }

 private:
  std::unique_ptr<Stream> stream_;
  std::vector<Record> batch_;
  std::size_t index_ = 0;
  bool done_ = false;
  std::optional<Error> error_;
};

using BookCursor = Cursor<BookSnapshot, BookStream>;
using TradeCursor = Cursor<Trade, TradeStream>;

// The first bar may use a snapshot up to max_age before the window (no overflow at the open end).
Timestamp book_start(Timestamp from, Duration max_age) {
  return from < Timestamp::min() + max_age ? Timestamp::min() : from - max_age;
}

}  // namespace

Expected<features::ImbalanceSeries> read_imbalance_series(Lake& lake, const ImbalanceRequest& request) {
  if (auto ok = features::validate(request.sampler); !ok) return tl::unexpected(ok.error());
  features::OrderFlowConfig config = request.sampler;

  // Auto: look for one snapshot in the window before deciding.
  std::optional<BookCursor> books;
  if (request.source != features::OrderFlowSource::Trades) {
    auto stream = lake.stream_book(request.symbol, book_start(request.from, config.max_book_age), request.to);
    if (!stream) return tl::unexpected(stream.error());
    books.emplace(std::move(*stream));
    const bool any = books->peek() != nullptr;
    if (books->error()) return tl::unexpected(*books->error());
    if (!any && !request.source) books.reset();
  }
  config.source = books ? features::OrderFlowSource::Book : features::OrderFlowSource::Trades;
  std::optional<TradeCursor> trades;
  if (!books) {
    auto stream = lake.stream_trades(request.symbol, request.from, request.to);
    if (!stream) return tl::unexpected(stream.error());
    trades.emplace(std::move(*stream));
  }

  auto bars = lake.stream_bars(request.symbol, request.from, request.to);
  if (!bars) return tl::unexpected(bars.error());
  features::OrderFlowSampler sampler(config);
  features::ImbalanceSeries series;
  series.source = config.source;
  std::vector<Bar> batch;
  for (;;) {
    auto more = (*bars)->next(batch);
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    for (const Bar& bar : batch) {
      const Timestamp close = bar.ts + kMinute;
      if (books) {
        while (const BookSnapshot* b = books->peek()) {
          if (b->ts > close) break;
          sampler.add(*b);
          books->pop();
        }
        if (books->error()) return tl::unexpected(*books->error());
      } else {
        while (const Trade* t = trades->peek()) {
          if (t->ts >= close) break;
          sampler.add(*t);
          trades->pop();
        }
        if (trades->error()) return tl::unexpected(*trades->error());
      }
      ++series.bars;
      if (auto v = sampler.sample(close)) series.samples.push_back({close, *v});
    }
  }
  series.counts = sampler.counts();
  return series;
}

}  // namespace quant::lake
