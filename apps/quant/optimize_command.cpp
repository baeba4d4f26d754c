#include "optimize_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "registry/registry.h"
#include "registry/tracking.h"
#include "report/research_page.h"
#include "research/overfitting.h"
#include "research/study.h"
#include "research/labels.h"
#include "research/walkforward.h"
#include "research_command.h"
#include "train_command.h"

namespace quant::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// The parameters a search may set, by name (docs/research.md lists them).
Expected<void> apply_param(config::AppConfig& cfg, const config::SearchParam& p, double value, const std::string& choice) {
  auto& mb = cfg.backtest.strategy.ma_breakout;
  const int i = static_cast<int>(std::llround(value));
  const std::string& n = p.name;
  if (n == "ma_breakout.fast") mb.fast = i;
  else if (n == "ma_breakout.slow") mb.slow = i;
  else if (n == "ma_breakout.keltner_period") mb.keltner_period = i;
  else if (n == "ma_breakout.atr_period") mb.atr_period = i;
  else if (n == "ma_breakout.confirm_bars") mb.confirm_bars = i;
  else if (n == "ma_breakout.keltner_multiple") mb.keltner_multiple = value;
  else if (n == "ma_breakout.ma") {
    auto kind = strategy::ma_kind_from_string(choice);
    if (!kind) return make_error("optimize.param " + n + ": 'sma' or 'ema', got '" + choice + "'");
    mb.kind = *kind;
  } else if (n == "ma_breakout.keltner_filter") mb.keltner_filter = choice == "true";
  else if (n == "train.eta") cfg.train.eta = value;
  else if (n == "train.max_leaves") cfg.train.max_leaves = i;
  else if (n == "train.rounds") cfg.train.rounds = i;
  else if (n == "train.early_stopping_rounds") cfg.train.early_stopping_rounds = i;
  else if (n == "train.hmm_states") cfg.train.hmm_states = i;
  else if (n == "risk.stop_atr_multiple") cfg.backtest.backtest.risk.stop_atr_multiple = value;
  else if (n == "walkforward.p_min") cfg.walkforward.p_min_grid = {value};
  else {
    return make_error("optimize.param: unknown name '" + n +
                      "' (known: ma_breakout.{fast,slow,ma,keltner_period,keltner_multiple,keltner_filter,atr_period,"
                      "confirm_bars}, train.{eta,max_leaves,rounds,early_stopping_rounds,hmm_states}, "
                      "risk.stop_atr_multiple, walkforward.p_min)");
  }
  return {};
}

Expected<research::SearchSpace> space_of(const std::vector<config::SearchParam>& params) {
  research::SearchSpace space;
  for (const auto& p : params) {
    if (p.type == "int") {
      space.add_int(p.name, std::llround(p.low), std::llround(p.high), p.step > 0 ? std::llround(p.step) : 1, p.log);
    } else if (p.type == "float") {
      space.add_float(p.name, p.low, p.high, p.log);
    } else {
      space.add_categorical(p.name, p.choices);
    }
  }
  if (auto ok = space.validate(); !ok) return tl::unexpected(ok.error());
  return space;
}

/// `cfg` with a trial's parameters applied; the strategy checked.
Expected<config::AppConfig> config_for(const config::AppConfig& base, const research::Trial& trial) {
  config::AppConfig cfg = base;
  for (const auto& p : base.optimize.space) {
    const double v = trial.params().at(p.name);
    const std::string choice = p.type == "categorical" ? trial.choice(p.name) : std::string();
    if (auto ok = apply_param(cfg, p, v, choice); !ok) return tl::unexpected(ok.error());
  }
  if (auto ok = strategy::validate(cfg.backtest.strategy.ma_breakout, "strategy.ma_breakout"); !ok) {
    return tl::unexpected(ok.error());
  }
  return cfg;
}

/// The params of a trial as text (for reports, tags and trial_params.json).
json params_json(const config::AppConfig& base, const research::Params& params) {
  json j = json::object();
  for (const auto& p : base.optimize.space) {
    const auto it = params.find(p.name);
    if (it == params.end()) continue;
    if (p.type == "categorical") {
      const auto idx = static_cast<std::size_t>(std::llround(it->second));
      j[p.name] = idx < p.choices.size() ? json(p.choices[idx]) : json(nullptr);
    } else if (p.type == "int") {
      j[p.name] = std::llround(it->second);
    } else {
      j[p.name] = it->second;
    }
  }
  return j;
}

