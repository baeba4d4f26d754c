#include "config/config.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <toml++/toml.h>

namespace quant::config {

namespace {

std::string where(std::string_view source, const toml::source_region& region) {
  return std::string(source) + ":" + std::to_string(region.begin.line);
}

Expected<void> check_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                          std::string_view path, std::string_view source) {
  for (const auto& [key, node] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return make_error(where(source, node.source()) + ": unknown key '" + std::string(path) + std::string(key.str()) +
                        "' (known keys: " + list + ")");
    }
  }
  return {};
}

template <class T>
Expected<void> read_number(const toml::table& t, std::string_view key, T& out, std::string_view path,
                           std::string_view source) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return {};
  if (auto v = node->value<double>()) {
    out = static_cast<T>(*v);
    return {};
  }
  return make_error(where(source, node->source()) + ": '" + std::string(path) + std::string(key) +
                    "' must be a number");
}

Expected<void> read_string(const toml::table& t, std::string_view key, std::string& out, std::string_view path,
                           std::string_view source) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return {};
  if (auto v = node->value<std::string>()) {
    out = *v;
    return {};
  }
  return make_error(where(source, node->source()) + ": '" + std::string(path) + std::string(key) +
                    "' must be a string");
}

Expected<void> read_bool(const toml::table& t, std::string_view key, bool& out, std::string_view path,
                         std::string_view source) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return {};
  if (auto v = node->value<bool>()) {
    out = *v;
    return {};
  }
  return make_error(where(source, node->source()) + ": '" + std::string(path) + std::string(key) +
                    "' must be true or false");
}

Expected<void> read_int(const toml::table& t, std::string_view key, int& out, std::string_view path,
                        std::string_view source) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return {};
  if (auto v = node->value_exact<int64_t>()) {
    out = static_cast<int>(*v);
    return {};
  }
  return make_error(where(source, node->source()) + ": '" + std::string(path) + std::string(key) +
                    "' must be a whole number");
}

const toml::table* sub_table(const toml::table& t, std::string_view key, std::string_view path, std::string_view source,
                             Expected<void>& error) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return nullptr;
  if (const toml::table* sub = node->as_table()) return sub;
  error =
      make_error(where(source, node->source()) + ": '" + std::string(path) + std::string(key) + "' must be a table");
  return nullptr;
}

