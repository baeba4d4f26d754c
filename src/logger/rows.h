#pragma once
/// Stream entries → ClickHouse rows (JSONEachRow lines) of the tables in
/// config/clickhouse/schema.sql. Pure: no I/O.
///
///   md:tick:<SYM>  tick messages (bridge protocol)       → ticks
///   exec:fills     fill messages                          → trades
///                  order_ack, positions (not trades)      → skipped
///   mon:metrics    stream/metrics.h fields                → metrics
///   anything else, or an entry that does not decode       → rejects (whole)
///
/// Each row carries its message's key (see schema.sql), so inserting an
/// entry twice gives one row after FINAL.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stream/stream.h"

namespace quant::logger {

enum class Table : std::uint8_t { Ticks, Trades, Metrics, Rejects };
inline constexpr std::size_t kTableCount = 4;
/// "ticks", "trades", "metrics", "rejects".
std::string_view table_name(Table table);

/// What one stream entry becomes.
struct Conversion {
  enum class Kind : std::uint8_t { Row, Skipped, Rejected };
  Kind kind = Kind::Row;
  Table table = Table::Ticks;    ///< Rejected: Table::Rejects
  std::string row;               ///< Row and Rejected: one JSON object, no newline
  std::string reason;            ///< Skipped and Rejected: why
  std::int64_t produced_ns = 0;  ///< the producer's clock (recv_ns, sent_ns), Unix ns; 0 = unknown
};

/// Converts one entry; `logged_ms` is the logger's clock (the rows' version).
Conversion convert(const stream::Entry& entry, std::uint64_t logged_ms);
/// The `rejects` row of an entry: its stream, id, `reason` and every field as a JSON object.
std::string reject_row(const stream::Entry& entry, std::string_view reason, std::uint64_t logged_ms);
/// The streams the logger reads for `symbols`: md:tick:<SYM> each, exec:fills, mon:metrics.
std::vector<std::string> logged_streams(const std::vector<std::string>& symbols);

}  // namespace quant::logger
