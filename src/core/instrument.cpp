#include "core/instrument.h"

#include <cstdlib>
#include <cstring>

namespace quant {

int month_from_code(char code) {
  static constexpr char kCodes[] = "FGHJKMNQUVXZ";
  const char* p = std::strchr(kCodes, code);
  return (p == nullptr || code == '\0') ? 0 : static_cast<int>(p - kCodes) + 1;
}

std::optional<std::chrono::year_month_day> contract_expiry(RollRule rule, int year, unsigned month) {
  using namespace std::chrono;
  const year_month ym{std::chrono::year{year}, std::chrono::month{month}};
  switch (rule) {
    case RollRule::None: return std::nullopt;
    case RollRule::WednesdayNearest15th: {
      const sys_days d15 = sys_days{ym / 15};
      const weekday wd{d15};
      // Distance to the nearest Wednesday: -3..+3 days.
      int diff = static_cast<int>(Wednesday.c_encoding()) - static_cast<int>(wd.c_encoding());
      if (diff > 3) diff -= 7;
      if (diff < -3) diff += 7;
      return year_month_day{d15 + days{diff}};
    }
    case RollRule::FirstBusinessDay: {
      sys_days d = sys_days{ym / 1};
      while (weekday{d} == Saturday || weekday{d} == Sunday) d += days{1};
      return year_month_day{d};
    }
    case RollRule::ThirdFriday: return year_month_day{sys_days{ym / Friday[3]}};
  }
  return std::nullopt;
}

}  // namespace quant
