#pragma once
/// Instrument specifications: everything the platform knows about a tradable
/// symbol. Built from configuration by `quant::config` and passed down as
/// plain values; nothing here reads files.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/calendar.h"
#include "core/error.h"
#include "core/tick_grid.h"
#include "core/time.h"

namespace quant {

enum class AssetClass { Future, Fx, Crypto, Equity, Index, Other };

/// How the front contract rolls to the next one.
enum class RollRule {
  None,                  ///< no expiry (spot FX, perpetuals, equities)
  WednesdayNearest15th,  ///< B3 index futures (WIN, IND)
  FirstBusinessDay,      ///< B3 dollar futures (WDO, DOL)
  ThirdFriday,           ///< equity index futures (CME and others)
};

struct InstrumentSpec {
  std::string symbol;  ///< platform symbol, e.g. "WIN"
  std::string description;
  AssetClass asset_class = AssetClass::Other;
  std::string exchange;    ///< "B3", "CME", "FX", "BINANCE", "NASDAQ" ...
  std::string currency;    ///< account/quote currency: "BRL", "USD"
  double tick_size = 0;    ///< minimum price increment, price units
  double point_value = 0;  ///< account currency per 1.0 price move per contract
  double lot_step = 1;     ///< minimum quantity increment
  double min_lot = 1;
  double fee_per_side = 0;  ///< exchange fee per contract per side, account currency
  double brokerage_per_side = 0;
  std::string time_zone = "UTC";  ///< IANA zone of the session hours
  /// The regular session. With a calendar: the hours of its latest dated entry
  /// (for code that needs one pair, such as the market generator).
  Session session{};
  /// Days on which a session opens (local), 0 = Sunday. For sessions that
  /// cross midnight (FX 17:00 New York) the session belongs to its opening day.
  /// With a calendar: the calendar's weekdays.
  std::vector<int> weekdays = {1, 2, 3, 4, 5};
  /// The exchange calendar the instrument trades by (holidays, special
  /// sessions, dated hours); null = `session` on every one of `weekdays`.
  /// Shared and immutable, so copying a spec stays cheap.
  std::shared_ptr<const TradingCalendar> calendar;
  std::string contract_months;  ///< futures month codes, e.g. "GJMQVZ"; empty otherwise
  RollRule roll_rule = RollRule::None;

  TickGrid grid() const { return TickGrid(tick_size); }
  /// Value of one tick per contract, account currency.
  double tick_value() const { return tick_size * point_value; }
};

/// Symbol → spec. Lookups by exact symbol.
class InstrumentRegistry {
 public:
  void add(InstrumentSpec spec) { specs_[spec.symbol] = std::move(spec); }
  const InstrumentSpec* find(const std::string& symbol) const {
    auto it = specs_.find(symbol);
    return it == specs_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, InstrumentSpec>& all() const { return specs_; }

 private:
  std::map<std::string, InstrumentSpec> specs_;
};

/// Futures month code letter (F=Jan … Z=Dec) → month 1..12, or 0 when invalid.
int month_from_code(char code);

/// Expiry date (local calendar) of the contract for `year`/`month` under the
/// rule; nullopt for RollRule::None. Holidays are not modelled: the date is
/// the rule's calendar day.
std::optional<std::chrono::year_month_day> contract_expiry(RollRule rule, int year, unsigned month);

}  // namespace quant