/// Applies trial_params.json (a JSON object name → value) to `cfg`.
Expected<config::AppConfig> config_from_params(const config::AppConfig& base, const json& params) {
  config::AppConfig cfg = base;
  for (const auto& [name, value] : params.items()) {
    config::SearchParam p;
    p.name = name;
    const auto known = std::find_if(base.optimize.space.begin(), base.optimize.space.end(),
                                    [&](const config::SearchParam& s) { return s.name == name; });
    p.type = known != base.optimize.space.end() ? known->type : (value.is_string() ? "categorical" : "float");
    if (auto ok = apply_param(cfg, p, value.is_number() ? value.get<double>() : 0.0,
                              value.is_string() ? value.get<std::string>() : std::string());
        !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return cfg;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

/// The gated daily returns of a finished trial's walk-forward, by day.
std::map<std::string, double> read_oos_returns(const fs::path& dir) {
  std::map<std::string, double> out;
  std::ifstream f(dir / "oos_days.csv");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string ts, fold, ret;
    if (std::getline(ss, ts, ',') && std::getline(ss, fold, ',') && std::getline(ss, ret, ',')) {
      out[ts] = std::strtod(ret.c_str(), nullptr);
    }
  }
  return out;
}

struct Statistics {
  std::size_t complete = 0;
  std::size_t tried = 0;  ///< complete + pruned: the configurations the search looked at (the DSR's N)
  double best_value = std::nan("");
  std::int64_t best_trial = -1;
  double sharpe_variance = std::nan("");
  double dsr = std::nan(""), psr = std::nan(""), expected_max_sharpe = std::nan("");
  double pbo = std::nan(""), probability_of_loss = std::nan("");
  double degradation_slope = std::nan("");           ///< OOS Sharpe on IS Sharpe of the chosen trial, over the splits
  double logit_q25 = std::nan(""), logit_median = std::nan(""), logit_q75 = std::nan("");
  std::size_t pbo_trials = 0, pbo_days = 0;
  int pbo_blocks = 0;
  std::string pbo_note, dsr_note;
};

/// DSR of the best trial against all complete trials, PBO by CSCV over the
/// complete trials' daily returns on their common days.
Statistics statistics(const std::vector<research::TrialRecord>& trials, const fs::path& trials_dir) {
  Statistics s;
  std::vector<double> values;
  // The complete trials' daily returns, read once: the best one's for the
  // DSR, all of those on this machine for the PBO.
  std::map<std::int64_t, std::map<std::string, double>> returns_of;
  for (const auto& t : trials) {
    s.tried += t.state == research::TrialState::Pruned ? 1 : 0;
    if (t.state != research::TrialState::Complete || !std::isfinite(t.value)) continue;
    ++s.complete;
    ++s.tried;
    values.push_back(t.value);
    if (s.best_trial < 0 || t.value > s.best_value) s.best_value = t.value, s.best_trial = t.number;
    returns_of[t.number] = read_oos_returns(trials_dir / ("trial-" + std::to_string(t.number)));
  }
  if (s.best_trial < 0) return s;
  std::vector<double> best_returns;
  for (const auto& [ts, r] : returns_of[s.best_trial]) best_returns.push_back(r);
  if (values.size() >= 2) {
    if (auto v = research::sharpe_variance(values)) s.sharpe_variance = *v;
  } else {
    s.sharpe_variance = 0;
  }
  // N counts pruned trials too (the search looked at them: selection bias is
  // about what was tried); V is the variance of the complete trials' Sharpe ratios.
  if (auto d = research::deflated_sharpe_ratio(best_returns, s.tried, std::max(s.sharpe_variance, 0.0))) {
    s.dsr = d->deflated_sharpe;
    s.expected_max_sharpe = d->expected_maximum_sharpe;
  } else {
    s.dsr_note = d.error().message;
  }
  if (auto p = research::probabilistic_sharpe_ratio(best_returns, 0.0)) s.psr = *p;

  // PBO: the complete trials whose days are on this machine, on their common days.
  std::vector<std::map<std::string, double>> series;
  for (auto& [number, r] : returns_of) {
    if (!r.empty()) series.push_back(std::move(r));
  }
  if (series.size() < 2) {
    s.pbo_note = "needs at least 2 complete trials with their daily returns here";
    return s;
  }
  std::set<std::string> common;
  for (const auto& [ts, r] : series.front()) common.insert(ts);
  for (const auto& m : series) {
    std::set<std::string> keep;
    for (const auto& ts : common) {
      if (m.count(ts) != 0) keep.insert(ts);
    }
    common = std::move(keep);
  }
  std::vector<double> matrix;  // trial after trial
  for (const auto& m : series) {
    for (const auto& ts : common) matrix.push_back(m.at(ts));
  }
  research::TrialReturns tr{matrix, common.size(), series.size()};
  research::PboConfig pc;
  pc.blocks = 16;
  pc.min_block_rows = 2;
  if (auto p = research::probability_of_backtest_overfitting(tr, pc)) {
    s.pbo = p->pbo;
    s.probability_of_loss = p->probability_of_loss;
    if (p->degradation) s.degradation_slope = p->degradation->slope;
    s.logit_q25 = p->logit_summary.q25;
    s.logit_median = p->logit_summary.median;
    s.logit_q75 = p->logit_summary.q75;
    s.pbo_blocks = p->blocks;
  } else {
    s.pbo_note = p.error().message;
  }
  s.pbo_trials = series.size();
  s.pbo_days = common.size();
  return s;
}

/// Nightly: the best trial's configuration trained on the latest window is
/// registered as the challenger; it replaces the champion only when its
/// walk-forward out-of-sample Sharpe beats the champion's over the same
/// windows by the margin and its deflated Sharpe ratio clears the threshold.
int run_promotion(const config::AppConfig& cfg, const InstrumentSpec& spec, std::span<const Bar> bars,
                  const OptimizeArgs& args, const std::string& study_name, const research::TrialRecord& best,
                  const json& best_params, const Statistics& st) {
  const fs::path out = fs::path(args.out) / "nightly";
  auto best_cfg = config_from_params(cfg, best_params);
  if (!best_cfg) return fail("optimize --nightly: " + best_cfg.error().message);
  auto tc = train_config(*best_cfg, spec);
  if (!tc) return fail("optimize --nightly: " + tc.error().message);

  // The challenger's model: the latest train + validation sessions, split as a fold is.
  const auto& w = best_cfg->walkforward;
  const auto starts = research::session_starts(bars, spec);
  const std::size_t need = static_cast<std::size_t>(w.train_sessions + w.validation_sessions);
  if (starts.size() < need) return fail("optimize --nightly: fewer sessions than one training window");
  const std::size_t first = starts[starts.size() - need];
  const auto slice = bars.subspan(first);
  const research::SplitBars split{
      starts[starts.size() - static_cast<std::size_t>(w.validation_sessions + w.early_stopping_sessions)] - first,
      starts[starts.size() - static_cast<std::size_t>(w.validation_sessions)] - first, slice.size()};
  const fs::path model_dir = out / "challenger";
  auto trained = research::train_gatekeeper(slice, spec, best_cfg->backtest.strategy, *tc, split, model_dir.string(),
                                            {format_utc(slice.front().ts), format_utc(slice.back().ts + kMinute),
                                             "nightly " + study_name});
  if (!trained) return fail("optimize --nightly: " + trained.error().message);
  research::WalkForwardConfig wc;
  wc.p_min_grid = w.p_min_grid;
  wc.min_validation_trades = w.min_validation_trades;
  const auto thresholds =
      research::choose_thresholds(trained->calibrated, wc, tc->settings.risk.target_points,
                                  tc->settings.risk.stop_atr_multiple, research::target_cost_points(tc->settings, spec));
  {
    std::ofstream f(model_dir / "trial_params.json");
    f << best_params.dump(2) << '\n';
    std::ofstream g(model_dir / "thresholds.json");
    g << json{{"p_min", thresholds.rule.p_min},
              {"use_quantiles", thresholds.rule.use_quantiles},
              {"trade", thresholds.trade},
              {"validation_points", thresholds.validation_points},
              {"validation_trades", thresholds.validation_trades}}
             .dump(2)
      << '\n';
  }

  const auto options = tracking_options(cfg);
  auto reg = registry::open_registry(options);
  if (!reg) return fail("optimize --nightly: registry: " + reg.error().message);
  auto tracker = registry::open_tracker(options);
  if (!tracker) return fail("optimize --nightly: tracking: " + tracker.error().message);
  const std::string name = cfg.optimize.model_name.empty() ? "gatekeeper-" + args.symbol : cfg.optimize.model_name;
  auto run = (*tracker)->start_run("nightly " + study_name, "challenger",
                                   {{"study", study_name}, {"trial", std::to_string(best.number)}});
  if (!run) return fail("optimize --nightly: " + run.error().message);
  for (const auto& [k, v] : best_params.items()) (void)(*run)->log_param(k, v.is_string() ? v.get<std::string>() : v.dump());
  (void)(*run)->log_metric("oos_sharpe", best.value);
  if (std::isfinite(st.dsr)) (void)(*run)->log_metric("dsr", st.dsr);
  if (std::isfinite(st.pbo)) (void)(*run)->log_metric("pbo", st.pbo);
  auto version = (*reg)->register_version(name, model_dir.string(), (*run)->run_id(),
                                          {{"study", study_name},
                                           {"trial", std::to_string(best.number)},
                                           {"params", best_params.dump()},
                                           {"oos_sharpe", fixed(best.value, 6)},
                                           {"dsr", fixed(st.dsr, 6)}});
  if (!version) return fail("optimize --nightly: " + version.error().message);
  if (auto ok = (*reg)->set_alias(name, "challenger", *version); !ok) return fail("optimize --nightly: " + ok.error().message);

  // The champion over the same walk-forward windows.
  json decision = {{"model", name},
                   {"challenger", {{"version", *version}, {"oos_sharpe", best.value}, {"dsr", finite_or_null(st.dsr)},
                                   {"pbo", finite_or_null(st.pbo)}, {"params", best_params}}},
                   {"margin", cfg.optimize.promote_margin},
                   {"min_dsr", cfg.optimize.promote_min_dsr},
                   {"metric", "walk-forward out-of-sample daily Sharpe (gated), same windows"}};
  std::optional<double> champion_sharpe;
  auto champion = (*reg)->get_alias(name, registry::kChampion);
  if (champion) {
    const auto tag = champion->tags.find("params");
    if (tag == champion->tags.end()) {
      return fail("optimize --nightly: champion version " + std::to_string(champion->version) + " of " + name +
                  " has no 'params' tag: cannot replay it over the same windows");
    }
    auto champion_cfg = config_from_params(cfg, json::parse(tag->second, nullptr, false));
    if (!champion_cfg) return fail("optimize --nightly: champion: " + champion_cfg.error().message);
    auto wf = walk_forward_of(*champion_cfg, spec, bars, (out / "champion_walkforward").string(), {});
    if (!wf) return fail("optimize --nightly: champion walk-forward: " + wf.error().message);
    champion_sharpe = summarize(*wf).gated_sharpe;
    decision["champion"] = {{"version", champion->version}, {"oos_sharpe", *champion_sharpe},
                            {"params", json::parse(tag->second, nullptr, false)}};
  } else {
    decision["champion"] = nullptr;
  }
  const bool beats = !champion_sharpe || best.value > *champion_sharpe + cfg.optimize.promote_margin;
  const bool significant = std::isfinite(st.dsr) && st.dsr >= cfg.optimize.promote_min_dsr;
  const bool promote = beats && significant;
  std::string reason;
  if (!beats) {
    reason = "challenger's OOS Sharpe " + fixed(best.value, 4) + " does not beat the champion's " +
             fixed(*champion_sharpe, 4) + " by more than " + fixed(cfg.optimize.promote_margin, 4);
  } else if (!significant) {
    reason = "challenger's deflated Sharpe ratio " + fixed(st.dsr, 3) + " is below " +
             fixed(cfg.optimize.promote_min_dsr, 3);
  } else {
    reason = champion_sharpe ? "challenger beats the champion (" + fixed(best.value, 4) + " > " +
                                   fixed(*champion_sharpe, 4) + " + " + fixed(cfg.optimize.promote_margin, 4) +
                                   ") with DSR " + fixed(st.dsr, 3)
                             : "no champion yet; challenger's DSR " + fixed(st.dsr, 3);
  }
  decision["promoted"] = promote;
  decision["reason"] = reason;
  if (promote) {
    auto change = (*reg)->promote(name, *version, registry::kChampion, decision.dump(), reason);
    if (!change) return fail("optimize --nightly: " + change.error().message);
  }
  {
    std::ofstream f(out / "decision.json");
    f << decision.dump(2) << '\n';
  }
  (void)(*run)->set_tag("decision", promote ? "promoted" : "kept champion");
  (void)(*run)->log_artifact((out / "decision.json").string(), "decision");
  (void)(*run)->end(registry::RunStatus::Finished);
  std::printf("nightly: %s version %lld registered as challenger; %s: %s\n", name.c_str(),
              static_cast<long long>(*version), promote ? "PROMOTED to champion" : "champion kept", reason.c_str());
  std::printf("  decision: %s\n", (out / "decision.json").c_str());
  return 0;
}

}  // namespace

int run_optimize_command(const GlobalOptions& global, const OptimizeArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto found = find_instrument(global, *cfg, args.symbol, "optimize");
  if (!found) return fail(found.error().message);
  const InstrumentSpec* spec = *found;
  if (cfg->optimize.space.empty()) return fail("optimize: no [[optimize.param]] in the configuration: nothing to search");
  auto space = space_of(cfg->optimize.space);
  if (!space) return fail("optimize: " + space.error().message);
  // Every name must be one we can set, before the first trial runs.
  for (const auto& p : cfg->optimize.space) {
    config::AppConfig probe = *cfg;
    const double v = p.type == "categorical" ? 0 : p.low;
    if (auto ok = apply_param(probe, p, v, p.choices.empty() ? "" : p.choices.front()); !ok) {
      return fail("optimize: " + ok.error().message);
    }
  }
  auto zone = TimeZone::find(spec->time_zone);
  if (!zone) return fail(zone.error().message);
  auto range = parse_range(args.from, args.to, *zone);
  if (!range) return fail(range.error().message);
  auto bars = load_bars(global, *cfg, args.symbol, range->from, range->to);
  if (!bars) return fail("optimize: " + bars.error().message);

  const std::string study_name =
      args.study.empty() ? cfg->backtest.strategy.name + "-" + args.symbol : args.study;
  const int n_trials = args.trials > 0 ? args.trials : cfg->optimize.trials;
  const std::string storage_text = args.storage.empty() ? cfg->optimize.storage : args.storage;
  research::StorageOptions so;
  so.stale_after = std::chrono::seconds(cfg->optimize.stale_seconds);
  Expected<std::shared_ptr<research::StudyStorage>> storage = make_error("optimize: no storage");
  std::string storage_where;
  if (storage_text.rfind("redis://", 0) == 0) {
    auto hp = parse_host_port("[optimize] storage", storage_text.substr(8));
    if (!hp) return fail("optimize: " + hp.error().message);
    stream::Endpoint ep;
    ep.host = hp->host;
    ep.port = hp->port;
    storage = research::open_redis_storage(ep, study_name, so);
    storage_where = storage_text + " (study " + study_name + ")";
  } else {
    const fs::path path = fs::path(storage_text) / (study_name + ".jsonl");
    storage = research::open_file_storage(path, so);
    storage_where = path.string();
  }
  if (!storage) return fail("optimize: " + storage.error().message);
  research::StudyOptions opts;
  opts.direction = research::Direction::Maximize;
  opts.seed = static_cast<std::uint64_t>(cfg->optimize.seed);
  if (!cfg->optimize.prune) opts.pruner.reset();
  auto study = research::Study::open(*storage, *space, opts);
  if (!study) return fail("optimize: " + study.error().message);

  auto tracker = registry::open_tracker(tracking_options(*cfg));
  if (!tracker) return fail("optimize: tracking: " + tracker.error().message);
  const fs::path out = args.out;
  const fs::path trials_dir = out / "trials";
  const bool quiet = global.quiet;
  if (!quiet) {
    std::fprintf(stderr, "[optimize] %s: %zu bars, study %s at %s, %d trials, tracking at %s\n", args.symbol.c_str(),
                 bars->size(), study_name.c_str(), storage_where.c_str(), n_trials, (*tracker)->uri().c_str());
  }

  // One trial: the walk-forward of its configuration; each fold's running
  // out-of-sample Sharpe goes to the pruner.
  research::Objective objective = [&](research::Trial& trial) -> Expected<double> {
    const json params = params_json(*cfg, trial.params());
    auto trial_cfg = config_for(*cfg, trial);
    if (!trial_cfg) {
      if (!quiet) std::fprintf(stderr, "[optimize] trial %lld: not a valid configuration (%s)\n",
                               static_cast<long long>(trial.number()), trial_cfg.error().message.c_str());
      return -std::numeric_limits<double>::infinity();  // Failed, the study goes on
    }
    const fs::path dir = trials_dir / ("trial-" + std::to_string(trial.number()));
    fs::remove_all(dir);  // a retried trial starts clean
    auto run = (*tracker)->start_run("optimize " + study_name, "trial " + std::to_string(trial.number()),
                                     {{"study", study_name}, {"symbol", args.symbol},
                                      {"trial", std::to_string(trial.number())}});
    if (!run) return tl::unexpected(run.error());
    for (const auto& [k, v] : params.items()) {
      if (auto ok = (*run)->log_param(k, v.is_string() ? v.get<std::string>() : v.dump()); !ok) {
        return tl::unexpected(ok.error());
      }
    }
    std::vector<double> fold_sharpes;
    auto wf = walk_forward_of(*trial_cfg, *spec, *bars, dir.string(),
                              [&](std::size_t done, std::size_t total, const research::FoldResult& f) {
                                fold_sharpes.push_back(f.gated_sharpe);
                                double mean = 0;
                                for (double v : fold_sharpes) mean += v;
                                mean /= static_cast<double>(fold_sharpes.size());
                                (void)(*run)->log_metric("fold_gated_sharpe", f.gated_sharpe,
                                                         static_cast<std::int64_t>(done));
                                // The pruner compares the running mean with other trials' at this fold.
                                const bool stop = trial.report(static_cast<std::int64_t>(done), mean);
                                return !stop || done == total;
                              });
    if (!wf) {
      // A configuration the data cannot train (too few trades in a fold ...) is
      // this trial's failure, not the study's: it ends as failed, the search goes on.
      (void)(*run)->set_tag("error", wf.error().message);
      (void)(*run)->end(registry::RunStatus::Failed);
      if (!quiet) {
        std::fprintf(stderr, "[optimize] trial %lld failed: %s\n", static_cast<long long>(trial.number()),
                     wf.error().message.c_str());
      }
      return -std::numeric_limits<double>::infinity();
    }
    if (trial.pruned()) {
      (void)(*run)->set_tag("state", "pruned");
      (void)(*run)->end(registry::RunStatus::Killed);
      if (!quiet) {
        std::fprintf(stderr, "[optimize] trial %lld pruned after %zu folds\n", static_cast<long long>(trial.number()),
                     wf->folds.size());
      }
      return fold_sharpes.empty() ? 0.0 : fold_sharpes.back();
    }
    const OosSummary s = summarize(*wf);
    if (auto ok = write_walkforward_outputs(dir.string(), args.symbol, *wf, s, *trial_cfg,
                                            "Trial " + std::to_string(trial.number()) + " of " + study_name);
        !ok) {
      return tl::unexpected(ok.error());
    }
    {
      std::ofstream f(dir / "trial_params.json");
      f << params.dump(2) << '\n';
    }
    for (const auto& [key, value] : std::initializer_list<std::pair<const char*, double>>{
             {"oos_sharpe", s.gated_sharpe},
             {"oos_return", s.gated_return},
             {"oos_max_drawdown", s.gated_max_drawdown},
             {"oos_trades", static_cast<double>(s.gated_trades)},
             {"ungated_oos_sharpe", s.ungated_sharpe}}) {
      if (auto ok = (*run)->log_metric(key, value); !ok) return tl::unexpected(ok.error());
    }
    if (auto ok = (*run)->log_artifact((dir / "summary.json").string(), "walkforward"); !ok) {
      return tl::unexpected(ok.error());
    }
    if (auto ok = (*run)->end(registry::RunStatus::Finished); !ok) return tl::unexpected(ok.error());
    if (!quiet) {
      std::fprintf(stderr, "[optimize] trial %lld: OOS daily Sharpe %.4f, return %+.2f %%, %lld trades %s\n",
                   static_cast<long long>(trial.number()), s.gated_sharpe, 100 * s.gated_return,
                   static_cast<long long>(s.gated_trades), params.dump().c_str());
    }
    return s.gated_sharpe;
  };

  auto ran = research::optimize(*study, objective, n_trials);
  if (!ran) return fail("optimize: " + ran.error().message);
  auto trials = study->trials();
  if (!trials) return fail("optimize: " + trials.error().message);
  const Statistics st = statistics(*trials, trials_dir);
  if (st.best_trial < 0) return fail("optimize: no trial completed (see the messages above)");
  const auto& best = (*trials)[static_cast<std::size_t>(st.best_trial)];
  const json best_params = params_json(*cfg, best.params);

  // The study's report: every trial, the history, DSR and PBO.
  std::size_t pruned = 0, failed = 0;
  for (const auto& t : *trials) {
    pruned += t.state == research::TrialState::Pruned ? 1 : 0;
    failed += t.state == research::TrialState::Failed ? 1 : 0;
  }
  json summary = {{"study", study_name},
                  {"symbol", args.symbol},
                  {"storage", storage_where},
                  {"trials", trials->size()},
                  {"complete", st.complete},
                  {"pruned", pruned},
                  {"failed", failed},
                  {"best", {{"trial", st.best_trial}, {"oos_daily_sharpe", st.best_value}, {"params", best_params}}},
                  {"deflated_sharpe",
                   {{"dsr", finite_or_null(st.dsr)},
                    {"psr", finite_or_null(st.psr)},
                    {"expected_max_sharpe", finite_or_null(st.expected_max_sharpe)},
                    {"trials", st.tried},
                    {"sharpe_variance", finite_or_null(st.sharpe_variance)},
                    {"note", st.dsr_note}}},
                  {"pbo",
                   {{"pbo", finite_or_null(st.pbo)},
                    {"probability_of_loss", finite_or_null(st.probability_of_loss)},
                    {"degradation_slope", finite_or_null(st.degradation_slope)},
                    {"logit_quartiles", {finite_or_null(st.logit_q25), finite_or_null(st.logit_median),
                                         finite_or_null(st.logit_q75)}},
                    {"trials", st.pbo_trials},
                    {"days", st.pbo_days},
                    {"blocks", st.pbo_blocks},
                    {"note", st.pbo_note}}}};
  std::error_code ec;
  fs::create_directories(out, ec);
  {
    std::ofstream f(out / "study.json");
    f << summary.dump(2) << '\n';
    if (!f) return fail("optimize: cannot write " + (out / "study.json").string());
  }
  {
    std::ofstream f(out / "trials.csv");
    f << "trial,state,value,attempt,params\n";
    for (const auto& t : *trials) {
      std::string p = params_json(*cfg, t.params).dump();
      std::replace(p.begin(), p.end(), ',', ';');
      f << t.number << ',' << research::to_string(t.state) << ',' << (std::isfinite(t.value) ? fixed(t.value, 6) : "")
        << ',' << t.attempt << ',' << p << '\n';
    }
  }
  if (!args.no_report) {
    report::Page page;
    page.title = "Optimisation " + study_name;
    page.subtitle = args.symbol + ": TPE (Optuna 3.1 defaults), " + std::to_string(trials->size()) + " trials (" +
                    std::to_string(st.complete) + " complete, " + std::to_string(pruned) + " pruned, " +
                    std::to_string(failed) + " failed); objective: walk-forward out-of-sample daily Sharpe (gated)";
    page.facts = {{"Best trial", std::to_string(st.best_trial)},
                  {"Best OOS daily Sharpe", fixed(st.best_value, 4)},
                  {"… annualised (×√252)", fixed(st.best_value * std::sqrt(252.0), 2)},
                  {"Trials in the DSR (complete + pruned)", std::to_string(st.tried)},
                  {"Deflated Sharpe ratio", fixed(st.dsr, 3)},
                  {"PSR (vs 0)", fixed(st.psr, 3)},
                  {"E[max Sharpe] of the trials (SR0)", fixed(st.expected_max_sharpe, 4)},
                  {"PBO (CSCV)", fixed(st.pbo, 3)},
                  {"P(OOS loss) of the IS-best", fixed(st.probability_of_loss, 3)},
                  {"Degradation slope (OOS on IS Sharpe)", fixed(st.degradation_slope, 3)},
                  {"λ quartiles (logit of the OOS rank)",
                   fixed(st.logit_q25, 2) + " / " + fixed(st.logit_median, 2) + " / " + fixed(st.logit_q75, 2)},
                  {"PBO over", std::to_string(st.pbo_trials) + " trials × " + std::to_string(st.pbo_days) + " days"}};
    if (std::isfinite(st.dsr) && st.dsr < 0.95) {
      page.warnings.push_back("DSR " + fixed(st.dsr, 3) +
                              " < 0.95: the best trial's Sharpe ratio is not significant once the number of trials is "
                              "counted (docs/statistics.md).");
    }
    if (std::isfinite(st.pbo) && st.pbo > 0.5) {
      page.warnings.push_back("PBO " + fixed(st.pbo, 3) +
                              " > 0.5: the in-sample best is more often than not below the median out of sample.");
    }
    report::Series values{"trial value", {}, {}}, best_so_far{"best so far", {}, {}};
    double running = -std::numeric_limits<double>::infinity();
    for (const auto& t : *trials) {
      if (t.state != research::TrialState::Complete || !std::isfinite(t.value)) continue;
      running = std::max(running, t.value);
      values.x.push_back(static_cast<double>(t.number));
      values.y.push_back(t.value);
      best_so_far.x.push_back(static_cast<double>(t.number));
      best_so_far.y.push_back(running);
    }
    report::Chart history;
    history.title = "Optimisation history (complete trials)";
    history.y_label = "walk-forward out-of-sample daily Sharpe";
    history.time_axis = false;
    history.zero_line = true;
    history.series = {values, best_so_far};
    page.charts.push_back(history);
    report::Table table;
    table.caption = "Trials";
    table.header = {"trial", "state", "OOS daily Sharpe", "attempt"};
    for (const auto& p : cfg->optimize.space) table.header.push_back(p.name);
    for (const auto& t : *trials) {
      std::vector<std::string> row = {std::to_string(t.number), std::string(research::to_string(t.state)),
                                      fixed(t.value, 4), std::to_string(t.attempt)};
      const json pj = params_json(*cfg, t.params);
      for (const auto& p : cfg->optimize.space) {
        const auto v = pj.find(p.name);
        if (v == pj.end()) {
          row.emplace_back("–");
        } else if (v->is_string()) {
          row.push_back(v->get<std::string>());
        } else if (v->is_number_integer()) {
          row.push_back(std::to_string(v->get<std::int64_t>()));
        } else {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.4g", v->get<double>());
          row.emplace_back(buf);
        }
      }
      table.rows.push_back(std::move(row));
    }
    page.tables.push_back(table);
    page.notes.push_back(
        "DSR = PSR(SR0) with SR0 the expected maximum Sharpe ratio of N independent trials whose Sharpe ratios have "
        "variance V (Bailey & López de Prado 2014); PBO by combinatorially symmetric cross-validation over the "
        "complete trials' daily out-of-sample returns (Bailey, Borwein, López de Prado & Zhu 2017). Formulas: "
        "docs/statistics.md.");
    if (auto ok = report::write_research_page((out / "report.html").string(), page); !ok) {
      return fail("optimize: " + ok.error().message);
    }
  }
  std::printf("study %s: %zu trials (%zu complete, %zu pruned, %zu failed)\n", study_name.c_str(), trials->size(),
              st.complete, pruned, failed);
  std::printf("  best: trial %lld, OOS daily Sharpe %.4f, params %s\n", static_cast<long long>(st.best_trial),
              st.best_value, best_params.dump().c_str());
  std::printf("  deflated Sharpe ratio %s (N %zu complete + pruned, V %s, SR0 %s); PBO %s over %zu trials × %zu days%s\n",
              fixed(st.dsr, 3).c_str(), st.tried, fixed(st.sharpe_variance, 5).c_str(),
              fixed(st.expected_max_sharpe, 4).c_str(), fixed(st.pbo, 3).c_str(), st.pbo_trials, st.pbo_days,
              st.pbo_note.empty() ? "" : (" (" + st.pbo_note + ")").c_str());
  std::printf("  outputs: %s/{study.json,trials.csv%s}, trial walk-forwards in %s\n", out.c_str(),
              args.no_report ? "" : ",report.html", trials_dir.c_str());
  if (!args.nightly) return 0;
  return run_promotion(*cfg, *spec, *bars, args, study_name, best, best_params, st);
}

}  // namespace quant::app
