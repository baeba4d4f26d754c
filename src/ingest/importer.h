#pragma once
/// File importers: outside formats → typed market-data records.
///
/// Every importer reads bytes from a `ByteSource` (plain file, .gz, .zip
/// member, or memory for tests and fuzzing), detects UTF-8/UTF-16LE (BOM),
/// splits lines (LF or CRLF), parses and validates each row, and hands records
/// to a `RecordSink` in file order. A malformed row is reported as
/// `file:line: field: reason`; with `strict` the first bad row ends the import
/// with that error, otherwise the row goes to `RecordSink::on_reject` and the
/// import goes on. Importers never touch the lake: the caller wires the sink.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/instrument.h"
#include "core/market_data.h"
#include "core/time.h"

namespace quant::ingest {

/// Input formats, named as on the command line.
enum class Format {
  Mt5Bars,            ///< "mt5-bars": MT5 bar export, tab (<DATE> ...) or comma (Date,Time,...) variant
  Mt5Ticks,           ///< "mt5-ticks": MT5 tick export, empty field = unchanged
  HistData,           ///< "histdata": HistData M1, ';'-separated, EST without DST by default
  Csv,                ///< "csv": generic bars with a column mapping and timestamp format
  Trades,             ///< "trades": time and sales (time, price, volume[, side])
  Quotes,             ///< "quotes": L1 quotes (time, bid, ask[, sizes]); also Lean tick quotes
  TardisBook,         ///< "tardis-book": wide L2 snapshots (asks[i].price, bids[i].amount ...)
  TardisIncremental,  ///< "tardis-incremental": L2 deltas → snapshots
  BinanceDepth,       ///< "binance-depth": depth snapshot/update rows → snapshots
  Lean,               ///< "lean": QuantConnect Lean minute trade/quote bars (ms since midnight, price x 10000)
};

/// "mt5-bars" → Format::Mt5Bars; an unknown name fails with the list of known names.
Expected<Format> parse_format(std::string_view name);
std::string_view format_name(Format format);
/// The dataset a format produces: "bars_1m", "ticks", "trades" or "book".
std::string_view format_dataset(Format format);

/// How a timestamp column is written, for the generic formats.
enum class TimeFormat {
  Auto,     ///< detect per file from the first data row (ISO 8601 / MT5 dotted / epoch by magnitude)
  Iso8601,  ///< 2024-01-01 23:01:00[.ffffff][Z|+00:00], 'T' or ' ' separator
  EpochSeconds,
  EpochMillis,
  EpochMicros,
  EpochNanos,
};
Expected<TimeFormat> parse_time_format(std::string_view name);

/// Column mapping of the generic formats: field name → header column name or
/// 0-based index (as text: "3"). Empty means "find by the usual names".
struct ColumnMapping {
  std::string ts, date, time;  ///< either one timestamp column, or date + time columns
  std::string open, high, low, close, volume, tick_volume, spread;
  std::string price, side;                   ///< trades
  std::string bid, ask, bid_size, ask_size;  ///< quotes
};

struct ImportOptions {
  std::string symbol;  ///< platform symbol the records belong to
  /// Zone of timestamps that carry no offset (MT5 server time, HistData EST…).
  /// Timestamps with an explicit offset or epoch values ignore it.
  TimeZone time_zone = TimeZone::utc();
  /// The instrument when configured: enables tick-grid checks (a price off the
  /// grid by more than float noise is a bad row; within noise it is snapped).
  std::optional<InstrumentSpec> spec;
  bool strict = false;
  TimeFormat time_format = TimeFormat::Auto;
  ColumnMapping columns;
  char delimiter = '\0';       ///< '\0' = detect (',', ';', '\t')
  std::optional<bool> header;  ///< nullopt = detect
  double price_scale = 1.0;    ///< divide prices by this (Lean: 10000)
  std::string base_date;  ///< YYYY-MM-DD for formats whose rows hold time of day only (Lean); else from the file name
  int book_depth = 10;    ///< levels kept in emitted book snapshots
};

/// One rejected row.
struct RowError {
  std::string source;     ///< file name (or "<memory>")
  std::int64_t line = 0;  ///< 1-based physical line number
  std::string field;      ///< column/field name, e.g. "HIGH"
  std::string reason;     ///< e.g. "high 100.0 below low 101.0"
  std::string text;       ///< the raw line (possibly truncated to 200 bytes)
  /// "file:line: field: reason"
  std::string to_string() const;
};

/// Receives records in file order. The caller implements it (e.g. a lake writer).
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void on_bar(const Bar& bar) { (void)bar; }
  virtual void on_tick(const Tick& tick) { (void)tick; }
  virtual void on_trade(const Trade& trade) { (void)trade; }
  virtual void on_book(const BookSnapshot& book) { (void)book; }
  virtual void on_reject(const RowError& error) { (void)error; }
};

struct ImportStats {
  std::int64_t lines = 0;     ///< physical lines read (header included)
  std::int64_t records = 0;   ///< records delivered to the sink
  std::int64_t rejected = 0;  ///< rows sent to on_reject
  std::int64_t skipped = 0;   ///< blank lines / header
  Timestamp first_ts{}, last_ts{};
  std::string encoding;  ///< "utf-8" or "utf-16le"
};

/// A whole input as bytes, decompressed. Opened from a path: "x.gz" is gunzipped,
/// "x.zip" must hold exactly one member (or name it as "x.zip:member.csv").
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to `size` bytes; returns 0 at end; an error on I/O failure.
  virtual Expected<std::size_t> read(char* buffer, std::size_t size) = 0;
  /// Name used in messages (the path as the user gave it).
  virtual const std::string& name() const = 0;
  /// Total uncompressed size when known (progress), else 0.
  virtual std::uint64_t size_hint() const { return 0; }
  /// Name of the data inside a container (the zip member, e.g.
  /// "20131008_ibm_Quote_Tick.csv"); the same as name() for plain and .gz files.
  /// Formats that take the date from the file name (Lean) read it here first.
  virtual const std::string& inner_name() const { return name(); }
};

/// Opens a file; a missing/unreadable/empty file fails with one clear line.
Expected<std::unique_ptr<ByteSource>> open_source(const std::string& path);
/// Bytes held in memory (tests, fuzzing).
std::unique_ptr<ByteSource> memory_source(std::string_view bytes, std::string name = "<memory>");

/// Optional progress callback: bytes consumed so far.
using ProgressFn = void (*)(void* context, std::uint64_t bytes_read);

/// Imports one source. Fails (without having called the sink for later rows)
/// on the first bad row under `strict`, on an empty input (no data rows), on a
/// header that does not fit the format, or on I/O errors.
Expected<ImportStats> import_source(ByteSource& source, Format format, const ImportOptions& options, RecordSink& sink,
                                    ProgressFn progress = nullptr, void* progress_context = nullptr);

}  // namespace quant::ingest