Expected<void> parse_backtest(const toml::table& root, BacktestSettings& out, std::string_view source) {
  Expected<void> err;
  auto& bt = out.backtest;
  if (const toml::table* t = sub_table(root, "backtest", "", source, err)) {
    if (auto ok = check_keys(
            *t,
            {"initial_equity", "slippage_ticks", "fill_model", "participation", "equity_output", "day_trade",
             "flatten_minutes_before_close", "no_entry_minutes_before_close", "respect_sessions", "write_orders",
             "parquet_above_bars"},
            "backtest.", source);
        !ok) {
      return ok;
    }
    std::string fill = "next_open", equity = "bar";
    for (auto r : {read_number(*t, "initial_equity", bt.engine.initial_equity, "backtest.", source),
                   read_int(*t, "slippage_ticks", bt.slippage_ticks, "backtest.", source),
                   read_string(*t, "fill_model", fill, "backtest.", source),
                   read_number(*t, "participation", bt.participation, "backtest.", source),
                   read_string(*t, "equity_output", equity, "backtest.", source),
                   read_bool(*t, "day_trade", bt.engine.session.day_trade, "backtest.", source),
                   read_int(*t, "flatten_minutes_before_close", bt.engine.session.flatten_minutes_before_close,
                            "backtest.", source),
                   read_int(*t, "no_entry_minutes_before_close", bt.engine.session.no_entry_minutes_before_close,
                            "backtest.", source),
                   read_bool(*t, "respect_sessions", bt.engine.session.respect_sessions, "backtest.", source),
                   read_bool(*t, "write_orders", bt.write_orders, "backtest.", source),
                   read_int(*t, "parquet_above_bars", out.parquet_above_bars, "backtest.", source)}) {
      if (!r) return r;
    }
    if (fill == "next_open")
      bt.fill_model = backtest::FillModelKind::NextOpen;
    else if (fill == "volume_participation")
      bt.fill_model = backtest::FillModelKind::VolumeParticipation;
    else
      return make_error(std::string(source) + ": backtest.fill_model: 'next_open' or 'volume_participation', got '" +
                        fill + "'");
    if (equity == "bar")
      bt.equity_output = backtest::EquityOutput::Bar;
    else if (equity == "day")
      bt.equity_output = backtest::EquityOutput::Day;
    else if (equity == "none")
      bt.equity_output = backtest::EquityOutput::None;
    else
      return make_error(std::string(source) + ": backtest.equity_output: 'bar', 'day' or 'none', got '" + equity + "'");
    if (!(bt.engine.initial_equity > 0))
      return make_error(std::string(source) + ": backtest.initial_equity must be > 0");
    if (bt.slippage_ticks < 0) return make_error(std::string(source) + ": backtest.slippage_ticks must be >= 0");
    if (out.parquet_above_bars < 0) {
      return make_error(std::string(source) + ": backtest.parquet_above_bars must be >= 0 (0: always equity.csv)");
    }
    if (!(bt.participation > 0 && bt.participation <= 1)) {
      return make_error(std::string(source) + ": backtest.participation must be within (0, 1]");
    }
    if (bt.engine.session.flatten_minutes_before_close < 0 || bt.engine.session.no_entry_minutes_before_close < 0) {
      return make_error(std::string(source) + ": backtest minutes before the close must be >= 0");
    }
  }
  if (!err) return err;
  if (const toml::table* t = sub_table(root, "risk", "", source, err)) {
    auto& r = bt.risk;
    if (auto ok = check_keys(*t,
                             {"risk_pct", "stop_atr_multiple", "trailing_stop", "trail_atr_multiple", "target_points",
                              "max_contracts", "max_leverage", "daily_loss_pct", "target_points_by_symbol"},
                             "risk.", source);
        !ok) {
      return ok;
    }
    if (const toml::table* by = sub_table(*t, "target_points_by_symbol", "risk.", source, err)) {
      for (const auto& [key, node] : *by) {
        auto v = node.value<double>();
        if (!v || *v < 0) {
          return make_error(where(source, node.source()) + ": risk.target_points_by_symbol." + std::string(key.str()) +
                            " must be a number >= 0");
        }
        out.target_points_by_symbol[std::string(key.str())] = *v;
      }
    }
    if (!err) return err;
    int max_contracts = static_cast<int>(r.max_contracts);
    for (auto e : {read_number(*t, "risk_pct", r.risk_pct, "risk.", source),
                   read_number(*t, "stop_atr_multiple", r.stop_atr_multiple, "risk.", source),
                   read_bool(*t, "trailing_stop", r.trailing_stop, "risk.", source),
                   read_number(*t, "trail_atr_multiple", r.trail_atr_multiple, "risk.", source),
                   read_number(*t, "target_points", r.target_points, "risk.", source),
                   read_int(*t, "max_contracts", max_contracts, "risk.", source),
                   read_number(*t, "max_leverage", r.max_leverage, "risk.", source),
                   read_number(*t, "daily_loss_pct", r.daily_loss_pct, "risk.", source)}) {
      if (!e) return e;
    }
    r.max_contracts = max_contracts;
    if (!(r.risk_pct > 0 && r.risk_pct <= 0.2))
      return make_error(std::string(source) + ": risk.risk_pct must be within (0, 0.2]");
    if (!(r.stop_atr_multiple > 0) || !(r.trail_atr_multiple > 0)) {
      return make_error(std::string(source) + ": risk.stop_atr_multiple and risk.trail_atr_multiple must be > 0");
    }
    if (r.target_points < 0)
      return make_error(std::string(source) + ": risk.target_points must be >= 0 (0 = no target)");
    if (r.max_contracts < 1) return make_error(std::string(source) + ": risk.max_contracts must be >= 1");
    if (!(r.max_leverage > 0)) return make_error(std::string(source) + ": risk.max_leverage must be > 0");
    if (!(r.daily_loss_pct > 0 && r.daily_loss_pct < 1)) {
      return make_error(std::string(source) + ": risk.daily_loss_pct must be within (0, 1)");
    }
  }
  if (!err) return err;
  if (const toml::table* t = sub_table(root, "strategy", "", source, err)) {
    auto& sc = out.strategy;
    if (auto ok = check_keys(*t, {"name", "ma_breakout", "sma_cross"}, "strategy.", source); !ok) return ok;
    if (auto r = read_string(*t, "name", sc.name, "strategy.", source); !r) return r;
    if (const toml::table* m = sub_table(*t, "ma_breakout", "strategy.", source, err)) {
      auto& c = sc.ma_breakout;
      if (auto ok = check_keys(*m,
                               {"ma", "fast", "slow", "keltner_filter", "keltner_period", "keltner_multiple",
                                "atr_period", "confirm_bars", "exit_on_opposite_cross", "session_reset",
                                "book_imbalance_filter", "hmm_filter", "model_gate", "book_imbalance"},
                               "strategy.ma_breakout.", source);
          !ok) {
        return ok;
      }
      const std::string p = "strategy.ma_breakout.";
      std::string ma = "sma";
      for (auto r :
           {read_string(*m, "ma", ma, p, source), read_int(*m, "fast", c.fast, p, source),
            read_int(*m, "slow", c.slow, p, source), read_bool(*m, "keltner_filter", c.keltner_filter, p, source),
            read_int(*m, "keltner_period", c.keltner_period, p, source),
            read_number(*m, "keltner_multiple", c.keltner_multiple, p, source),
            read_int(*m, "atr_period", c.atr_period, p, source),
            read_int(*m, "confirm_bars", c.confirm_bars, p, source),
            read_bool(*m, "exit_on_opposite_cross", c.exit_on_opposite_cross, p, source),
            read_bool(*m, "session_reset", c.session_reset, p, source),
            read_bool(*m, "book_imbalance_filter", c.book_imbalance_filter, p, source),
            read_bool(*m, "hmm_filter", c.hmm_filter, p, source),
            read_bool(*m, "model_gate", c.model_gate, p, source)}) {
        if (!r) return r;
      }
      auto kind = strategy::ma_kind_from_string(ma);
      if (!kind) return make_error(std::string(source) + ": strategy.ma_breakout.ma: 'sma' or 'ema', got '" + ma + "'");
      c.kind = *kind;
      if (const toml::table* b = sub_table(*m, "book_imbalance", p, source, err)) {
        const std::string bp = p + "book_imbalance.";
        if (auto ok =
                check_keys(*b, {"threshold", "depth", "source", "on_missing", "max_book_age_seconds"}, bp, source);
            !ok) {
          return ok;
        }
        auto& bi = c.book_imbalance;
        std::string data(strategy::imbalance_data_name(bi.source));
        std::string missing(strategy::missing_imbalance_name(bi.on_missing));
        for (auto r :
             {read_number(*b, "threshold", bi.threshold, bp, source), read_int(*b, "depth", bi.depth, bp, source),
              read_string(*b, "source", data, bp, source), read_string(*b, "on_missing", missing, bp, source),
              read_int(*b, "max_book_age_seconds", bi.max_book_age_seconds, bp, source)}) {
          if (!r) return r;
        }
        auto d = strategy::imbalance_data_from_string(data);
        if (!d)
          return make_error(std::string(source) + ": " + bp + "source: 'auto', 'book' or 'trades', got '" + data + "'");
        bi.source = *d;
        auto mi = strategy::missing_imbalance_from_string(missing);
        if (!mi) {
          return make_error(std::string(source) + ": " + bp + "on_missing: 'block' or 'allow', got '" + missing + "'");
        }
        bi.on_missing = *mi;
      }
      if (!err) return err;
      if (auto ok = strategy::validate(c, "strategy.ma_breakout"); !ok) {
        return make_error(std::string(source) + ": " + ok.error().message);
      }
    }
    if (!err) return err;
    if (const toml::table* m = sub_table(*t, "sma_cross", "strategy.", source, err)) {
      if (auto ok = check_keys(*m, {"fast", "slow"}, "strategy.sma_cross.", source); !ok) return ok;
      for (auto r : {read_int(*m, "fast", sc.sma_cross.fast, "strategy.sma_cross.", source),
                     read_int(*m, "slow", sc.sma_cross.slow, "strategy.sma_cross.", source)}) {
        if (!r) return r;
      }
      if (auto ok = strategy::validate(sc.sma_cross, "strategy.sma_cross"); !ok) {
        return make_error(std::string(source) + ": " + ok.error().message);
      }
    }
    if (!err) return err;
    if (sc.name != "ma_breakout" && sc.name != "sma_cross") {
      return make_error(std::string(source) + ": strategy.name: 'ma_breakout' or 'sma_cross', got '" + sc.name + "'");
    }
  }
  return err;
}

Expected<void> parse_train_gate(const toml::table& root, AppConfig& config, std::string_view source) {
  Expected<void> err;
  if (const toml::table* t = sub_table(root, "train", "", source, err)) {
    auto& c = config.train;
    if (auto ok = check_keys(*t,
                             {"early_stopping_share", "calibration_share", "test_share", "interval_miss",
                              "embargo_bars", "hmm_states", "rounds", "max_leaves", "eta", "early_stopping_rounds",
                              "seed"},
                             "train.", source);
        !ok) {
      return ok;
    }
    for (auto r :
         {read_number(*t, "early_stopping_share", c.early_stopping_share, "train.", source),
          read_number(*t, "calibration_share", c.calibration_share, "train.", source),
          read_number(*t, "test_share", c.test_share, "train.", source),
          read_number(*t, "interval_miss", c.interval_miss, "train.", source),
          read_int(*t, "embargo_bars", c.embargo_bars, "train.", source),
          read_int(*t, "hmm_states", c.hmm_states, "train.", source),
          read_int(*t, "rounds", c.rounds, "train.", source),
          read_int(*t, "max_leaves", c.max_leaves, "train.", source), read_number(*t, "eta", c.eta, "train.", source),
          read_int(*t, "early_stopping_rounds", c.early_stopping_rounds, "train.", source),
          read_int(*t, "seed", c.seed, "train.", source)}) {
      if (!r) return r;
    }
    if (c.rounds < 1 || c.max_leaves < 2 || c.hmm_states < 0 || c.embargo_bars < 0 || !(c.eta > 0 && c.eta <= 1) ||
        !(c.early_stopping_share > 0) || !(c.calibration_share > 0) || !(c.test_share >= 0) ||
        !(c.early_stopping_share + c.calibration_share + c.test_share < 0.9) ||
        !(c.interval_miss > 0 && c.interval_miss < 0.5)) {
      return make_error(std::string(source) +
                        ": [train] values out of range (rounds >= 1, max_leaves >= 2, hmm_states >= 0, "
                        "embargo_bars >= 0, eta in (0, 1], early_stopping_share > 0, calibration_share > 0, "
                        "test_share >= 0, the three shares < 0.9 together, interval_miss in (0, 0.5))");
    }
  }
  if (!err) return err;
  if (const toml::table* t = sub_table(root, "gate", "", source, err)) {
    auto& g = config.gate;
    if (auto ok = check_keys(*t, {"model_dir", "p_min", "use_quantiles", "hmm_allowed_states", "hmm_min_probability"},
                             "gate.", source);
        !ok) {
      return ok;
    }
    for (auto r : {read_string(*t, "model_dir", g.model_dir, "gate.", source),
                   read_number(*t, "p_min", g.p_min, "gate.", source),
                   read_bool(*t, "use_quantiles", g.use_quantiles, "gate.", source),
                   read_number(*t, "hmm_min_probability", g.hmm_min_probability, "gate.", source)}) {
      if (!r) return r;
    }
    if (const toml::node* n = t->get("hmm_allowed_states")) {
      const toml::array* arr = n->as_array();
      if (arr == nullptr) return make_error(where(source, n->source()) + ": gate.hmm_allowed_states must be an array");
      g.hmm_allowed_states.clear();
      for (const auto& v : *arr) {
        auto i = v.value<int64_t>();
        if (!i || *i < 0)
          return make_error(where(source, v.source()) + ": gate.hmm_allowed_states holds state numbers >= 0");
        g.hmm_allowed_states.push_back(static_cast<int>(*i));
      }
    }
    if (!(g.p_min >= 0 && g.p_min <= 1)) return make_error(std::string(source) + ": gate.p_min must be within [0, 1]");
  }
  return err;
}

