#include "backtest_command.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "backtest/backtest.h"
#include "backtest/csv_output.h"
#include "gate/model_gate.h"
#include "lake/lake.h"
#include "lake/lake_feed.h"
#include "lake/order_flow_reader.h"
#include "model/gatekeeper.h"
#include "report/report.h"
#include "signal_path.h"
#include "strategy/book_imbalance_filter.h"
#include "strategy/regime_filter.h"
#include "strategy/strategy_config.h"
#include "train_command.h"

namespace quant::app {

namespace {
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The order flow of the backtest window for the book-imbalance filter, read
/// from the lake; fails saying what to ingest when the lake has none.
Expected<std::shared_ptr<const features::ImbalanceSeries>> read_order_flow(lake::Lake& lake, const std::string& root,
                                                                           const BacktestArgs& args, Timestamp from,
                                                                           Timestamp to,
                                                                           const strategy::BookImbalanceConfig& config,
                                                                           const InstrumentSpec& spec) {
  lake::ImbalanceRequest request;
  request.symbol = args.symbol;
  request.from = from;
  request.to = to;
  if (config.source == strategy::ImbalanceData::Book) request.source = features::OrderFlowSource::Book;
  if (config.source == strategy::ImbalanceData::Trades) request.source = features::OrderFlowSource::Trades;
  request.sampler = strategy::order_flow_config(config, features::OrderFlowSource::Book, spec.tick_size);
  auto series = lake::read_imbalance_series(lake, request);
  if (!series) return make_error("backtest: book_imbalance filter: " + series.error().message);
  const bool book = series->source == features::OrderFlowSource::Book;
  if ((book ? series->counts.snapshots : series->counts.trades) == 0) {
    const std::string window =
        (args.from.empty() ? "the start" : args.from) + " .. " + (args.to.empty() ? "the end" : args.to);
    const std::string trades_hint = "quant ingest -f trades -s " + args.symbol + " FILE (time and sales)";
    const std::string book_hint = "quant ingest -f tardis-book -s " + args.symbol +
                                  " FILE (L2 snapshots; also tardis-incremental, binance-depth)";
    std::string what, hint;
    switch (config.source) {
      case strategy::ImbalanceData::Auto:
        what = "no order-book snapshots and no trades";
        hint = trades_hint + " or " + book_hint;
        break;
      case strategy::ImbalanceData::Book:
        what = "no order-book snapshots (book_imbalance.source = \"book\")";
        hint = book_hint;
        break;
      case strategy::ImbalanceData::Trades:
        what = "no trades (book_imbalance.source = \"trades\")";
        hint = trades_hint;
        break;
    }
    return make_error("backtest: strategy.ma_breakout.book_imbalance_filter is on, but the lake " + root + " has " +
                      what + " of " + args.symbol + " for " + window + ": ingest them first: " + hint +
                      ", or switch the filter off");
  }
  return std::shared_ptr<const features::ImbalanceSeries>(
      std::make_shared<features::ImbalanceSeries>(std::move(*series)));
}

/// The window the models' fitted quantities saw: [train_start, fit_end]
/// (fit_end: the calibration segment's end; older manifests: train_end).
Expected<std::pair<Timestamp, Timestamp>> fitted_window(const model::Manifest& manifest) {
  const TimeZone utc = TimeZone::utc();
  auto start = parse_time_arg(manifest.train_start, utc);
  if (!start) return make_error("train_start: " + start.error().message);
  std::string end_text = manifest.train_end;
  if (manifest.params.contains("split") && manifest.params["split"].contains("fit_end") &&
      manifest.params["split"]["fit_end"].is_string()) {
    end_text = manifest.params["split"]["fit_end"].get<std::string>();
  }
  auto end = parse_time_arg(end_text, utc);
  if (!end) return make_error("fit end: " + end.error().message);
  return std::pair{*start, *end};
}

}  // namespace

int run_backtest_command(const GlobalOptions& global, const BacktestArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  const std::string config_source = locate_config(global).path;
  auto found = find_instrument(global, *cfg, args.symbol, "backtest");
  if (!found) return fail(found.error().message);
  const InstrumentSpec* spec = *found;
  if (args.out.empty()) return fail("backtest: --out DIR is required");
  auto zone = TimeZone::find(spec->time_zone);
  if (!zone) return fail(zone.error().message);
  auto range = parse_range(args.from, args.to, *zone);
  if (!range) return fail(range.error().message);
  const Timestamp from = range->from, to = range->to;

  const std::string root = lake_dir(global, *cfg);
  auto lk = open_existing_lake(global, *cfg);
  if (!lk) return fail(lk.error().message);
  auto parts = (*lk)->partitions(lake::Dataset::Bars1m, args.symbol);
  if (!parts) return fail(parts.error().message);
  if (parts->empty()) {
    return fail("backtest: no 1-minute bars for " + args.symbol + " in the lake " + root +
                " (ingest them first: quant ingest --format mt5-bars --symbol " + args.symbol + " FILE)");
  }

  config::BacktestSettings settings = cfg->backtest;
  if (!args.strategy.empty()) settings.strategy.name = args.strategy;
  // The order-book imbalance filter, first in the chain: each bar's order flow
  // (book, else trades) computed from the lake before the run, in bounded memory.
  const bool imbalance_filtered =
      settings.strategy.name == "ma_breakout" && settings.strategy.ma_breakout.book_imbalance_filter;
  const strategy::BookImbalanceConfig& imbalance_config = settings.strategy.ma_breakout.book_imbalance;
  std::shared_ptr<const features::ImbalanceSeries> imbalance;
  const strategy::BookImbalanceFilter* imbalance_filter = nullptr;
  std::unique_ptr<strategy::SignalFilter> first_filter;
  if (imbalance_filtered) {
    auto series = read_order_flow(**lk, root, args, from, to, imbalance_config, *spec);
    if (!series) return fail(series.error().message);
    imbalance = *series;
    auto filter = std::make_unique<strategy::BookImbalanceFilter>(
        imbalance_config, std::make_unique<strategy::SeriesImbalanceSource>(imbalance));
    imbalance_filter = filter.get();
    first_filter = std::move(filter);
  }
  const std::string model_dir = args.gate_dir.empty() ? cfg->gate.model_dir : args.gate_dir;
  auto path = build_signal_path(*cfg, settings, *spec, args.gate_dir, "backtest", std::move(first_filter));
  if (!path) return fail(path.error().message);
  auto& strategy = path->strategy;
  auto& model_gate = path->model_gate;
  auto& gate_manifest = path->manifest;
  auto& make_regime_filter = path->make_regime_filter;
  backtest::BacktestConfig bt = path->settings;
  // A long run's per-bar equity goes to Parquet: the bars the lake holds in
  // the months the run covers, from the partitions' statistics.
  std::int64_t window_bars = 0;
  for (const auto& p : *parts) {
    if (p.first_ts < to && p.last_ts >= from) window_bars += p.rows;
  }
  bt.equity_parquet = settings.parquet_above_bars > 0 && window_bars > settings.parquet_above_bars;

  // A gated run on the models' own training data is in-sample: refused unless asked for.
  std::string overlap;
  if (gate_manifest) {
    auto window = fitted_window(*gate_manifest);
    if (!window) return fail("backtest: " + model_dir + "/manifest.json: " + window.error().message);
    if (from < window->second && to > window->first) {
      overlap = "the models were fitted on " + format_utc(window->first) + " .. " + format_utc(window->second) +
                ", the backtest asks for " + (args.from.empty() ? std::string("the start of the data") : args.from) +
                " .. " + (args.to.empty() ? std::string("the end of the data") : args.to);
      if (!args.allow_overlap) {
        return fail("backtest: " + overlap +
                    ": a gated backtest on the models' training window is in-sample. Start after the fitted window "
                    "(--from " + format_utc(window->second) + "), or pass --allow-overlap to run it anyway (the "
                    "report says so)");
      }
      if (!global.quiet) std::fprintf(stderr, "[backtest] warning: %s (--allow-overlap)\n", overlap.c_str());
    }
  }

  auto stream = (*lk)->stream_bars(args.symbol, from, to, 16384);
  if (!stream) return fail(stream.error().message);
  lake::LakeFeed feed(std::move(*stream));

  backtest::RunMeta meta;
  meta.symbol = args.symbol;
  meta.strategy = settings.strategy.name;
  meta.generated_data = args.generated_data || lake_has_generated_bars(**lk, args.symbol, from, to);
  meta.seed = args.seed;
  meta.data_source = args.data_source.empty() ? "lake " + root : args.data_source;
  meta.config_text = config_source.empty() ? std::string() : read_text(config_source);

  const bool quiet = global.quiet;
  Progress progress("backtest " + args.symbol, quiet);
  // Progress by data time: the share of the window the bars have reached.
  const Timestamp span_from = std::max(from, parts->front().first_ts);
  const Timestamp span_to = std::min(to, parts->back().last_ts + kMinute);
  auto minutes = [](Duration d) { return static_cast<std::uint64_t>(std::max<std::int64_t>(0, d / kMinute)); };
  auto result = backtest::run_backtest(
      bt, *spec, *strategy, feed, args.out, meta,
      [&](std::int64_t bars, Timestamp ts) { progress.update(minutes(ts - span_from), minutes(span_to - span_from), bars); },
      model_gate.get());
  progress.finish();
  if (!result) {
    if (result.error().message.find("no bars") != std::string::npos) {
      const auto& first = parts->front();
      const auto& last = parts->back();
      return fail("backtest: no bars for " + args.symbol + " between " + (args.from.empty() ? "the start" : args.from) +
                  " and " + (args.to.empty() ? "the end" : args.to) + " (the lake holds " + format_utc(first.first_ts) +
                  " .. " + format_utc(last.last_ts) + ")");
    }
    return fail(result.error().message);
  }
  const auto& s = result->summary;
  std::printf("%s %s: %lld bars %s .. %s in %.2f s (%.0f bars/s)\n", settings.strategy.name.c_str(),
              args.symbol.c_str(), static_cast<long long>(result->bars), format_utc(result->first_bar).c_str(),
              format_utc(result->last_bar + kMinute).c_str(), result->seconds, result->bars_per_second);
  std::printf(
      "  trades %lld, win rate %.1f %%, net PnL %.2f %s (fees %.2f), max drawdown %.2f (%.2f %%), Sharpe %.2f\n",
      static_cast<long long>(s.trades), 100 * s.win_rate, s.net_pnl, spec->currency.c_str(), s.fees, s.max_drawdown,
      100 * s.max_drawdown_pct, s.sharpe);
  std::printf("  final equity %.2f; outputs in %s\n", result->final_equity, args.out.c_str());
  if (imbalance_filter != nullptr) {
    const auto& st = imbalance_filter->stats();
    const auto& c = imbalance->counts;
    if (imbalance->source == features::OrderFlowSource::Book) {
      std::printf("  book_imbalance: order book, %lld snapshots (%lld one-sided or empty), depth %d, max age %d s\n",
                  static_cast<long long>(c.snapshots), static_cast<long long>(c.unusable_snapshots),
                  imbalance_config.depth, imbalance_config.max_book_age_seconds);
    } else {
      std::printf("  book_imbalance: trade flow, %lld trades (%lld by aggressor, %lld by tick rule, %lld unsigned)\n",
                  static_cast<long long>(c.trades), static_cast<long long>(c.trades_by_aggressor),
                  static_cast<long long>(c.trades_by_tick_rule), static_cast<long long>(c.trades_unclassified));
    }
    std::printf(
        "  book_imbalance: %lld of %lld bars with a value; %lld entries at threshold %.2f: %lld passed, "
        "%lld blocked against the flow, %lld without data (%s)\n",
        static_cast<long long>(st.bars_with_data), static_cast<long long>(st.bars), static_cast<long long>(st.entries),
        imbalance_config.threshold, static_cast<long long>(st.passed), static_cast<long long>(st.blocked),
        static_cast<long long>(st.missing_blocked) + static_cast<long long>(st.missing_passed),
        imbalance_config.on_missing == strategy::MissingImbalance::Block ? "blocked" : "allowed");
  }
  if (model_gate != nullptr) {
    // The gate's judgements and the models' validation metrics, for the report.
    std::FILE* f = std::fopen((args.out + "/gate.csv").c_str(), "wb");
    if (f == nullptr) return fail("backtest: cannot write " + args.out + "/gate.csv");
    std::fprintf(f, "ts,side,prob,q10,q90,target,stop,allowed,reason\n");
    std::int64_t allowed = 0;
    for (const auto& r : model_gate->records()) {
      allowed += r.allowed;
      // Points in the instrument's precision and two more digits (EURUSD's 0.00012, not 0.0001).
      const int d = backtest::price_decimals(spec->tick_size) + 2;
      std::fprintf(f, "%s,%s,%.6f,%.*f,%.*f,%.*f,%.*f,%d,%s\n", format_utc(r.ts).c_str(),
                   r.side == Side::Buy ? "long" : "short", static_cast<double>(r.prob), d, static_cast<double>(r.q10),
                   d, static_cast<double>(r.q90), d, r.target, d, r.stop, r.allowed ? 1 : 0, r.reason);
    }
    const bool write_failed = std::ferror(f) != 0;
    if (std::fclose(f) != 0 || write_failed) return fail("backtest: write failed for " + args.out + "/gate.csv");
    nlohmann::json mm = gate_manifest->metrics;
    if (mm.contains("coverage") && mm["coverage"].contains("below_q10")) {
      const auto c = mm["coverage"];  // the report contract's names
      mm["coverage"] = {{"below_lower", c["below_q10"]}, {"above_upper", c["above_q90"]}, {"inside", c["inside"]}};
    }
    mm["p_min"] = cfg->gate.p_min;
    if (!overlap.empty()) mm["overlap"] = overlap;
    mm["model_dir"] = model_dir;
    mm["manifest_hash"] = gate_manifest->features.hash;
    std::ofstream metrics_file(args.out + "/model_metrics.json");
    metrics_file << mm.dump(2) << '\n';
    metrics_file.close();
    if (!metrics_file) return fail("backtest: write failed for " + args.out + "/model_metrics.json");
    std::printf("  gate: %lld of %zu signals passed (p_min %.2f%s)\n", static_cast<long long>(allowed),
                model_gate->records().size(), cfg->gate.p_min,
                cfg->gate.use_quantiles ? ", q90 ≥ target, q10 ≥ −stop" : "");
    if (!args.no_compare) {
      // The same run without the gate, side by side in the report.
      auto plain_strategy = strategy::make_strategy(settings.strategy, *spec);
      if (!plain_strategy) return fail(plain_strategy.error().message);
      if (imbalance_filtered) {
        (*plain_strategy)
            ->add_filter(std::make_unique<strategy::BookImbalanceFilter>(
                imbalance_config, std::make_unique<strategy::SeriesImbalanceSource>(imbalance)));
      }
      if (make_regime_filter) (*plain_strategy)->add_filter(make_regime_filter());
      auto plain_stream = (*lk)->stream_bars(args.symbol, from, to, 16384);
      if (!plain_stream) return fail(plain_stream.error().message);
      lake::LakeFeed plain_feed(std::move(*plain_stream));
      auto plain = backtest::run_backtest(bt, *spec, **plain_strategy, plain_feed, args.out + "/ungated", meta);
      if (!plain) return fail("backtest (ungated twin): " + plain.error().message);
      std::printf("  ungated: trades %lld, net PnL %.2f, max drawdown %.2f %% (in %s/ungated)\n",
                  static_cast<long long>(plain->summary.trades), plain->summary.net_pnl,
                  100 * plain->summary.max_drawdown_pct, args.out.c_str());
    }
  }
  if (!args.no_report) {
    auto html = report::write_report(args.out, report::ReportOptions{});
    if (!html) return fail(html.error().message);
    std::printf("  report: %s\n", html->c_str());
  }
  return 0;
}

}  // namespace quant::app
