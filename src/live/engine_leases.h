#pragma once
/// What makes one `quant live` among several on the same hub safe: its state
/// directory locked (flock) and four kinds of leases in Redis, taken all or
/// none at start and renewed while it runs (stream::claim):
///   live:session:<S>        one engine per session (client order id prefix)
///   live:group:<G>          one engine per consumer group (a group shared by
///                           two engines would split exec:fills between them)
///   live:orders:<stream>    one writer per order stream (its ids `<n>-1`)
///   live:symbol:<SYM>       one engine per symbol
/// The owner is "<session>@<host>:<state dir>": an engine restarted after a
/// kill -9 from the same directory (the flock proves the old one is gone)
/// takes its leases back at once; any other engine waits until they lapse
/// (`ttl` after the last renewal) and is refused meanwhile, naming the holder.

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"
#include "stream/stream.h"

namespace quant::live {

struct LeaseRequest {
  std::string state_dir;
  std::string session;
  std::string group;
  std::string orders_stream;  ///< empty: none (orders over another route)
  std::vector<std::string> symbols;
  std::chrono::milliseconds ttl{10000};
};

class EngineLeases {
 public:
  /// Locks `<state_dir>/lock` and takes the leases; an error names what is
  /// held and by whom.
  static Expected<EngineLeases> take(const stream::Endpoint& redis, const LeaseRequest& request);
  EngineLeases(EngineLeases&& other) noexcept;
  EngineLeases& operator=(EngineLeases&&) = delete;
  EngineLeases(const EngineLeases&) = delete;
  EngineLeases& operator=(const EngineLeases&) = delete;
  ~EngineLeases();  ///< unlocks the directory (the leases lapse unless released)

  /// Renews every lease when a third of the ttl has passed since the last
  /// renewal; an error when Redis is unreachable or a lease was lost (held by
  /// another engine: this one stalled longer than the ttl).
  Expected<void> renew_if_due();
  /// Gives the leases up (a clean stop: another engine may take them at once).
  Expected<void> release();
  const std::string& owner() const { return owner_; }

 private:
  EngineLeases() = default;
  Expected<void> claim_all();

  stream::Endpoint redis_;
  std::vector<std::string> keys_;
  std::string owner_;
  std::chrono::milliseconds ttl_{10000};
  std::chrono::steady_clock::time_point renewed_{};
  int lock_fd_ = -1;
};

}  // namespace quant::live
