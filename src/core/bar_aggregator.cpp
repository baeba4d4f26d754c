#include "core/bar_aggregator.h"

#include <algorithm>
#include <charconv>

namespace quant {

namespace {
Timestamp floor_to(Timestamp ts, Duration interval) {
  auto n = ts.time_since_epoch().count();
  const auto step = interval.count();
  auto q = n / step;
  if (n % step < 0) --q;
  return Timestamp(Duration(q * step));
}

void merge_into(Bar& acc, const Bar& b) {
  acc.high = std::max(acc.high, b.high);
  acc.low = std::min(acc.low, b.low);
  acc.close = b.close;
  acc.tick_volume += b.tick_volume;
  acc.volume += b.volume;
  acc.spread = b.spread;
}
}  // namespace

BarAggregator::BarAggregator(Duration interval) : interval_(interval) {}

std::optional<Bar> BarAggregator::update(Timestamp ts, double price, double volume, bool count_tick) {
  const Timestamp start = floor_to(ts, interval_);
  std::optional<Bar> closed;
  if (open_) {
    if (start < bar_.ts) {
      ++late_;
      return std::nullopt;
    }
    if (start > bar_.ts) {
      closed = bar_;
      open_ = false;
    }
  }
  Bar one;
  one.ts = start;
  one.open = one.high = one.low = one.close = price;
  one.tick_volume = count_tick ? 1 : 0;
  one.volume = volume;
  if (!open_) {
    bar_ = one;
    open_ = true;
  } else {
    merge_into(bar_, one);
  }
  return closed;
}

std::optional<Bar> BarAggregator::add_trade(Timestamp ts, double price, double volume) {
  return update(ts, price, volume, true);
}

std::optional<Bar> BarAggregator::add_tick(const Tick& tick) {
  if (tick.has_last() && (tick.flags == 0 || (tick.flags & kTickLast) != 0)) {
    return update(tick.ts, tick.last, tick.volume, true);
  }
  if (tick.has_bid()) return update(tick.ts, tick.bid, 0, true);
  return std::nullopt;
}

std::optional<Bar> BarAggregator::flush_until(Timestamp now) {
  if (open_ && bar_.ts + interval_ <= now) {
    open_ = false;
    return bar_;
  }
  return std::nullopt;
}

std::optional<Bar> BarAggregator::finish() {
  if (!open_) return std::nullopt;
  open_ = false;
  return bar_;
}

BarResampler::BarResampler(Duration interval, TimeZone zone, Duration day_start)
    : interval_(interval), zone_(std::move(zone)), day_start_(day_start) {
  span_.begin = Timestamp::max();  // empty: the first bar looks the offset up
  span_.end = Timestamp::min();
}

std::int64_t BarResampler::bucket_of(Timestamp ts) {
  if (ts < span_.begin || ts >= span_.end) span_ = zone_.offset_span(ts);
  const auto local = ts.time_since_epoch() + span_.offset - day_start_;
  auto q = local.count() / interval_.count();
  if (local.count() % interval_.count() < 0) --q;
  return q;
}

std::optional<Bar> BarResampler::add(const Bar& bar) {
  if (open_ && bar.ts >= same_from_ && bar.ts < same_to_) {
    merge_into(bar_, bar);  // the bucket that is open: what bucket_of would say
    return std::nullopt;
  }
  const std::int64_t bucket = bucket_of(bar.ts);
  std::optional<Bar> closed;
  if (open_ && bucket != bucket_) {
    closed = bar_;
    open_ = false;
  }
  if (!open_) {
    bar_ = bar;
    // The bucket's start in UTC: local bucket start minus the offset in force then.
    const LocalTime local_start(Duration(bucket * interval_.count()) + day_start_);
    bar_.ts = bucket_start_utc(local_start, bar.ts);
    bucket_ = bucket;
    open_ = true;
    // bucket_of(ts) == bucket for ts + offset − day_start in [bucket, bucket + 1) × interval,
    // while the cached offset holds (inside span_).
    const Timestamp first(Duration(bucket * interval_.count()) + day_start_ - span_.offset);
    same_from_ = std::max(first, span_.begin);
    same_to_ = std::min(first + interval_, span_.end);
  } else {
    merge_into(bar_, bar);
  }
  return closed;
}

Timestamp BarResampler::bucket_start_utc(LocalTime local_start, Timestamp fallback) {
  // With the cached offset, local − offset is the answer when it lands inside
  // the span at least a day away from both ends: then no other offset period
  // can also map to this local time (offset changes are far below a day), so
  // the local time is neither skipped nor repeated and to_utc would return the
  // same instant. Otherwise (near a DST change) ask the database.
  constexpr Duration kMargin = std::chrono::hours(24);
  // Bounds at the far ends of time (Timestamp::min/max) mean "no change ever".
  const Timestamp candidate(local_start.time_since_epoch() - span_.offset);
  const bool after_begin = span_.begin == Timestamp::min() || candidate - kMargin >= span_.begin;
  const bool before_end = span_.end == Timestamp::max() || candidate + kMargin < span_.end;
  if (after_begin && before_end) return candidate;
  return zone_.to_utc(local_start).value_or(fallback);
}

std::optional<Bar> BarResampler::finish() {
  if (!open_) return std::nullopt;
  open_ = false;
  return bar_;
}

Expected<Duration> parse_timeframe(std::string_view text) {
  auto bad = [&] { return make_error("bad timeframe '" + std::string(text) + "': use e.g. 1m, 5m, 15m, 1h, 4h, 1d"); };
  if (text.size() < 2) return bad();
  int n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || ptr != text.data() + text.size() - 1 || n <= 0) return bad();
  switch (text.back()) {
    case 'm': return Duration(std::chrono::minutes(n));
    case 'h': return Duration(std::chrono::hours(n));
    case 'd':
      if (n == 1) return Duration(std::chrono::hours(24));
      return bad();
    default: return bad();
  }
}

}  // namespace quant
