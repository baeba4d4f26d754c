#pragma once
/// Live prices for the paper venue until the stream hub lands: polls the lake
/// for 1-minute bars newer than the last one delivered, per symbol. Anything
/// that writes the lake (`quant ingest` of a fresh MT5 export) moves the paper
/// venue's market forward.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "core/time.h"
#include "lake/lake.h"

namespace quant::lake {

/// Delivers each symbol's new 1-minute bars in time order. The first poll that
/// finds bars of a symbol delivers its last two partitions (a month or two of
/// bars), so indicators such as the ATR are warm before the first order; later
/// polls deliver only bars after the last one delivered for that symbol (bars
/// written later with older timestamps are not delivered). Opens the lake
/// read-only (no writer lock), lazily on the first poll. Not thread-safe: poll
/// from one thread.
class LakeTail {
 public:
  /// Receives one bar of `symbol`.
  using Sink = std::function<void(const std::string& symbol, const Bar& bar)>;

  /// Nothing is opened yet: `root` need not exist until the first poll.
  LakeTail(std::string root, LakeOptions options, std::vector<std::string> symbols);

  /// Delivers every new bar of every symbol (in the order of `symbols`) to
  /// `sink`; returns how many. A lake that does not exist yet is an error now
  /// and opened on a later poll. Any other error (listing, reading) ends this
  /// poll; bars delivered before it count as delivered.
  Expected<std::int64_t> poll(const Sink& sink);

 private:
  std::string root_;
  LakeOptions options_;
  std::unique_ptr<Lake> lake_;
  std::vector<std::string> symbols_;
  std::map<std::string, Timestamp> last_;  ///< the last bar delivered per symbol
};

}  // namespace quant::lake
