#pragma once
/// What `POST /order` carries in and out of the order gateway
/// (docs/contracts/serve_api.md): the request, the reply (the order's state and
/// the risk decision), the error of a request that is not an order at all, and
/// the reply's JSON.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/order.h"
#include "core/time.h"
#include "risk/risk_engine.h"

namespace quant::execution {

/// One client order. The HTTP layer checks JSON types and maps the strings
/// ("buy", "market", "day"); the gateway checks meaning (see OrderGateway::submit).
struct OrderRequest {
  std::string client_order_id;  ///< idempotency key: 1–64 of A-Z a-z 0-9 . _ : -
  std::string symbol;
  Side side = Side::Buy;
  std::int64_t qty = 0;  ///< contracts, >= 1
  OrderType type = OrderType::Market;
  double price = 0;       ///< limit price: Limit only; 0 = not given
  double stop_price = 0;  ///< trigger price: Stop only; 0 = not given
  TimeInForce tif = TimeInForce::Day;
  /// Why the client sends it, 1–32 of a-z 0-9 _ ("exit_signal"); empty = not
  /// given ("client_entry"/"client_exit"). A trade its fill closes carries it
  /// as its exit reason.
  std::string reason;

  friend bool operator==(const OrderRequest&, const OrderRequest&) = default;
};

/// The state of a client order as the gateway knows it now.
struct OrderReply {
  std::string client_order_id;
  /// The gateway's order id (FIX ClOrdID at the venue), >= 1 for every stored
  /// order, also a risk-rejected one that no venue saw (the contract requires it).
  OrderId order_id = 0;
  std::string symbol;
  Side side = Side::Buy;
  OrderType type = OrderType::Market;
  TimeInForce tif = TimeInForce::Day;
  std::string reason;              ///< the request's reason (empty = not given)
  std::int64_t requested_qty = 0;  ///< what the client asked for
  std::int64_t qty = 0;            ///< what the risk engine decided (0 when rejected)
  double price = 0;                ///< limit price, 0 = none
  double stop_price = 0;           ///< stop trigger, 0 = none
  OrderStatus status = OrderStatus::New;
  std::int64_t filled_qty = 0;
  double avg_fill_price = 0;  ///< meaningful when filled_qty > 0
  risk::Decision decision = risk::Decision::Rejected;
  std::string risk_reason;
  double risk_stop_price = 0;    ///< the protective stop the risk engine set (0 = none)
  double risk_target_price = 0;  ///< the profit target the risk engine set (0 = none)
  /// Why the order did not (or will no longer) trade: the risk or venue
  /// rejection, or why the gateway cancelled it; empty when nothing went wrong.
  std::string reject_reason;
  bool replayed = false;  ///< answered from the idempotency store
  Timestamp created{};    ///< when the gateway received it (its clock)
  Timestamp updated{};    ///< last state change
};

/// A request that is not a valid order (no order exists; the HTTP status in brackets).
struct GatewayError {
  enum class Kind : std::uint8_t {
    Invalid,        ///< a field breaks the contract (400)
    UnknownSymbol,  ///< the symbol is not configured (400, field "symbol")
    Conflict,       ///< client_order_id used before for a different order (409)
    NotReady,       ///< no bar seen yet for the symbol: no price to check risk against (503)
  };
  Kind kind = Kind::Invalid;
  std::string message;  ///< one line: what is wrong and what is allowed
  std::string field;    ///< the request field to blame ("qty", "price"); empty when none
};

/// "invalid", "unknown_symbol", "conflict", "not_ready".
const char* to_string(GatewayError::Kind kind);

/// True for 1–64 characters of A-Z a-z 0-9 . _ : - (the contract's idempotency key).
bool valid_client_order_id(std::string_view id);

/// The response object of `POST /order` exactly as docs/contracts/serve_api.md
/// shows it: client_order_id, order_id, symbol, side, type, tif, requested_qty,
/// qty, price, stop_price, reason, state, filled_qty, avg_fill_price,
/// risk {decision, reason, stop_price, target_price}, reject_reason, replayed.
/// `price`, `stop_price`, `risk.stop_price` and `risk.target_price` are null
/// when 0, `avg_fill_price` when nothing filled, `reason` and `reject_reason`
/// when empty. Timestamps are not part of it.
nlohmann::json to_json(const OrderReply& reply);

}  // namespace quant::execution
