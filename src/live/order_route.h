#pragma once
/// The live service's port for a venue reached without the Redis hub (the
/// FIX venue, src/fix): orders leave through it once they are journaled, and
/// the venue's execution reports come back through it, each with the venue's
/// sequence number, to be applied on the live engine's thread. Market data
/// and the marks of a lock-step terminal still travel through Redis.

#include <chrono>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "execution/bridge_protocol.h"

namespace quant::live {

class OrderRoute {
 public:
  virtual ~OrderRoute() = default;
  /// Recovery, before start: an order the journal says was sent (known
  /// again, so it can be cancelled or replaced; not sent again).
  virtual void remember(const execution::bridge::OrderNew& order) = 0;
  /// Connects. `last_report_seq` is the sequence number of the last report
  /// the journal holds (0 = none): every later one is asked for again, also
  /// one that arrived before a crash but was never journaled.
  virtual Expected<void> start(std::int64_t last_report_seq) = 0;
  /// An order_new, order_cancel or order_replace to the venue. While the
  /// connection is down it is kept and goes out after the next logon.
  virtual Expected<void> send(const execution::bridge::Body& order) = 0;
  /// The reports that arrived (order_ack, fill; `seq` = the venue's sequence
  /// number), waiting up to `wait` for the first; resent duplicates dropped.
  virtual std::vector<execution::bridge::Message> poll(std::chrono::milliseconds wait) = 0;
  /// Returns once every report the venue sent before now has arrived (poll
  /// then has them): a positions snapshot that came another way is compared
  /// only after the reports sent before it. An error when the route cannot
  /// tell (not connected).
  virtual Expected<void> sync(std::chrono::milliseconds timeout) = 0;
  virtual void stop() = 0;
};

}  // namespace quant::live
