#include "features/order_flow.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace quant::features {

namespace {

constexpr std::int64_t kMinuteNs = 60'000'000'000;

Aggressor sign_of(double diff) { return diff > 0 ? Aggressor::Buy : Aggressor::Sell; }

// The trade's side by the tick rule between two prices (Unknown on a zero tick).
Aggressor tick_between(double previous, double price, double tick_size) {
  if (tick_size > 0) {
    const std::int64_t a = std::llround(previous / tick_size), b = std::llround(price / tick_size);
    return a == b ? Aggressor::Unknown : sign_of(static_cast<double>(b - a));
  }
  return previous == price ? Aggressor::Unknown : sign_of(price - previous);
}

void add_volume(TradeFlow& flow, Aggressor side, double volume) {
  ++flow.trades;
  if (side == Aggressor::Buy) {
    flow.buy_volume += volume;
  } else if (side == Aggressor::Sell) {
    flow.sell_volume += volume;
  } else {
    flow.unclassified_volume += volume;
  }
}

}  // namespace

std::optional<double> book_imbalance(const BookSnapshot& book, std::size_t depth) {
  QUANT_CHECK(depth >= 1);
  if (book.bids.empty() || book.asks.empty()) return std::nullopt;
  double bid = 0, ask = 0;
  bool sane = true;  // a negative or NaN size (a corrupt level) gives no value, never one outside [−1, 1]
  for (std::size_t i = 0; i < std::min(depth, book.bids.size()); ++i) {
    bid += book.bids[i].size;
    sane = sane && book.bids[i].size >= 0;
  }
  for (std::size_t i = 0; i < std::min(depth, book.asks.size()); ++i) {
    ask += book.asks[i].size;
    sane = sane && book.asks[i].size >= 0;
  }
  const double total = bid + ask;
  if (!sane || !std::isfinite(total) || !(total > 0)) return std::nullopt;
  return (bid - ask) / total;
}

Aggressor TradeClassifier::classify(const Trade& trade) {
  Aggressor side = trade.aggressor;
  if (side == Aggressor::Unknown && has_last_) {
    side = tick_between(last_price_, trade.price, tick_size_);
    if (side == Aggressor::Unknown) side = last_side_;  // zero tick
  }
  last_price_ = trade.price;
  has_last_ = true;
  last_side_ = side;
  return side;
}

void TradeClassifier::reset() {
  last_price_ = 0;
  has_last_ = false;
  last_side_ = Aggressor::Unknown;
}

std::optional<double> TradeFlow::imbalance() const {
  const double signed_volume = buy_volume + sell_volume;
  if (!(signed_volume > 0)) return std::nullopt;
  return (buy_volume - sell_volume) / signed_volume;
}

std::string_view order_flow_source_name(OrderFlowSource source) {
  return source == OrderFlowSource::Book ? "book" : "trades";
}

Expected<void> validate(const OrderFlowConfig& config) {
  if (config.depth < 1) return make_error("order flow: depth must be >= 1");
  if (config.max_book_age <= Duration(0)) return make_error("order flow: max_book_age must be > 0");
  if (!std::isfinite(config.tick_size) || config.tick_size < 0) {
    return make_error("order flow: tick_size must be a finite number >= 0");
  }
  return {};
}

Timestamp minute_of(Timestamp ts) {
  const std::int64_t ns = to_epoch_ns(ts);
  std::int64_t q = ns / kMinuteNs;
  if (ns % kMinuteNs < 0) --q;
  return from_epoch_ns(q * kMinuteNs);
}

OrderFlowSampler::OrderFlowSampler(const OrderFlowConfig& config) : config_(config), classifier_(config.tick_size) {
  QUANT_CHECK(validate(config).has_value());
}

void OrderFlowSampler::add(const BookSnapshot& book) {
  if (config_.source != OrderFlowSource::Book) {
    ++counts_.ignored;
    return;
  }
  if (has_book_ && book.ts < book_ts_) {
    ++counts_.late;
    return;
  }
  ++counts_.snapshots;
  book_ts_ = book.ts;
  book_value_ = book_imbalance(book, config_.depth);
  has_book_ = true;
  if (!book_value_) ++counts_.unusable_snapshots;
}

void OrderFlowSampler::add(const Trade& trade) {
  if (config_.source != OrderFlowSource::Trades) {
    ++counts_.ignored;
    return;
  }
  const Timestamp minute = minute_of(trade.ts);
  if (has_flow_ && minute < flow_.minute) {
    ++counts_.late;
    return;
  }
  if (!has_flow_ || minute > flow_.minute) {
    flow_ = TradeFlow{};
    flow_.minute = minute;
    has_flow_ = true;
  }
  const Aggressor side = classifier_.classify(trade);
  ++counts_.trades;
  if (trade.aggressor != Aggressor::Unknown) {
    ++counts_.trades_by_aggressor;
  } else if (side != Aggressor::Unknown) {
    ++counts_.trades_by_tick_rule;
  } else {
    ++counts_.trades_unclassified;
  }
  add_volume(flow_, side, trade.volume);
}

std::optional<double> OrderFlowSampler::sample(Timestamp close) const {
  if (config_.source == OrderFlowSource::Book) {
    // Never a snapshot from after the close, never a stale one.
    if (!has_book_ || book_ts_ > close || close - book_ts_ > config_.max_book_age) return std::nullopt;
    return book_value_;
  }
  if (!has_flow_ || flow_.minute != close - kMinute) return std::nullopt;
  return flow_.imbalance();
}

std::vector<std::optional<double>> order_flow_batch(const OrderFlowConfig& config, std::span<const BookSnapshot> books,
                                                    std::span<const Trade> trades, std::span<const Timestamp> closes) {
  std::vector<std::optional<double>> out;
  out.reserve(closes.size());
  if (config.source == OrderFlowSource::Book) {
    for (Timestamp close : closes) {
      const BookSnapshot* latest = nullptr;
      for (const BookSnapshot& b : books) {
        if (b.ts <= close) latest = &b;
      }
      if (latest == nullptr || close - latest->ts > config.max_book_age) {
        out.emplace_back();
      } else {
        out.push_back(book_imbalance(*latest, config.depth));
      }
    }
    return out;
  }
  // The tick rule read literally, backwards from each trade.
  auto side_of = [&](std::size_t i) {
    for (std::size_t j = i;; --j) {
      if (trades[j].aggressor != Aggressor::Unknown) return trades[j].aggressor;
      if (j == 0) return Aggressor::Unknown;
      const Aggressor tick = tick_between(trades[j - 1].price, trades[j].price, config.tick_size);
      if (tick != Aggressor::Unknown) return tick;
    }
  };
  for (Timestamp close : closes) {
    TradeFlow flow;
    for (std::size_t i = 0; i < trades.size(); ++i) {
      if (trades[i].ts >= close - kMinute && trades[i].ts < close) add_volume(flow, side_of(i), trades[i].volume);
    }
    out.push_back(flow.imbalance());
  }
  return out;
}

}  // namespace quant::features
