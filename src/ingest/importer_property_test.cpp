// Round-trip properties: random valid records written in each text format
// (both MT5 variants and encodings, MT5 ticks, HistData, generic CSV) parse
// back exactly.
#include <charconv>
#include <cstdio>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "ingest/importer.h"
#include "ingest/test_sink.h"

namespace quant::ingest {
namespace {

using testing::CollectSink;

// A bar on a 0.01 grid with consistent OHLC, at a whole minute in 2000..2035.
struct BarSpec {
  std::int64_t minute;                  // minutes since 2000-01-01
  std::int64_t open, high, low, close;  // cents
  std::int64_t tick_volume, volume;
  std::int32_t spread;
};

rc::Gen<BarSpec> gen_bar() {
  return rc::gen::apply(
      [](std::int64_t minute, std::int64_t low, std::int64_t a, std::int64_t b, std::int64_t extra, std::int64_t tv,
         std::int64_t v, std::int32_t spread) {
        BarSpec s{};
        s.minute = minute;
        s.low = low;
        s.open = low + a;
        s.close = low + b;
        s.high = std::max(s.open, s.close) + extra;
        s.tick_volume = tv;
        s.volume = v;
        s.spread = spread;
        return s;
      },
      rc::gen::inRange<std::int64_t>(0, 18'000'000), rc::gen::inRange<std::int64_t>(1, 10'000'000),
      rc::gen::inRange<std::int64_t>(0, 5000), rc::gen::inRange<std::int64_t>(0, 5000),
      rc::gen::inRange<std::int64_t>(0, 500), rc::gen::inRange<std::int64_t>(0, 1'000'000),
      rc::gen::inRange<std::int64_t>(0, 1'000'000), rc::gen::inRange<std::int32_t>(0, 1000));
}

std::string cents(std::int64_t c) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(c / 100), static_cast<long long>(c % 100));
  return buf;
}
double cents_value(std::int64_t c) {
  const std::string text = cents(c);
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

Timestamp minute_ts(std::int64_t minute) {
  return from_epoch_ns((946684800LL + minute * 60) * 1'000'000'000LL);  // 2000-01-01T00:00:00Z + minutes
}

// Writes the wall-clock fields of `t` with a printf pattern taking y, m, d, H, M, S.
std::string civil(Timestamp t, const char* pattern) {
  const CivilTime c = to_civil_utc(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, pattern, c.year, c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

std::string utf16le(const std::string& s) {
  std::string out = "\xFF\xFE";
  for (char c : s) {
    out += c;
    out += '\0';
  }
  return out;
}

void check_bars(const std::vector<BarSpec>& specs, const CollectSink& sink, bool with_counts) {
  RC_ASSERT(sink.rejects.empty());
  RC_ASSERT(sink.bars.size() == specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const Bar& b = sink.bars[i];
    const BarSpec& s = specs[i];
    RC_ASSERT(b.ts == minute_ts(s.minute));
    RC_ASSERT(b.open == cents_value(s.open));
    RC_ASSERT(b.high == cents_value(s.high));
    RC_ASSERT(b.low == cents_value(s.low));
    RC_ASSERT(b.close == cents_value(s.close));
    if (with_counts) {
      RC_ASSERT(b.tick_volume == s.tick_volume);
      RC_ASSERT(b.volume == static_cast<double>(s.volume));
      RC_ASSERT(b.spread == s.spread);
    }
  }
}

RC_GTEST_PROP(IngestRoundTrip, Mt5BarsBothVariantsBothEncodings, ()) {
  const auto specs = *rc::gen::nonEmpty(rc::gen::container<std::vector<BarSpec>>(gen_bar()));
  const bool tab = *rc::gen::arbitrary<bool>();
  const bool utf16 = *rc::gen::arbitrary<bool>();
  const bool short_time = *rc::gen::arbitrary<bool>();
  const char d = tab ? '\t' : ',';
  std::string text = tab ? "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n"
                         : "Date,Time,Open,High,Low,Close,Tick,Volume,Spread\r\n";
  for (const auto& s : specs) {
    const CivilTime c = to_civil_utc(minute_ts(s.minute));
    char stamp[40];
    if (short_time) {
      std::snprintf(stamp, sizeof stamp, "%04d.%02u.%02u%c%02u:%02u", c.year, c.month, c.day, d, c.hour, c.minute);
    } else {
      std::snprintf(stamp, sizeof stamp, "%04d.%02u.%02u%c%02u:%02u:%02u", c.year, c.month, c.day, d, c.hour, c.minute,
                    c.second);
    }
    text += std::string(stamp) + d + cents(s.open) + d + cents(s.high) + d + cents(s.low) + d + cents(s.close) + d +
            std::to_string(s.tick_volume) + d + std::to_string(s.volume) + d + std::to_string(s.spread) + "\r\n";
  }
  auto source = memory_source(utf16 ? utf16le(text) : text);
  CollectSink sink;
  auto stats = import_source(*source, Format::Mt5Bars, {}, sink);
  RC_ASSERT(stats.has_value());
  RC_ASSERT(stats->encoding == (utf16 ? "utf-16le" : "utf-8"));
  check_bars(specs, sink, true);
}

RC_GTEST_PROP(IngestRoundTrip, HistDataInFixedEst, ()) {
  const auto specs = *rc::gen::nonEmpty(rc::gen::container<std::vector<BarSpec>>(gen_bar()));
  std::string text;
  for (const auto& s : specs) {
    // Written in EST (UTC-5): the wall clock five hours behind UTC.
    const Timestamp local = minute_ts(s.minute) - std::chrono::hours(5);
    text += civil(local, "%04d%02u%02u %02u%02u%02u") + ";" + cents(s.open) + ";" + cents(s.high) + ";" + cents(s.low) +
            ";" + cents(s.close) + ";0\n";
  }
  ImportOptions options;
  options.time_zone = *TimeZone::find("Etc/GMT+5");
  auto source = memory_source(text);
  CollectSink sink;
  auto stats = import_source(*source, Format::HistData, options, sink);
  RC_ASSERT(stats.has_value());
  check_bars(specs, sink, false);
}

RC_GTEST_PROP(IngestRoundTrip, GenericCsvIsoOrEpoch, ()) {
  const auto specs = *rc::gen::nonEmpty(rc::gen::container<std::vector<BarSpec>>(gen_bar()));
  const int style = *rc::gen::inRange(0, 4);  // ISO with offset, ISO naive, epoch s, epoch ms
  std::string text = "timestamp,open,high,low,close,volume\n";
  for (const auto& s : specs) {
    const Timestamp t = minute_ts(s.minute);
    const std::int64_t secs = to_epoch_ns(t) / 1'000'000'000;
    switch (style) {
      case 0: text += civil(t + std::chrono::hours(2), "%04d-%02u-%02uT%02u:%02u:%02u+02:00"); break;
      case 1: text += civil(t, "%04d-%02u-%02u %02u:%02u:%02u.000000"); break;
      case 2: text += std::to_string(secs); break;
      default: text += std::to_string(secs * 1000); break;
    }
    text += "," + cents(s.open) + "," + cents(s.high) + "," + cents(s.low) + "," + cents(s.close) + "," +
            std::to_string(s.volume) + "\n";
  }
  auto source = memory_source(text);
  CollectSink sink;
  auto stats = import_source(*source, Format::Csv, {}, sink);
  RC_ASSERT(stats.has_value());
  check_bars(specs, sink, false);
  for (std::size_t i = 0; i < specs.size(); ++i) RC_ASSERT(sink.bars[i].volume == static_cast<double>(specs[i].volume));
}

RC_GTEST_PROP(IngestRoundTrip, Mt5TicksCarryForwardMatchesAModel, ()) {
  const auto rows = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::tuple<int, int, int, int, int>>>(
      rc::gen::tuple(rc::gen::inRange(0, 3600000), rc::gen::inRange(0, 3), rc::gen::inRange(0, 3),
                     rc::gen::inRange(0, 3), rc::gen::inRange(0, 128))));
  // 0 in a column means "empty field"; otherwise the value is 1000 + value.
  std::string text = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n";
  double bid = std::numeric_limits<double>::quiet_NaN(), ask = bid, last = bid;
  std::vector<Tick> expected;
  int ms = 0;
  for (const auto& [step, b, a, l, flags] : rows) {
    ms = (ms + step) % 86'400'000;
    char time[32];
    std::snprintf(time, sizeof time, "%02d:%02d:%02d.%03d", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
    auto cell = [](int v) { return v == 0 ? std::string() : std::to_string(1000 + v) + ".5"; };
    text += std::string("2022.06.01\t") + time + "\t" + cell(b) + "\t" + cell(a) + "\t" + cell(l) + "\t\t" +
            std::to_string(flags) + "\r\n";
    if (b != 0) bid = 1000 + b + 0.5;
    if (a != 0) ask = 1000 + a + 0.5;
    if (l != 0) last = 1000 + l + 0.5;
    Tick t;
    t.ts = from_epoch_ns((1654041600LL * 1000 + ms) * 1'000'000);  // 2022-06-01T00:00Z
    t.bid = bid;
    t.ask = ask;
    t.last = last;
    t.flags = static_cast<std::uint32_t>(flags);
    expected.push_back(t);
  }
  auto source = memory_source(text);
  CollectSink sink;
  auto stats = import_source(*source, Format::Mt5Ticks, {}, sink);
  RC_ASSERT(stats.has_value());
  RC_ASSERT(sink.ticks.size() == expected.size());
  auto same = [](double x, double y) { return (std::isnan(x) && std::isnan(y)) || x == y; };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    RC_ASSERT(sink.ticks[i].ts == expected[i].ts);
    RC_ASSERT(same(sink.ticks[i].bid, expected[i].bid));
    RC_ASSERT(same(sink.ticks[i].ask, expected[i].ask));
    RC_ASSERT(same(sink.ticks[i].last, expected[i].last));
    RC_ASSERT(sink.ticks[i].flags == expected[i].flags);
  }
}

}  // namespace
}  // namespace quant::ingest