/// An array of `T` (std::string or double) at `key`, when present; `what` names it in errors.
template <class T>
Expected<void> read_array(const toml::table& t, std::string_view key, std::vector<T>& out, std::string_view path,
                          std::string_view source, std::string_view what) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return {};
  const auto error = [&](const toml::source_region& at) {
    return make_error(where(source, at) + ": '" + std::string(path) + std::string(key) + "' must be an array of " +
                      std::string(what));
  };
  const toml::array* arr = node->as_array();
  if (arr == nullptr) return error(node->source());
  out.clear();
  for (const auto& v : *arr) {
    auto value = v.value<T>();
    if (!value) return error(v.source());
    out.push_back(*value);
  }
  return {};
}

Expected<void> read_strings(const toml::table& t, std::string_view key, std::vector<std::string>& out,
                            std::string_view path, std::string_view source) {
  return read_array(t, key, out, path, source, "strings");
}

Expected<void> read_numbers(const toml::table& t, std::string_view key, std::vector<double>& out,
                            std::string_view path, std::string_view source) {
  return read_array(t, key, out, path, source, "numbers");
}

Expected<void> parse_research(const toml::table& root, AppConfig& config, std::string_view source) {
  Expected<void> err;
  if (const toml::table* t = sub_table(root, "walkforward", "", source, err)) {
    auto& w = config.walkforward;
    if (auto ok = check_keys(*t,
                             {"mode", "train_sessions", "early_stopping_sessions", "validation_sessions",
                              "test_sessions", "step_sessions", "p_min_grid", "min_validation_trades"},
                             "walkforward.", source);
        !ok) {
      return ok;
    }
    std::string mode = w.expanding ? "expanding" : "rolling";
    const std::string_view p = "walkforward.";
    for (auto r : {read_string(*t, "mode", mode, p, source), read_int(*t, "train_sessions", w.train_sessions, p, source),
                   read_int(*t, "early_stopping_sessions", w.early_stopping_sessions, p, source),
                   read_int(*t, "validation_sessions", w.validation_sessions, p, source),
                   read_int(*t, "test_sessions", w.test_sessions, p, source),
                   read_int(*t, "step_sessions", w.step_sessions, p, source),
                   read_numbers(*t, "p_min_grid", w.p_min_grid, p, source),
                   read_int(*t, "min_validation_trades", w.min_validation_trades, p, source)}) {
      if (!r) return r;
    }
    if (mode != "rolling" && mode != "expanding") {
      return make_error(std::string(source) + ": walkforward.mode: 'rolling' or 'expanding', got '" + mode + "'");
    }
    w.expanding = mode == "expanding";
    if (w.train_sessions < 2 || w.early_stopping_sessions < 1 || w.early_stopping_sessions >= w.train_sessions ||
        w.validation_sessions < 1 || w.test_sessions < 1 || w.step_sessions < 1 || w.p_min_grid.empty() ||
        w.min_validation_trades < 1) {
      return make_error(std::string(source) +
                        ": [walkforward] values out of range (train_sessions >= 2, 1 <= early_stopping_sessions < "
                        "train_sessions, validation_sessions, test_sessions, step_sessions >= 1, p_min_grid not "
                        "empty, min_validation_trades >= 1)");
    }
    for (double v : w.p_min_grid) {
      if (!(v >= 0 && v <= 1)) return make_error(std::string(source) + ": walkforward.p_min_grid values must be within [0, 1]");
    }
  }
  if (!err) return err;
  if (const toml::table* t = sub_table(root, "optimize", "", source, err)) {
    auto& o = config.optimize;
    if (auto ok = check_keys(*t,
                             {"trials", "seed", "storage", "prune", "stale_seconds", "param", "model_name",
                              "promote_margin", "promote_min_dsr", "registry"},
                             "optimize.", source);
        !ok) {
      return ok;
    }
    const std::string_view p = "optimize.";
    for (auto r : {read_int(*t, "trials", o.trials, p, source), read_number(*t, "seed", o.seed, p, source),
                   read_string(*t, "storage", o.storage, p, source), read_bool(*t, "prune", o.prune, p, source),
                   read_int(*t, "stale_seconds", o.stale_seconds, p, source),
                   read_string(*t, "model_name", o.model_name, p, source),
                   read_number(*t, "promote_margin", o.promote_margin, p, source),
                   read_number(*t, "promote_min_dsr", o.promote_min_dsr, p, source),
                   read_string(*t, "registry", o.registry, p, source)}) {
      if (!r) return r;
    }
    if (o.trials < 1 || o.stale_seconds < 1 || !(o.promote_min_dsr >= 0 && o.promote_min_dsr <= 1)) {
      return make_error(std::string(source) +
                        ": [optimize] values out of range (trials >= 1, stale_seconds >= 1, promote_min_dsr in [0, 1])");
    }
    if (const toml::node* n = t->get("param")) {
      const toml::array* arr = n->as_array();
      if (arr == nullptr) {
        return make_error(where(source, n->source()) + ": optimize.param must be an array of tables ([[optimize.param]])");
      }
      o.space.clear();
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::table* pt = (*arr)[i].as_table();
        const std::string pp = "optimize.param[" + std::to_string(i) + "].";
        if (pt == nullptr) return make_error(std::string(source) + ": " + pp + " must be a table");
        if (auto ok = check_keys(*pt, {"name", "type", "low", "high", "log", "step", "choices"}, pp, source); !ok) {
          return ok;
        }
        SearchParam sp;
        for (auto r : {read_string(*pt, "name", sp.name, pp, source), read_string(*pt, "type", sp.type, pp, source),
                       read_number(*pt, "low", sp.low, pp, source), read_number(*pt, "high", sp.high, pp, source),
                       read_bool(*pt, "log", sp.log, pp, source), read_number(*pt, "step", sp.step, pp, source),
                       read_strings(*pt, "choices", sp.choices, pp, source)}) {
          if (!r) return r;
        }
        if (sp.name.empty()) return make_error(std::string(source) + ": " + pp + "name is required");
        if (sp.type == "categorical") {
          if (sp.choices.empty()) return make_error(std::string(source) + ": " + pp + "choices must not be empty");
        } else if (sp.type == "int" || sp.type == "float") {
          if (!(sp.low < sp.high) || (sp.log && !(sp.low > 0)) || sp.step < 0) {
            return make_error(std::string(source) + ": " + pp + "needs low < high (low > 0 with log) and step >= 0");
          }
        } else {
          return make_error(std::string(source) + ": " + pp + "type: 'int', 'float' or 'categorical', got '" +
                            sp.type + "'");
        }
        o.space.push_back(std::move(sp));
      }
    }
  }
  return err;
}

