-- ClickHouse tables of the stream logger (`quant logger`, src/logger).
-- Why each choice: docs/clickhouse.md. Written for ClickHouse 18.16 (Debian 12)
-- and current ClickHouse alike: no DateTime64, no TTL, no LowCardinality.
--
-- Table names are unqualified: apply with a default database, e.g.
--   quant logger --apply-schema --database quant            (creates the database too)
--   clickhouse-client --database quant --multiquery < config/clickhouse/schema.sql
--
-- Every table is a ReplacingMergeTree whose ORDER BY is one key per message:
-- a message inserted twice (the logger killed after the insert, before its
-- XACK) is one row after `FINAL` (or after the background merge). Rows are
-- de-duplicated only inside one partition, so the partition key is computed
-- from the message itself (symbol, event month), never from the insert time.
--
-- Times: `ts_ms` is the event time in Unix milliseconds UTC (Int64); `ts` is
-- the same instant to the second as DateTime('UTC'), computed by the server
-- (MATERIALIZED: never sent, not in `SELECT *`; select it by name).
-- `logged_ms` (the logger's clock when it sent the row) is the version:
-- of two copies of a message the later is kept; they are otherwise equal.

-- md:tick:<symbol>: every tick the bridge published.
CREATE TABLE IF NOT EXISTS ticks
(
    symbol      String,
    ts_ms       Int64,
    ts          DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
    bid         Nullable(Float64),
    ask         Nullable(Float64),
    last        Nullable(Float64),
    volume      Float64,
    flags       UInt32,
    stream_ms   UInt64,
    stream_seq  UInt64,
    recv_ns     Int64,
    logged_ms   UInt64
)
ENGINE = ReplacingMergeTree(logged_ms)
PARTITION BY (symbol, toYYYYMM(ts))
ORDER BY (symbol, ts_ms, stream_ms, stream_seq);

-- exec:fills, execution reports of type fill (acks and position snapshots are not trades).
CREATE TABLE IF NOT EXISTS trades
(
    symbol      String,
    ts_ms       Int64,
    ts          DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
    exec_id     String,
    cl_ord_id   String,
    side        String,
    qty         Int64,
    price       Float64,
    fee         Float64,
    cum_qty     Int64,
    leaves_qty  Int64,
    ord_status  String,
    stream_ms   UInt64,
    stream_seq  UInt64,
    recv_ns     Int64,
    logged_ms   UInt64
)
ENGINE = ReplacingMergeTree(logged_ms)
PARTITION BY (symbol, toYYYYMM(ts))
ORDER BY (symbol, ts_ms, exec_id);

-- mon:metrics: quant live's state at each bar close, per symbol.
CREATE TABLE IF NOT EXISTS metrics
(
    symbol            String,
    ts_ms             Int64,
    ts                DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
    session           String,
    equity            Float64,
    position          Int64,
    realized_pnl      Float64,
    open_pnl          Float64,
    day_start_equity  Float64,
    drawdown          Float64,
    halted            UInt8,
    stream_ms         UInt64,
    stream_seq        UInt64,
    sent_ns           Int64,
    logged_ms         UInt64
)
ENGINE = ReplacingMergeTree(logged_ms)
PARTITION BY (symbol, toYYYYMM(ts))
ORDER BY (symbol, ts_ms, session);

-- Entries the logger could not turn into a row: kept whole, so nothing is lost.
CREATE TABLE IF NOT EXISTS rejects
(
    stream      String,
    stream_ms   UInt64,
    stream_seq  UInt64,
    reason      String,
    fields      String,
    logged_ms   UInt64
)
ENGINE = ReplacingMergeTree(logged_ms)
ORDER BY (stream, stream_ms, stream_seq);
