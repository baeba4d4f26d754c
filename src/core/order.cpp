#include "core/order.h"

#include <algorithm>
#include <cstdlib>

namespace quant {

std::string_view to_string(Side s) { return s == Side::Buy ? "buy" : "sell"; }

std::string_view to_string(OrderType t) {
  switch (t) {
    case OrderType::Market: return "market";
    case OrderType::Limit: return "limit";
    case OrderType::Stop: return "stop";
    case OrderType::StopLimit: return "stop_limit";
  }
  return "?";
}

std::string_view to_string(TimeInForce t) {
  switch (t) {
    case TimeInForce::Day: return "day";
    case TimeInForce::Gtc: return "gtc";
    case TimeInForce::Ioc: return "ioc";
  }
  return "?";
}

std::string_view to_string(OrderStatus s) {
  switch (s) {
    case OrderStatus::New: return "new";
    case OrderStatus::Accepted: return "accepted";
    case OrderStatus::PartiallyFilled: return "partially_filled";
    case OrderStatus::Filled: return "filled";
    case OrderStatus::Cancelled: return "cancelled";
    case OrderStatus::Rejected: return "rejected";
    case OrderStatus::Expired: return "expired";
  }
  return "?";
}

std::string_view to_string(OrderPurpose p) {
  switch (p) {
    case OrderPurpose::Entry: return "entry";
    case OrderPurpose::Exit: return "exit";
    case OrderPurpose::StopLoss: return "stop";
    case OrderPurpose::Target: return "target";
    case OrderPurpose::Flatten: return "flatten";
  }
  return "?";
}

bool apply_event(Order& order, OrderEvent event, Timestamp ts) {
  const OrderStatus s = order.status;
  switch (event) {
    case OrderEvent::Accept:
      if (s != OrderStatus::New) return false;
      order.status = OrderStatus::Accepted;
      break;
    case OrderEvent::Reject:
      if (s != OrderStatus::New) return false;
      order.status = OrderStatus::Rejected;
      break;
    case OrderEvent::PartialFill:
      if (s != OrderStatus::Accepted && s != OrderStatus::PartiallyFilled) return false;
      order.status = OrderStatus::PartiallyFilled;
      break;
    case OrderEvent::Fill:
      if (s != OrderStatus::Accepted && s != OrderStatus::PartiallyFilled) return false;
      order.status = OrderStatus::Filled;
      break;
    case OrderEvent::Cancel:
      if (s != OrderStatus::New && s != OrderStatus::Accepted && s != OrderStatus::PartiallyFilled) return false;
      order.status = OrderStatus::Cancelled;
      break;
    case OrderEvent::Expire:
      if (s != OrderStatus::Accepted && s != OrderStatus::PartiallyFilled) return false;
      order.status = OrderStatus::Expired;
      break;
  }
  order.updated = ts;
  return true;
}

bool apply_fill(Order& order, std::int64_t qty, double price, Timestamp ts) {
  if (qty <= 0 || qty > order.remaining_qty()) return false;
  const bool completes = qty == order.remaining_qty();
  if (!apply_event(order, completes ? OrderEvent::Fill : OrderEvent::PartialFill, ts)) return false;
  const double total = order.avg_fill_price * static_cast<double>(order.filled_qty) + price * static_cast<double>(qty);
  order.filled_qty += qty;
  order.avg_fill_price = total / static_cast<double>(order.filled_qty);
  return true;
}

double Position::apply(Side side, std::int64_t fill_qty, double price) {
  ++fills;
  const std::int64_t signed_qty = sign(side) * fill_qty;
  double realized = 0;
  if (qty == 0 || (qty > 0) == (signed_qty > 0)) {
    // Opening or adding: new average price.
    const double total = avg_price * static_cast<double>(std::llabs(qty)) + price * static_cast<double>(fill_qty);
    qty += signed_qty;
    avg_price = total / static_cast<double>(std::llabs(qty));
    return 0;
  }
  // Reducing, closing or flipping.
  const std::int64_t closing = std::min<std::int64_t>(std::llabs(qty), fill_qty);
  realized = static_cast<double>(closing) * (price - avg_price) * (qty > 0 ? 1.0 : -1.0);
  realized_points += realized;
  qty += signed_qty;
  if (qty == 0) {
    avg_price = 0;
  } else if ((qty > 0) == (signed_qty > 0)) {
    avg_price = price;  // flipped: the remainder opened at this fill
  }
  return realized;
}

}  // namespace quant
