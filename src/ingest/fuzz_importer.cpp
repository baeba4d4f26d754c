// libFuzzer target for one importer format family, chosen at compile time by
// QUANT_FUZZ_FORMAT ("mt5-bars", "lean", ...). Each input is imported twice,
// lenient and strict, through a counting sink; the two passes must agree on
// the records before the first bad row (importers are deterministic and
// sink-agnostic), and nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/importer.h"

#ifndef QUANT_FUZZ_FORMAT
#error "define QUANT_FUZZ_FORMAT"
#endif

namespace {

struct CountingSink : quant::ingest::RecordSink {
  std::int64_t records = 0;
  std::int64_t rejects = 0;
  std::int64_t records_before_reject = -1;
  void on_bar(const quant::Bar&) override { ++records; }
  void on_tick(const quant::Tick&) override { ++records; }
  void on_trade(const quant::Trade&) override { ++records; }
  void on_book(const quant::BookSnapshot&) override { ++records; }
  void on_reject(const quant::ingest::RowError& error) override {
    if (rejects++ == 0) records_before_reject = records;
    if (error.to_string().empty()) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const quant::ingest::Format format = *quant::ingest::parse_format(QUANT_FUZZ_FORMAT);
  // Lean takes its date from the file name.
  const char* name = format == quant::ingest::Format::Lean ? "20131007_spy_minute_trade.csv" : "fuzz.csv";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  quant::ingest::ImportOptions options;
  options.time_zone = *quant::TimeZone::find("America/Sao_Paulo");  // exercises DST gaps of the 2010s
  options.book_depth = 5;
  CountingSink lenient;
  auto source = quant::ingest::memory_source(bytes, name);
  auto stats = quant::ingest::import_source(*source, format, options, lenient);

  options.strict = true;
  CountingSink strict;
  auto strict_source = quant::ingest::memory_source(bytes, name);
  auto strict_stats = quant::ingest::import_source(*strict_source, format, options, strict);
  if (stats && lenient.rejects == 0) {
    if (!strict_stats || strict_stats->records != stats->records) std::abort();
  }
  if (stats && stats->records != lenient.records) std::abort();
  return 0;
}
