#pragma once
/// The data lake: hive-partitioned Parquet written and read through DuckDB.
///
/// Layout under the lake root:
///   kind=bars_1m/symbol=<SYM>/year=<YYYY>/month=<MM>/data.parquet
///   kind=ticks|trades|book/symbol=<SYM>/year=<YYYY>/month=<MM>/day=<DD>/data.parquet
/// (UTC months and days; monthly ticks/trades/book files of older lakes are
/// read, and the first write into such a month splits it into days). Each partition is one file,
/// sorted by its key and free of duplicates:
///   bars_1m: (ts)   ticks, trades, book: (ts, seq)
/// where `seq` numbers records that share a timestamp in arrival order.
///
/// Writes are crash-safe: a partition is rewritten into a temporary file in the
/// same directory (a name that never matches *.parquet), fsync'ed and renamed
/// over the old one. Killing a writer at any moment leaves every visible
/// partition either as it was or complete. Writers of one lake serialise on an
/// exclusive lock file (`<root>/.lock`); stale temporaries are removed by the
/// next writer. Merging keeps rows already in the lake: re-ingesting a file adds
/// nothing, overlapping files add only the new keys — unless the writer was
/// asked to replace (WriteOptions::replace), or the lake's row is a bar marked
/// provisional (still forming when written), which a later write completes.
/// Partitions carry marks in their Parquet key-value metadata: generated spans
/// and provisional bars (docs/contracts/lake.md).
///
/// This is the only module that includes duckdb.h (and inside it only
/// duckdb_connection.cpp does). The writer and the stream interfaces live in
/// lake_writer.h, bar_stream.h and event_streams.h, included here.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/instrument.h"
#include "core/market_data.h"
#include "core/time.h"
#include "core/timeframe_detector.h"
#include "lake/bar_stream.h"
#include "lake/event_streams.h"
#include "lake/lake_writer.h"

namespace quant::lake {

enum class Dataset { Bars1m, Ticks, Trades, Book };
/// "bars_1m", "ticks", "trades", "book" (the SQL view names as well).
std::string_view dataset_name(Dataset dataset);
Expected<Dataset> parse_dataset(std::string_view name);

/// Symbols become directory names: letters, digits and . _ - $ only.
Expected<void> validate_symbol(std::string_view symbol);

/// Generated (not real) rows written into a partition: the span one write
/// covered and the label it carried (WriteOptions::generated).
struct GeneratedSpan {
  Timestamp first{}, last{};  ///< first and last timestamp written, inclusive
  std::string label;
  bool operator==(const GeneratedSpan&) const = default;
};

/// One partition file.
struct PartitionInfo {
  Dataset dataset = Dataset::Bars1m;
  std::string symbol;
  int year = 0;
  int month = 0;
  /// The UTC day (1..31) of a ticks/trades/book partition; 0 for a whole
  /// month (bars_1m, and ticks/trades/book months written before day partitions).
  int day = 0;
  std::string path;
  std::int64_t rows = 0;
  std::int64_t bytes = 0;
  Timestamp first_ts{}, last_ts{};
  /// Generated rows written into this partition (empty: real data only).
  std::vector<GeneratedSpan> generated;
  /// Bars marked provisional (possibly still forming when written; see WriteOptions::provisional_tail).
  std::vector<Timestamp> provisional;
};

/// Severity of a verify finding.
enum class Severity { Warning, Error };

struct Finding {
  Severity severity = Severity::Error;
  std::string
      check;  ///< "duplicate", "ohlc", "non_monotonic", "off_grid", "non_positive", "timeframe", "gap", "missing_day"
  Timestamp ts{};
  std::string message;
};

struct VerifyReport {
  std::string symbol;
  std::int64_t bars = 0;
  Timestamp first_ts{}, last_ts{};
  std::vector<Finding> findings;                             ///< capped per check; counts are exact
  std::vector<std::pair<std::string, std::int64_t>> counts;  ///< check → number of findings
  Duration largest_gap{};         ///< longest run of missing minutes inside a session (needs a spec)
  Timestamp largest_gap_start{};  ///< first missing minute of that gap
  std::string calendar;           ///< "B3 (hours index)" when the spec has a calendar, else empty
  Timeframe timeframe;            ///< what the whole series' spacing says (check "timeframe" judges each month too)
  std::vector<GeneratedSpan> generated;  ///< generated rows among the symbol's bars (Lake::verify fills it)
  /// True when a check other than the warnings "gap" and "missing_day" found something.
  bool has_errors() const;
  /// The readable report (what `quant lake verify` prints).
  std::string to_text(std::size_t max_examples_per_check = 10) const;
};

struct LakeOptions {
  int threads = 0;                      ///< DuckDB threads, 0 = DuckDB's default
  std::string memory_limit;             ///< DuckDB memory_limit, e.g. "2GB"; empty = default
  std::int64_t row_group_rows = 16384;  ///< Parquet row group size
  /// Parquet compression of written partitions: "zstd" (smallest), "lz4_raw",
  /// "snappy" (faster to read back) or "uncompressed". Files of any kind read back.
  std::string compression = "zstd";
  /// What a writer may hold, in bytes (0: no bound). Split between the
  /// records a ticks/trades/book writer buffers before handing them to DuckDB
  /// (a quarter) and DuckDB's own memory_limit (half, unless `memory_limit`
  /// is set), with DuckDB spilling to `<root>/.tmp` beyond it: a day of any
  /// size is written within the budget plus a fixed overhead.
  std::int64_t memory_budget_bytes = 0;
};

/// An open lake. Cheap to keep; owns one embedded DuckDB instance.
class Lake {
 public:
  /// Opens (and with `create`, creates) the lake directory.
  static Expected<std::unique_ptr<Lake>> open(const std::string& root, bool create, const LakeOptions& options = {});
  virtual ~Lake() = default;

