#include "serve/infer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "core/json_text.h"
#include "model/gate_rule.h"
#include "serve/metrics.h"

namespace quant::serve {

namespace {

// The hot path of the service: simdjson's DOM parser (reused per worker
// thread, so a request allocates nothing to parse), features matched by name
// with a bitmap (a name given twice is an error, not "last one wins"), rows
// built in manifest order, the answer written by hand. `pass` comes from
// model::judge, the function the backtest's gate calls: one rule, one place.
using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::size_t kMaxRows = 1024;

ApiError bad(std::string message, std::string field = {}) { return {400, std::move(message), std::move(field)}; }

/// Printable form of a client-supplied name for messages (bounded; error_body escapes it).
std::string shown(std::string_view s) { return s.size() > 64 ? std::string(s.substr(0, 64)) + "…" : std::string(s); }

void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {  // JSON has no NaN; a model that produces one answers null
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

struct Selection {
  std::vector<const LoadedGate*> gates;  ///< in chain order
  bool chain = false;
};

/// One request's feature values by position in ModelSet::all_names.
struct Values {
  std::vector<double> value;
  std::vector<char> seen;
  void reset(std::size_t n) {
    value.assign(n, 0.0);
    seen.assign(n, 0);
  }
};

std::size_t find_name(const std::vector<std::string>& names, std::string_view key) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == key) return i;
  }
  return names.size();
}

/// Reads one feature object into `values`, checking every key against the
/// selection and every value: a finite number that fits a float. Then checks
/// that each selected gate has all its features.
std::optional<ApiError> read_features(element features, const std::string& path, const Selection& sel,
                                      const ModelSet& set, Values& values) {
  simdjson::dom::object obj;
  if (features.get_object().get(obj) != simdjson::SUCCESS) {
    return bad(path + " must be an object of feature name → number", path);
  }
  values.reset(set.all_names.size());
  for (auto [key, value] : obj) {
    const std::size_t at = find_name(set.all_names, key);
    bool known = at < set.all_names.size();
    if (known && !sel.chain) known = sel.gates[0]->reads[at] != 0;
    if (!known) {
      return bad("unknown feature '" + shown(key) + "' (model '" +
                     (sel.chain ? std::string("chain") : sel.gates[0]->name) + "' takes " +
                     std::to_string(sel.chain ? set.all_names.size() : sel.gates[0]->features.size()) +
                     " features: see GET /models)",
                 path + "." + shown(key));
    }
    const std::string& name = set.all_names[at];
    if (values.seen[at] != 0) return bad("feature '" + name + "' is given twice", path + "." + name);
    double v = 0;
    if (value.get_double().get(v) != simdjson::SUCCESS) {
      return bad("feature '" + name + "' must be a number", path + "." + name);
    }
    if (!std::isfinite(v) || !std::isfinite(static_cast<float>(v))) {
      return bad("feature '" + name + "' must be finite (and within float range)", path + "." + name);
    }
    values.value[at] = v;
    values.seen[at] = 1;
  }
  for (const LoadedGate* g : sel.gates) {
    for (std::size_t c = 0; c < g->features.size(); ++c) {
      if (values.seen[g->union_index[c]] == 0) {
        return bad("missing feature '" + g->features[c] + "'", path + "." + g->features[c]);
      }
    }
  }
  return std::nullopt;
}

void fill_row(const Values& values, const LoadedGate& gate, float* row) {
  for (std::size_t c = 0; c < gate.features.size(); ++c) row[c] = static_cast<float>(values.value[gate.union_index[c]]);
}

/// A verdict of the gate rule: true, false, or not decidable (the rule needs
/// a stop distance the request did not give).
enum class Pass : std::uint8_t { False, True, Unknown };

struct Judged {
  Pass pass = Pass::False;
  const char* reason = "";  ///< static: model::judge's reasons, or kNoStop
};

constexpr const char* kNoStop = "no stop distance (give stop or atr)";

