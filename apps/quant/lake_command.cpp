#include "lake_command.h"

#include <cstdio>
#include <iostream>
#include <map>

#include "core/bar_aggregator.h"
#include "lake/lake.h"

namespace quant::app {

namespace {


std::string human_bytes(std::int64_t bytes) {
  char buf[32];
  if (bytes >= (1LL << 30))
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  else if (bytes >= (1LL << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  return buf;
}

}  // namespace

int run_lake_ls(const GlobalOptions& global, const LakeLsArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto lk = open_existing_lake(global, *cfg);
  if (!lk) return fail(lk.error().message);
  std::optional<lake::Dataset> dataset;
  if (!args.dataset.empty()) {
    auto d = lake::parse_dataset(args.dataset);
    if (!d) return fail(d.error().message);
    dataset = *d;
  }
  auto parts = (*lk)->partitions(dataset, args.symbol);
  if (!parts) return fail(parts.error().message);
  if (parts->empty()) {
    std::printf("lake %s is empty%s\n", (*lk)->root().c_str(),
                args.symbol.empty() ? "" : (" for " + args.symbol).c_str());
    return 0;
  }
  if (args.partitions) {
    std::printf("%-8s %-10s %-7s %10s %10s  %-24s %-24s\n", "dataset", "symbol", "month", "rows", "size", "first (UTC)",
                "last (UTC)");
    for (const auto& p : *parts) {
      char month[16];
      std::snprintf(month, sizeof month, "%04d-%02d", p.year, p.month);
      std::printf("%-8s %-10s %-7s %10lld %10s  %-24s %-24s\n", std::string(lake::dataset_name(p.dataset)).c_str(),
                  p.symbol.c_str(), month, static_cast<long long>(p.rows), human_bytes(p.bytes).c_str(),
                  format_utc(p.first_ts).c_str(), format_utc(p.last_ts).c_str());
    }
    return 0;
  }
  struct Group {
    std::int64_t partitions = 0, rows = 0, bytes = 0;
    Timestamp first = Timestamp::max(), last = Timestamp::min();
  };
  std::map<std::pair<std::string, std::string>, Group> groups;
  for (const auto& p : *parts) {
    auto& g = groups[{std::string(lake::dataset_name(p.dataset)), p.symbol}];
    ++g.partitions;
    g.rows += p.rows;
    g.bytes += p.bytes;
    g.first = std::min(g.first, p.first_ts);
    g.last = std::max(g.last, p.last_ts);
  }
  std::printf("%-8s %-10s %10s %12s %10s  %-24s %-24s\n", "dataset", "symbol", "partitions", "rows", "size",
              "first (UTC)", "last (UTC)");
  for (const auto& [key, g] : groups) {
    std::printf("%-8s %-10s %10lld %12lld %10s  %-24s %-24s\n", key.first.c_str(), key.second.c_str(),
                static_cast<long long>(g.partitions), static_cast<long long>(g.rows), human_bytes(g.bytes).c_str(),
                format_utc(g.first).c_str(), format_utc(g.last).c_str());
  }
  return 0;
}

int run_lake_query(const GlobalOptions& global, const LakeQueryArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto lk = open_existing_lake(global, *cfg);
  if (!lk) return fail(lk.error().message);
  auto rows = (*lk)->query_csv(args.sql, std::cout);
  std::cout.flush();
  if (!rows) return fail(rows.error().message);
  return 0;
}

int run_lake_verify(const GlobalOptions& global, const LakeVerifyArgs& args) {
  // Exit codes: 0 the data passed, 1 it has errors, 2 the check could not run
  // (no configuration, no lake, a read failure): scripts can tell them apart.
  const auto could_not_run = [](const std::string& message) {
    fail(message);
    return 2;
  };
  auto cfg = load_config(global);
  if (!cfg) return could_not_run(cfg.error().message);
  auto lk = open_existing_lake(global, *cfg);
  if (!lk) return could_not_run(lk.error().message);
  const InstrumentSpec* spec = cfg->instruments.find(args.symbol);
  if (spec == nullptr && !global.quiet) {
    std::fprintf(stderr, "[verify] %s is not configured: tick-grid and session-gap checks are skipped\n",
                 args.symbol.c_str());
  } else if (spec != nullptr && spec->calendar == nullptr && !global.quiet) {
    std::fprintf(stderr,
                 "[verify] %s has no calendar (instruments.%s.calendar): missing trading days are not checked\n",
                 args.symbol.c_str(), args.symbol.c_str());
  }
  auto report = (*lk)->verify(args.symbol, spec);
  if (!report) return could_not_run(report.error().message);
  std::fputs(report->to_text(static_cast<std::size_t>(std::max(0, args.examples))).c_str(), stdout);
  return report->has_errors() ? 1 : 0;
}

int run_lake_bars(const GlobalOptions& global, const LakeBarsArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto lk = open_existing_lake(global, *cfg);
  if (!lk) return fail(lk.error().message);
  auto interval = parse_timeframe(args.timeframe);
  if (!interval) return fail(interval.error().message);
  const InstrumentSpec* spec = cfg->instruments.find(args.symbol);
  auto zone = TimeZone::find(spec != nullptr ? spec->time_zone : "UTC");
  if (!zone) return fail(zone.error().message);
  auto range = parse_range(args.from, args.to, *zone);
  if (!range) return fail(range.error().message);
  const Timestamp from = range->from, to = range->to;
  auto stream = (*lk)->stream_bars(args.symbol, from, to);
  if (!stream) return fail(stream.error().message);
  std::optional<BarResampler> resampler;
  if (*interval != kMinute) resampler.emplace(*interval, *zone);
  std::printf("ts,open,high,low,close,tick_volume,volume,spread\n");
  auto print = [](const Bar& b) {
    std::printf("%s,%.10g,%.10g,%.10g,%.10g,%lld,%.10g,%d\n", format_utc(b.ts).c_str(), b.open, b.high, b.low, b.close,
                static_cast<long long>(b.tick_volume), b.volume, b.spread);
  };
  std::vector<Bar> batch;
  std::int64_t count = 0;
  while (true) {
    auto more = (*stream)->next(batch);
    if (!more) return fail(more.error().message);
    if (!*more) break;
    for (const Bar& b : batch) {
      if (resampler) {
        if (auto out = resampler->add(b)) print(*out), ++count;
      } else {
        print(b);
        ++count;
      }
    }
  }
  if (resampler) {
    if (auto out = resampler->finish()) print(*out), ++count;
  }
  if (count == 0) return fail("no bars for " + args.symbol + " in the requested range");
  return 0;
}

}  // namespace quant::app
