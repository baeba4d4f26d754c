#include "core/timeframe_detector.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace quant {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kNsPerMinute = 60 * kNsPerSecond;
constexpr std::int64_t kNsPerDay = 1440 * kNsPerMinute;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/// "5 minutes", "1 hour", "4 hours", "1 day", "30 seconds".
std::string spacing_text(Duration d) {
  const std::int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  auto unit = [](std::int64_t n, const char* one) { return std::to_string(n) + " " + one + (n == 1 ? "" : "s"); };
  if (s % 86400 == 0) return unit(s / 86400, "day");
  if (s % 3600 == 0) return unit(s / 3600, "hour");
  if (s % 60 == 0) return unit(s / 60, "minute");
  return unit(s, "second");
}

/// "5-minute", "1-hour", "3-day".
std::string hyphenated(Duration d) {
  std::string text = spacing_text(d);
  if (text.back() == 's') text.pop_back();
  text[text.find(' ')] = '-';
  return text;
}

}  // namespace

std::string with_thousands(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string Timeframe::mt5_name() const {
  if (kind == Kind::Unknown) return "";
  const std::int64_t s = std::chrono::duration_cast<std::chrono::seconds>(spacing).count();
  constexpr std::int64_t kDay = 86400;
  if (s == kDay) return "D1";
  if (s == 7 * kDay) return "W1";
  if (s >= 28 * kDay && s <= 31 * kDay) return "MN1";
  if (s % 60 != 0) return "";
  const std::int64_t m = s / 60;
  for (std::int64_t n : {1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30}) {
    if (m == n) return "M" + std::to_string(n);
  }
  for (std::int64_t h : {1, 2, 3, 4, 6, 8, 12}) {
    if (m == h * 60) return "H" + std::to_string(h);
  }
  return "";
}

std::string Timeframe::label() const {
  if (kind == Kind::Unknown) return "unknown";
  const std::string name = mt5_name();
  const std::string words = name == "D1"    ? std::string("daily")
                            : name == "W1"  ? std::string("weekly")
                            : name == "MN1" ? std::string("monthly")
                                            : hyphenated(spacing);
  return name.empty() ? words : words + " (" + name + ")";
}

std::string Timeframe::evidence() const {
  if (kind == Kind::Unknown) {
    return "only " + with_thousands(bars) + " bar" + (bars == 1 ? "" : "s") + " with " + with_thousands(pairs) +
           " consecutive pair" + (pairs == 1 ? "" : "s") + " to compare: too few (or too irregular) to tell";
  }
  const std::int64_t s = std::chrono::duration_cast<std::chrono::seconds>(spacing).count();
  std::string apart = mt5_name() == "MN1" ? std::string("a month") : spacing_text(spacing);
  if (s >= 86400) {
    char time_of_day[16] = "";
    if (minute_of_day >= 0)
      std::snprintf(time_of_day, sizeof time_of_day, "%02d:%02d", minute_of_day / 60, minute_of_day % 60);
    return with_thousands(pairs_at_spacing) + " of " + with_thousands(pairs) + " consecutive bars are " + apart +
           " apart, at most one bar a day, all at " + time_of_day;
  }
  std::string text = with_thousands(pairs_at_spacing) + " of " + with_thousands(pairs) +
                     " consecutive bars of the same day are " + apart + " apart";
  if (kind == Kind::Other && s >= 60) {
    text += " and " + with_thousands(bars_on_grid) + " of " + with_thousands(bars) + " bars lie on the " +
            hyphenated(spacing) + " grid";
  }
  return text;
}

TimeframeDetector::TimeframeDetector(TimeZone zone) : zone_(std::move(zone)) {}

void TimeframeDetector::add(Timestamp ts) {
  if (!have_span_ || ts < span_.begin || ts >= span_.end) {
    span_ = zone_.offset_span(ts);
    have_span_ = true;
  }
  const std::int64_t local = to_epoch_ns(ts) + span_.offset.count();
  const std::int64_t day = floor_div(local, kNsPerDay);
  const std::int64_t time_of_day = local - day * kNsPerDay;
  if (time_of_day % kNsPerMinute == 0) {
    ++minute_of_day_[static_cast<std::size_t>(time_of_day / kNsPerMinute)];
  } else {
    ++off_minute_bars_;
  }
  if (have_prev_) {
    const std::int64_t delta = local - prev_local_ns_;
    if (delta > 0 && day == prev_day_) {
      if (delta % kNsPerMinute == 0) {
        ++spacing_minutes_[static_cast<std::size_t>(delta / kNsPerMinute)];
      } else if (delta < kNsPerMinute && delta % kNsPerSecond == 0) {
        ++spacing_seconds_[static_cast<std::size_t>(delta / kNsPerSecond)];
      } else {
        ++irregular_pairs_;
      }
    } else if (delta > 0) {
      ++spacing_days_[static_cast<std::size_t>(std::min<std::int64_t>(day - prev_day_, kDaySpacings - 1))];
    }
  }
  prev_local_ns_ = local;
  prev_day_ = day;
  have_prev_ = true;
  ++bars_;
}

Timeframe TimeframeDetector::result() const {
  Timeframe t;
  t.bars = bars_;
  std::int64_t same_day = irregular_pairs_, cross_day = 0;
  // The most common same-day spacing (ties: the shorter), in seconds.
  std::int64_t mode_seconds = 0, mode_count = 0;
  for (std::size_t s = 1; s < spacing_seconds_.size(); ++s) {
    same_day += spacing_seconds_[s];
    if (spacing_seconds_[s] > mode_count) {
      mode_count = spacing_seconds_[s];
      mode_seconds = static_cast<std::int64_t>(s);
    }
  }
  for (std::size_t m = 1; m < spacing_minutes_.size(); ++m) {
    same_day += spacing_minutes_[m];
    if (spacing_minutes_[m] > mode_count) {
      mode_count = spacing_minutes_[m];
      mode_seconds = static_cast<std::int64_t>(m) * 60;
    }
  }
  for (std::int64_t n : spacing_days_) cross_day += n;
  std::int64_t times_of_day = 0, usual_minute = -1, usual_count = 0;
  for (std::size_t m = 0; m < minute_of_day_.size(); ++m) {
    if (minute_of_day_[m] == 0) continue;
    ++times_of_day;
    if (minute_of_day_[m] > usual_count) {
      usual_count = minute_of_day_[m];
      usual_minute = static_cast<std::int64_t>(m);
    }
  }

  // Daily and coarser: hardly ever two bars on one day, one or two times of day.
  if (bars_ >= kMinDailyBars && cross_day >= kMinDailyBars - 1 && same_day * 20 <= same_day + cross_day &&
      off_minute_bars_ == 0 && times_of_day <= 2) {
    std::int64_t mode_days = 0, days_count = 0;
    for (std::size_t d = 1; d + 1 < spacing_days_.size(); ++d) {
      if (spacing_days_[d] > days_count) {
        days_count = spacing_days_[d];
        mode_days = static_cast<std::int64_t>(d);
      }
    }
    std::int64_t monthly = 0;
    for (std::size_t d = 28; d <= 31; ++d) monthly += spacing_days_[d];
    t.pairs = cross_day + same_day;
    if (days_count == 0 && monthly == 0) return t;  // bars months apart: Unknown
    t.kind = Timeframe::Kind::Other;
    t.minute_of_day = static_cast<int>(usual_minute);
    if (monthly > days_count) {
      t.spacing = std::chrono::hours(24 * 30);
      t.pairs_at_spacing = monthly;
    } else {
      t.spacing = std::chrono::hours(24 * mode_days);
      t.pairs_at_spacing = days_count;
    }
    return t;
  }

  if (mode_count < kMinEvidence) {
    t.pairs = same_day;
    return t;  // Unknown: too few to tell
  }
  t.pairs = same_day;
  if (mode_seconds < 60) {
    t.kind = Timeframe::Kind::Other;
    t.spacing = std::chrono::seconds(mode_seconds);
    t.pairs_at_spacing = mode_count;
    return t;
  }
  const std::int64_t mode_minutes = mode_seconds / 60;
  // The grid may be shifted (an exchange at UTC+05:30 read in UTC): take the
  // residue of the minute of the day that most bars share.
  std::vector<std::int64_t> by_residue(static_cast<std::size_t>(mode_minutes), 0);
  for (std::size_t m = 0; m < minute_of_day_.size(); ++m) {
    by_residue[m % static_cast<std::size_t>(mode_minutes)] += minute_of_day_[m];
  }
  const std::int64_t on_grid = *std::max_element(by_residue.begin(), by_residue.end());
  if (mode_minutes > 1 && on_grid * 100 >= bars_ * 99) {
    t.kind = Timeframe::Kind::Other;
    t.spacing = std::chrono::minutes(mode_minutes);
    t.pairs_at_spacing = mode_count;
    t.bars_on_grid = on_grid;
    return t;
  }
  // 1 minute apart most often, or a longer spacing whose grid the bars do
  // not keep: 1-minute bars with gaps (an illiquid market).
  if (off_minute_bars_ * 2 > bars_) return t;  // mostly not on whole minutes: cannot tell
  t.kind = Timeframe::Kind::OneMinute;
  t.spacing = kMinute;
  t.pairs_at_spacing = spacing_minutes_[1];
  t.bars_on_grid = bars_ - off_minute_bars_;
  return t;
}

}  // namespace quant
