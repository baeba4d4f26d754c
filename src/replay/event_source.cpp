#include "replay/event_source.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "core/bar_aggregator.h"

namespace quant::replay {

Timestamp Event::time() const {
  switch (kind) {
    case EventKind::Open:
    case EventKind::OpenFills: return bar.ts;
    case EventKind::Close: return bar.ts + kMinute;
    case EventKind::Tick: return tick.ts;
  }
  return bar.ts;
}

namespace {

Timestamp minute_of(Timestamp t) { return std::chrono::floor<std::chrono::minutes>(t); }

/// One stream's rows with a cursor: the head row of a merge.
template <class Row, class Stream>
class Cursor {
 public:
  explicit Cursor(std::unique_ptr<Stream> stream) : stream_(std::move(stream)) {}
  /// The head row, or nullptr at the end.
  Expected<const Row*> head() {
    while (pos_ >= rows_.size()) {
      if (done_) return nullptr;
      auto more = stream_->next(rows_);
      if (!more) return tl::unexpected(more.error());
      pos_ = 0;
      if (!*more) {
        rows_.clear();
        done_ = true;
      }
    }
    return &rows_[pos_];
  }
  void pop() { ++pos_; }

 private:
  std::unique_ptr<Stream> stream_;
  std::vector<Row> rows_;
  std::size_t pos_ = 0;
  bool done_ = false;
};

/// The index of the cursor whose head comes first (earliest ts, then lowest
/// index), or nullopt when all have ended.
template <class Row, class Stream>
Expected<std::optional<std::size_t>> earliest(std::vector<Cursor<Row, Stream>>& cursors) {
  std::optional<std::size_t> best;
  Timestamp best_ts{};
  for (std::size_t i = 0; i < cursors.size(); ++i) {
    auto h = cursors[i].head();
    if (!h) return tl::unexpected(h.error());
    if (*h == nullptr) continue;
    if (!best || (*h)->ts < best_ts) {
      best = i;
      best_ts = (*h)->ts;
    }
  }
  return best;
}

class BarEvents final : public EventSource {
 public:
  explicit BarEvents(std::vector<std::unique_ptr<lake::BarStream>> streams) {
    for (auto& s : streams) cursors_.emplace_back(std::move(s));
  }
  Expected<bool> next(Event& event) override {
    if (open_) {
      // The fills at the open, then the Close, of the bar whose Open came last.
      event = *open_;
      if (open_->kind == EventKind::Open) {
        event.kind = open_->kind = EventKind::OpenFills;
      } else {
        event.kind = EventKind::Close;
        open_.reset();
      }
      return true;
    }
    auto which = earliest(cursors_);
    if (!which) return tl::unexpected(which.error());
    if (!*which) return false;
    auto& cursor = cursors_[**which];
    event = Event{};
    event.kind = EventKind::Open;
    event.symbol = **which;
    event.bar = *cursor.head().value();
    cursor.pop();
    open_ = event;
    return true;
  }

 private:
  std::vector<Cursor<Bar, lake::BarStream>> cursors_;
  std::optional<Event> open_;
};

class TradeEvents final : public EventSource {
 public:
  explicit TradeEvents(std::vector<std::unique_ptr<lake::TradeStream>> streams) {
    for (auto& s : streams) cursors_.emplace_back(std::move(s));
    aggregators_.resize(cursors_.size());
    bar_minute_.resize(cursors_.size());
  }
  Expected<bool> next(Event& event) override {
    while (queue_.empty()) {
      if (finished_) return false;
      auto which = earliest(cursors_);
      if (!which) return tl::unexpected(which.error());
      if (!*which) {
        finished_ = true;
        close_bars_before(Timestamp::max());
        continue;
      }
      const std::size_t s = **which;
      const Trade trade = *cursors_[s].head().value();
      cursors_[s].pop();
      const Timestamp minute = minute_of(trade.ts);
      if (!minute_ || minute > *minute_) {
        close_bars_before(minute);
        minute_ = minute;
      }
      Event tick;
      tick.kind = EventKind::Tick;
      tick.symbol = s;
      tick.tick.ts = trade.ts;
      tick.tick.last = trade.price;
      tick.tick.volume = trade.volume;
      tick.tick.flags = kTickLast | kTickVolume;
      if (trade.aggressor == Aggressor::Buy) tick.tick.flags |= kTickBuy;
      if (trade.aggressor == Aggressor::Sell) tick.tick.flags |= kTickSell;
      if (!bar_minute_[s] || *bar_minute_[s] != minute) {
        bar_minute_[s] = minute;
        Event open;
        open.kind = EventKind::Open;
        open.symbol = s;
        open.bar.ts = minute;
        open.bar.open = open.bar.high = open.bar.low = open.bar.close = trade.price;
        open.tick = tick.tick;  // the first trade, which follows it
        queue_.push_back(open);
      }
      aggregators_[s].add_trade(trade.ts, trade.price, trade.volume);
      queue_.push_back(tick);
    }
    event = queue_.front();
    queue_.pop_front();
    return true;
  }

 private:
  /// Closes every symbol's bar of a minute before `minute`, in (time, symbol) order.
  void close_bars_before(Timestamp minute) {
    std::vector<Event> closes;
    for (std::size_t s = 0; s < aggregators_.size(); ++s) {
      if (!bar_minute_[s] || *bar_minute_[s] >= minute) continue;
      auto bar = aggregators_[s].finish();
      bar_minute_[s].reset();
      if (!bar) continue;
      Event close;
      close.kind = EventKind::Close;
      close.symbol = s;
      close.bar = *bar;
      closes.push_back(close);
    }
    std::stable_sort(closes.begin(), closes.end(), [](const Event& a, const Event& b) { return a.bar.ts < b.bar.ts; });
    queue_.insert(queue_.end(), closes.begin(), closes.end());
  }

  std::vector<Cursor<Trade, lake::TradeStream>> cursors_;
  std::vector<BarAggregator> aggregators_;
  std::vector<std::optional<Timestamp>> bar_minute_;  // the minute of each symbol's open bar
  std::optional<Timestamp> minute_;                   // the latest minute any trade reached
  std::deque<Event> queue_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<EventSource> bar_events(std::vector<std::unique_ptr<lake::BarStream>> streams) {
  return std::make_unique<BarEvents>(std::move(streams));
}

std::unique_ptr<EventSource> trade_events(std::vector<std::unique_ptr<lake::TradeStream>> streams) {
  return std::make_unique<TradeEvents>(std::move(streams));
}

EventSourceFactory lake_events(lake::Lake& lake, std::vector<std::string> symbols, ReplayMode mode, Timestamp from,
                               Timestamp to) {
  return [&lake, symbols = std::move(symbols), mode, from, to]() -> Expected<std::unique_ptr<EventSource>> {
    if (mode == ReplayMode::Bars) {
      std::vector<std::unique_ptr<lake::BarStream>> streams;
      for (const auto& s : symbols) {
        auto stream = lake.stream_bars(s, from, to);
        if (!stream) return make_error("replay: bars of " + s + ": " + stream.error().message);
        streams.push_back(std::move(*stream));
      }
      return bar_events(std::move(streams));
    }
    std::vector<std::unique_ptr<lake::TradeStream>> streams;
    for (const auto& s : symbols) {
      auto stream = lake.stream_trades(s, from, to);
      if (!stream) return make_error("replay: trades of " + s + ": " + stream.error().message);
      streams.push_back(std::move(*stream));
    }
    return trade_events(std::move(streams));
  };
}

}  // namespace quant::replay
