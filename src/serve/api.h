#pragma once
/// What every route returns: a status and a JSON body; and the one error shape
/// of the API, `{"error": ..., "field": ...}` (docs/contracts/error.schema.json).

#include <string>

namespace quant::serve {

struct ApiError {
  int status = 400;
  std::string message;
  std::string field;  ///< JSON path of the field to blame; empty when none
};

struct Answer {
  int status = 200;
  std::string body;
};

/// `{"error": ..., "field": ...}` (field omitted when empty); client bytes that
/// are not UTF-8 are replaced, so the answer is always valid JSON.
std::string error_body(const ApiError& error);
inline Answer error_answer(const ApiError& error) { return {error.status, error_body(error)}; }

}  // namespace quant::serve
