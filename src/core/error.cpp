#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace quant {

void check_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "QUANT_CHECK failed: %s at %s:%d\n", condition, file, line);
  (void)std::fflush(stderr);  // on the way to abort(): nothing to do if this fails
  std::abort();
}

}  // namespace quant
