#include "lake_command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/bar_aggregator.h"
#include "core/timeframe_detector.h"
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

namespace {

nlohmann::ordered_json spans_json(const std::vector<lake::GeneratedSpan>& spans) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& g : spans)
    out.push_back({{"first", format_utc(g.first)}, {"last", format_utc(g.last)}, {"label", g.label}});
  return out;
}

nlohmann::ordered_json times_json(const std::vector<Timestamp>& list) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (Timestamp ts : list) out.push_back(format_utc(ts));
  return out;
}

/// "yes", "partly" or "no": whether the partitions counted hold generated rows.
std::string generated_word(std::int64_t marked, std::int64_t partitions) {
  return marked == 0 ? "no" : marked == partitions ? "yes" : "partly";
}

}  // namespace

int run_lake_ls(const GlobalOptions& global, const LakeLsArgs& args) {
  const auto fatal = [&](const std::string& message) {
    if (args.json) std::printf("%s\n", nlohmann::ordered_json{{"status", "error"}, {"error", message}}.dump().c_str());
    return fail(message);
  };
  auto cfg = load_config(global);
  if (!cfg) return fatal(cfg.error().message);
  auto lk = open_existing_lake(global, *cfg);
  if (!lk) return fatal(lk.error().message);
  std::optional<lake::Dataset> dataset;
  if (!args.dataset.empty()) {
    auto d = lake::parse_dataset(args.dataset);
    if (!d) return fatal(d.error().message);
    dataset = *d;
  }
  auto parts = (*lk)->partitions(dataset, args.symbol);
  if (!parts) return fatal(parts.error().message);
  if (args.json && args.partitions) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& p : *parts) {
      list.push_back({{"dataset", std::string(lake::dataset_name(p.dataset))},
                      {"symbol", p.symbol},
                      {"year", p.year},
                      {"month", p.month},
                      {"day", p.day > 0 ? nlohmann::ordered_json(p.day) : nlohmann::ordered_json()},
                      {"path", p.path},
                      {"rows", p.rows},
                      {"bytes", p.bytes},
                      {"first_ts", format_utc(p.first_ts)},
                      {"last_ts", format_utc(p.last_ts)},
                      {"generated", spans_json(p.generated)},
                      {"provisional", times_json(p.provisional)}});
    }
    std::printf("%s\n", nlohmann::ordered_json{{"lake", (*lk)->root()}, {"partitions", list}}.dump(2).c_str());
    return 0;
  }
  if (parts->empty() && !args.json) {
    std::printf("lake %s is empty%s\n", (*lk)->root().c_str(),
                args.symbol.empty() ? "" : (" for " + args.symbol).c_str());
    return 0;
  }
  if (args.partitions) {
    std::printf("%-8s %-10s %-10s %10s %10s  %-24s %-24s %s\n", "dataset", "symbol", "partition", "rows", "size",
                "first (UTC)", "last (UTC)", "generated");
    for (const auto& p : *parts) {
      char month[32];
      if (p.day > 0) {
        std::snprintf(month, sizeof month, "%04d-%02d-%02d", p.year, p.month, p.day);
      } else {
        std::snprintf(month, sizeof month, "%04d-%02d", p.year, p.month);
      }
      std::printf("%-8s %-10s %-10s %10lld %10s  %-24s %-24s %s\n", std::string(lake::dataset_name(p.dataset)).c_str(),
                  p.symbol.c_str(), month, static_cast<long long>(p.rows), human_bytes(p.bytes).c_str(),
                  format_utc(p.first_ts).c_str(), format_utc(p.last_ts).c_str(), p.generated.empty() ? "no" : "yes");
    }
    return 0;
  }
  struct Group {
    std::int64_t partitions = 0, rows = 0, bytes = 0, generated_partitions = 0;
    Timestamp first = Timestamp::max(), last = Timestamp::min();
    std::vector<lake::GeneratedSpan> generated;
    std::vector<Timestamp> provisional;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;
  for (const auto& p : *parts) {
    auto& g = groups[{std::string(lake::dataset_name(p.dataset)), p.symbol}];
    ++g.partitions;
    g.rows += p.rows;
    g.bytes += p.bytes;
    g.first = std::min(g.first, p.first_ts);
    g.last = std::max(g.last, p.last_ts);
    if (!p.generated.empty()) ++g.generated_partitions;
    g.generated.insert(g.generated.end(), p.generated.begin(), p.generated.end());
    g.provisional.insert(g.provisional.end(), p.provisional.begin(), p.provisional.end());
  }
  if (args.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& [key, g] : groups) {
      list.push_back({{"dataset", key.first},
                      {"symbol", key.second},
                      {"partitions", g.partitions},
                      {"rows", g.rows},
                      {"bytes", g.bytes},
                      {"first_ts", format_utc(g.first)},
                      {"last_ts", format_utc(g.last)},
                      {"generated", generated_word(g.generated_partitions, g.partitions)},
                      {"generated_spans", spans_json(g.generated)},
                      {"provisional", times_json(g.provisional)}});
    }
    std::printf("%s\n", nlohmann::ordered_json{{"lake", (*lk)->root()}, {"groups", list}}.dump(2).c_str());
    return 0;
  }
  std::printf("%-8s %-10s %10s %12s %10s  %-24s %-24s %s\n", "dataset", "symbol", "partitions", "rows", "size",
              "first (UTC)", "last (UTC)", "generated");
  for (const auto& [key, g] : groups) {
    std::printf("%-8s %-10s %10lld %12lld %10s  %-24s %-24s %s\n", key.first.c_str(), key.second.c_str(),
                static_cast<long long>(g.partitions), static_cast<long long>(g.rows), human_bytes(g.bytes).c_str(),
                format_utc(g.first).c_str(), format_utc(g.last).c_str(),
                generated_word(g.generated_partitions, g.partitions).c_str());
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

namespace {

/// The verify report as JSON (docs/contracts/lake.md, "quant lake verify --json").
nlohmann::ordered_json verify_json(const lake::VerifyReport& r) {
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& [check, count] : r.counts) {
    nlohmann::ordered_json findings = nlohmann::ordered_json::array();
    std::string severity = "error";
    for (const auto& f : r.findings) {
      if (f.check != check) continue;
      severity = f.severity == lake::Severity::Warning ? "warning" : "error";
      findings.push_back({{"ts", format_utc(f.ts)}, {"message", f.message}});
    }
    if (check == "gap" || check == "missing_day") severity = "warning";
    checks.push_back({{"check", check}, {"severity", severity}, {"count", count}, {"findings", findings}});
  }
  const Timeframe& t = r.timeframe;
  nlohmann::ordered_json j = {
      {"symbol", r.symbol},
      {"status", r.has_errors() ? "failed" : "passed"},
      {"bars", r.bars},
      {"first_ts", r.bars > 0 ? nlohmann::ordered_json(format_utc(r.first_ts)) : nlohmann::ordered_json()},
      {"last_ts", r.bars > 0 ? nlohmann::ordered_json(format_utc(r.last_ts)) : nlohmann::ordered_json()},
      {"calendar", r.calendar.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.calendar)},
      {"timeframe",
       {{"detected", t.kind == Timeframe::Kind::Unknown ? std::string("unknown")
                     : t.mt5_name().empty()             ? t.label()
                                                        : t.mt5_name()},
        {"label", t.label()},
        {"evidence", t.evidence()}}},
      {"checks", checks},
      {"largest_gap", nullptr},
      {"generated", spans_json(r.generated)}};
  if (r.largest_gap > Duration(0)) {
    j["largest_gap"] = {{"minutes", std::chrono::duration_cast<std::chrono::minutes>(r.largest_gap).count()},
                        {"start", format_utc(r.largest_gap_start)}};
  }
  return j;
}

}  // namespace

int run_lake_verify(const GlobalOptions& global, const LakeVerifyArgs& args) {
  // Exit codes: 0 the data passed, 1 it has errors, 2 the check could not run
  // (no configuration, no lake, a read failure): scripts can tell them apart.
  const auto could_not_run = [&](const std::string& message) {
    if (args.json) std::printf("%s\n", nlohmann::ordered_json{{"status", "error"}, {"error", message}}.dump().c_str());
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
  // Progress only for a person watching: silent when stderr is not a terminal.
  Progress progress("verify " + args.symbol, global.quiet || isatty(STDERR_FILENO) == 0);
  auto report = (*lk)->verify(args.symbol, spec, [&](std::int64_t done, std::int64_t total) {
    progress.update(static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(std::max<std::int64_t>(0, total)),
                    done);
  });
  progress.finish();
  if (!report) return could_not_run(report.error().message);
  if (args.json) {
    std::printf("%s\n", verify_json(*report).dump(2).c_str());
  } else {
    std::fputs(report->to_text(static_cast<std::size_t>(std::max(0, args.examples))).c_str(), stdout);
  }
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