Expected<void> parse_serve(const toml::table& root, AppConfig& config, std::string_view source) {
  Expected<void> err;
  const toml::table* t = sub_table(root, "serve", "", source, err);
  if (t == nullptr) return err;
  auto& s = config.serve;
  if (auto ok = check_keys(*t,
                           {"bind", "port", "workers", "max_body_bytes", "request_timeout_ms", "idle_timeout_ms",
                            "busy_poll_us", "drain_timeout_ms", "token_env", "token_file", "paper", "gates"},
                           "serve.", source);
      !ok) {
    return ok;
  }
  for (auto r : {read_string(*t, "bind", s.bind, "serve.", source), read_int(*t, "port", s.port, "serve.", source),
                 read_int(*t, "workers", s.workers, "serve.", source),
                 read_int(*t, "max_body_bytes", s.max_body_bytes, "serve.", source),
                 read_int(*t, "request_timeout_ms", s.request_timeout_ms, "serve.", source),
                 read_int(*t, "idle_timeout_ms", s.idle_timeout_ms, "serve.", source),
                 read_int(*t, "busy_poll_us", s.busy_poll_us, "serve.", source),
                 read_int(*t, "drain_timeout_ms", s.drain_timeout_ms, "serve.", source),
                 read_string(*t, "token_env", s.token_env, "serve.", source),
                 read_string(*t, "token_file", s.token_file, "serve.", source)}) {
    if (!r) return r;
  }
  const std::string at = std::string(source) + ": ";
  if (s.port < 0 || s.port > 65535) return make_error(at + "serve.port must be within [0, 65535]");
  if (s.workers < 0 || s.workers > 256)
    return make_error(at + "serve.workers must be within [0, 256] (0 = one per core)");
  if (s.max_body_bytes < 256) return make_error(at + "serve.max_body_bytes must be >= 256");
  if (s.busy_poll_us < 0 || s.busy_poll_us > 10000)
    return make_error(at + "serve.busy_poll_us must be within [0, 10000]");
  if (s.request_timeout_ms < 1 || s.idle_timeout_ms < 1) {
    return make_error(at + "serve.request_timeout_ms and serve.idle_timeout_ms must be >= 1");
  }
  if (s.drain_timeout_ms < 0 || s.drain_timeout_ms > 3600000) {
    return make_error(at + "serve.drain_timeout_ms must be within [0, 3600000] (0 = do not wait)");
  }
  if (const toml::table* p = sub_table(*t, "paper", "serve.", source, err)) {
    if (auto ok = check_keys(*p, {"symbols", "equity", "poll_ms", "atr_period", "audit_log", "journal", "clock"},
                             "serve.paper.", source);
        !ok) {
      return ok;
    }
    for (auto r : {read_strings(*p, "symbols", s.paper.symbols, "serve.paper.", source),
                   read_number(*p, "equity", s.paper.equity, "serve.paper.", source),
                   read_int(*p, "poll_ms", s.paper.poll_ms, "serve.paper.", source),
                   read_int(*p, "atr_period", s.paper.atr_period, "serve.paper.", source),
                   read_string(*p, "audit_log", s.paper.audit_log, "serve.paper.", source),
                   read_string(*p, "journal", s.paper.journal, "serve.paper.", source),
                   read_string(*p, "clock", s.paper.clock, "serve.paper.", source)}) {
      if (!r) return r;
    }
    if (s.paper.clock != "wall" && s.paper.clock != "bars") {
      return make_error(at + "serve.paper.clock must be \"wall\" (live prices) or \"bars\" (a replay), got \"" +
                        s.paper.clock + "\"");
    }
    if (!(s.paper.equity > 0) || s.paper.poll_ms < 1 || s.paper.atr_period < 1) {
      return make_error(at + "serve.paper: equity > 0, poll_ms >= 1 and atr_period >= 1 are required");
    }
  }
  if (!err) return err;
  if (const toml::node* g = t->get("gates")) {
    const toml::array* arr = g->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      return make_error(where(source, g->source()) + ": 'serve.gates' must be an array of tables ([[serve.gates]])");
    }
    s.gates.clear();
    for (const auto& node : *arr) {
      const toml::table& gt = *node.as_table();
      const std::string path = "serve.gates[" + std::to_string(s.gates.size()) + "].";
      if (auto ok = check_keys(gt, {"name", "dir", "registry", "alias", "p_min", "use_quantiles"}, path, source); !ok) {
        return ok;
      }
      GateModelSettings m;
      // The backtest's gate rule unless this gate says otherwise ([gate] is parsed before [serve]).
      m.p_min = config.gate.p_min;
      m.use_quantiles = config.gate.use_quantiles;
      for (auto r : {read_string(gt, "name", m.name, path, source), read_string(gt, "dir", m.dir, path, source),
                     read_string(gt, "registry", m.registry, path, source),
                     read_string(gt, "alias", m.alias, path, source), read_number(gt, "p_min", m.p_min, path, source),
                     read_bool(gt, "use_quantiles", m.use_quantiles, path, source)}) {
        if (!r) return r;
      }
      const std::string here = where(source, gt.source()) + ": " + path;
      if (m.name.empty()) return make_error(here + "name is required");
      if (m.dir.empty() == m.registry.empty()) return make_error(here + "give exactly one of 'dir' and 'registry'");
      if (!(m.p_min >= 0 && m.p_min <= 1)) return make_error(here + "p_min must be within [0, 1]");
      for (const auto& other : s.gates) {
        if (other.name == m.name) return make_error(here + "name '" + m.name + "' is used twice");
      }
      s.gates.push_back(std::move(m));
    }
  }
  return {};
}

// ---- [calendars.<NAME>] ----

/// A date given as "YYYY-MM-DD" or as a TOML local date (2021-02-17).
Expected<Date> read_date(const toml::node& node, const std::string& key, std::string_view source) {
  if (auto d = node.value<toml::date>()) {
    const std::chrono::year_month_day ymd{std::chrono::year{d->year}, std::chrono::month{d->month},
                                          std::chrono::day{d->day}};
    if (ymd.ok()) return Date{ymd};
  }
  if (auto text = node.value<std::string>()) {
    if (auto d = parse_date(*text)) return *d;
    return make_error(where(source, node.source()) + ": " + key + ": '" + *text + "' is not a date (YYYY-MM-DD)");
  }
  return make_error(where(source, node.source()) + ": " + key + " must be a date (\"YYYY-MM-DD\")");
}