  virtual const std::string& root() const = 0;

  /// A writer for one dataset and symbol (symbol validated). Takes the lake's
  /// writer lock for its lifetime (shared by the writers of this Lake object);
  /// fails at once if another process or another Lake object holds it.
  /// `options`: replace on conflicts, the provisional last bar, the generated mark.
  virtual Expected<std::unique_ptr<LakeWriter>> writer(Dataset dataset, const std::string& symbol,
                                                       const WriteOptions& options = {}) = 0;

  /// Partitions, optionally filtered; sorted by dataset, symbol, year, month,
  /// day; with their marks (generated spans, provisional bars). Everything
  /// comes from the files' Parquet footers (row-group statistics, key-value
  /// metadata): no file is scanned unless it lacks statistics.
  virtual Expected<std::vector<PartitionInfo>> partitions(std::optional<Dataset> dataset = std::nullopt,
                                                          const std::string& symbol = "") = 0;

  /// Runs SQL with the views bars_1m, ticks, trades, book defined (each has a
  /// `symbol` column, `ts` as TIMESTAMP_NS UTC); writes CSV with a header.
  /// Returns the number of rows written. RFC 4180 quoting with LF line ends (for
  /// Unix pipelines), fields with
  /// `,` `"` CR or LF quoted, NULL as an empty field, an empty string as `""`,
  /// timestamps as DuckDB renders them ("2020-11-06 13:28:00"). The result is
  /// streamed chunk by chunk. SQL errors carry DuckDB's message.
  virtual Expected<std::int64_t> query_csv(std::string_view sql, std::ostream& out) = 0;

  /// Streams bars of `symbol` with from <= ts < to, in order.
  virtual Expected<std::unique_ptr<BarStream>> stream_bars(const std::string& symbol, Timestamp from, Timestamp to,
                                                           std::size_t batch_rows = 8192) = 0;

  /// Streams trades of `symbol` with from <= ts < to, in (ts, seq) order.
  /// Rows outside the range are skipped inside DuckDB (row-group statistics),
  /// so a day out of a month of trades reads about that day.
  virtual Expected<std::unique_ptr<TradeStream>> stream_trades(const std::string& symbol, Timestamp from, Timestamp to,
                                                               std::size_t batch_rows = 65536) = 0;

  /// Streams book snapshots of `symbol` with from <= ts < to, in (ts, seq) order.
  virtual Expected<std::unique_ptr<BookStream>> stream_book(const std::string& symbol, Timestamp from, Timestamp to,
                                                            std::size_t batch_rows = 4096) = 0;

  /// The generated spans among the bars of `symbol` with from <= ts < to
  /// (empty: every bar there is real data, as far as the lake was told). Reads
  /// only the Parquet footers of the partitions overlapping the range.
  virtual Expected<std::vector<GeneratedSpan>> generated_bars(const std::string& symbol, Timestamp from,
                                                              Timestamp to) = 0;

  /// Called while verifying with the bars checked so far and the symbol's bar count.
  using VerifyProgress = std::function<void(std::int64_t bars_done, std::int64_t bars_total)>;

  /// Checks the symbol's 1-minute bars (and ticks/trades when present): gaps
  /// inside sessions (warnings, need `spec`), duplicates, OHLC violations,
  /// non-monotonic time, prices off the tick grid (need `spec`), zero or
  /// negative prices, bars that are not 1-minute bars ("timeframe", per month
  /// and for the whole series). With a calendar on `spec`: holidays and
  /// weekends are not gaps, and a trading day without any bar is a
  /// "missing_day" warning. The report names the generated spans.
  virtual Expected<VerifyReport> verify(const std::string& symbol, const InstrumentSpec* spec,
                                        const VerifyProgress& progress = nullptr) = 0;
};

}  // namespace quant::lake