/// model::judge with the gate's rule. Without a stop (NaN), the rule is still
/// decided when it fails on what is known (probability, q90 vs target) or does
/// not read q10 at all (probability-only rule or model); otherwise it is
/// Unknown, never a pass that skipped the q10 check.
Judged judge_gate(const LoadedGate& gate, const model::GatekeeperScore& score, double target, double stop) {
  if (!std::isnan(stop)) {
    const model::GateDecision d = model::judge(gate.rule, score, target, stop);
    return {d.pass ? Pass::True : Pass::False, d.reason};
  }
  // An infinite stop makes the q10 condition vacuous: what fails here fails for every stop.
  const model::GateDecision d = model::judge(gate.rule, score, target, std::numeric_limits<double>::infinity());
  if (!d.pass) return {Pass::False, d.reason};
  if (gate.rule.use_quantiles && !std::isnan(score.q10)) return {Pass::Unknown, kNoStop};
  return {Pass::True, d.reason};
}

/// The chain's verdict over the gates evaluated (Kleene "and"): false at the
/// first false gate, else unknown at the first unknown one, else true.
Judged combine(const Judged* judged, std::size_t evaluated) {
  const Judged* unknown = nullptr;
  for (std::size_t i = 0; i < evaluated; ++i) {
    if (judged[i].pass == Pass::False) return judged[i];
    if (judged[i].pass == Pass::Unknown && unknown == nullptr) unknown = &judged[i];
  }
  return unknown != nullptr ? *unknown : Judged{Pass::True, "passed"};
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_score(std::string& out, const model::GatekeeperScore& s, const Judged& j) {
  out += "\"prob\":";
  append_float(out, s.prob);
  out += ",\"q10\":";
  append_float(out, s.q10);
  out += ",\"q90\":";
  append_float(out, s.q90);
  out += j.pass == Pass::True ? ",\"pass\":true" : j.pass == Pass::False ? ",\"pass\":false" : ",\"pass\":null";
  out += ",\"reason\":";
  append_json_string(out, j.reason);
}

void append_gate_entry(std::string& out, const LoadedGate& g, const model::GatekeeperScore& s, const Judged& j) {
  out += "{\"model\":";
  append_json_string(out, g.name);
  out += ",\"version\":";
  out += std::to_string(g.version);
  out += ',';
  append_score(out, s, j);
  out += '}';
}

/// One row of the answer (the top level of a one-row answer, an element of a
/// batch's `rows`): the first gate's score, the verdict, the distances, and
/// for the chain every gate evaluated.
void append_row(std::string& out, const Selection& sel, const model::GatekeeperScore* scores, const Judged* judged,
                std::size_t evaluated, double target, double stop) {
  append_score(out, scores[0], sel.chain ? combine(judged, evaluated) : judged[0]);
  out += ",\"target\":";
  append_double(out, target);
  out += ",\"stop\":";
  append_double(out, stop);  // NaN (not given): null
  if (sel.chain) {
    out += ",\"gates\":[";
    for (std::size_t i = 0; i < evaluated; ++i) {
      if (i > 0) out += ',';
      append_gate_entry(out, *sel.gates[i], scores[i], judged[i]);
    }
    out += ']';
  }
}

/// Reads a distance field: a finite number >= 0 for every row, or in a batch
/// (`batch_rows` > 0) also an array of one such number per row. `scale`
/// converts it (stop_atr_multiple for `atr`). Errors name the field
/// (`atr`, `atr[3]`).
std::optional<ApiError> read_distance(element value, const std::string& name, const char* unit, std::size_t batch_rows,
                                      double scale, std::vector<double>& out) {
  auto one = [&](element v, const std::string& path, double& result) -> std::optional<ApiError> {
    double x = 0;
    if (v.type() == element_type::BOOL || v.get_double().get(x) != simdjson::SUCCESS) {
      return bad(path + " must be a number (" + unit + ")", path);
    }
    if (!std::isfinite(x) || x < 0) return bad(path + " must be a finite number >= 0 (" + unit + ")", path);
    result = x * scale;
    if (!std::isfinite(result)) return bad(path + " × [risk] stop_atr_multiple is not finite", path);
    return std::nullopt;
  };
  const std::size_t n = batch_rows > 0 ? batch_rows : 1;
  if (value.type() == element_type::ARRAY) {
    simdjson::dom::array arr = value.get_array().value_unsafe();
    if (batch_rows == 0 || arr.size() != n) {
      return bad(batch_rows == 0
                     ? name + " must be a number (one row)"
                     : name + " must be a number or an array of one number per row (" + std::to_string(n) + " rows)",
                 name);
    }
    std::size_t i = 0;
    for (element item : arr) {
      if (auto e = one(item, name + "[" + std::to_string(i) + "]", out[i])) return e;
      ++i;
    }
    return std::nullopt;
  }
  double v = 0;
  if (auto e = one(value, name, v)) return e;
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), v);
  return std::nullopt;
}