Expected<std::chrono::minutes> read_clock(const toml::node& node, const std::string& key, std::string_view source) {
  auto text = node.value<std::string>();
  if (!text) return make_error(where(source, node.source()) + ": " + key + " must be a clock time \"HH:MM\"");
  auto minutes = parse_clock(*text);
  if (!minutes) return make_error(where(source, node.source()) + ": " + key + ": " + minutes.error().message);
  return *minutes;
}

const toml::array* array_at(const toml::table& t, std::string_view key, const std::string& path,
                            std::string_view source, Expected<void>& error) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return nullptr;
  if (const toml::array* arr = node->as_array()) return arr;
  error = make_error(where(source, node->source()) + ": " + path + std::string(key) + " must be an array");
  return nullptr;
}

/// `holidays` / `closed`: dates, each listed once across both keys.
Expected<void> read_dates(const toml::table& t, std::string_view key, const std::string& path, std::vector<Date>& out,
                          std::map<Date, std::string>& seen, std::string_view source) {
  Expected<void> err;
  const toml::array* arr = array_at(t, key, path, source, err);
  if (arr == nullptr) return err;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string item = path + std::string(key) + "[" + std::to_string(i) + "]";
    auto d = read_date((*arr)[i], item, source);
    if (!d) return tl::unexpected(d.error());
    if (auto [it, fresh] = seen.emplace(*d, item); !fresh) {
      return make_error(where(source, (*arr)[i].source()) + ": " + item + ": " + format_date(*d) +
                        " is already listed (" + it->second + ")");
    }
    out.push_back(*d);
  }
  std::sort(out.begin(), out.end());
  return {};
}

Expected<ExchangeCalendar> parse_calendar(const std::string& name, const toml::table& t, std::string_view source) {
  const std::string path = "calendars." + name + ".";
  if (auto ok =
          check_keys(t, {"time_zone", "weekdays", "holidays", "closed", "special_sessions", "hours"}, path, source);
      !ok) {
    return tl::unexpected(ok.error());
  }
  ExchangeCalendar c;
  c.name = name;
  if (auto r = read_string(t, "time_zone", c.time_zone, path, source); !r) return tl::unexpected(r.error());
  if (c.time_zone.empty()) {
    return make_error(where(source, t.source()) + ": " + path +
                      "time_zone is required (the IANA zone of its dates and hours)");
  }
  if (auto tz = TimeZone::find(c.time_zone); !tz) {
    return make_error(std::string(source) + ": " + path + "time_zone: " + tz.error().message);
  }
  Expected<void> err;
  if (const toml::array* arr = array_at(t, "weekdays", path, source, err)) {
    c.weekdays.clear();
    for (const auto& d : *arr) {
      auto v = d.value<int64_t>();
      if (!v || *v < 0 || *v > 6 ||
          std::find(c.weekdays.begin(), c.weekdays.end(), static_cast<int>(*v)) != c.weekdays.end()) {
        return make_error(where(source, d.source()) + ": " + path +
                          "weekdays holds distinct 0 (Sunday) .. 6 (Saturday)");
      }
      c.weekdays.push_back(static_cast<int>(*v));
    }
  }
  if (!err) return tl::unexpected(err.error());
  std::map<Date, std::string> closed_seen;
  if (auto r = read_dates(t, "holidays", path, c.holidays, closed_seen, source); !r) return tl::unexpected(r.error());
  if (auto r = read_dates(t, "closed", path, c.closed, closed_seen, source); !r) return tl::unexpected(r.error());

  if (const toml::array* arr = array_at(t, "special_sessions", path, source, err)) {
    std::map<Date, std::string> seen;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string item = path + "special_sessions[" + std::to_string(i) + "]";
      const toml::table* st = (*arr)[i].as_table();
      if (st == nullptr) {
        return make_error(where(source, (*arr)[i].source()) + ": " + item +
                          " must be a table { date = \"YYYY-MM-DD\", open = \"HH:MM\", close = \"HH:MM\" }");
      }
      if (auto ok = check_keys(*st, {"date", "open", "close"}, item + ".", source); !ok)
        return tl::unexpected(ok.error());
      SpecialSession s;
      const toml::node* date = st->get("date");
      if (date == nullptr) return make_error(where(source, st->source()) + ": " + item + ".date is required");
      auto d = read_date(*date, item + ".date", source);
      if (!d) return tl::unexpected(d.error());
      s.date = *d;
      for (auto [key, slot] : {std::pair{"open", &s.open}, std::pair{"close", &s.close}}) {
        if (const toml::node* n = st->get(key)) {
          auto m = read_clock(*n, item + "." + key, source);
          if (!m) return tl::unexpected(m.error());
          *slot = *m;
        }
      }
      if (!s.open && !s.close) {
        return make_error(where(source, st->source()) + ": " + item +
                          " changes nothing: give its open, its close or both");
      }
      if (auto it = closed_seen.find(s.date); it != closed_seen.end()) {
        return make_error(where(source, st->source()) + ": " + item + ": " + format_date(s.date) +
                          " is a no-trading day (" + it->second + "): a special session needs a trading day");
      }
      if (auto [it, fresh] = seen.emplace(s.date, item); !fresh) {
        return make_error(where(source, st->source()) + ": " + item + ": " + format_date(s.date) +
                          " already has a special session (" + it->second + ")");
      }
      c.special_sessions.push_back(s);
    }
    std::sort(c.special_sessions.begin(), c.special_sessions.end(),
              [](const SpecialSession& a, const SpecialSession& b) { return a.date < b.date; });
  }
  if (!err) return tl::unexpected(err.error());

  const toml::table* hours = sub_table(t, "hours", path, source, err);
  if (!err) return tl::unexpected(err.error());
  if (hours == nullptr || hours->empty()) {
    return make_error(where(source, t.source()) + ": " + path + "hours is required: [" + path +
                      "hours] name = [{ from = \"YYYY-MM-DD\", open = \"HH:MM\", close = \"HH:MM\" }, ...]");
  }
  for (const auto& [key, node] : *hours) {
    const std::string schedule = path + "hours." + std::string(key.str());
    const toml::array* arr = node.as_array();
    if (arr == nullptr || arr->empty()) {
      return make_error(where(source, node.source()) + ": " + schedule +
                        " must be a non-empty array of { from = \"YYYY-MM-DD\", open = \"HH:MM\", close = \"HH:MM\" }");
    }
    std::vector<DatedSession> entries;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string item = schedule + "[" + std::to_string(i) + "]";
      const toml::table* et = (*arr)[i].as_table();
      if (et == nullptr) {
        return make_error(where(source, (*arr)[i].source()) + ": " + item +
                          " must be a table { from = \"YYYY-MM-DD\", open = \"HH:MM\", close = \"HH:MM\" }");
      }
      if (auto ok = check_keys(*et, {"from", "open", "close"}, item + ".", source); !ok)
        return tl::unexpected(ok.error());
      DatedSession e;
      for (const char* required : {"from", "open", "close"}) {
        if (et->get(required) == nullptr) {
          return make_error(where(source, et->source()) + ": " + item + "." + required + " is required");
        }
      }
      auto from = read_date(*et->get("from"), item + ".from", source);
      if (!from) return tl::unexpected(from.error());
      auto open = read_clock(*et->get("open"), item + ".open", source);
      if (!open) return tl::unexpected(open.error());
      auto close = read_clock(*et->get("close"), item + ".close", source);
      if (!close) return tl::unexpected(close.error());
      e.from = *from;
      e.session = Session{*open, *close};
      if (!entries.empty() && !(entries.back().from < e.from)) {
        return make_error(where(source, et->source()) + ": " + item + ".from " + format_date(e.from) +
                          " must come after the previous entry's " + format_date(entries.back().from));
      }
      entries.push_back(e);
    }
    c.hours[std::string(key.str())] = std::move(entries);
  }
  // Every schedule must give every special session a real session.
  for (const auto& [schedule, entries] : c.hours) {
    if (auto r = make_trading_calendar(c, schedule); !r) {
      return make_error(std::string(source) + ": " + path + "special_sessions: " + r.error().message);
    }
  }
  return c;
}

