#pragma once
/// The engine's ExecutionVenue over the MT5 bridge protocol: orders become
/// `order_new`/`order_cancel`/`order_replace` messages in an outbox (the live
/// service journals and publishes them), and the venue's execution reports
/// (`order_ack`, `fill`) come back through `on_report` as ExecutionListener
/// calls on the engine's thread. It keeps no position and no protection of
/// its own: that is the TradingBook's job.
///
/// Client order ids: "<prefix><symbol>-<engine order id>", unique for ever
/// when the prefix names the session (the live engine's journal keeps it).

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/instrument.h"
#include "engine/ports.h"
#include "execution/bridge_protocol.h"

namespace quant::live {

namespace bridge = execution::bridge;

class RemoteVenue final : public engine::ExecutionVenue {
 public:
  RemoteVenue(std::string symbol, std::string id_prefix, std::vector<bridge::Body>& outbox);

  void set_listener(engine::ExecutionListener* listener) override { listener_ = listener; }
  void submit(const Order& order) override;
  void cancel(OrderId id) override;
  void replace_stop(OrderId id, double new_stop_price) override;
  /// A real venue expires Day orders itself and reports them (order_ack expired).
  void end_of_session(Timestamp) override {}

  /// An execution report for this symbol; false when its cl_ord_id is not one
  /// of this venue's orders (it is ignored and counted).
  bool on_report(const bridge::OrderAck& ack);
  bool on_report(const bridge::FillMsg& fill);

  std::string cl_ord_id(OrderId id) const;
  /// Orders sent and not yet in a final state, by client order id.
  std::vector<std::string> working() const;
  std::int64_t unknown_reports() const { return unknown_; }
  std::int64_t duplicate_fills() const { return duplicate_fills_; }

 private:
  struct Sent {
    Order order;
    bool accepted = false;
    bool done = false;
    std::int64_t filled = 0;
  };
  Sent* find(const std::string& cl_ord_id, OrderId* id);

  std::string symbol_;
  std::string prefix_;  ///< "<id_prefix><symbol>-"
  std::vector<bridge::Body>& outbox_;
  engine::ExecutionListener* listener_ = nullptr;
  std::unordered_map<OrderId, Sent> orders_;
  std::unordered_map<std::string, bool> exec_ids_;
  std::int64_t requests_ = 0;
  std::int64_t unknown_ = 0;
  std::int64_t duplicate_fills_ = 0;
};

}  // namespace quant::live
