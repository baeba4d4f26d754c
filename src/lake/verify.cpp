#include "lake/verify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace quant::lake {
namespace {

constexpr const char* kCheckNames[] = {
    "duplicate",
    "non_monotonic",
    "ohlc",
    "non_positive",
    "off_grid",
    "timeframe",
    "gap",
    "missing_day",
    "ticks:non_monotonic",
    "ticks:non_positive",
    "trades:non_monotonic",
    "trades:non_positive",
};

/// Checks that only warn: the data may be complete (a quiet market, a
/// closure the calendar does not know).
bool is_warning(const std::string& check) { return check == "gap" || check == "missing_day"; }

std::string hh_mm(std::chrono::minutes m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(m.count() / 60), static_cast<int>(m.count() % 60));
  return buf;
}

std::string price_text(double price) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", price);
  return buf;
}

std::string minutes_text(Duration d) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (minutes < 60) return std::to_string(minutes) + " min";
  return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
}

}  // namespace

bool VerifyReport::has_errors() const {
  // Counts are exact while findings are capped, so decide on the counts: every
  // check except "gap" and "missing_day" is an error.
  for (const auto& [check, count] : counts) {
    if (count > 0 && !is_warning(check)) return true;
  }
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == Severity::Error; });
}

std::string VerifyReport::to_text(std::size_t max_examples_per_check) const {
  std::ostringstream out;
  out << "symbol " << symbol << ": " << bars << " bars";
  if (bars > 0) out << ", " << format_utc(first_ts) << " .. " << format_utc(last_ts);
  out << "\n";
  if (!calendar.empty()) out << "  calendar " << calendar << "\n";
  if (bars > 0) {
    out << "  spacing  " << timeframe.label() << ": " << timeframe.evidence() << "\n";
  }
  for (const GeneratedSpan& g : generated) {
    out << "  generated data " << format_utc(g.first) << " .. " << format_utc(g.last) << ": " << g.label << "\n";
  }
  for (const auto& [check, count] : counts) {
    char head[64];
    std::snprintf(head, sizeof head, "  %-22s ", check.c_str());
    out << head;
    if (count == 0) {
      out << "OK\n";
      continue;
    }
    const bool warning = is_warning(check);
    out << count << (warning ? " warning" : " error") << (count == 1 ? "" : "s");
    if (check == "gap")
      out << " (largest " << minutes_text(largest_gap) << " from " << format_utc(largest_gap_start) << ")";
    out << "\n";
    std::size_t shown = 0;
    for (const Finding& f : findings) {
      if (f.check != check) continue;
      if (shown == max_examples_per_check) {
        out << "      ...\n";
        break;
      }
      out << "      " << format_utc(f.ts) << "  " << f.message << "\n";
      ++shown;
    }
  }
  out << (has_errors() ? "FAILED: errors found\n" : "PASSED\n");
  return out.str();
}

Expected<SeriesVerifier> SeriesVerifier::make(std::string symbol, const InstrumentSpec* spec) {
  std::optional<TimeZone> zone;
  if (spec != nullptr) {
    auto found = TimeZone::find(spec->time_zone);
    if (!found) return make_error("verify " + symbol + ": " + found.error().message);
    zone = *found;
  }
  return SeriesVerifier(std::move(symbol), spec, std::move(zone));
}

SeriesVerifier::SeriesVerifier(std::string symbol, const InstrumentSpec* spec, std::optional<TimeZone> zone)
    : spec_(spec),
      zone_(std::move(zone)),
      series_timeframe_(zone_.value_or(TimeZone::utc())),
      month_timeframe_(zone_.value_or(TimeZone::utc())) {
  report_.symbol = std::move(symbol);
  enabled_[kDuplicate] = enabled_[kNonMonotonic] = enabled_[kOhlc] = enabled_[kNonPositive] = true;
  enabled_[kTimeframe] = true;
  enabled_[kOffGrid] = spec_ != nullptr && spec_->tick_size > 0;
  enabled_[kGap] = spec_ != nullptr;
  if (spec_ != nullptr) sessions_.emplace(*spec_, *zone_);
  enabled_[kMissingDay] = spec_ != nullptr && spec_->calendar != nullptr;
  if (enabled_[kMissingDay]) report_.calendar = spec_->calendar->name + " (hours " + spec_->calendar->hours_name + ")";
}

