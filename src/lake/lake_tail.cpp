#include "lake/lake_tail.h"

#include <algorithm>
#include <utility>

namespace quant::lake {

LakeTail::LakeTail(std::string root, LakeOptions options, std::vector<std::string> symbols)
    : root_(std::move(root)), options_(std::move(options)), symbols_(std::move(symbols)) {}

Expected<std::int64_t> LakeTail::poll(const Sink& sink) {
  if (!lake_) {
    auto lk = Lake::open(root_, /*create=*/false, options_);
    if (!lk) return tl::unexpected(lk.error());
    lake_ = std::move(*lk);
  }
  std::int64_t delivered = 0;
  for (const auto& symbol : symbols_) {
    auto parts = lake_->partitions(Dataset::Bars1m, symbol);
    if (!parts) return tl::unexpected(parts.error());
    if (parts->empty()) continue;
    auto seen = last_.find(symbol);
    Timestamp from;
    if (seen == last_.end()) {
      // Warm-up: the last two partitions (a month or two of bars).
      from = (*parts)[parts->size() >= 2 ? parts->size() - 2 : 0].first_ts;
    } else {
      // Partition statistics say whether anything is newer without reading a bar.
      Timestamp newest = seen->second;
      for (const auto& p : *parts) newest = std::max(newest, p.last_ts);
      if (newest <= seen->second) continue;
      from = seen->second + Duration(1);
    }
    auto stream = lake_->stream_bars(symbol, from, Timestamp::max());
    if (!stream) return tl::unexpected(stream.error());
    std::vector<Bar> batch;
    while (true) {
      auto more = (*stream)->next(batch);
      if (!more) return tl::unexpected(more.error());
      if (!*more) break;
      for (const Bar& bar : batch) {
        sink(symbol, bar);
        last_[symbol] = bar.ts;
        ++delivered;
      }
    }
  }
  return delivered;
}

}  // namespace quant::lake
