#pragma once
/// The FIX links behind the ports of the modules that use them:
/// - `FixOrderRoute`: the live service's `live::OrderRoute` over a FixVenue
///   (`quant live --venue fix`);
/// - `FixOrderChannel`: replay's `replay::OrderChannel` over a FixExchange
///   (`quant replay --venue fix`: the simulated exchange is replay's Terminal).

#include <chrono>
#include <memory>

#include "fix/fix_link.h"
#include "live/order_route.h"
#include "replay/replay.h"

namespace quant::fix {

class FixOrderRoute final : public live::OrderRoute {
 public:
  explicit FixOrderRoute(std::unique_ptr<FixVenue> venue) : venue_(std::move(venue)) {}
  void remember(const bridge::OrderNew& order) override { venue_->remember(order); }
  /// Asks the exchange again for every report after `last_report_seq`, then connects.
  Expected<void> start(std::int64_t last_report_seq) override;
  Expected<void> send(const bridge::Body& order) override { return venue_->send(order); }
  std::vector<bridge::Message> poll(std::chrono::milliseconds wait) override;
  void stop() override { venue_->stop(); }
  Expected<void> sync(std::chrono::milliseconds timeout) override { return venue_->sync(timeout); }
  FixVenue& venue() { return *venue_; }

 private:
  std::unique_ptr<FixVenue> venue_;
};

class FixOrderChannel final : public replay::OrderChannel {
 public:
  /// `sync_timeout`: how long sync() waits for the platform's answer to its TestRequest.
  FixOrderChannel(std::unique_ptr<FixExchange> exchange, std::chrono::milliseconds sync_timeout)
      : exchange_(std::move(exchange)), sync_timeout_(sync_timeout) {}
  std::vector<bridge::Body> poll(std::chrono::milliseconds wait) override { return exchange_->poll(wait); }
  Expected<void> sync() override { return exchange_->sync(sync_timeout_); }
  Expected<void> send(const bridge::Body* request, const std::vector<bridge::Body>& reports) override;
  FixExchange& exchange() { return *exchange_; }

 private:
  std::unique_ptr<FixExchange> exchange_;
  std::chrono::milliseconds sync_timeout_;
};

}  // namespace quant::fix