void SeriesVerifier::record(Check check, Severity severity, Timestamp ts, std::string message) {
  if (static_cast<std::size_t>(counts_[check]) < kMaxFindingsPerCheck) {
    report_.findings.push_back(Finding{severity, kCheckNames[check], ts, std::move(message)});
  }
  ++counts_[check];
}

void SeriesVerifier::check_time_gap(const Bar& bar, const SessionPlace& place) {
  const SessionPlace& prev = prev_place_;
  // Inside one trading day's hours. With a calendar, also in its session: a
  // closed date has none, so bars there (if any) never make a gap. Without a
  // calendar the weekday is not checked, as it never was.
  const bool calendar = spec_->calendar != nullptr;
  if (prev.day == place.day && prev.within_hours && place.within_hours &&
      (!calendar || (prev.in_session && place.in_session))) {
    const Timestamp start = prev_bar_.ts + kMinute;
    const Duration missing = bar.ts - start;
    if (missing > report_.largest_gap) {
      report_.largest_gap = missing;
      report_.largest_gap_start = start;
    }
    record(kGap, Severity::Warning, start,
           "no bars for " + minutes_text(missing) + " inside the session (local " +
               format_local(zone_->to_local(start)) + ")");
  }
  if (!enabled_[kMissingDay]) return;
  // Every trading day strictly between the two bars' days has no bar at all.
  for (std::int64_t d = prev.day + 1; d < place.day; ++d) {
    const CalendarDay day = sessions_->day(d);
    if (!day.trading) continue;
    const Date date{std::chrono::days{d}};
    const LocalTime open{std::chrono::duration_cast<Duration>(std::chrono::days{d} + day.session.open)};
    const Timestamp at = zone_->to_utc(open).value_or(Timestamp(open.time_since_epoch()));
    record(kMissingDay, Severity::Warning, at,
           "no bars on trading day " + format_date(date) + " (session " + hh_mm(day.session.open) + "-" +
               hh_mm(day.session.close) + " local)");
  }
}

void SeriesVerifier::finish_month() {
  if (month_ < 0) return;
  const Timeframe t = month_timeframe_.result();
  if (t.kind == Timeframe::Kind::Other) {
    char month[16];
    std::snprintf(month, sizeof month, "%04d-%02d", month_ / 12, month_ % 12 + 1);
    month_findings_.emplace_back(month_first_, std::string("the bars of ") + month + " are " + t.label() +
                                                   " bars, not 1-minute bars: " + t.evidence() +
                                                   "; replace them from an M1 export (quant ingest --replace)");
  }
  month_timeframe_ = TimeframeDetector(zone_.value_or(TimeZone::utc()));
}

