#include "generate_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/calendar.h"
#include "generated_sidecar.h"
#include "generator/market_generator.h"

namespace quant::app {

namespace {

/// Appends `text` to `out` as UTF-16LE (the text is ASCII).
void append_utf16(std::string& out, const std::string& text) {
  for (char c : text) {
    out.push_back(c);
    out.push_back('\0');
  }
}

}  // namespace

int run_generate(const GlobalOptions& global, const GenerateArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto found = find_instrument(global, *cfg, args.symbol, "generate");
  if (!found) return fail(found.error().message);
  const InstrumentSpec* spec = *found;
  if (args.out.empty()) return fail("generate: --out FILE is required");
  if (args.encoding != "utf-16le" && args.encoding != "utf-8") return fail("generate: --encoding is utf-16le or utf-8");
  generator::GeneratorConfig g;
  g.seed = args.seed;
  g.days = args.days;
  const std::optional<Date> start = parse_date(args.start);
  if (!start) return fail("generate: --start must be YYYY-MM-DD");
  const std::chrono::year_month_day ymd{*start};
  g.start_year = static_cast<int>(ymd.year());
  g.start_month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  g.start_day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  if (args.symbol == "WDO" || args.symbol == "DOL")
    g.start_price = 5000;
  else if (spec->tick_size < 0.01)
    g.start_price = 1.1;
  auto bars = generator::generate_market(*spec, g);
  if (!bars) return fail(bars.error().message);
  auto zone = TimeZone::find(spec->time_zone);
  if (!zone) return fail(zone.error().message);

  // MT5's own export: tab-separated, <DATE> <TIME> ..., broker (exchange) local time, CRLF.
  const bool utf16 = args.encoding == "utf-16le";
  std::string bytes;
  if (utf16) bytes = "\xFF\xFE";
  auto emit = [&](const std::string& line) {
    if (utf16)
      append_utf16(bytes, line + "\r\n");
    else
      bytes += line + "\r\n";
  };
  emit("<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>");
  char line[256];
  for (const auto& gb : *bars) {
    const Bar& b = gb.bar;
    const CivilTime c = to_civil(zone->to_local(b.ts));
    std::snprintf(line, sizeof line, "%04d.%02u.%02u\t%02u:%02u:%02u\t%.10g\t%.10g\t%.10g\t%.10g\t%lld\t%.10g\t%d",
                  c.year, c.month, c.day, c.hour, c.minute, c.second, b.open, b.high, b.low, b.close,
                  static_cast<long long>(b.tick_volume), b.volume, b.spread);
    emit(line);
  }
  // The label first: a generated file must never exist without it (a crash
  // in between leaves a label without its file, which marks nothing).
  GeneratedSidecar sidecar;
  sidecar.symbol = args.symbol;
  sidecar.seed = args.seed;
  sidecar.days = args.days;
  sidecar.start = args.start;
  sidecar.bars = static_cast<std::int64_t>(bars->size());
  sidecar.bytes = static_cast<std::int64_t>(bytes.size());
  sidecar.file = std::filesystem::path(args.out).filename().string();
  if (auto labelled = write_sidecar(args.out, sidecar); !labelled) return fail("generate: " + labelled.error().message);
  std::ofstream out(args.out, std::ios::binary);
  if (!out) return fail("generate: cannot write " + args.out);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail("generate: write failed for " + args.out);
  std::printf(
      "%s: %zu generated 1-minute bars of %s (%d trading days, seed %llu, MT5 export, %s); labelled "
      "generated in %s, which quant ingest reads\n",
      args.out.c_str(), bars->size(), args.symbol.c_str(), args.days, static_cast<unsigned long long>(args.seed),
      args.encoding.c_str(), sidecar_path(args.out).c_str());
  return 0;
}

}  // namespace quant::app
