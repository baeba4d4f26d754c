#pragma once
// Live prices for the paper venue until the stream hub lands: polls the lake
// for 1-minute bars newer than the last one delivered, per symbol, and hands
// them over in time order. The first poll delivers the latest partitions'
// bars (at least a month), so indicators such as the ATR are warm before the
// first order. Anything that writes the lake (`quant ingest` of a fresh MT5
// export) moves the paper venue's market forward.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lake/lake.h"

namespace quant::app {

class LakeTail {
 public:
  using Sink = std::function<void(const std::string& symbol, const Bar& bar)>;

  LakeTail(std::string root, lake::LakeOptions options, std::vector<std::string> symbols)
      : root_(std::move(root)), options_(std::move(options)), symbols_(std::move(symbols)) {}

  /// Delivers every new bar of every symbol to `sink`; returns how many. A
  /// lake that does not exist yet is an error now and opened on a later poll.
  Expected<std::int64_t> poll(const Sink& sink) {
    if (!lake_) {
      auto lk = lake::Lake::open(root_, /*create=*/false, options_);
      if (!lk) return tl::unexpected(lk.error());
      lake_ = std::move(*lk);
    }
    std::int64_t delivered = 0;
    for (const auto& symbol : symbols_) {
      auto parts = lake_->partitions(lake::Dataset::Bars1m, symbol);
      if (!parts) return tl::unexpected(parts.error());
      if (parts->empty()) continue;
      auto seen = last_.find(symbol);
      Timestamp from;
      if (seen == last_.end()) {
        // Warm-up: the last two partitions (a month or two of bars).
        from = (*parts)[parts->size() >= 2 ? parts->size() - 2 : 0].first_ts;
      } else {
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

 private:
  std::string root_;
  lake::LakeOptions options_;
  std::unique_ptr<lake::Lake> lake_;
  std::vector<std::string> symbols_;
  std::map<std::string, Timestamp> last_;
};

}  // namespace quant::app