void SeriesVerifier::add_bar(const Bar& bar) {
  const SessionPlace place = sessions_ ? sessions_->locate(bar.ts) : SessionPlace{};
  series_timeframe_.add(bar.ts);
  const CivilTime civil = to_civil_utc(bar.ts);
  const int month = civil.year * 12 + static_cast<int>(civil.month) - 1;
  if (month != month_) {
    finish_month();
    month_ = month;
    month_first_ = bar.ts;
  }
  month_timeframe_.add(bar.ts);
  if (report_.bars == 0) report_.first_ts = bar.ts;
  report_.first_ts = std::min(report_.first_ts, bar.ts);
  report_.last_ts = std::max(report_.last_ts, bar.ts);
  ++report_.bars;

  if (have_bar_) {
    if (bar.ts == prev_bar_.ts) {
      record(kDuplicate, Severity::Error, bar.ts, "bar repeats the previous timestamp");
    } else if (bar.ts < prev_bar_.ts) {
      record(kNonMonotonic, Severity::Error, bar.ts,
             "bar is earlier than the previous one (" + format_utc(prev_bar_.ts) + ")");
    } else if (sessions_ && bar.ts - prev_bar_.ts > kMinute) {
      check_time_gap(bar, place);
    }
  }

  const bool positive = bar.open > 0 && bar.high > 0 && bar.low > 0 && bar.close > 0;
  if (!positive) {
    record(kNonPositive, Severity::Error, bar.ts,
           "price <= 0: O " + price_text(bar.open) + " H " + price_text(bar.high) + " L " + price_text(bar.low) +
               " C " + price_text(bar.close));
  }
  if (bar.high < std::max({bar.open, bar.close, bar.low}) || bar.low > std::min(bar.open, bar.close)) {
    record(kOhlc, Severity::Error, bar.ts,
           "inconsistent OHLC: O " + price_text(bar.open) + " H " + price_text(bar.high) + " L " + price_text(bar.low) +
               " C " + price_text(bar.close));
  }
  if (enabled_[kOffGrid]) {
    const TickGrid grid = spec_->grid();
    for (double price : {bar.open, bar.high, bar.low, bar.close}) {
      if (!grid.on_grid(price)) {
        record(kOffGrid, Severity::Error, bar.ts,
               "price " + price_text(price) + " is off the tick grid " + price_text(grid.tick_size()));
        break;
      }
    }
  }
  prev_bar_ = bar;
  prev_place_ = place;
  have_bar_ = true;
}

void SeriesVerifier::begin_ticks() { enabled_[kTicksNonMonotonic] = enabled_[kTicksNonPositive] = true; }
void SeriesVerifier::begin_trades() { enabled_[kTradesNonMonotonic] = enabled_[kTradesNonPositive] = true; }

void SeriesVerifier::add_tick(Timestamp ts, double bid, double ask, double last) {
  if (have_tick_ && ts < prev_tick_) {
    record(kTicksNonMonotonic, Severity::Error, ts,
           "tick is earlier than the previous one (" + format_utc(prev_tick_) + ")");
  }
  // NaN means the tick does not carry that price.
  if (bid <= 0 || ask <= 0 || last <= 0) {
    record(kTicksNonPositive, Severity::Error, ts,
           "price <= 0: bid " + price_text(bid) + " ask " + price_text(ask) + " last " + price_text(last));
  }
  prev_tick_ = ts;
  have_tick_ = true;
}

void SeriesVerifier::add_trade(Timestamp ts, double price) {
  if (have_trade_ && ts < prev_trade_) {
    record(kTradesNonMonotonic, Severity::Error, ts,
           "trade is earlier than the previous one (" + format_utc(prev_trade_) + ")");
  }
  if (!(price > 0)) record(kTradesNonPositive, Severity::Error, ts, "trade price " + price_text(price) + " <= 0");
  prev_trade_ = ts;
  have_trade_ = true;
}

VerifyReport SeriesVerifier::finish() {
  finish_month();
  report_.timeframe = series_timeframe_.result();
  // Bars of another timeframe throughout are one finding; otherwise each
  // month that differs from the 1-minute rest is one.
  if (report_.timeframe.kind == Timeframe::Kind::Other) {
    record(kTimeframe, Severity::Error, report_.first_ts,
           "the series holds " + report_.timeframe.label() + " bars, not 1-minute bars: " +
               report_.timeframe.evidence() + "; replace them from an M1 export (quant ingest --replace)");
  } else {
    for (auto& [ts, message] : month_findings_) record(kTimeframe, Severity::Error, ts, std::move(message));
  }
  for (int c = 0; c < kCheckCount; ++c) {
    if (enabled_[c]) report_.counts.emplace_back(kCheckNames[c], counts_[c]);
  }
  // Findings grouped by check, in storage order within a check.
  std::stable_sort(report_.findings.begin(), report_.findings.end(), [](const Finding& a, const Finding& b) {
    const auto rank = [](const std::string& name) {
      return std::find_if(std::begin(kCheckNames), std::end(kCheckNames), [&](const char* n) { return name == n; }) -
             std::begin(kCheckNames);
    };
    return rank(a.check) < rank(b.check);
  });
  return std::move(report_);
}

}  // namespace quant::lake