Expected<AssetClass> parse_asset_class(std::string_view s) {
  if (s == "future") return AssetClass::Future;
  if (s == "fx") return AssetClass::Fx;
  if (s == "crypto") return AssetClass::Crypto;
  if (s == "equity") return AssetClass::Equity;
  if (s == "index") return AssetClass::Index;
  if (s == "other") return AssetClass::Other;
  return make_error("asset_class '" + std::string(s) + "' is not one of future, fx, crypto, equity, index, other");
}

Expected<RollRule> parse_roll_rule(std::string_view s) {
  if (s == "none") return RollRule::None;
  if (s == "wednesday_nearest_15th") return RollRule::WednesdayNearest15th;
  if (s == "first_business_day") return RollRule::FirstBusinessDay;
  if (s == "third_friday") return RollRule::ThirdFriday;
  return make_error("roll_rule '" + std::string(s) +
                    "' is not one of none, wednesday_nearest_15th, first_business_day, third_friday");
}

/// Trading calendars already built, by (calendar, hours): instruments that
/// trade by the same schedule share one.
using CalendarCache = std::map<std::pair<std::string, std::string>, std::shared_ptr<const TradingCalendar>>;

Expected<InstrumentSpec> parse_instrument(const std::string& symbol, const toml::table& t,
                                          const std::map<std::string, ExchangeCalendar>& calendars,
                                          CalendarCache& cache, std::string_view source) {
  const std::string path = "instruments." + symbol + ".";
  if (auto ok = check_keys(t,
                           {"description", "asset_class", "exchange", "currency", "tick_size", "point_value",
                            "lot_step", "min_lot", "fee_per_side", "brokerage_per_side", "time_zone", "session",
                            "weekdays", "contract_months", "roll_rule", "calendar", "hours"},
                           path, source);
      !ok) {
    return tl::unexpected(ok.error());
  }
  InstrumentSpec spec;
  spec.symbol = symbol;
  std::string asset = "other", roll = "none", session_open = "00:00", session_close = "00:00";
  auto err = [&](const Error& e) { return make_error(std::string(source) + ": " + path + " " + e.message); };
  for (auto r :
       {read_string(t, "description", spec.description, path, source),
        read_string(t, "asset_class", asset, path, source), read_string(t, "exchange", spec.exchange, path, source),
        read_string(t, "currency", spec.currency, path, source),
        read_number(t, "tick_size", spec.tick_size, path, source),
        read_number(t, "point_value", spec.point_value, path, source),
        read_number(t, "lot_step", spec.lot_step, path, source), read_number(t, "min_lot", spec.min_lot, path, source),
        read_number(t, "fee_per_side", spec.fee_per_side, path, source),
        read_number(t, "brokerage_per_side", spec.brokerage_per_side, path, source),
        read_string(t, "time_zone", spec.time_zone, path, source),
        read_string(t, "contract_months", spec.contract_months, path, source),
        read_string(t, "roll_rule", roll, path, source)}) {
    if (!r) return tl::unexpected(r.error());
  }
  auto ac = parse_asset_class(asset);
  if (!ac) return err(ac.error());
  spec.asset_class = *ac;
  auto rr = parse_roll_rule(roll);
  if (!rr) return err(rr.error());
  spec.roll_rule = *rr;
  if (!(spec.tick_size > 0)) return make_error(std::string(source) + ": " + path + "tick_size must be > 0");
  if (!(spec.point_value > 0)) return make_error(std::string(source) + ": " + path + "point_value must be > 0");
  if (!(spec.lot_step > 0) || !(spec.min_lot > 0)) {
    return make_error(std::string(source) + ": " + path + "lot_step and min_lot must be > 0");
  }
  if (spec.fee_per_side < 0 || spec.brokerage_per_side < 0) {
    return make_error(std::string(source) + ": " + path + "fees must be >= 0");
  }
  if (auto tz = TimeZone::find(spec.time_zone); !tz) return err(tz.error());
  for (char c : spec.contract_months) {
    if (month_from_code(c) == 0) {
      return make_error(std::string(source) + ": " + path + "contract_months: '" + std::string(1, c) +
                        "' is not a futures month code (F G H J K M N Q U V X Z)");
    }
  }
  if (const toml::node* s = t.get("session")) {
    const toml::table* st = s->as_table();
    if (st == nullptr) return make_error(where(source, s->source()) + ": " + path + "session must be a table");
    if (auto ok = check_keys(*st, {"open", "close"}, path + "session.", source); !ok) {
      return tl::unexpected(ok.error());
    }
    if (auto r = read_string(*st, "open", session_open, path + "session.", source); !r)
      return tl::unexpected(r.error());
    if (auto r = read_string(*st, "close", session_close, path + "session.", source); !r)
      return tl::unexpected(r.error());
  }
  auto o = parse_clock(session_open);
  if (!o) return err(o.error());
  auto c = parse_clock(session_close);
  if (!c) return err(c.error());
  spec.session = Session{*o, *c};
  if (const toml::node* w = t.get("weekdays")) {
    const toml::array* arr = w->as_array();
    if (arr == nullptr) return make_error(where(source, w->source()) + ": " + path + "weekdays must be an array");
    spec.weekdays.clear();
    for (const auto& d : *arr) {
      auto v = d.value<int64_t>();
      if (!v || *v < 0 || *v > 6) {
        return make_error(where(source, d.source()) + ": " + path + "weekdays holds 0 (Sunday) .. 6 (Saturday)");
      }
      spec.weekdays.push_back(static_cast<int>(*v));
    }
  }
  std::string calendar_name, hours_name;
  for (auto r :
       {read_string(t, "calendar", calendar_name, path, source), read_string(t, "hours", hours_name, path, source)}) {
    if (!r) return tl::unexpected(r.error());
  }
  if (calendar_name.empty()) {
    if (const toml::node* h = t.get("hours")) {
      return make_error(where(source, h->source()) + ": " + path +
                        "hours names a schedule of the instrument's calendar: set " + path + "calendar too");
    }
    return spec;
  }
  // With a calendar, the calendar owns the hours and the trading days.
  const toml::node* calendar_node = t.get("calendar");
  auto found = calendars.find(calendar_name);
  if (found == calendars.end()) {
    std::string known;
    for (const auto& [name, configured] : calendars) known += (known.empty() ? "" : ", ") + name;
    return make_error(where(source, calendar_node->source()) + ": " + path + "calendar: no [calendars." +
                      calendar_name + "] (configured: " + (known.empty() ? "none" : known) + ")");
  }
  const ExchangeCalendar& calendar = found->second;
  for (const char* key : {"session", "weekdays"}) {
    if (const toml::node* n = t.get(key)) {
      return make_error(where(source, n->source()) + ": " + path + key + ": an instrument with a calendar takes its " +
                        (std::string_view(key) == "session" ? "hours from calendars." + calendar_name + ".hours"
                                                            : "trading days from calendars." + calendar_name) +
                        "; remove " + path + key);
    }
  }
  if (t.get("time_zone") == nullptr) {
    spec.time_zone = calendar.time_zone;
  } else if (spec.time_zone != calendar.time_zone) {
    return make_error(where(source, t.get("time_zone")->source()) + ": " + path + "time_zone '" + spec.time_zone +
                      "' differs from calendars." + calendar_name + ".time_zone '" + calendar.time_zone + "'");
  }
  if (hours_name.empty()) {
    if (calendar.hours.size() != 1) {
      std::string known;
      for (const auto& [name, entries] : calendar.hours) known += (known.empty() ? "" : ", ") + name;
      return make_error(where(source, calendar_node->source()) + ": " + path + "hours: name one of calendars." +
                        calendar_name + ".hours (" + known + ")");
    }
    hours_name = calendar.hours.begin()->first;
  }
  auto& shared = cache[{calendar_name, hours_name}];
  if (shared == nullptr) {
    auto built = make_trading_calendar(calendar, hours_name);
    if (!built) {
      return make_error(where(source, t.get("hours") != nullptr ? t.get("hours")->source() : calendar_node->source()) +
                        ": " + path + "hours: " + built.error().message);
    }
    shared = std::make_shared<const TradingCalendar>(std::move(*built));
  }
  spec.calendar = shared;
  spec.session = shared->hours.back().session;
  spec.weekdays = shared->weekdays;
  return spec;
}

}  // namespace

