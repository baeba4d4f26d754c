#pragma once
/// `quant logger`: the stream hub into ClickHouse. One member of the consumer
/// group `logger` reads md:tick:<SYM>, exec:fills and mon:metrics, turns each
/// entry into a row (rows.h), inserts the rows in batches over HTTP and
/// acknowledges the entries (XACK) only once every insert of their batch was
/// confirmed (HTTP 200 after the write).
///
/// Exactly once after FINAL, whatever is killed when:
/// - killed before the XACK: the entries stay pending in the group; the next
///   logger of the same consumer name reads them first and inserts them again,
///   and the tables' keys (one per message) collapse the copies;
/// - ClickHouse down or failing: the batch is retried with back-off, nothing is
///   acknowledged and no further entry is read meanwhile;
/// - Redis restarted: the stream module reconnects (and re-reads pending).
/// Malformed entries cannot block it: each becomes a `rejects` row (the entry
/// whole, with the reason), is counted, logged with its stream id and
/// acknowledged like any other. A row ClickHouse refuses for its data (not
/// for a transient reason) is found by splitting the batch and goes to
/// `rejects` the same way.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "logger/clickhouse.h"
#include "logger/rows.h"
#include "monitor/metrics.h"
#include "stream/stream.h"

namespace quant::logger {

struct LoggerConfig {
  stream::Endpoint redis;
  ClickHouseEndpoint clickhouse;
  std::string database = "quant";
  std::vector<std::string> symbols;  ///< md:tick:<SYM> for each
  std::string group = "logger";
  std::string consumer = "logger";  ///< keep it across restarts: its pending entries come back to it
  /// Where a new consumer group starts: "0" = everything still in the streams.
  std::string start_id = "0";
  std::size_t batch_rows = 10000;                 ///< insert when this many entries are waiting …
  std::chrono::milliseconds batch_interval{200};  ///< … or this long after the batch's first entry
  std::chrono::milliseconds retry_first{100};     ///< back-off after a failed insert, doubling …
  std::chrono::milliseconds retry_max{5000};      ///< … up to this
  /// At start, entries other consumers of the group left pending this long are taken over.
  std::chrono::milliseconds claim_idle{60000};
  /// After should_stop, how long a batch that cannot be inserted is still retried.
  std::chrono::milliseconds stop_grace{10000};
  bool apply_schema = false;  ///< create the database and tables first (else they must exist)
  /// Stop by itself (after the last flush) once a read finds nothing new:
  /// a backfill, or a benchmark that drains what the streams hold.
  bool exit_when_idle = false;
  std::function<bool()> should_stop;
  std::function<void(const std::string&)> log;
  /// Called after each confirmed batch (for progress lines).
  std::function<void(const struct LoggerStats&)> on_batch;
  /// Prometheus metrics (docs/monitoring.md: quant_logger_*); null = none. Not owned.
  monitor::Registry* metrics = nullptr;
};

/// Lag = when a row's insert was confirmed − when its message was produced
/// (the bridge's recv_ns, live's sent_ns), in microseconds, on a log scale
/// with 1 % resolution.
class LagHistogram {
 public:
  void add(std::int64_t lag_us);
  std::int64_t count() const { return count_; }
  /// The p-quantile (0..1) in microseconds (the bucket's upper bound); 0 when empty.
  std::int64_t quantile(double p) const;
  std::int64_t max() const { return max_; }

 private:
  std::vector<std::int64_t> buckets_;
  std::int64_t count_ = 0;
  std::int64_t max_ = 0;
};

struct LoggerStats {
  std::int64_t entries = 0;                      ///< entries acknowledged
  std::array<std::int64_t, kTableCount> rows{};  ///< rows inserted (confirmed) per Table
  std::int64_t skipped = 0;                      ///< entries with no row (order acks, positions)
  std::int64_t batches = 0;                      ///< batches confirmed and acknowledged
  std::int64_t failed_inserts = 0;               ///< inserts that failed and were retried
  std::int64_t claimed = 0;                      ///< entries taken over from other consumers
  LagHistogram lag;
};

/// Runs until `should_stop` (then flushes what it holds) or an error: Redis
/// unreachable past its reconnect policy, the tables missing, a batch still
/// not inserted `stop_grace` after the stop.
Expected<LoggerStats> run_logger(const LoggerConfig& config);

}  // namespace quant::logger
