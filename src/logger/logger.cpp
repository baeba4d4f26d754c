// The logger loop: read → convert → insert (retried) → XACK. See logger.h for
// why nothing is lost or doubled.

#include "logger/logger.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <cmath>
#include <optional>
#include <thread>
#include <utility>

namespace quant::logger {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr double kBucketBase = 1.01;  // 1 % per bucket

}  // namespace

void LagHistogram::add(std::int64_t lag_us) {
  lag_us = std::max<std::int64_t>(lag_us, 0);
  const auto bucket =
      lag_us <= 1 ? std::size_t{0}
                  : static_cast<std::size_t>(std::ceil(std::log(static_cast<double>(lag_us)) / std::log(kBucketBase)));
  if (bucket >= buckets_.size()) buckets_.resize(bucket + 1, 0);
  ++buckets_[bucket];
  ++count_;
  max_ = std::max(max_, lag_us);
}

std::int64_t LagHistogram::quantile(double p) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::int64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(count_)));
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::int64_t>(rank, 1)) {
      return std::min(max_, static_cast<std::int64_t>(std::pow(kBucketBase, static_cast<double>(i))));
    }
  }
  return max_;
}

namespace {

/// quant logger's Prometheus series (label `table`: the fixed table list).
struct LoggerMeters {
  explicit LoggerMeters(monitor::Registry* r) {
    if (r == nullptr) return;
    for (std::size_t t = 0; t < kTableCount; ++t) {
      const monitor::Labels l{{"table", std::string(table_name(static_cast<Table>(t)))}};
      rows[t] = r->counter("quant_logger_rows_inserted_total", "Rows confirmed inserted into ClickHouse, by table", l);
      errors[t] = r->counter("quant_logger_insert_errors_total",
                             "Inserts that failed (retried with back-off; nothing acknowledged meanwhile)", l);
      duration[t] = r->histogram("quant_logger_insert_duration_seconds",
                                 "One INSERT over ClickHouse's HTTP interface, by table", monitor::latency_buckets(), l);
    }
    lag = r->histogram("quant_logger_lag_seconds",
                       "A row's producer time (bridge recv_ns, live sent_ns) to its insert confirmed",
                       monitor::latency_buckets());
    batches = r->counter("quant_logger_batches_total", "Batches inserted and acknowledged");
    auto oldest_gauge = r->gauge("quant_logger_oldest_unflushed_age_seconds",
                                 "Age of the oldest entry read and not yet inserted (0 when none waits)");
    r->on_collect([oldest_gauge, at = oldest] {
      const std::int64_t t = at->load();
      oldest_gauge.set(t > 0 ? std::max<double>(0.0, static_cast<double>(wall_ns() - t) / 1e9) : 0.0);
    });
  }
  std::array<monitor::Counter, kTableCount> rows, errors;
  std::array<monitor::Histogram, kTableCount> duration;
  monitor::Histogram lag;
  monitor::Counter batches;
  /// Wall ns when the oldest entry waiting was read (0 = none); read by the scrape thread.
  std::shared_ptr<std::atomic<std::int64_t>> oldest = std::make_shared<std::atomic<std::int64_t>>(0);
};

class Logger {
 public:
  explicit Logger(const LoggerConfig& config) : config_(config), meters_(config.metrics) {}

  Expected<LoggerStats> run() {
    if (config_.batch_rows == 0) return make_error("logger: batch_rows must be > 0");
    if (auto ok = check_identifier("database", config_.database); !ok) return tl::unexpected(ok.error());
    auto client = ClickHouseClient::create(config_.clickhouse);
    if (!client) return tl::unexpected(client.error());
    client_.emplace(std::move(*client));
    if (auto ok = prepare_tables(); !ok) return tl::unexpected(ok.error());

    const auto streams = logged_streams(config_.symbols);
    auto consumer =
        stream::Consumer::connect(config_.redis, config_.group, config_.consumer, streams, config_.start_id);
    if (!consumer) return tl::unexpected(consumer.error());
    consumer_.emplace(std::move(*consumer));
    auto claimed = consumer_->claim_stale(config_.claim_idle, 100000);
    if (!claimed) return tl::unexpected(claimed.error());
    stats_.claimed = static_cast<std::int64_t>(*claimed);
    auto pending = consumer_->pending();
    if (!pending) return tl::unexpected(pending.error());
    if (*pending > 0) {
      log("logger: " + std::to_string(*pending) +
          " entries were delivered before and never acknowledged (a logger stopped mid-batch): they are inserted "
          "first, and the tables' keys collapse any copy already there");
    }
    log("logger: " + std::to_string(streams.size()) + " streams (" + std::to_string(config_.symbols.size()) +
        " symbols' ticks, exec:fills, mon:metrics) → ClickHouse " + config_.clickhouse.url + " database " +
        config_.database +
        (stats_.claimed > 0 ? "; took over " + std::to_string(stats_.claimed) + " entries another logger left pending"
                            : ""));

    SteadyClock::time_point first{};  // when the batch's first entry was read
    for (;;) {
      if (stopping()) break;
      const auto now = SteadyClock::now();
      std::chrono::milliseconds block = std::min(config_.batch_interval, std::chrono::milliseconds(200));
      if (!entries_.empty()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(first + config_.batch_interval - now);
        block = std::clamp(left, std::chrono::milliseconds(1), block);
      }
      auto read = consumer_->read(config_.batch_rows - entries_.size(), block);
      if (!read) return tl::unexpected(read.error());
      if (read->empty() && config_.exit_when_idle) break;
      if (entries_.empty() && !read->empty()) first = SteadyClock::now();
      for (auto& e : *read) add(std::move(e));
      const bool full = entries_.size() >= config_.batch_rows;
      const bool due = !entries_.empty() && SteadyClock::now() >= first + config_.batch_interval;
      if (full || due) {
        if (auto ok = flush(); !ok) return tl::unexpected(ok.error());
      }
    }
    if (auto ok = flush(); !ok) return tl::unexpected(ok.error());
    return stats_;
  }

