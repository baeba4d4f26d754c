#include "research_command.h"

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "report/research_page.h"
#include "research/overfitting.h"
#include "signal_path.h"
#include "train_command.h"

namespace quant::app {

namespace fs = std::filesystem;

registry::TrackingOptions tracking_options(const config::AppConfig& cfg) {
  const char* env = std::getenv("MLFLOW_TRACKING_URI");
  return registry::tracking_options_from_environment(env != nullptr && *env != '\0' ? "" : cfg.optimize.registry);
}

bool track(const config::AppConfig& cfg, const TrackedRun& r, bool quiet) {
  auto report = [&](const std::string& what) {
    std::fprintf(stderr, "[track] warning: %s (the results on disk are complete)\n", what.c_str());
    return false;
  };
  auto tracker = registry::open_tracker(tracking_options(cfg));
  if (!tracker) return report(tracker.error().message);
  auto run = (*tracker)->start_run(r.experiment, r.name, r.tags);
  if (!run) return report(run.error().message);
  for (const auto& [k, v] : r.params) {
    if (auto ok = (*run)->log_param(k, v); !ok) return report(ok.error().message);
  }
  for (const auto& [k, v, step] : r.metrics) {
    if (auto ok = (*run)->log_metric(k, v, step); !ok) return report(ok.error().message);
  }
  for (const auto& [path, subdir] : r.artifacts) {
    if (auto ok = (*run)->log_artifact(path, subdir); !ok) return report(ok.error().message);
  }
  if (auto ok = (*run)->end(registry::RunStatus::Finished); !ok) return report(ok.error().message);
  if (!quiet) {
    std::fprintf(stderr, "[track] run %s in experiment '%s' at %s\n", (*run)->run_id().c_str(), r.experiment.c_str(),
                 (*tracker)->uri().c_str());
  }
  return true;
}

Expected<research::WalkForwardResult> walk_forward_of(
    const config::AppConfig& cfg, const InstrumentSpec& spec, std::span<const Bar> bars, const std::string& out_dir,
    const std::function<bool(std::size_t, std::size_t, const research::FoldResult&)>& on_fold) {
  auto tc = train_config(cfg, spec);
  if (!tc) return tl::unexpected(tc.error());
  const auto& w = cfg.walkforward;
  research::WalkForwardConfig wc;
  wc.expanding = w.expanding;
  wc.train_sessions = w.train_sessions;
  wc.early_stopping_sessions = w.early_stopping_sessions;
  wc.validation_sessions = w.validation_sessions;
  wc.test_sessions = w.test_sessions;
  wc.step_sessions = w.step_sessions;
  wc.p_min_grid = w.p_min_grid;
  wc.min_validation_trades = w.min_validation_trades;
  // Each fold's signal path as `quant backtest` builds it: the gate of the
  // fold's models with the thresholds chosen on its validation window; the
  // ungated twin is the plain strategy.
  research::SetupFactory setup = [&cfg, &spec](const std::string& model_dir,
                                               const model::GateRule& rule) -> Expected<research::TradingSetup> {
    config::AppConfig c = cfg;
    c.gate.p_min = rule.p_min;
    c.gate.use_quantiles = rule.use_quantiles;
    config::BacktestSettings settings = c.backtest;
    settings.strategy.ma_breakout.model_gate = false;
    if (model_dir.empty()) settings.strategy.ma_breakout.hmm_filter = false;
    settings.strategy.ma_breakout.book_imbalance_filter = false;
    auto path = build_signal_path(c, settings, spec, model_dir, "walkforward");
    if (!path) return tl::unexpected(path.error());
    research::TradingSetup s;
    s.strategy = std::move(path->strategy);
    s.gate = std::move(path->model_gate);
    return s;
  };
  if (cfg.backtest.strategy.name != "ma_breakout") {
    return make_error("walkforward: the Gatekeeper gates ma_breakout; [strategy] name is '" +
                      cfg.backtest.strategy.name + "'");
  }
  return research::walk_forward(bars, spec, cfg.backtest.strategy, *tc, wc, setup, out_dir, on_fold);
}

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string pct(double v) { return fixed(100 * v, 2) + " %"; }

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

double seconds_of(Timestamp t) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace

OosSummary summarize(const research::WalkForwardResult& r) {
  OosSummary s;
  std::vector<double> g, u;
  for (const auto& d : r.days) {
    g.push_back(d.gated_return);
    u.push_back(d.ungated_return);
    s.gated_trades += d.gated_trades;
    s.ungated_trades += d.ungated_trades;
  }
  s.days = r.days.size();
  s.folds = r.folds.size();
  s.gated_return = research::compounded(g);
  s.ungated_return = research::compounded(u);
  s.gated_sharpe = research::daily_sharpe(g);
  s.ungated_sharpe = research::daily_sharpe(u);
  s.gated_max_drawdown = research::max_drawdown(g);
  s.ungated_max_drawdown = research::max_drawdown(u);
  auto psr = [](const std::vector<double>& series) {
    auto p = research::probabilistic_sharpe_ratio(series, 0.0);
    return p ? *p : std::nan("");
  };
  s.gated_psr = psr(g);
  s.ungated_psr = psr(u);
  s.gated_returns = std::move(g);
  return s;
}

Expected<void> write_walkforward_outputs(const std::string& out, const std::string& symbol,
                                         const research::WalkForwardResult& r, const OosSummary& s,
                                         const config::AppConfig& cfg, const std::string& title) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return make_error("cannot create " + out + ": " + ec.message());
  // folds.csv
  {
    std::ofstream f(out + "/folds.csv");
    f << "fold,train_start,validation_start,test_start,test_end,train_rows,early_stopping_rows,calibration_rows,"
         "test_rows,test_auc,test_below_q10,test_above_q90,raw_crossed,p_min,use_quantiles,trade,validation_points,"
         "gated_trades,gated_return,gated_sharpe,ungated_trades,ungated_return,ungated_sharpe\n";
    for (std::size_t k = 0; k < r.folds.size(); ++k) {
      const auto& fr = r.folds[k];
      const auto& t = fr.training;
      f << k + 1 << ',' << format_utc(fr.train_start) << ',' << format_utc(fr.validation_start) << ','
        << format_utc(fr.test_start) << ',' << format_utc(fr.test_end) << ',' << t.train.rows << ','
        << t.early_stopping.rows << ',' << t.calibration.rows << ',' << t.test.rows << ','
        << (std::isfinite(t.test.auc) ? fixed(t.test.auc, 4) : "") << ',' << fixed(t.test.coverage.below_lower, 4)
        << ',' << fixed(t.test.coverage.above_upper, 4) << ',' << fixed(t.test_raw_crossed, 4) << ','
        << fixed(fr.thresholds.rule.p_min, 2) << ',' << (fr.thresholds.rule.use_quantiles ? 1 : 0) << ','
        << (fr.thresholds.trade ? 1 : 0) << ',' << fixed(fr.thresholds.validation_points, 2) << ','
        << fr.gated_trades << ',' << fixed(fr.gated_return, 6) << ',' << fixed(fr.gated_sharpe, 4) << ','
        << fr.ungated_trades << ',' << fixed(fr.ungated_return, 6) << ',' << fixed(fr.ungated_sharpe, 4) << '\n';
    }
    if (!f) return make_error("cannot write " + out + "/folds.csv");
  }
  // oos_days.csv: the stitched out-of-sample record.
  report::Series gated{"gated (walk-forward models)", {}, {}}, ungated{"ungated strategy", {}, {}};
  {
    std::ofstream f(out + "/oos_days.csv");
    f << "ts,fold,gated_return,gated_equity,gated_trades,ungated_return,ungated_equity,ungated_trades\n";
    double ge = cfg.backtest.backtest.engine.initial_equity, ue = ge;
    for (const auto& d : r.days) {
      ge *= 1 + d.gated_return;
      ue *= 1 + d.ungated_return;
      f << format_utc(d.ts) << ',' << d.fold << ',' << fixed(d.gated_return, 8) << ',' << fixed(ge, 2) << ','
        << d.gated_trades << ',' << fixed(d.ungated_return, 8) << ',' << fixed(ue, 2) << ',' << d.ungated_trades
        << '\n';
      gated.x.push_back(seconds_of(d.ts));
      gated.y.push_back(ge);
      ungated.x.push_back(seconds_of(d.ts));
      ungated.y.push_back(ue);
    }
    if (!f) return make_error("cannot write " + out + "/oos_days.csv");
  }
  nlohmann::json folds = nlohmann::json::array();
  for (const auto& fr : r.folds) {
    folds.push_back({{"test_start", format_utc(fr.test_start)},
                     {"test_end", format_utc(fr.test_end)},
                     {"p_min", fr.thresholds.rule.p_min},
                     {"use_quantiles", fr.thresholds.rule.use_quantiles},
                     {"trade", fr.thresholds.trade},
                     {"test_metrics", fr.training.test.to_json()},
                     {"gated_return", fr.gated_return},
                     {"gated_sharpe", fr.gated_sharpe},
                     {"ungated_return", fr.ungated_return},
                     {"ungated_sharpe", fr.ungated_sharpe},
                     {"model_dir", fr.model_dir}});
  }
  const nlohmann::json summary = {
      {"symbol", symbol},
      {"folds", s.folds},
      {"days", s.days},
      {"seconds", r.seconds},
      {"mode", cfg.walkforward.expanding ? "expanding" : "rolling"},
      {"gated", {{"trades", s.gated_trades}, {"return", s.gated_return}, {"daily_sharpe", s.gated_sharpe},
                 {"max_drawdown", s.gated_max_drawdown}, {"psr", finite_or_null(s.gated_psr)}}},
      {"ungated", {{"trades", s.ungated_trades}, {"return", s.ungated_return}, {"daily_sharpe", s.ungated_sharpe},
                   {"max_drawdown", s.ungated_max_drawdown}, {"psr", finite_or_null(s.ungated_psr)}}},
      {"per_fold", folds}};
  {
    std::ofstream f(out + "/summary.json");
    f << summary.dump(2) << '\n';
    if (!f) return make_error("cannot write " + out + "/summary.json");
  }