Expected<std::chrono::minutes> parse_clock(std::string_view text) {
  int h = 0, m = 0;
  if (text.size() != 5 || text[2] != ':' || std::from_chars(text.data(), text.data() + 2, h).ec != std::errc() ||
      std::from_chars(text.data() + 3, text.data() + 5, m).ec != std::errc() || h < 0 || h > 24 || m < 0 || m > 59 ||
      (h == 24 && m != 0)) {
    return make_error("bad clock time '" + std::string(text) + "': expected HH:MM");
  }
  return std::chrono::minutes(h * 60 + m);
}

static Expected<void> parse_fix(const toml::table& root, AppConfig& config, std::string_view source) {
  Expected<void> err;
  const toml::table* t = sub_table(root, "fix", "", source, err);
  if (t == nullptr) return err;
  auto& f = config.fix;
  if (auto ok = check_keys(*t,
                           {"host", "port", "sender_comp_id", "target_comp_id", "heartbeat_s", "reconnect_s",
                            "store_dir", "log_dir", "dictionary", "account", "entering_trader", "entering_firm",
                            "sender_location", "security_exchange"},
                           "fix.", source);
      !ok) {
    return ok;
  }
  for (auto r : {read_string(*t, "host", f.host, "fix.", source), read_int(*t, "port", f.port, "fix.", source),
                 read_string(*t, "sender_comp_id", f.sender_comp_id, "fix.", source),
                 read_string(*t, "target_comp_id", f.target_comp_id, "fix.", source),
                 read_int(*t, "heartbeat_s", f.heartbeat_s, "fix.", source),
                 read_int(*t, "reconnect_s", f.reconnect_s, "fix.", source),
                 read_string(*t, "store_dir", f.store_dir, "fix.", source),
                 read_string(*t, "log_dir", f.log_dir, "fix.", source),
                 read_string(*t, "dictionary", f.dictionary, "fix.", source),
                 read_string(*t, "account", f.account, "fix.", source),
                 read_string(*t, "entering_trader", f.entering_trader, "fix.", source),
                 read_string(*t, "entering_firm", f.entering_firm, "fix.", source),
                 read_string(*t, "sender_location", f.sender_location, "fix.", source),
                 read_string(*t, "security_exchange", f.security_exchange, "fix.", source)}) {
    if (!r) return r;
  }
  const std::string at = std::string(source) + ": ";
  if (f.port < 1 || f.port > 65535) return make_error(at + "fix.port must be within [1, 65535]");
  if (f.sender_comp_id.empty() || f.target_comp_id.empty() || f.sender_comp_id == f.target_comp_id)
    return make_error(at + "fix.sender_comp_id and fix.target_comp_id must be set and differ");
  if (f.heartbeat_s < 1 || f.heartbeat_s > 3600) return make_error(at + "fix.heartbeat_s must be within [1, 3600]");
  if (f.reconnect_s < 1 || f.reconnect_s > 3600) return make_error(at + "fix.reconnect_s must be within [1, 3600]");
  if (f.store_dir.empty()) return make_error(at + "fix.store_dir must be set (sequence numbers survive restarts there)");
  if (f.dictionary.empty()) return make_error(at + "fix.dictionary must be set (QuickFIX validates against it)");
  return {};
}

static Expected<void> parse_telegram(const toml::table& root, AppConfig& config, std::string_view source) {
  Expected<void> err;
  const toml::table* t = sub_table(root, "telegram", "", source, err);
  if (t == nullptr) return err;
  auto& g = config.telegram;
  if (const toml::node* token = t->get("token")) {
    return make_error(where(source, token->source()) +
                      ": telegram.token: the bot token never goes in the configuration; put it in the environment "
                      "variable telegram.token_env names (QUANT_TELEGRAM_TOKEN) or in the file telegram.token_file "
                      "names (or quant bot --token-file)");
  }
  if (auto ok = check_keys(*t,
                           {"api_url", "chat_ids", "token_env", "token_file", "symbols", "breaker_near_fraction",
                            "stale_seconds", "summary_time", "time_zone", "state_file", "poll_seconds", "fill_alerts",
                            "group", "prometheus_url", "prometheus_skip"},
                           "telegram.", source);
      !ok) {
    return ok;
  }
  std::string summary_time;
  for (auto r : {read_string(*t, "api_url", g.api_url, "telegram.", source),
                 read_string(*t, "token_env", g.token_env, "telegram.", source),
                 read_string(*t, "token_file", g.token_file, "telegram.", source),
                 read_strings(*t, "symbols", g.symbols, "telegram.", source),
                 read_number(*t, "breaker_near_fraction", g.breaker_near_fraction, "telegram.", source),
                 read_int(*t, "stale_seconds", g.stale_seconds, "telegram.", source),
                 read_string(*t, "summary_time", summary_time, "telegram.", source),
                 read_string(*t, "time_zone", g.time_zone, "telegram.", source),
                 read_string(*t, "state_file", g.state_file, "telegram.", source),
                 read_int(*t, "poll_seconds", g.poll_seconds, "telegram.", source),
                 read_bool(*t, "fill_alerts", g.fill_alerts, "telegram.", source),
                 read_string(*t, "group", g.group, "telegram.", source),
                 read_string(*t, "prometheus_url", g.prometheus_url, "telegram.", source),
                 read_strings(*t, "prometheus_skip", g.prometheus_skip, "telegram.", source)}) {
    if (!r) return r;
  }
  if (const toml::node* ids = t->get("chat_ids")) {
    const toml::array* list = ids->as_array();
    if (list == nullptr) return make_error(where(source, ids->source()) + ": 'telegram.chat_ids' must be a list of chat ids");
    g.chat_ids.clear();
    for (const toml::node& id : *list) {
      auto v = id.value_exact<std::int64_t>();
      if (!v || *v == 0) {
        return make_error(where(source, id.source()) +
                          ": 'telegram.chat_ids' entries must be whole numbers (a chat's id, negative for groups)");
      }
      g.chat_ids.push_back(*v);
    }
  }
  const std::string at = std::string(source) + ": ";
  if (g.api_url.rfind("http://", 0) != 0 && g.api_url.rfind("https://", 0) != 0)
    return make_error(at + "telegram.api_url must start with http:// or https://, got '" + g.api_url + "'");
  if (!g.prometheus_url.empty() && g.prometheus_url.rfind("http://", 0) != 0 && g.prometheus_url.rfind("https://", 0) != 0)
    return make_error(at + "telegram.prometheus_url must start with http:// or https:// (or be \"\"), got '" +
                      g.prometheus_url + "'");
  if (!summary_time.empty()) {
    auto m = parse_clock(summary_time);
    if (!m) return make_error(at + "telegram.summary_time: " + m.error().message);
    g.summary_time = *m;
  }
  if (!(g.breaker_near_fraction > 0 && g.breaker_near_fraction <= 1))
    return make_error(at + "telegram.breaker_near_fraction must be within (0, 1] (a share of the daily loss limit)");
  if (g.stale_seconds < 1) return make_error(at + "telegram.stale_seconds must be >= 1");
  if (g.poll_seconds < 0 || g.poll_seconds > 50) return make_error(at + "telegram.poll_seconds must be within [0, 50]");
  if (auto zone = TimeZone::find(g.time_zone); !zone) return make_error(at + "telegram.time_zone: " + zone.error().message);
  if (g.state_file.empty()) return make_error(at + "telegram.state_file must be set (what the bot has done survives restarts there)");
  if (g.group.empty()) return make_error(at + "telegram.group must be set");
  if (g.token_env.empty() && g.token_file.empty())
    return make_error(at + "telegram.token_env or telegram.token_file must say where the token is");
  return {};
}