/// simdjson refuses a number out of double range (1e999, a 400-digit
/// integer) by failing the whole document. On that error path only, a SAX
/// pass finds the first such number, so the 400 can name its field
/// (`atr`, `features.ret_1`, `rows[2].f0`) like any other bad value.
class OutOfRangeNumber final : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string path;  ///< where it is; empty when not found

  bool null() override { return begin_value(); }
  bool boolean(bool) override { return begin_value(); }
  bool number_integer(number_integer_t) override { return begin_value(); }
  bool number_unsigned(number_unsigned_t) override { return begin_value(); }
  bool number_float(number_float_t v, const string_t& text) override {
    begin_value();
    // An integer literal beyond 64 bits (nlohmann reads it as a double; simdjson refuses it).
    const bool big_integer = text.find_first_of(".eE") == std::string::npos;
    if (std::isfinite(v) && !big_integer) return true;
    path = where(false);
    return false;
  }
  bool string(string_t&) override { return begin_value(); }
  bool binary(binary_t&) override { return begin_value(); }
  bool start_object(std::size_t) override {
    begin_value();
    frames_.push_back({false, 0, {}});
    return true;
  }
  bool key(string_t& k) override {
    frames_.back().key = k;
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    begin_value();
    frames_.push_back({true, 0, {}});
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    if (e.id == 406) path = where(true);  // out_of_range.406: number overflow, at the value not yet begun
    return false;
  }

 private:
  struct Frame {
    bool array;
    std::size_t count;  ///< values begun in this array
    std::string key;    ///< the current key of this object
  };
  bool begin_value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().count;
    return true;
  }
  std::string where(bool pending) const {
    std::string out;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.array) {
        const std::size_t index = i + 1 == frames_.size() && pending ? f.count : f.count - 1;
        out += "[" + std::to_string(index) + "]";
      } else {
        if (!out.empty()) out += '.';
        out += shown(f.key);
      }
    }
    return out;
  }
  std::vector<Frame> frames_;
};