  report::Page page;
  page.title = title;
  const auto& w = cfg.walkforward;
  page.subtitle = symbol + ": " + std::to_string(s.folds) + " folds, " + (w.expanding ? "expanding" : "rolling") +
                  " windows (train " + std::to_string(w.train_sessions) + " sessions, of which early stopping " +
                  std::to_string(w.early_stopping_sessions) + "; validation " + std::to_string(w.validation_sessions) +
                  "; test " + std::to_string(w.test_sessions) + "; step " + std::to_string(w.step_sessions) +
                  "), embargo " + std::to_string(cfg.train.embargo_bars) + " bars";
  page.facts = {{"Out-of-sample days", std::to_string(s.days)},
                {"Gated: return", pct(s.gated_return)},
                {"Gated: daily Sharpe", fixed(s.gated_sharpe, 3)},
                {"Gated: P(Sharpe > 0) (PSR)", std::isfinite(s.gated_psr) ? fixed(s.gated_psr, 3) : "–"},
                {"Gated: max drawdown", pct(s.gated_max_drawdown)},
                {"Gated: trades", std::to_string(s.gated_trades)},
                {"Ungated: return", pct(s.ungated_return)},
                {"Ungated: daily Sharpe", fixed(s.ungated_sharpe, 3)},
                {"Ungated: max drawdown", pct(s.ungated_max_drawdown)},
                {"Ungated: trades", std::to_string(s.ungated_trades)},
                {"Wall time", fixed(r.seconds, 1) + " s"}};
  report::Chart equity;
  equity.title = "Out-of-sample equity, test windows stitched (shaded: alternate folds)";
  equity.y_label = "equity, " + std::string("account currency");
  equity.series = {gated, ungated};
  for (const auto& fr : r.folds) equity.bands.push_back(seconds_of(fr.test_start));
  page.charts.push_back(equity);
  report::Table table;
  table.caption = "Folds (models trained before each test window; thresholds chosen on its validation window)";
  table.header = {"fold", "test window", "train rows", "test AUC", "below q10", "above q90", "p_min", "quantiles",
                  "gated trades", "gated return", "ungated trades", "ungated return"};
  for (std::size_t k = 0; k < r.folds.size(); ++k) {
    const auto& fr = r.folds[k];
    const auto& t = fr.training.test;
    table.rows.push_back({std::to_string(k + 1),
                          format_utc(fr.test_start).substr(0, 10) + " .. " + format_utc(fr.test_end).substr(0, 10),
                          std::to_string(fr.training.train.rows), std::isfinite(t.auc) ? fixed(t.auc, 3) : "–",
                          pct(t.coverage.below_lower), pct(t.coverage.above_upper),
                          fr.thresholds.trade ? fixed(fr.thresholds.rule.p_min, 2) : "no trading",
                          fr.thresholds.rule.use_quantiles ? "yes" : "no", std::to_string(fr.gated_trades),
                          pct(fr.gated_return), std::to_string(fr.ungated_trades), pct(fr.ungated_return)});
  }
  page.tables.push_back(table);
  page.notes.push_back(
      "Each fold: the Gatekeeper is trained on its training window (labels: the kernel's trades, fees and slippage "
      "paid), the number of trees chosen on the window's last sessions, the quantiles conformalized and the gate's "
      "thresholds chosen on the validation window, then the strategy with its risk engine runs through the kernel, "
      "trading only inside the test window. Returns are daily, end-of-day equity over start-of-day equity.");
  return report::write_research_page(out + "/report.html", page);
}

