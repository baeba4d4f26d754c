#pragma once
/// Typed configuration built from TOML text (docs/conventions.md, "Configuration").
///
/// `apps/` reads the file and hands its text here; this module never touches
/// the file system or the environment. Every table is checked against the keys
/// it knows: an unknown key is an error that names it with its path
/// (e.g. "quant.toml: unknown key 'instruments.WIN.tick'"), so a typo never
/// silently falls back to a default. Defaults live in the structs.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "backtest/backtest.h"
#include "core/calendar.h"
#include "core/error.h"
#include "core/instrument.h"
#include "strategy/strategy_config.h"

namespace quant::config {

/// `[lake]`
struct LakeConfig {
  std::string dir = "lake";          ///< relative paths resolve against the working directory
  int threads = 0;                   ///< DuckDB threads; 0 = DuckDB's default (all cores)
  std::string memory_limit;          ///< DuckDB memory limit such as "4GB"; empty = DuckDB's default
  std::string compression = "zstd";  ///< Parquet compression of new partitions: zstd, lz4_raw, snappy, uncompressed
  /// What `quant ingest` may hold, in MiB (0: no bound): a quarter for the
  /// ticks/trades/book records a writer buffers, half for DuckDB (unless
  /// memory_limit is set; at least 64 MiB), which spills beyond it into
  /// <lake>/.tmp, an eighth for parsed batches waiting to be written.
  int memory_budget_mb = 512;
  /// `[lake.backup]`: where `quant lake backup` sends the lake by default
  /// (docs/backup.md). Credentials never live here: AWS_ACCESS_KEY_ID,
  /// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) come from the environment.
  struct Backup {
    std::string to;        ///< "s3://bucket/prefix" or a directory; empty = give --to
    std::string endpoint;  ///< S3-compatible endpoint URL; empty = AWS (https://s3.<region>.amazonaws.com)
    std::string region = "us-east-1";
  } backup;
};

/// `[backtest]`, `[strategy]`, `[strategy.ma_breakout]` (with its `book_imbalance` table),
/// `[strategy.sma_cross]`, `[risk]`.
struct BacktestSettings {
  backtest::BacktestConfig backtest;  ///< includes the engine and risk settings
  strategy::StrategyConfig strategy;
  /// `[backtest] parquet_above_bars`: with equity_output "bar", a run over more
  /// bars than this writes equity.parquet instead of equity.csv (0: always CSV).
  int parquet_above_bars = 1'000'000;
  /// `[risk.target_points_by_symbol]`: the profit target per instrument (price
  /// points), overriding `[risk] target_points` (100 suits WIN, not EURUSD).
  std::map<std::string, double> target_points_by_symbol;
  /// The target for `symbol`: its override, else risk.target_points.
  double target_points(const std::string& symbol) const {
    auto it = target_points_by_symbol.find(symbol);
    return it != target_points_by_symbol.end() ? it->second : backtest.risk.target_points;
  }
};

/// `[train]`: `quant train` (the Gatekeeper's models).
struct TrainSettings {
  /// Shares of the labelled trades (in time order) for the segments after
  /// training: early stopping, conformal calibration, the out-of-sample test.
  double early_stopping_share = 0.15;
  double calibration_share = 0.15;
  double test_share = 0.15;
  double interval_miss = 0.1;  ///< target share below q10 and above q90 each
  int embargo_bars = 60;
  int hmm_states = 3;  ///< HMM regime features; 0 = none
  int rounds = 300;
  int max_leaves = 31;
  double eta = 0.05;
  int early_stopping_rounds = 30;
  int seed = 42;
};

/// `[walkforward]`: windows in trading sessions (research/walkforward.h).
struct WalkForwardSettings {
  bool expanding = false;  ///< mode = "rolling" | "expanding"
  int train_sessions = 40;
  int early_stopping_sessions = 8;
  int validation_sessions = 10;
  int test_sessions = 10;
  int step_sessions = 10;
  std::vector<double> p_min_grid = {0.40, 0.45, 0.50, 0.55, 0.60, 0.65};
  int min_validation_trades = 5;
};

/// One searched parameter of `[[optimize.param]]`.
struct SearchParam {
  std::string name;  ///< e.g. "ma_breakout.fast", "train.eta" (the list: docs/research.md)
  std::string type;  ///< "int" | "float" | "categorical"
  double low = 0, high = 0;
  bool log = false;
  double step = 0;  ///< int: 0 = 1
  std::vector<std::string> choices;
};

/// `[optimize]`: the hyper-parameter search and the promotion rule.
struct OptimizeSettings {
  int trials = 50;
  std::int64_t seed = 42;
  /// Where studies live: a directory (file journals, one per study) or
  /// "redis://host:port" (shared by workers on several machines).
  std::string storage = "state/studies";
  bool prune = true;                 ///< median pruner over walk-forward folds
  int stale_seconds = 120;           ///< a running trial without a heartbeat this long is retried
  std::vector<SearchParam> space;    ///< empty: the default space (docs/research.md)
  std::string model_name;            ///< registered model; empty: "gatekeeper-<symbol>"
  double promote_margin = 0.0;       ///< challenger's OOS Sharpe must beat the champion's by this (daily Sharpe units)
  double promote_min_dsr = 0.5;      ///< and its deflated Sharpe ratio must reach this
  std::string registry = "mlruns";   ///< the registry (MLflow layout) when MLFLOW_TRACKING_URI is not set
};

/// `[gate]`: the Gatekeeper in the backtest's signal path (strategy.ma_breakout.model_gate).
struct GateSettings {
  std::string model_dir = "models/gatekeeper";  ///< where quant train wrote the models
  double p_min = 0.5;                           ///< minimum probability that the trade nets a profit (the label)
  bool use_quantiles = true;                    ///< also require q90 ≥ target and q10 ≥ −stop
  /// strategy.ma_breakout.hmm_filter: entries only in these HMM regimes
  /// (0 = the calmest of the fitted states), with at least this probability.
  std::vector<int> hmm_allowed_states = {0, 1};
  double hmm_min_probability = 0.5;
};

/// `[[serve.gates]]`: one model of the signal service's gate chain, applied in
/// the order listed. `dir` is a directory written by `quant train`; or
/// `registry` (an MLflow file-store root) + `alias` (e.g. "champion") name it
/// through the model registry, resolved again at every reload.
/// `/infer`'s `pass` is `model::judge` (the backtest's gate rule) with this
/// gate's `p_min` and `use_quantiles`; a key left out takes `[gate]`'s value.
struct GateModelSettings {
  std::string name;  ///< the `model` of /infer requests; unique
  std::string dir;   ///< exactly one of dir / registry
  std::string registry;
  std::string alias = "champion";
  double p_min = 0.5;         ///< prob >= p_min; default: [gate] p_min
  bool use_quantiles = true;  ///< also q90 >= target and q10 >= -stop; default: [gate] use_quantiles
};

/// `[serve.paper]`: the paper venue behind `POST /order` (the simulated venue
/// on the lake's latest bars, polled).
struct PaperSettings {
  std::vector<std::string> symbols;  ///< instruments tradable through /order (need [instruments.X])
  double equity = 100000;            ///< account currency
  int poll_ms = 1000;                ///< how often the lake is read for new bars
  int atr_period = 14;
  /// Every order decision, trade, risk event and day of the desk, one JSON
  /// object per line (appended); relative to the working directory; "" = none.
  std::string audit_log = "logs/paper_desk.audit.jsonl";
  /// The orders taken (client_order_id, body, reply), fsynced before the
  /// answer: a client retrying after a restart gets the same answer, not a
  /// second order. Empty = none.
  std::string journal = "state/paper_desk.journal.jsonl";
  /// "wall": orders are stamped by the wall clock (live prices); "bars": by
  /// the close of the latest bar (paper trading on a replay of history).
  std::string clock = "wall";
};

/// `[serve]`: `quant serve`, the signal service (docs/contracts/serve_api.md).
/// The bearer token is never configured here: only where to read it from.
struct ServeSettings {
  std::string bind = "127.0.0.1";  ///< loopback by default: expose deliberately
  int port = 8080;                 ///< 0 = any free port
  int workers = 0;                 ///< threads; 0 = one per core
  int max_body_bytes = 65536;      ///< larger bodies: 413
  int request_timeout_ms = 5000;   ///< a request must arrive completely within this (slow clients: 408)
  int idle_timeout_ms = 60000;     ///< idle keep-alive connections are closed after this
  int busy_poll_us = 50;           ///< a worker polls this long after work before sleeping; 0 = off
  /// On SIGTERM/SIGINT: how long requests already received may take to be
  /// answered before the remaining connections are cut; 0 = do not wait.
  int drain_timeout_ms = 10000;
  std::string token_env = "QUANT_SERVE_TOKEN";  ///< environment variable holding the bearer token
  std::string token_file;                       ///< or a file holding it (read at start)
  PaperSettings paper;
  std::vector<GateModelSettings> gates;
};

/// `[fix]`: the FIX 4.4 session of `quant live --venue fix` (the platform
/// connects) and of `quant replay --venue fix` (the simulated exchange
/// listens, with the comp ids swapped). docs/contracts/fix.md.
struct FixSettings {
  std::string host = "127.0.0.1";      ///< where the venue listens
  int port = 9878;
  std::string sender_comp_id = "QUANT";  ///< ours (49 of what the platform sends)
  std::string target_comp_id = "B3SIM";  ///< the venue's
  int heartbeat_s = 30;                  ///< HeartBtInt
  int reconnect_s = 5;                   ///< seconds between connection attempts
  std::string store_dir = "state/fix";   ///< FileStore: sequence numbers and sent messages (resend)
  std::string log_dir;                   ///< every message in and out; "" = no log
  /// The data dictionary; a relative path is relative to the configuration file's directory.
  std::string dictionary = "fix/FIX44.xml";
  std::string account;          ///< 1 Account
  std::string entering_trader;  ///< Parties: PartyRole 36
  std::string entering_firm;    ///< PartyRole 7
  std::string sender_location;  ///< PartyRole 54
  std::string security_exchange = "BVMF";  ///< 207
};

/// `[telegram]`: `quant bot`, the Telegram bot (docs/telegram.md). The bot
/// token is never configured here: only where to read it from.
struct TelegramSettings {
  std::string api_url = "https://api.telegram.org";  ///< the Bot API (tests: a local stand-in)
  std::vector<std::int64_t> chat_ids;  ///< the allow-list: commands accepted from, alerts sent to
  std::string token_env = "QUANT_TELEGRAM_TOKEN";  ///< environment variable holding the token
  std::string token_file;                          ///< or a file holding it (`quant bot --token-file` overrides)
  std::vector<std::string> symbols;  ///< instruments watched (feed staleness, /status rows)
  double breaker_near_fraction = 0.7;  ///< alert when drawdown ≤ this × live's breaker (−daily_loss_pct)
  int stale_seconds = 120;             ///< no market data this long in an open session: stale
  std::chrono::minutes summary_time{18 * 60 + 45};  ///< "HH:MM", local to time_zone
  std::string time_zone = "America/Sao_Paulo";
  std::string state_file = "state/telegram_bot.json";
  int poll_seconds = 2;      ///< getUpdates long-poll timeout: also the alerts' cadence
  bool fill_alerts = true;   ///< one message per fill
  std::string group = "telegram";  ///< the bot's consumer group on exec:fills
  /// Prometheus whose firing alerts are forwarded ("" = none), and the rules
  /// not forwarded (the bot raises those itself from the hub).
  std::string prometheus_url;
  std::vector<std::string> prometheus_skip = {"HaltRaised", "DrawdownNearBreaker", "FeedStale"};
};

/// `[monitor]`: where each long-running command serves its Prometheus
/// metrics (`GET /metrics`), "HOST:PORT"; "" = not served. `--metrics`
/// overrides. (`quant serve` has its own /metrics on its port.) The ports
/// config/prometheus/prometheus.yml scrapes: live 9101, bridge 9102, logger
/// 9103, bot 9104 (docs/monitoring.md).
struct MonitorSettings {
  std::string live;
  std::string bridge;
  std::string logger;
  std::string bot;
};

/// The whole file.
struct AppConfig {
  LakeConfig lake;
  /// `[calendars.<NAME>]`: exchange calendars (no-trading days, special
  /// sessions, dated hour schedules). Validated: dates are real YYYY-MM-DD
  /// dates listed once, a special session falls on a trading day and leaves a
  /// non-empty session under every schedule, schedules are non-empty with
  /// strictly increasing `from`.
  std::map<std::string, ExchangeCalendar> calendars;
  /// `[instruments.<SYMBOL>]` tables. An instrument with `calendar = "B3"`
  /// (and `hours = "<schedule>"` when the calendar has several) carries the
  /// resolved `InstrumentSpec::calendar`; it may not set `session` or
  /// `weekdays`, and its `time_zone` defaults to (and must equal) the calendar's.
  InstrumentRegistry instruments;
  BacktestSettings backtest;
  TrainSettings train;
  GateSettings gate;
  WalkForwardSettings walkforward;
  OptimizeSettings optimize;
  ServeSettings serve;
  FixSettings fix;
  TelegramSettings telegram;
  MonitorSettings monitor;
};

/// Parses and validates TOML text. `source` names the file in messages.
Expected<AppConfig> parse_config(std::string_view toml_text, std::string_view source);

/// Parses "HH:MM" into minutes after midnight.
Expected<std::chrono::minutes> parse_clock(std::string_view text);

}  // namespace quant::config