std::optional<ApiError> out_of_range_number(std::string_view body) {
  OutOfRangeNumber finder;
  nlohmann::json::sax_parse(body.begin(), body.end(), &finder);
  if (finder.path.empty()) return std::nullopt;
  return bad(finder.path + " must be a finite number (this one is out of range)", finder.path);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Answer handle_infer(std::string_view body, const ModelSet& set, unsigned worker, Metrics* metrics,
                    const InferSettings& settings) {
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [](const ApiError& e) { return Answer{e.status, error_body(e)}; };

  // Reused per worker thread: parsing allocates only when a body is larger than any before.
  thread_local simdjson::dom::parser parser;
  thread_local Values values;
  thread_local std::vector<float> row;
  thread_local std::vector<double> targets, stops;
  thread_local std::vector<model::GatekeeperScore> gate_scores;
  thread_local std::vector<Judged> judged;

  element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc); error != simdjson::SUCCESS) {
    if (error == simdjson::NUMBER_ERROR) {
      if (auto e = out_of_range_number(body)) return fail(*e);
    }
    return fail(bad(std::string("body is not valid JSON: ") + simdjson::error_message(error)));
  }
  simdjson::dom::object top;
  if (doc.get_object().get(top) != simdjson::SUCCESS) return fail(bad("body must be a JSON object"));

  std::optional<element> model, version, symbol, ts, features, rows, target, stop, atr;
  for (auto [key, value] : top) {
    std::optional<element>* slot = key == "model"      ? &model
                                   : key == "version"  ? &version
                                   : key == "symbol"   ? &symbol
                                   : key == "ts"       ? &ts
                                   : key == "features" ? &features
                                   : key == "rows"     ? &rows
                                   : key == "target"   ? &target
                                   : key == "stop"     ? &stop
                                   : key == "atr"      ? &atr
                                                       : nullptr;
    if (slot == nullptr) return fail(bad("unknown field '" + shown(key) + "'", shown(key)));
    if (slot->has_value()) return fail(bad("field '" + std::string(key) + "' is given twice", std::string(key)));
    *slot = value;
  }
  std::string_view model_name, symbol_text, ts_text;
  if (model && model->get_string().get(model_name) != simdjson::SUCCESS)
    return fail(bad("model must be a string", "model"));
  if (symbol && symbol->get_string().get(symbol_text) != simdjson::SUCCESS)
    return fail(bad("symbol must be a string", "symbol"));
  if (ts && ts->get_string().get(ts_text) != simdjson::SUCCESS) return fail(bad("ts must be a string", "ts"));

  Selection sel;
  if (model) {
    const LoadedGate* g = set.find(model_name);
    if (g == nullptr) {
      std::string loaded;
      for (const auto& gate : set.gates) loaded += (loaded.empty() ? "" : ", ") + gate.name;
      return fail({404, "model '" + shown(model_name) + "' is not loaded (loaded: " + loaded + ")", "model"});
    }
    sel.gates.push_back(g);
  } else {
    sel.chain = true;
    for (const auto& g : set.gates) sel.gates.push_back(&g);
  }
  if (version) {
    std::string_view text;
    if (version->get_string().get(text) == simdjson::SUCCESS) {
      if (text != "champion") return fail(bad("version must be \"champion\" or a version number", "version"));
    } else if (version->type() == element_type::INT64 || version->type() == element_type::UINT64) {
      const LoadedGate& g = *sel.gates[0];
      std::int64_t v = 0;
      const bool fits = version->get_int64().get(v) == simdjson::SUCCESS;
      if (!fits || v != g.version) {
        return fail({404,
                     "model '" + g.name + "' version " + simdjson::to_string(*version) +
                         " is not loaded (loaded: " + std::to_string(g.version) + ")",
                     "version"});
      }
    } else {
      return fail(bad("version must be \"champion\" or a version number", "version"));
    }
  }
  if (features.has_value() == rows.has_value()) {
    return fail(bad("give exactly one of 'features' (one row) and 'rows' (a batch)"));
  }
  simdjson::dom::array arr;
  if (rows && (rows->get_array().get(arr) != simdjson::SUCCESS || arr.size() == 0 || arr.size() > kMaxRows)) {
    return fail(bad("rows must be an array of 1 to " + std::to_string(kMaxRows) + " feature objects", "rows"));
  }
  const std::size_t n = rows ? arr.size() : 1;

  // The trade's distances, per row: the target (request, else the symbol's
  // configured one) and the stop (request's stop, or atr × multiple; NaN = not given).
  targets.assign(n, settings.target_for(symbol_text));
  stops.assign(n, std::numeric_limits<double>::quiet_NaN());
  const std::size_t batch_rows = rows ? n : 0;
  if (stop && atr) return fail(bad("give at most one of 'stop' (price points) and 'atr' (price units)", "stop"));
  if (target) {
    if (auto e = read_distance(*target, "target", "price points", batch_rows, 1.0, targets)) return fail(*e);
  }
  if (stop) {
    if (auto e = read_distance(*stop, "stop", "price points", batch_rows, 1.0, stops)) return fail(*e);
  }
  if (atr) {
    if (auto e = read_distance(*atr, "atr", "price units", batch_rows, settings.stop_atr_multiple, stops)) {
      return fail(*e);
    }
  }

  std::string out;
  out.reserve(256);
  out += "{\"model\":";
  append_json_string(out, sel.gates[0]->name);
  out += ",\"version\":";
  out += std::to_string(sel.gates[0]->version);
  if (symbol) {
    out += ",\"symbol\":";
    append_json_string(out, symbol_text);
  }
  if (ts) {
    out += ",\"ts\":";
    append_json_string(out, ts_text);
  }

  const std::size_t gate_count = sel.gates.size();
  if (features) {
    if (auto e = read_features(*features, "features", sel, set, values)) return fail(*e);
    gate_scores.resize(gate_count);
    judged.resize(gate_count);
    std::size_t evaluated = 0;
    for (const LoadedGate* g : sel.gates) {
      row.resize(g->features.size());
      fill_row(values, *g, row.data());
      const auto m0 = std::chrono::steady_clock::now();
      auto score = g->per_worker[worker]->predict(row);
      if (metrics != nullptr) metrics->record_inference(g->name, seconds_since(m0));
      if (!score) return fail({500, "inference failed: " + score.error().message, ""});
      gate_scores[evaluated] = *score;
      judged[evaluated] = judge_gate(*g, *score, targets[0], stops[0]);
      // The chain stops at the first gate that says no (an undecided one does not stop it).
      if (judged[evaluated++].pass == Pass::False) break;
    }
    out += ',';
    append_row(out, sel, gate_scores.data(), judged.data(), evaluated, targets[0], stops[0]);
  } else {
    std::vector<std::vector<float>> per_gate(gate_count);
    std::size_t r = 0;
    for (element item : arr) {
      if (auto e = read_features(item, "rows[" + std::to_string(r) + "]", sel, set, values)) return fail(*e);
      for (std::size_t gi = 0; gi < gate_count; ++gi) {
        auto& m = per_gate[gi];
        const std::size_t f = sel.gates[gi]->features.size();
        m.resize((r + 1) * f);
        fill_row(values, *sel.gates[gi], m.data() + r * f);
      }
      ++r;
    }
    std::vector<std::vector<model::GatekeeperScore>> scores(gate_count, std::vector<model::GatekeeperScore>(n));
    for (std::size_t gi = 0; gi < gate_count; ++gi) {
      const LoadedGate& g = *sel.gates[gi];
      const auto m0 = std::chrono::steady_clock::now();
      auto ok = g.per_worker[worker]->predict_batch(per_gate[gi], scores[gi]);
      if (metrics != nullptr) metrics->record_inference(g.name, seconds_since(m0));
      if (!ok) return fail({500, "inference failed: " + ok.error().message, ""});
    }
    gate_scores.resize(gate_count);
    judged.resize(gate_count);
    out += ",\"rows\":[";
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) out += ',';
      out += '{';
      std::size_t evaluated = 0;
      for (std::size_t gi = 0; gi < gate_count; ++gi) {
        gate_scores[gi] = scores[gi][i];
        judged[gi] = judge_gate(*sel.gates[gi], scores[gi][i], targets[i], stops[i]);
        if (judged[evaluated++].pass == Pass::False) break;  // as for one row
      }
      append_row(out, sel, gate_scores.data(), judged.data(), evaluated, targets[i], stops[i]);
      out += '}';
    }
    out += ']';
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  out += ",\"latency_us\":";
  out += std::to_string(us);
  out += '}';
  return {200, std::move(out)};
}

}  // namespace quant::serve