int run_walkforward_command(const GlobalOptions& global, const WalkForwardArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto found = find_instrument(global, *cfg, args.symbol, "walkforward");
  if (!found) return fail(found.error().message);
  const InstrumentSpec* spec = *found;
  auto zone = TimeZone::find(spec->time_zone);
  if (!zone) return fail(zone.error().message);
  auto range = parse_range(args.from, args.to, *zone);
  if (!range) return fail(range.error().message);
  auto bars = load_bars(global, *cfg, args.symbol, range->from, range->to);
  if (!bars) return fail("walkforward: " + bars.error().message);
  const bool quiet = global.quiet;
  if (!quiet) {
    std::fprintf(stderr, "[walkforward] %s: %zu bars %s .. %s\n", args.symbol.c_str(), bars->size(),
                 format_utc(bars->front().ts).c_str(), format_utc(bars->back().ts + kMinute).c_str());
  }
  auto result = walk_forward_of(*cfg, *spec, *bars, args.out,
                                [&](std::size_t done, std::size_t total, const research::FoldResult& f) {
                                  if (!quiet) {
                                    std::fprintf(stderr,
                                                 "[walkforward] fold %zu/%zu (test %s .. %s): gated %lld trades "
                                                 "%+.2f %%, ungated %lld trades %+.2f %%\n",
                                                 done, total, format_utc(f.test_start).substr(0, 10).c_str(),
                                                 format_utc(f.test_end).substr(0, 10).c_str(),
                                                 static_cast<long long>(f.gated_trades), 100 * f.gated_return,
                                                 static_cast<long long>(f.ungated_trades), 100 * f.ungated_return);
                                  }
                                  return true;
                                });
  if (!result) return fail(result.error().message);
  const OosSummary s = summarize(*result);
  if (auto ok = write_walkforward_outputs(args.out, args.symbol, *result, s, *cfg, "Walk-forward " + args.symbol); !ok) {
    return fail("walkforward: " + ok.error().message);
  }
  TrackedRun tr;
  tr.experiment = "walkforward " + args.symbol;
  tr.name = args.from.empty() && args.to.empty() ? "all data" : args.from + " .. " + args.to;
  tr.tags = {{"symbol", args.symbol}, {"command", "walkforward"}};
  const auto& w = cfg->walkforward;
  tr.params = {{"symbol", args.symbol},
               {"mode", w.expanding ? "expanding" : "rolling"},
               {"train_sessions", std::to_string(w.train_sessions)},
               {"early_stopping_sessions", std::to_string(w.early_stopping_sessions)},
               {"validation_sessions", std::to_string(w.validation_sessions)},
               {"test_sessions", std::to_string(w.test_sessions)},
               {"step_sessions", std::to_string(w.step_sessions)},
               {"embargo_bars", std::to_string(cfg->train.embargo_bars)},
               {"strategy", cfg->backtest.strategy.name}};
  for (std::size_t k = 0; k < result->folds.size(); ++k) {
    const auto& f = result->folds[k];
    const auto step = static_cast<std::int64_t>(k + 1);
    tr.metrics.emplace_back("fold_gated_return", f.gated_return, step);
    tr.metrics.emplace_back("fold_gated_sharpe", f.gated_sharpe, step);
    tr.metrics.emplace_back("fold_ungated_return", f.ungated_return, step);
    tr.metrics.emplace_back("fold_test_auc", f.training.test.auc, step);
  }
  tr.metrics.emplace_back("oos_sharpe", s.gated_sharpe, 0);
  tr.metrics.emplace_back("oos_return", s.gated_return, 0);
  tr.metrics.emplace_back("oos_max_drawdown", s.gated_max_drawdown, 0);
  tr.metrics.emplace_back("oos_psr", s.gated_psr, 0);
  tr.metrics.emplace_back("ungated_oos_sharpe", s.ungated_sharpe, 0);
  for (const char* f : {"summary.json", "folds.csv", "oos_days.csv", "report.html"}) {
    tr.artifacts.emplace_back(args.out + "/" + f, "walkforward");
  }
  track(*cfg, tr, quiet);
  std::printf("walk-forward %s: %zu folds, %zu out-of-sample days in %.1f s\n", args.symbol.c_str(), s.folds, s.days,
              result->seconds);
  std::printf("  gated:   %lld trades, return %+.2f %%, daily Sharpe %.3f (PSR %.3f), max drawdown %.2f %%\n",
              static_cast<long long>(s.gated_trades), 100 * s.gated_return, s.gated_sharpe, s.gated_psr,
              100 * s.gated_max_drawdown);
  std::printf("  ungated: %lld trades, return %+.2f %%, daily Sharpe %.3f, max drawdown %.2f %%\n",
              static_cast<long long>(s.ungated_trades), 100 * s.ungated_return, s.ungated_sharpe,
              100 * s.ungated_max_drawdown);
  std::printf("  outputs: %s/{folds.csv,oos_days.csv,summary.json,report.html}, models in %s/fold-*/model\n",
              args.out.c_str(), args.out.c_str());
  return 0;
}

}  // namespace quant::app