 private:
  struct Item {
    std::string row;
    std::size_t entry = 0;  ///< index into entries_
    std::int64_t produced_ns = 0;
  };

  void log(const std::string& text) const {
    if (config_.log) config_.log(text);
  }

  bool stopping() {
    if (!stop_seen_ && config_.should_stop && config_.should_stop()) stop_seen_ = SteadyClock::now();
    return stop_seen_.has_value();
  }

  /// Waits for ClickHouse (it may start after us), then creates or checks the tables.
  Expected<void> prepare_tables() {
    auto delay = config_.retry_first;
    for (;;) {
      if (config_.apply_schema) {
        auto applied = apply_schema(*client_, config_.database);
        if (applied) break;
        if (client_->ping()) return applied;  // it answers, and refuses the schema: a real error
        log("logger: " + applied.error().message + "; retrying in " + std::to_string(delay.count()) + " ms");
      } else {
        auto r = client_->query("SELECT name FROM system.tables WHERE database = '" + config_.database +
                                "' FORMAT TabSeparated");
        if (r && r->ok()) {
          std::string missing;
          for (std::size_t t = 0; t < kTableCount; ++t) {
            const std::string name(table_name(static_cast<Table>(t)));
            if (("\n" + r->body).find("\n" + name + "\n") == std::string::npos) missing += " " + name;
          }
          if (!missing.empty()) {
            return make_error("logger: ClickHouse at " + config_.clickhouse.url + " has no table(s)" + missing +
                              " in database " + config_.database +
                              " (create them with --apply-schema, from config/clickhouse/schema.sql)");
          }
          break;
        }
        if (r) return make_error("logger: ClickHouse at " + config_.clickhouse.url + ": " + r->describe());
        log("logger: " + r.error().message + "; retrying in " + std::to_string(delay.count()) + " ms");
      }
      if (stopping()) return make_error("logger: stopped before ClickHouse at " + config_.clickhouse.url + " answered");
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, config_.retry_max);
    }
    return {};
  }

  void add(stream::Entry entry) {
    const std::uint64_t logged_ms = static_cast<std::uint64_t>(wall_ns() / 1'000'000);
    Conversion c = convert(entry, logged_ms);
    const std::size_t index = entries_.size();
    // When it was read, not produced: a catch-up of old entries is the
    // stream's lag, not a slow insert.
    if (index == 0) meters_.oldest->store(wall_ns());
    switch (c.kind) {
      case Conversion::Kind::Skipped: ++skipped_; break;
      case Conversion::Kind::Rejected:
        log("logger: rejected " + entry.stream + " " + entry.id.str() + ": " + c.reason + " (kept in " +
            config_.database + ".rejects)");
        [[fallthrough]];
      case Conversion::Kind::Row:
        rows_[static_cast<std::size_t>(c.table)].push_back({std::move(c.row), index, c.produced_ns});
        break;
    }
    entries_.push_back(std::move(entry));
  }

  /// Sleeps `delay` (in slices, so a stop is seen); an error once stop_grace has passed after a stop.
  Expected<void> back_off(std::chrono::milliseconds delay, const std::string& why) {
    const auto until = SteadyClock::now() + delay;
    while (SteadyClock::now() < until) {
      if (stopping() && SteadyClock::now() - *stop_seen_ >= config_.stop_grace) {
        return make_error("logger: stopping with " + std::to_string(entries_.size()) + " entries not inserted (" + why +
                          "); they stay pending in Redis and the next start logs them");
      }
      std::this_thread::sleep_for(std::min(std::chrono::milliseconds(50), config_.retry_max));
    }
    return {};
  }

