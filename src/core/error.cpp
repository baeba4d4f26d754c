#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace quant {

void check_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "QUANT_CHECK failed: %s at %s:%d\n", condition, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace quant
