#include "serve/api.h"

#include <nlohmann/json.hpp>

namespace quant::serve {

std::string error_body(const ApiError& error) {
  nlohmann::json out = {{"error", error.message}};
  if (!error.field.empty()) out["field"] = error.field;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace quant::serve
