#include "execution/order_reply.h"

#include <nlohmann/json.hpp>

namespace quant::execution {

const char* to_string(GatewayError::Kind kind) {
  switch (kind) {
    case GatewayError::Kind::Invalid: return "invalid";
    case GatewayError::Kind::UnknownSymbol: return "unknown_symbol";
    case GatewayError::Kind::Conflict: return "conflict";
    case GatewayError::Kind::NotReady: return "not_ready";
  }
  return "unknown";
}

bool valid_client_order_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

nlohmann::json to_json(const OrderReply& reply) {
  // 0 means "none" for prices (no price is 0 on a tick grid that matters here).
  auto price_or_null = [](double price) { return price == 0 ? nlohmann::json(nullptr) : nlohmann::json(price); };
  nlohmann::json decision = {
      {"decision", risk::to_string(reply.decision)},
      {"reason", reply.risk_reason},
      {"stop_price", price_or_null(reply.risk_stop_price)},
      {"target_price", price_or_null(reply.risk_target_price)},
  };
  return {
      {"client_order_id", reply.client_order_id},
      {"order_id", reply.order_id},
      {"symbol", reply.symbol},
      {"side", std::string(to_string(reply.side))},
      {"type", std::string(to_string(reply.type))},
      {"tif", std::string(to_string(reply.tif))},
      {"requested_qty", reply.requested_qty},
      {"qty", reply.qty},
      {"price", price_or_null(reply.price)},
      {"stop_price", price_or_null(reply.stop_price)},
      {"reason", reply.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reply.reason)},
      {"state", std::string(to_string(reply.status))},
      {"filled_qty", reply.filled_qty},
      {"avg_fill_price", reply.filled_qty > 0 ? nlohmann::json(reply.avg_fill_price) : nlohmann::json(nullptr)},
      {"risk", std::move(decision)},
      {"reject_reason", reply.reject_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reply.reject_reason)},
      {"replayed", reply.replayed},
  };
}

}  // namespace quant::execution
