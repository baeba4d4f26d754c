#pragma once
/// Orders, fills and positions: one `Order` type and one order state machine
/// for every venue (simulated, paper, MT5 bridge, FIX). Field names follow FIX
/// semantics (ClOrdID, OrdStatus, ExecType) so venue adapters map 1:1.
///
/// State machine (FIX OrdStatus):
///   New ──accept──► Accepted ──fill──► PartiallyFilled ──fill──► Filled
///    │                 │  │                  │
///    └─reject─► Rejected  ├─cancel─► Cancelled ◄─cancel─┤
///                         └─expire─► Expired  ◄─expire──┘
/// Filled, Cancelled, Rejected and Expired are terminal: no transition leaves them.

#include <cstdint>
#include <string_view>

#include "core/time.h"

namespace quant {

enum class Side : std::int8_t { Buy = 1, Sell = -1 };
constexpr int sign(Side s) { return static_cast<int>(s); }
constexpr Side opposite(Side s) { return s == Side::Buy ? Side::Sell : Side::Buy; }
std::string_view to_string(Side s);

enum class OrderType : std::uint8_t { Market, Limit, Stop, StopLimit };
std::string_view to_string(OrderType t);

enum class TimeInForce : std::uint8_t {
  Day,  ///< expires at the end of the session it was placed in
  Gtc,  ///< good till cancelled
  Ioc,  ///< immediate or cancel: what is not filled on its first chance is cancelled
};
std::string_view to_string(TimeInForce t);

enum class OrderStatus : std::uint8_t { New, Accepted, PartiallyFilled, Filled, Cancelled, Rejected, Expired };
std::string_view to_string(OrderStatus s);
constexpr bool is_terminal(OrderStatus s) {
  return s == OrderStatus::Filled || s == OrderStatus::Cancelled || s == OrderStatus::Rejected ||
         s == OrderStatus::Expired;
}

/// Why an order exists; carried into fills and the trade log.
enum class OrderPurpose : std::uint8_t {
  Entry,     ///< opens or adds to a position
  Exit,      ///< strategy exit (opposite signal)
  StopLoss,  ///< protective stop (initial or trailing)
  Target,    ///< profit target
  Flatten,   ///< session end or circuit breaker
};
std::string_view to_string(OrderPurpose p);

using OrderId = std::uint64_t;

struct Order {
  OrderId id = 0;  ///< engine-assigned, unique within a run (FIX ClOrdID)
  Side side = Side::Buy;
  OrderType type = OrderType::Market;
  TimeInForce tif = TimeInForce::Day;
  OrderPurpose purpose = OrderPurpose::Entry;
  std::int64_t qty = 0;    ///< contracts (lots), > 0
  double limit_price = 0;  ///< Limit, StopLimit
  double stop_price = 0;   ///< Stop, StopLimit
  OrderStatus status = OrderStatus::New;
  std::int64_t filled_qty = 0;
  double avg_fill_price = 0;
  Timestamp created{};  ///< decision time (bar close)
  Timestamp updated{};
  OrderId oco_with = 0;    ///< one-cancels-other partner (stop ↔ target), 0 = none
  bool triggered = false;  ///< StopLimit: the stop has been touched and it now works as a limit

  std::int64_t remaining_qty() const { return qty - filled_qty; }
  bool is_open() const { return !is_terminal(status); }
};

/// An execution (FIX ExecType=F).
struct Fill {
  OrderId order_id = 0;
  Timestamp ts{};
  Side side = Side::Buy;
  std::int64_t qty = 0;
  double price = 0;
  double fee = 0;  ///< exchange fee + brokerage, account currency, >= 0
  OrderPurpose purpose = OrderPurpose::Entry;
};

/// Events of the state machine.
enum class OrderEvent : std::uint8_t { Accept, Reject, PartialFill, Fill, Cancel, Expire };

/// Applies `event` to `order.status`. Returns false (and leaves the order
/// unchanged) when the transition is not allowed, e.g. anything out of a
/// terminal state or a fill before acceptance.
bool apply_event(Order& order, OrderEvent event, Timestamp ts);

/// Records a fill of `qty` at `price` on an open order: updates filled_qty and
/// the average price, then moves to PartiallyFilled or Filled. Returns false if
/// the order cannot take the fill (terminal, not accepted, or qty > remaining).
bool apply_fill(Order& order, std::int64_t qty, double price, Timestamp ts);

/// A net position in one instrument: signed quantity, average entry price and
/// realised PnL in price points × contracts (multiply by the point value for money).
struct Position {
  std::int64_t qty = 0;        ///< > 0 long, < 0 short
  double avg_price = 0;        ///< of the open quantity
  double realized_points = 0;  ///< closed PnL in points × contracts
  std::int64_t fills = 0;

  /// Applies a fill (any size, may flip the position). Returns the points
  /// realised by this fill.
  double apply(Side side, std::int64_t qty, double price);
  /// Unrealised PnL in points × contracts at `mark`.
  double open_points(double mark) const { return static_cast<double>(qty) * (mark - avg_price); }
};

}  // namespace quant