static Expected<void> parse_monitor(const toml::table& root, AppConfig& config, std::string_view source) {
  Expected<void> err;
  const toml::table* t = sub_table(root, "monitor", "", source, err);
  if (t == nullptr) return err;
  auto& m = config.monitor;
  if (auto ok = check_keys(*t, {"live", "bridge", "logger", "bot"}, "monitor.", source); !ok) return ok;
  for (auto [key, value] : {std::pair{"live", &m.live}, std::pair{"bridge", &m.bridge}, std::pair{"logger", &m.logger},
                            std::pair{"bot", &m.bot}}) {
    if (auto r = read_string(*t, key, *value, "monitor.", source); !r) return r;
    if (value->empty()) continue;
    const auto colon = value->rfind(':');
    int port = -1;
    if (colon != std::string::npos && colon > 0 && colon + 1 < value->size()) {
      const auto [end, ec] = std::from_chars(value->data() + colon + 1, value->data() + value->size(), port);
      if (ec != std::errc() || end != value->data() + value->size()) port = -1;
    }
    if (port < 0 || port > 65535) {
      return make_error(where(source, t->get(key)->source()) + ": monitor." + key + ": '" + *value +
                        "' is not HOST:PORT (e.g. 127.0.0.1:9101; \"\" = off)");
    }
  }
  return {};
}

Expected<AppConfig> parse_config(std::string_view toml_text, std::string_view source) {
  toml::table root;
  try {
    // Debian's toml++ is built with exceptions: a syntax error throws.
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return make_error(std::string(source) + ":" + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
  AppConfig config;
  if (auto ok = check_keys(
          root, {"lake", "calendars", "instruments", "backtest", "strategy", "risk", "train", "gate", "walkforward", "optimize", "serve", "fix", "telegram", "monitor"}, "",
          source);
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = parse_backtest(root, config.backtest, source); !ok) return tl::unexpected(ok.error());
  if (auto ok = parse_train_gate(root, config, source); !ok) return tl::unexpected(ok.error());
  if (auto ok = parse_research(root, config, source); !ok) return tl::unexpected(ok.error());
  if (auto ok = parse_serve(root, config, source); !ok) return tl::unexpected(ok.error());
  if (auto ok = parse_fix(root, config, source); !ok) return tl::unexpected(ok.error());
  if (auto ok = parse_telegram(root, config, source); !ok) return tl::unexpected(ok.error());
  if (auto ok = parse_monitor(root, config, source); !ok) return tl::unexpected(ok.error());
  if (const toml::node* lake = root.get("lake")) {
    const toml::table* t = lake->as_table();
    if (t == nullptr) return make_error(where(source, lake->source()) + ": 'lake' must be a table");
    if (auto ok = check_keys(*t, {"dir", "threads", "memory_limit", "compression", "memory_budget_mb", "backup"}, "lake.", source); !ok) {
      return tl::unexpected(ok.error());
    }
    if (const toml::node* b = t->get("backup")) {
      const toml::table* bt = b->as_table();
      if (bt == nullptr) return make_error(where(source, b->source()) + ": 'lake.backup' must be a table");
      if (auto ok = check_keys(*bt, {"to", "endpoint", "region"}, "lake.backup.", source); !ok) {
        return tl::unexpected(ok.error());
      }
      for (auto r : {read_string(*bt, "to", config.lake.backup.to, "lake.backup.", source),
                     read_string(*bt, "endpoint", config.lake.backup.endpoint, "lake.backup.", source),
                     read_string(*bt, "region", config.lake.backup.region, "lake.backup.", source)}) {
        if (!r) return tl::unexpected(r.error());
      }
    }
    for (auto r : {read_string(*t, "dir", config.lake.dir, "lake.", source),
                   read_number(*t, "threads", config.lake.threads, "lake.", source),
                   read_string(*t, "memory_limit", config.lake.memory_limit, "lake.", source),
                   read_string(*t, "compression", config.lake.compression, "lake.", source),
                   read_number(*t, "memory_budget_mb", config.lake.memory_budget_mb, "lake.", source)}) {
      if (!r) return tl::unexpected(r.error());
    }
    const std::string& c = config.lake.compression;
    if (c != "zstd" && c != "lz4_raw" && c != "snappy" && c != "uncompressed") {
      return make_error(std::string(source) + ": lake.compression: zstd, lz4_raw, snappy or uncompressed, got '" + c +
                        "'");
    }
    if (config.lake.threads < 0) return make_error(std::string(source) + ": lake.threads must be >= 0");
    if (config.lake.memory_budget_mb < 0) {
      return make_error(std::string(source) + ": lake.memory_budget_mb must be >= 0 (0: no bound)");
    }
  }
  if (const toml::node* cals = root.get("calendars")) {
    const toml::table* t = cals->as_table();
    if (t == nullptr) return make_error(where(source, cals->source()) + ": 'calendars' must be a table");
    for (const auto& [key, node] : *t) {
      const toml::table* ct = node.as_table();
      if (ct == nullptr) {
        return make_error(where(source, node.source()) + ": calendars." + std::string(key.str()) + " must be a table");
      }
      auto calendar = parse_calendar(std::string(key.str()), *ct, source);
      if (!calendar) return tl::unexpected(calendar.error());
      config.calendars.emplace(calendar->name, std::move(*calendar));
    }
  }
  CalendarCache calendar_cache;
  if (const toml::node* inst = root.get("instruments")) {
    const toml::table* t = inst->as_table();
    if (t == nullptr) return make_error(where(source, inst->source()) + ": 'instruments' must be a table");
    for (const auto& [key, node] : *t) {
      const toml::table* it = node.as_table();
      if (it == nullptr) {
        return make_error(where(source, node.source()) + ": instruments." + std::string(key.str()) +
                          " must be a table");
      }
      auto spec = parse_instrument(std::string(key.str()), *it, config.calendars, calendar_cache, source);
      if (!spec) return tl::unexpected(spec.error());
      config.instruments.add(std::move(*spec));
    }
  }
  return config;
}

}  // namespace quant::config
