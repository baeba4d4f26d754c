// quant: the platform's one command. Parses the command line and wires modules;
// nothing else (docs/conventions.md, "Layout").

#include <CLI/CLI.hpp>
#include <malloc.h>

#include "app_context.h"
#include "backtest_command.h"
#include "bridge_command.h"
#include "generate_command.h"
#include "bot_command.h"
#include "halt_command.h"
#include "ingest_command.h"
#include "backup_command.h"
#include "lake_command.h"
#include "live_command.h"
#include "metrics_setup.h"
#include "logger_command.h"
#include "registry_command.h"
#include "replay_command.h"
#include "serve_command.h"
#include "train_command.h"
#include "research_command.h"
#include "optimize_command.h"

namespace {
constexpr const char* kVersion = quant::app::kQuantVersion;

/// The options train, walkforward and optimize share: which instrument, which
/// bars, where the results go.
void add_research_window(CLI::App* cmd, std::string& symbol, std::string& from, std::string& to, std::string& out,
                         const std::string& out_help) {
  cmd->add_option("--symbol,-s", symbol, "a configured instrument")->required();
  cmd->add_option("--from", from, "start (inclusive): YYYY-MM-DD[THH:MM], local to the instrument");
  cmd->add_option("--to", to, "end (exclusive)");
  cmd->add_option("--out,-o", out, out_help)->required();
}

}  // namespace

