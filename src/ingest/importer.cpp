// The importer's front door: format names, and the line-driven driver that
// every format shares.
//
// The driver reads lines (LineReader), hands the first non-blank line to the
// parser's start() (header or first data row), then every data row to row(),
// and turns a failed row into a RowError (strict: the import's error; else
// on_reject). The parsers, one family per file (mt5_, histdata_, csv_,
// trades_quotes_, book_, lean_importer.cpp), share the Parser base of parser.h.
#include "ingest/importer.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/line_reader.h"
#include "ingest/parser.h"

namespace quant::ingest {

using detail::Emitter;
using detail::Fail;
using detail::Parser;

namespace {

struct FormatEntry {
  Format format;
  std::string_view name;
  std::string_view dataset;
};

constexpr FormatEntry kFormats[] = {
    {Format::Mt5Bars, "mt5-bars", "bars_1m"},
    {Format::Mt5Ticks, "mt5-ticks", "ticks"},
    {Format::HistData, "histdata", "bars_1m"},
    {Format::Csv, "csv", "bars_1m"},
    {Format::Trades, "trades", "trades"},
    {Format::Quotes, "quotes", "ticks"},
    {Format::TardisBook, "tardis-book", "book"},
    {Format::TardisIncremental, "tardis-incremental", "book"},
    {Format::BinanceDepth, "binance-depth", "book"},
    {Format::Lean, "lean", "bars_1m"},
};

}  // namespace

Expected<Format> parse_format(std::string_view name) {
  std::string known;
  for (const auto& entry : kFormats) {
    if (entry.name == name) return entry.format;
    if (!known.empty()) known += ", ";
    known += entry.name;
  }
  return make_error("unknown format '" + std::string(name) + "' (known: " + known + ")");
}

std::string_view format_name(Format format) {
  for (const auto& entry : kFormats) {
    if (entry.format == format) return entry.name;
  }
  return "unknown";
}

std::string_view format_dataset(Format format) {
  for (const auto& entry : kFormats) {
    if (entry.format == format) return entry.dataset;
  }
  return "unknown";
}

Expected<TimeFormat> parse_time_format(std::string_view name) {
  if (name == "auto") return TimeFormat::Auto;
  if (name == "iso8601" || name == "iso") return TimeFormat::Iso8601;
  // "epoch-ms" is what --help shows; "epoch_ms" and the bare unit are accepted too.
  if (name == "epoch-s" || name == "epoch_s" || name == "s") return TimeFormat::EpochSeconds;
  if (name == "epoch-ms" || name == "epoch_ms" || name == "ms") return TimeFormat::EpochMillis;
  if (name == "epoch-us" || name == "epoch_us" || name == "us") return TimeFormat::EpochMicros;
  if (name == "epoch-ns" || name == "epoch_ns" || name == "ns") return TimeFormat::EpochNanos;
  return make_error("unknown time format '" + std::string(name) +
                    "' (known: auto, iso8601, epoch-s, epoch-ms, epoch-us, epoch-ns)");
}

std::string RowError::to_string() const { return source + ":" + std::to_string(line) + ": " + field + ": " + reason; }

namespace {

std::unique_ptr<Parser> make_parser(Format format, const ByteSource& source, const ImportOptions& options,
                                    Emitter& out) {
  switch (format) {
    case Format::Mt5Bars: return detail::make_mt5_bar_parser(source, options, out);
    case Format::HistData: return detail::make_histdata_parser(source, options, out);
    case Format::Csv: return detail::make_csv_bar_parser(source, options, out);
    case Format::Mt5Ticks: return detail::make_mt5_tick_parser(source, options, out);
    case Format::Trades: return detail::make_trade_parser(source, options, out);
    case Format::Quotes: return detail::make_quote_parser(source, options, out);
    case Format::TardisBook: return detail::make_tardis_book_parser(source, options, out);
    case Format::TardisIncremental:
    case Format::BinanceDepth: return detail::make_delta_book_parser(format, source, options, out);
    case Format::Lean: return detail::make_lean_bar_parser(source, options, out);
  }
  return nullptr;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

Expected<ImportStats> import_source(ByteSource& source, Format format, const ImportOptions& options, RecordSink& sink,
                                    ProgressFn progress, void* progress_context) {
  ImportStats stats;
  detail::LineReader reader(source, progress, progress_context);
  Emitter out(sink, stats);
  std::unique_ptr<Parser> parser = make_parser(format, source, options, out);
  if (!parser) return make_error("unsupported format");
  bool started = false;
  std::int64_t data_rows = 0;
  std::string_view line;
  Fail fail;
  while (reader.next(line)) {
    if (blank(line)) {
      ++stats.skipped;
      continue;
    }
    if (!started) {
      started = true;
      auto is_header = parser->start(line);
      if (!is_header) return tl::unexpected(is_header.error());
      if (*is_header) {
        ++stats.skipped;
        continue;
      }
    }
    ++data_rows;
    if (!parser->row(line, fail)) {
      RowError error{source.name(), reader.line_number(), std::string(fail.field), std::move(fail.reason),
                     std::string(line.substr(0, 200))};
      if (options.strict) return make_error(error.to_string());
      ++stats.rejected;
      sink.on_reject(error);
    }
  }
  if (reader.error()) return tl::unexpected(*reader.error());
  parser->finish();
  stats.lines = reader.line_number();
  stats.encoding = reader.encoding();
  if (data_rows == 0) return make_error(source.name() + ": no data rows");
  return stats;
}

}  // namespace quant::ingest