  /// Inserts items[from, to) of `table`; a range ClickHouse refuses for its
  /// data is split until the refused rows are found, which go to rejects.
  Expected<void> insert(Table table, std::vector<Item>& items, std::size_t from, std::size_t to) {
    std::string body;
    for (std::size_t i = from; i < to; ++i) {
      body += items[i].row;
      body += '\n';
    }
    auto delay = config_.retry_first;
    for (int attempt = 1;; ++attempt) {
      const std::int64_t t0 = wall_ns();
      auto reply = client_->insert(config_.database, table_name(table), "JSONEachRow", body);
      meters_.duration[static_cast<std::size_t>(table)].observe(static_cast<double>(wall_ns() - t0) / 1e9);
      if (reply && reply->ok()) return {};
      if (reply && is_data_error(*reply)) {
        if (to - from > 1) {
          const std::size_t mid = from + (to - from) / 2;
          if (auto ok = insert(table, items, from, mid); !ok) return ok;
          return insert(table, items, mid, to);
        }
        const stream::Entry& e = entries_[items[from].entry];
        const std::string reason =
            "ClickHouse refused the " + std::string(table_name(table)) + " row: " + reply->describe();
        log("logger: rejected " + e.stream + " " + e.id.str() + ": " + reason);
        const auto logged_ms = static_cast<std::uint64_t>(wall_ns() / 1'000'000);
        if (table == Table::Rejects) {
          // Even the whole entry was refused: keep its id and why, without its fields.
          stream::Entry bare{e.stream, e.id, {}};
          refused_rejects_.push_back({reject_row(bare, reason, logged_ms), items[from].entry, 0});
        } else {
          rows_[static_cast<std::size_t>(Table::Rejects)].push_back(
              {reject_row(e, reason, logged_ms), items[from].entry, 0});
        }
        items[from].produced_ns = -1;  // not inserted: no lag, not counted
        return {};
      }
      ++stats_.failed_inserts;
      meters_.errors[static_cast<std::size_t>(table)].inc();
      const std::string why =
          reply ? "ClickHouse at " + config_.clickhouse.url + ": " + reply->describe() : reply.error().message;
      if (attempt == 1 || delay >= config_.retry_max) {
        log("logger: insert into " + config_.database + "." + std::string(table_name(table)) + " failed (attempt " +
            std::to_string(attempt) + "): " + why + "; nothing acknowledged, retrying in " +
            std::to_string(delay.count()) + " ms");
      }
      if (auto ok = back_off(delay, why); !ok) return ok;
      delay = std::min(delay * 2, config_.retry_max);
    }
  }

  /// Inserts every table's rows, then acknowledges the batch's entries.
  Expected<void> flush() {
    if (entries_.empty()) return {};
    for (std::size_t t = 0; t < kTableCount; ++t) {
      auto& items = rows_[t];
      if (items.empty()) continue;
      if (auto ok = insert(static_cast<Table>(t), items, 0, items.size()); !ok) return ok;
      if (t + 1 == kTableCount && !refused_rejects_.empty()) {
        // Rows the rejects table refused, as bare rows (id and reason only): cannot fail for their data.
        std::vector<Item> bare = std::move(refused_rejects_);
        refused_rejects_.clear();
        if (auto ok = insert(Table::Rejects, bare, 0, bare.size()); !ok) return ok;
        for (auto& b : bare) items.push_back(std::move(b));
      }
    }
    const std::int64_t now = wall_ns();
    for (std::size_t t = 0; t < kTableCount; ++t) {
      for (const auto& item : rows_[t]) {
        if (item.produced_ns < 0) continue;
        ++stats_.rows[t];
        meters_.rows[t].inc();
        if (item.produced_ns > 0) {
          stats_.lag.add((now - item.produced_ns) / 1000);
          meters_.lag.observe(std::max<double>(0.0, static_cast<double>(now - item.produced_ns) / 1e9));
        }
      }
    }
    auto acked = consumer_->ack(entries_);
    if (!acked) return tl::unexpected(acked.error());
    stats_.entries += static_cast<std::int64_t>(entries_.size());
    stats_.skipped += skipped_;
    ++stats_.batches;
    meters_.batches.inc();
    meters_.oldest->store(0);
    entries_.clear();
    skipped_ = 0;
    for (auto& items : rows_) items.clear();
    if (config_.on_batch) config_.on_batch(stats_);
    return {};
  }

  const LoggerConfig& config_;
  std::optional<ClickHouseClient> client_;
  std::optional<stream::Consumer> consumer_;
  std::vector<stream::Entry> entries_;  ///< the batch, acknowledged together
  std::array<std::vector<Item>, kTableCount> rows_;
  std::vector<Item> refused_rejects_;
  std::int64_t skipped_ = 0;
  std::optional<SteadyClock::time_point> stop_seen_;
  LoggerStats stats_;
  LoggerMeters meters_;
};

}  // namespace

Expected<LoggerStats> run_logger(const LoggerConfig& config) {
  Logger logger(config);
  return logger.run();
}

}  // namespace quant::logger
