#pragma once
// `quant generate`: a deterministic generated market written as a MetaTrader 5
// bar export, so the whole path (import included) runs with no account anywhere.

#include <cstdint>
#include <string>

#include "app_context.h"

namespace quant::app {

struct GenerateArgs {
  std::string symbol = "WIN";
  int days = 20;
  std::uint64_t seed = 42;
  std::string start = "2024-01-02";
  std::string out;
  std::string encoding = "utf-16le";  ///< as MT5 writes it; or "utf-8"
};

int run_generate(const GlobalOptions& global, const GenerateArgs& args);

}  // namespace quant::app