// An exception that reaches main is a bug (docs/conventions.md, "Errors": what vendor libraries
// throw is caught at the adapter): std::terminate then aborts and prints it, as QUANT_CHECK would.
// NOLINTNEXTLINE(bugprone-exception-escape): see above; aborting is the intended outcome
int main(int argc, char** argv) {
  using namespace quant::app;
  // Keep freed large blocks in the process: bulk jobs (ingest, backtests) free
  // and reallocate month-sized buffers, and returning them to the kernel makes
  // every reuse pay page faults again.
  // NOLINTBEGIN(concurrency-mt-unsafe): the first thing main does, before any thread exists
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  // NOLINTEND(concurrency-mt-unsafe)
  CLI::App app{"QuantTrading: MT5 history → Parquet lake → research → live trading", "quant"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--config", global.config_path, "configuration file (default: config/quant.toml when present)");
  app.add_option("--lake", global.lake_dir, "lake directory (default: [lake] dir of the config, else ./lake)");
  app.add_flag("-q,--quiet", global.quiet, "no progress output");

  IngestArgs ingest;
  CLI::App* ing = app.add_subcommand("ingest", "import files into the lake");
  ing->add_option("--format,-f", ingest.format,
                  "mt5-bars, mt5-ticks, histdata, csv, trades, quotes, tardis-book, tardis-incremental, "
                  "binance-depth, lean")
      ->required();
  ing->add_option("--symbol,-s", ingest.symbol, "platform symbol, e.g. WIN")->required();
  ing->add_option("--tz", ingest.time_zone,
                  "zone of timestamps without offset (MT5: the broker server's zone). Default: Etc/GMT+5 for "
                  "histdata, else the instrument's zone, else UTC");
  ing->add_flag("--strict", ingest.strict, "any bad row fails the whole run and nothing is written");
  ing->add_flag("--no-bars", ingest.no_bars, "ticks/trades: do not also build 1-minute bars");
  ing->add_option("--time-format", ingest.time_format, "auto, iso8601, epoch-s, epoch-ms, epoch-us, epoch-ns")
      ->capture_default_str();
  ing->add_option("--columns", ingest.columns, "generic formats: field=column,... (column name or 0-based index)");
  ing->add_option("--delimiter", ingest.delimiter, "field separator (default: detect; 'tab' for a tab)");
  ing->add_option("--header", ingest.header, "yes or no (default: detect)");
  ing->add_option("--price-scale", ingest.price_scale, "divide prices by this")->capture_default_str();
  ing->add_option("--base-date", ingest.base_date, "YYYY-MM-DD for rows holding only a time of day");
  ing->add_option("--book-depth", ingest.book_depth, "levels kept in book snapshots")->capture_default_str();
  ing->add_flag("--replace", ingest.replace,
                "a row whose key (time) is already in the lake with other values replaces it (default: the lake's "
                "row stays and is counted as conflicting); the summary lists what was replaced");
  ing->add_flag("--generated", ingest.generated,
                "mark the rows as generated, not real data (implied for FILE when FILE.generated.json exists, "
                "as quant generate writes it); backtests on them say so");
  ing->add_flag("--json", ingest.json, "print the summary as one JSON object on stdout (docs/contracts/lake.md)");
  ing->add_option("files", ingest.files, "input files (.csv, .txt, .gz, .zip)")->required();
  ing->footer(
      "Merging: rows already in the lake win unless --replace. An MT5 export's last bar may still be forming: when it "
      "ends the series it is kept as provisional, and the next import that carries its time completes it (not a "
      "conflict). Bar files must hold 1-minute bars: a file of another timeframe (M5, H1, D1 ...) is refused and "
      "nothing of it is written.");
  ing->fallthrough();

  CLI::App* lake = app.add_subcommand("lake", "list, query, verify, back up and restore the lake");
  lake->require_subcommand(1);
  lake->fallthrough();
  LakeLsArgs ls;
  CLI::App* ls_cmd =
      lake->add_subcommand("ls", "datasets, symbols, partitions, row counts, time ranges, generated data");
  ls_cmd->add_option("--symbol,-s", ls.symbol, "only this symbol");
  ls_cmd->add_option("--dataset,-d", ls.dataset, "bars_1m, ticks, trades or book");
  ls_cmd->add_flag("--partitions,-p", ls.partitions, "one line per partition");
  ls_cmd->add_flag("--json", ls.json, "one JSON object on stdout (with generated spans and provisional bars)");
  ls_cmd->fallthrough();
  LakeQueryArgs query;
  CLI::App* query_cmd = lake->add_subcommand(
      "query", "run SQL over the views bars_1m, ticks, trades, book (each with a symbol column); CSV to stdout");
  query_cmd->add_option("sql", query.sql, "the SQL statement")->required();
  query_cmd->fallthrough();
  LakeVerifyArgs verify;
  CLI::App* verify_cmd = lake->add_subcommand(
      "verify",
      "check a symbol's data (1-minute bars, order, OHLC, grid, gaps); exit 0 passed, 1 data errors, 2 could not run");
  verify_cmd->add_option("--symbol,-s", verify.symbol, "the symbol")->required();
  verify_cmd->add_option("--examples", verify.examples, "examples shown per check")->capture_default_str();
  verify_cmd->add_flag("--json", verify.json, "the report as one JSON object on stdout (exit codes unchanged)");
  verify_cmd->fallthrough();
  LakeBarsArgs bars;
  CLI::App* bars_cmd = lake->add_subcommand("bars", "stream a symbol's bars as CSV, optionally resampled");
  bars_cmd->add_option("--symbol,-s", bars.symbol, "the symbol")->required();
  bars_cmd->add_option("--timeframe,-t", bars.timeframe, "1m, 5m, 15m, 1h, 1d ...")->capture_default_str();
  bars_cmd->add_option("--from", bars.from,
                       "start (inclusive): YYYY-MM-DD[THH:MM[:SS]][Z|±HH:MM], local to the instrument");
  bars_cmd->add_option("--to", bars.to, "end (exclusive), same form");
  bars_cmd->fallthrough();
  const auto store_options = [](CLI::App* cmd, BackupStoreArgs& a, const char* dest_flag) {
    cmd->add_option(dest_flag, a.destination,
                    "s3://BUCKET/PREFIX or a directory (default: [lake.backup] to); S3 credentials from "
                    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN");
    cmd->add_option("--endpoint", a.endpoint,
                    "S3-compatible endpoint URL, e.g. http://127.0.0.1:9000 (default: [lake.backup] endpoint, else AWS)");
    cmd->add_option("--region", a.region, "S3 signing region (default: AWS_REGION, else AWS_DEFAULT_REGION, else [lake.backup] region, us-east-1)");
    cmd->add_flag("--json", a.json, "the summary as one JSON object on stdout");
  };
  LakeBackupArgs backup_args;
  CLI::App* backup_cmd = lake->add_subcommand(
      "backup", "incremental backup of the lake to S3 or a directory: uploads only content not stored yet, then a "
                "manifest (path, size, SHA-256 of every file)");
  store_options(backup_cmd, backup_args.store, "--to");
  backup_cmd->add_option("--limit-rate", backup_args.store.limit_rate, "S3 upload limit in bytes per second (0 = none)");
  backup_cmd->add_flag("--dry-run", backup_args.dry_run, "hash and compare, upload nothing");
  backup_cmd->add_flag("--rehash", backup_args.rehash, "hash every file again (ignore <lake>/.backup-cache.json)");
  backup_cmd->fallthrough();
  LakeRestoreArgs restore_args;
  CLI::App* restore_cmd = lake->add_subcommand(
      "restore", "restore a backup into a new or empty directory; every file's SHA-256 checked before it is put in place");
  store_options(restore_cmd, restore_args.store, "--from");
  restore_cmd->add_option("--to", restore_args.target, "the directory to restore into (default: the lake, --lake or [lake] dir)");
  restore_cmd->add_option("--manifest", restore_args.manifest, "which backup (a name from quant lake backups; default: the latest)");
  restore_cmd->add_flag("--force", restore_args.force, "restore into a non-empty directory (the backup's files replaced, others kept)");
  restore_cmd->add_flag("--dry-run", restore_args.dry_run, "check the manifest and the target, download nothing");
  restore_cmd->fallthrough();
  BackupStoreArgs backups_args;
  CLI::App* backups_cmd = lake->add_subcommand("backups", "list the backups (manifests) in S3 or a directory, oldest first");
  store_options(backups_cmd, backups_args, "--from");
  backups_cmd->fallthrough();

  GenerateArgs gen;
  CLI::App* gen_cmd = app.add_subcommand(
      "generate", "write a deterministic generated market as a MetaTrader 5 bar export (labelled generated)");
  gen_cmd->add_option("--symbol,-s", gen.symbol, "a configured instrument")->capture_default_str();
  gen_cmd->add_option("--days", gen.days, "trading days")->capture_default_str();
  gen_cmd->add_option("--seed", gen.seed, "random seed")->capture_default_str();
  gen_cmd->add_option("--start", gen.start, "first calendar day, YYYY-MM-DD")->capture_default_str();
  gen_cmd->add_option("--encoding", gen.encoding, "utf-16le (as MT5 writes) or utf-8")->capture_default_str();
  gen_cmd->add_option("--out,-o", gen.out, "output file")->required();
  gen_cmd->fallthrough();

  BacktestArgs bt;
  CLI::App* bt_cmd =
      app.add_subcommand("backtest", "run a strategy over lake bars; writes trades, equity, summary and report.html");
  bt_cmd->add_option("--symbol,-s", bt.symbol, "a configured instrument")->required();
  bt_cmd->add_option("--from", bt.from, "start (inclusive): YYYY-MM-DD[THH:MM], local to the instrument");
  bt_cmd->add_option("--to", bt.to, "end (exclusive), same form");
  bt_cmd->add_option("--out,-o", bt.out, "run directory to write")->required();
  bt_cmd->add_option("--strategy", bt.strategy, "ma_breakout or sma_cross (default: [strategy] name)");
  bt_cmd->add_flag("--no-report", bt.no_report, "skip report.html");
  bt_cmd->add_flag("--generated-data", bt.generated_data, "label the run as generated (not real) data");
  bt_cmd->add_option("--data-source", bt.data_source, "where the data came from, shown in the report");
  bt_cmd->add_option("--seed", bt.seed, "generated data: the generator's seed, shown in the report");
  bt_cmd->add_option("--gate", bt.gate_dir, "gate entries with the Gatekeeper models in this directory");
  bt_cmd->add_flag("--no-compare", bt.no_compare, "gated runs: skip the ungated twin run");
  bt_cmd->add_flag("--allow-overlap", bt.allow_overlap,
                   "gated runs: allow a window that overlaps the models' training window (in-sample; the report says so)");
  bt_cmd->fallthrough();

  TrainArgs tr;
  CLI::App* tr_cmd =
      app.add_subcommand("train", "train the Gatekeeper (classifier + q10/q90) on lake bars; ONNX + manifest");
  add_research_window(tr_cmd, tr.symbol, tr.from, tr.to, tr.out, "directory for the models and manifest");
  tr_cmd->add_flag("--json", tr.json, "print the summary as one JSON object on stdout (fields: docs/research.md)");
  tr_cmd->fallthrough();

  WalkForwardArgs wf;
  CLI::App* wf_cmd = app.add_subcommand(
      "walkforward", "walk-forward: retrain the Gatekeeper fold by fold, backtest each test window, stitch the result");
  add_research_window(wf_cmd, wf.symbol, wf.from, wf.to, wf.out, "directory for the report, the folds and their models");
  wf_cmd->fallthrough();

  OptimizeArgs opt;
  CLI::App* opt_cmd = app.add_subcommand(
      "optimize", "TPE search over [[optimize.param]], each trial a walk-forward; DSR and PBO in the report");
  add_research_window(opt_cmd, opt.symbol, opt.from, opt.to, opt.out, "directory for the report and the trials' walk-forwards");
  opt_cmd->add_option("--study", opt.study, "study name (workers that share it split its trials); default <strategy>-<symbol>");
  opt_cmd->add_option("--trials", opt.trials, "finished trials the study should hold (default [optimize] trials)");
  opt_cmd->add_option("--storage", opt.storage, "a directory or redis://host:port (default [optimize] storage)");
  opt_cmd->add_flag("--nightly", opt.nightly,
                    "then register the best as the challenger and promote it if it beats the champion");
  opt_cmd->add_flag("--no-report", opt.no_report, "skip report.html");
  opt_cmd->fallthrough();

  ServeArgs sv;
  CLI::App* sv_cmd = app.add_subcommand(
      "serve", "the signal service: POST /infer and /order, /health, /ready, /models, /metrics, /admin/reload");
  sv_cmd->add_option("--bind", sv.bind, "address to listen on (default: [serve] bind, 127.0.0.1)");
  sv_cmd->add_option("--port,-p", sv.port, "port; 0 = any free port (default: [serve] port)");
  sv_cmd->add_option("--workers", sv.workers, "worker threads; 0 = one per core (default: [serve] workers)");
  sv_cmd->add_option("--models", sv.models_dir, "model directory of the first gate (overrides [[serve.gates]])");
  sv_cmd->add_option("--token-file", sv.token_file, "file holding the bearer token for /order and /admin/*");
  sv_cmd->add_option("--port-file", sv.port_file, "write the bound port to this file once listening");
  sv_cmd->fallthrough();

  BridgeArgs br;
  CLI::App* br_cmd = app.add_subcommand(
      "bridge", "the MT5 bridge: one terminal (EA or quant replay) over TCP <-> the Redis stream hub");
  br_cmd->add_option("--listen", br.listen, "host:port the terminal connects to; port 0 = any")->capture_default_str();
  br_cmd->add_option("--redis", br.redis, "Redis host:port")->capture_default_str();
  br_cmd
      ->add_option("--consumer", br.consumer,
                   "consumer name in the group bridge on exec:orders and the streams in exec:order-streams")
      ->capture_default_str();
  br_cmd->add_option("--heartbeat-ms", br.heartbeat_ms, "hb to the terminal when idle")->capture_default_str();
  br_cmd->add_option("--peer-timeout-ms", br.peer_timeout_ms, "drop a terminal silent this long")
      ->capture_default_str();
  br_cmd->add_option("--metrics", br.metrics, "serve Prometheus metrics on HOST:PORT (GET /metrics; port 0 = any free one; \"\" = off); default: [monitor] bridge");
  br_cmd->fallthrough();

  HaltArgs halt;
  CLI::App* halt_cmd = app.add_subcommand(
      "halt", "the risk:halt flag in Redis: while set, every component refuses new entries; only --clear lifts it");
  halt_cmd->add_flag("--status", halt.status, "show whether trading is halted, and why");
  halt_cmd->add_flag("--set", halt.set, "halt trading (needs --reason)");
  halt_cmd->add_flag("--clear", halt.clear, "lift the halt");
  halt_cmd->add_option("--reason", halt.reason, "why trading stops (with --set)");
  halt_cmd->add_option("--equity", halt.equity, "account equity at the halt, recorded with it (with --set)");
  halt_cmd->add_option("--by", halt.by, "who halts (with --set)")->capture_default_str();
  halt_cmd->add_option("--redis", halt.redis, "Redis host:port")->capture_default_str();
  halt_cmd->add_option("--wait", halt.wait_s, "seconds to keep retrying an unreachable Redis")->capture_default_str();
  halt_cmd->fallthrough();

  BotArgs bot;
  CLI::App* bot_cmd = app.add_subcommand(
      "bot",
      "the Telegram bot: alerts (halt, breaker near, stale feed, fills, daily summary with an equity chart) to, and "
      "commands (/status /pnl /positions /halt /resume) from, the chats in [telegram] chat_ids (docs/telegram.md)");
  bot_cmd->add_option("--redis", bot.redis, "Redis host:port")->capture_default_str();
  bot_cmd->add_option("--token-file", bot.token_file,
                      "file holding the bot token (default: [telegram] token_file, else the QUANT_TELEGRAM_TOKEN "
                      "environment variable, as [telegram] token_env names)");
  bot_cmd->add_option("--api-url", bot.api_url, "Bot API base URL (default [telegram] api_url)");
  bot_cmd->add_option("--state-file", bot.state_file, "the bot's state file (default [telegram] state_file)");
  bot_cmd->add_option("--rounds", bot.rounds, "stop after N poll rounds (0: run until SIGINT/SIGTERM)")
      ->capture_default_str();
  bot_cmd->add_option("--metrics", bot.metrics, "serve Prometheus metrics on HOST:PORT (GET /metrics; port 0 = any free one; \"\" = off); default: [monitor] bot");
  bot_cmd->fallthrough();

  RegistryArgs rg;
  CLI::App* rg_cmd = app.add_subcommand(
      "registry",
      "the model registry (MLflow's mlruns/ layout, or an MLflow server): list, show, register, promote, roll back");
  rg_cmd->require_subcommand(1);
  rg_cmd->add_option("--registry", rg.registry,
                     "directory, file: URI or MLflow server URL (default: MLFLOW_TRACKING_URI, else ./mlruns)");
  rg_cmd->fallthrough();
  CLI::App* rg_ls = rg_cmd->add_subcommand("ls", "registered models: versions, latest, aliases");
  rg_ls->fallthrough();
  CLI::App* rg_show = rg_cmd->add_subcommand(
      "show", "a model's versions (aliases, run, metrics) and alias history, or one version or alias in detail");
  rg_show->add_option("name", rg.name, "registered model name")->required();
  rg_show->add_option("target", rg.target, "a VERSION number or an ALIAS (default: the whole model)");
  rg_show->fallthrough();
  CLI::App* rg_register = rg_cmd->add_subcommand(
      "register", "register a model directory (manifest.json + ONNX) as the next version; its files are copied");
  rg_register->add_option("name", rg.name, "registered model name, e.g. gatekeeper-WIN")->required();
  rg_register->add_option("model_dir", rg.model_dir, "directory written by quant train")->required();
  rg_register->add_option("--run-id", rg.run_id, "the tracking run that produced it (its artifacts get the files)");
  rg_register->add_option("--tag", rg.tags, "version tag KEY=VALUE (repeatable)");
  rg_register->fallthrough();
  CLI::App* rg_promote = rg_cmd->add_subcommand(
      "promote", "point an alias (default champion) at a version; the decision is recorded in the alias history");
  rg_promote->add_option("name", rg.name, "registered model name")->required();
  rg_promote->add_option("version", rg.version, "the version to promote")->required();
  rg_promote->add_option("--alias", rg.alias, "the alias to move")->capture_default_str();
  rg_promote->add_option("--reason", rg.reason, "why (recorded)");
  rg_promote->add_option(
      "--decision", rg.decision,
      "the decision's numbers as a JSON object, e.g. '{\"oos_sharpe\":1.4,\"dsr\":0.97}' (recorded)");
  rg_promote->fallthrough();
  CLI::App* rg_rollback = rg_cmd->add_subcommand(
      "rollback", "point an alias back at the version it had before its last promotion (recorded)");
  rg_rollback->add_option("name", rg.name, "registered model name")->required();
  rg_rollback->add_option("--alias", rg.alias, "the alias to roll back")->capture_default_str();
  rg_rollback->add_option("--reason", rg.reason, "why (recorded)");
  rg_rollback->fallthrough();

  LiveArgs lv;
  CLI::App* lv_cmd = app.add_subcommand(
      "live",
      "the live engine: market data from the Redis hub through the backtest's strategy, gate and risk to "
      "orders for quant bridge; journaled, so a restart neither repeats nor forgets an order");
  lv_cmd->add_option("--symbols", lv.symbols, "configured instruments, e.g. WIN or WIN,WDO")
      ->required()
      ->delimiter(',');
  lv_cmd->add_option("--redis", lv.redis, "Redis host:port")->capture_default_str();
  lv_cmd->add_option("--state", lv.state, "directory of the journal (and orders.csv)")->required();
  lv_cmd->add_option("--session", lv.session, "session name: the client order id prefix")->capture_default_str();
  lv_cmd->add_option("--bars", lv.bars, "decision bars: terminal (its closed bars) or ticks (aggregated here)")
      ->capture_default_str();
  lv_cmd->add_flag("--from-start", lv.from_start,
                   "a new consumer group reads the streams from their start (default: from now)");
  lv_cmd->add_option("--gate", lv.gate_dir, "gate signals with the models in this directory");
  lv_cmd->add_option("--infer-url", lv.infer_url,
                     "run the gate's models behind quant serve, e.g. http://127.0.0.1:8080/infer (else in process)");
  lv_cmd->add_option("--infer-model", lv.infer_model, "the model name quant serve knows")->capture_default_str();
  lv_cmd->add_option("--consumer", lv.consumer, "consumer name in the group (--group)")->capture_default_str();
  lv_cmd
      ->add_option("--group", lv.group,
                   "consumer group on md:*:<SYM> and exec:fills; one per engine when several split the symbols")
      ->capture_default_str();
  lv_cmd
      ->add_option("--orders", lv.orders,
                   "order stream quant bridge reads: exec:orders, or exec:orders:<name> per engine when several "
                   "split the symbols (the bridge discovers it)")
      ->capture_default_str();
  lv_cmd->add_option("--orders-csv", lv.orders_csv,
                     "where the orders sent are written at exit (default <state>/orders.csv)");
  lv_cmd
      ->add_option("--venue", lv.venue,
                   "mt5 (orders via the --orders stream and quant bridge) or fix (the [fix] session)")
      ->capture_default_str();
  lv_cmd->add_option("--fix-store", lv.fix_store, "FIX sequence number store (default [fix] store_dir)");
  lv_cmd->add_option("--fix-connect", lv.fix_connect, "the FIX venue HOST:PORT (default [fix] host and port)");
  lv_cmd->add_option("--metrics", lv.metrics, "serve Prometheus metrics on HOST:PORT (GET /metrics; port 0 = any free one; \"\" = off); default: [monitor] live");
  lv_cmd->fallthrough();

  LoggerArgs lg;
  CLI::App* lg_cmd = app.add_subcommand(
      "logger",
      "the stream hub into ClickHouse: ticks, fills and live's metrics in batched inserts, each entry "
      "acknowledged only once its insert is confirmed (exactly once after FINAL, whatever is killed)");
  lg_cmd->add_option("--redis", lg.redis, "Redis host:port")->capture_default_str();
  lg_cmd->add_option("--clickhouse", lg.clickhouse, "ClickHouse HTTP interface URL")->capture_default_str();
  lg_cmd->add_option("--database", lg.database, "ClickHouse database of the tables")->capture_default_str();
  lg_cmd->add_option("--user", lg.user, "ClickHouse user (password from the CLICKHOUSE_PASSWORD environment variable)");
  lg_cmd->add_option("--symbols", lg.symbols, "whose md:tick:<SYM> to log (default: every configured instrument)")
      ->delimiter(',');
  lg_cmd->add_option("--batch-rows", lg.batch_rows, "insert once this many entries wait ...")->capture_default_str();
  lg_cmd->add_option("--batch-ms", lg.batch_ms, "... or this long after the batch's first entry")
      ->capture_default_str();
  lg_cmd->add_flag("--apply-schema", lg.apply_schema,
                   "create the database and tables first (config/clickhouse/schema.sql; idempotent)");
  lg_cmd->add_option("--group", lg.group, "the consumer group (each group gets every entry once)")
      ->capture_default_str();
  lg_cmd->add_option("--consumer", lg.consumer, "consumer name in the group (keep it across restarts)")
      ->capture_default_str();
  lg_cmd->add_flag("--from-now", lg.from_now, "a new consumer group skips what the streams already hold");
  lg_cmd->add_flag("--drain", lg.drain, "exit once everything the streams hold is inserted (a backfill)");
  lg_cmd->add_option("--progress", lg.progress_s, "seconds between progress lines on stderr")->capture_default_str();
  lg_cmd->add_option("--timeout-ms", lg.timeout_ms, "one HTTP request to ClickHouse")->capture_default_str();
  lg_cmd->add_option("--metrics", lg.metrics, "serve Prometheus metrics on HOST:PORT (GET /metrics; port 0 = any free one; \"\" = off); default: [monitor] logger");
  lg_cmd->fallthrough();

  ReplayArgs rp;
  CLI::App* rp_cmd = app.add_subcommand(
      "replay",
      "a simulated MT5 terminal: replays lake bars (or trades as ticks) to the platform over the bridge "
      "protocol and fills its orders like the backtest");
  rp_cmd->add_option("--symbols", rp.symbols, "configured instruments, e.g. WIN or WIN,WDO")->required();
  rp_cmd->add_option("--from", rp.from, "start (inclusive): YYYY-MM-DD[THH:MM], local to the first instrument");
  rp_cmd->add_option("--to", rp.to, "end (exclusive), same form");
  rp_cmd->add_option("--connect", rp.connect, "the platform's bridge address HOST:PORT")->capture_default_str();
  rp_cmd->add_option("--mode", rp.mode, "bars, or ticks (the lake's trades replayed as ticks)")->capture_default_str();
  rp_cmd->add_option("--speed", rp.speed, "N x real time by event time; 0 = as fast as possible")
      ->capture_default_str();
  rp_cmd->add_flag("--lockstep", rp.lockstep, "wait for the platform's mark after each tick and bar");
  rp_cmd->add_option("--state", rp.state_dir, "directory of the durable journal (survives kill -9)");
  rp_cmd->add_option("--server-utc-offset", rp.server_utc_offset_s, "trade server's UTC offset in seconds (hello)")
      ->capture_default_str();
  rp_cmd->add_option("--venue", rp.venue,
                     "mt5 (orders over the bridge) or fix (a FIX 4.4 acceptor on [fix] port takes them: a simulated exchange)")
      ->capture_default_str();
  rp_cmd->add_option("--fix-store", rp.fix_store, "FIX sequence number store (default <[fix] store_dir>/exchange)");
  rp_cmd->add_option("--fix-port", rp.fix_port, "the FIX acceptor's port (default [fix] port)");
  rp_cmd->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*ing) return run_ingest(global, ingest);
  if (*gen_cmd) return run_generate(global, gen);
  if (*bt_cmd) return run_backtest_command(global, bt);
  if (*tr_cmd) return run_train(global, tr);
  if (*wf_cmd) return run_walkforward_command(global, wf);
  if (*opt_cmd) return run_optimize_command(global, opt);
  if (*sv_cmd) return run_serve(global, sv);
  if (*halt_cmd) return run_halt(global, halt);
  if (*bot_cmd) return run_bot_command(global, bot);
  if (*rg_cmd) {
    if (*rg_show) rg.action = RegistryArgs::Action::Show;
    if (*rg_register) rg.action = RegistryArgs::Action::Register;
    if (*rg_promote) rg.action = RegistryArgs::Action::Promote;
    if (*rg_rollback) rg.action = RegistryArgs::Action::Rollback;
    return run_registry(global, rg);
  }
  if (*lv_cmd) return run_live_command(global, lv);
  if (*rp_cmd) return run_replay_command(global, rp);
  if (*lg_cmd) return run_logger_command(global, lg);
  if (*br_cmd) return run_bridge(global, br);
  if (*ls_cmd) return run_lake_ls(global, ls);
  if (*query_cmd) return run_lake_query(global, query);
  if (*verify_cmd) return run_lake_verify(global, verify);
  if (*bars_cmd) return run_lake_bars(global, bars);
  if (*backup_cmd) return run_lake_backup(global, backup_args);
  if (*restore_cmd) return run_lake_restore(global, restore_args);
  if (*backups_cmd) return run_lake_backups(global, backups_args);
  return 1;
}
