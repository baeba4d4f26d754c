#include "serve/infer.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <simdjson.h>

#include "serve/metrics.h"

namespace quant::serve {

namespace {

// The hot path of the service: simdjson's DOM parser (reused per worker
// thread, so a request allocates nothing to parse), features matched by name
// with a bitmap (a name given twice is an error, not "last one wins"), rows
// built in manifest order, the answer written by hand.
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

/// A JSON string (input already validated as UTF-8 by the parser).
void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
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

void append_score(std::string& out, const model::GatekeeperScore& s, bool pass) {
  out += "\"prob\":";
  append_float(out, s.prob);
  out += ",\"q10\":";
  append_float(out, s.q10);
  out += ",\"q90\":";
  append_float(out, s.q90);
  out += pass ? ",\"pass\":true" : ",\"pass\":false";
}

void append_gate_entry(std::string& out, const LoadedGate& g, const model::GatekeeperScore& s, bool pass) {
  out += "{\"model\":";
  append_string(out, g.name);
  out += ",\"version\":";
  out += std::to_string(g.version);
  out += ',';
  append_score(out, s, pass);
  out += '}';
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Answer handle_infer(std::string_view body, const ModelSet& set, unsigned worker, Metrics* metrics) {
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [](const ApiError& e) { return Answer{e.status, error_body(e)}; };

  // Reused per worker thread: parsing allocates only when a body is larger than any before.
  thread_local simdjson::dom::parser parser;
  thread_local Values values;
  thread_local std::vector<float> row;

  element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc); error != simdjson::SUCCESS) {
    return fail(bad(std::string("body is not valid JSON: ") + simdjson::error_message(error)));
  }
  simdjson::dom::object top;
  if (doc.get_object().get(top) != simdjson::SUCCESS) return fail(bad("body must be a JSON object"));

  std::optional<element> model, version, symbol, ts, features, rows;
  for (auto [key, value] : top) {
    std::optional<element>* slot = key == "model"      ? &model
                                   : key == "version"  ? &version
                                   : key == "symbol"   ? &symbol
                                   : key == "ts"       ? &ts
                                   : key == "features" ? &features
                                   : key == "rows"     ? &rows
                                                       : nullptr;
    if (slot == nullptr) return fail(bad("unknown field '" + shown(key) + "'", shown(key)));
    if (slot->has_value()) return fail(bad("field '" + std::string(key) + "' is given twice", std::string(key)));
    *slot = value;
  }
  std::string_view model_name, symbol_text, ts_text;
  if (model && model->get_string().get(model_name) != simdjson::SUCCESS) return fail(bad("model must be a string", "model"));
  if (symbol && symbol->get_string().get(symbol_text) != simdjson::SUCCESS) return fail(bad("symbol must be a string", "symbol"));
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
        return fail({404, "model '" + g.name + "' version " + simdjson::to_string(*version) +
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

  std::string out;
  out.reserve(256);
  out += "{\"model\":";
  append_string(out, sel.gates[0]->name);
  out += ",\"version\":";
  out += std::to_string(sel.gates[0]->version);
  if (symbol) {
    out += ",\"symbol\":";
    append_string(out, symbol_text);
  }
  if (ts) {
    out += ",\"ts\":";
    append_string(out, ts_text);
  }

  if (features) {
    if (auto e = read_features(*features, "features", sel, set, values)) return fail(*e);
    model::GatekeeperScore scores[16];
    std::vector<model::GatekeeperScore> more;  // chains longer than 16 gates (never in practice)
    bool all_pass = true;
    std::size_t evaluated = 0;
    for (const LoadedGate* g : sel.gates) {
      row.resize(g->features.size());
      fill_row(values, *g, row.data());
      const auto m0 = std::chrono::steady_clock::now();
      auto score = g->per_worker[worker]->predict(row);
      if (metrics != nullptr) metrics->record_inference(g->name, seconds_since(m0));
      if (!score) return fail({500, "inference failed: " + score.error().message, ""});
      if (evaluated < 16) {
        scores[evaluated] = *score;
      } else {
        more.push_back(*score);
      }
      ++evaluated;
      if (!(score->prob >= g->p_min)) {
        all_pass = false;
        break;  // the chain stops at the first gate that does not pass
      }
    }
    auto score_at = [&](std::size_t i) { return i < 16 ? scores[i] : more[i - 16]; };
    out += ',';
    append_score(out, scores[0], sel.chain ? all_pass : scores[0].prob >= sel.gates[0]->p_min);
    if (sel.chain) {
      out += ",\"gates\":[";
      for (std::size_t i = 0; i < evaluated; ++i) {
        if (i > 0) out += ',';
        append_gate_entry(out, *sel.gates[i], score_at(i), score_at(i).prob >= sel.gates[i]->p_min);
      }
      out += ']';
    }
  } else {
    simdjson::dom::array arr;
    if (rows->get_array().get(arr) != simdjson::SUCCESS || arr.size() == 0 || arr.size() > kMaxRows) {
      return fail(bad("rows must be an array of 1 to " + std::to_string(kMaxRows) + " feature objects", "rows"));
    }
    const std::size_t n = arr.size();
    std::vector<std::vector<float>> per_gate(sel.gates.size());
    std::size_t r = 0;
    for (element item : arr) {
      if (auto e = read_features(item, "rows[" + std::to_string(r) + "]", sel, set, values)) return fail(*e);
      for (std::size_t gi = 0; gi < sel.gates.size(); ++gi) {
        auto& m = per_gate[gi];
        const std::size_t f = sel.gates[gi]->features.size();
        m.resize((r + 1) * f);
        fill_row(values, *sel.gates[gi], m.data() + r * f);
      }
      ++r;
    }
    std::vector<std::vector<model::GatekeeperScore>> scores(sel.gates.size(), std::vector<model::GatekeeperScore>(n));
    for (std::size_t gi = 0; gi < sel.gates.size(); ++gi) {
      const LoadedGate& g = *sel.gates[gi];
      const auto m0 = std::chrono::steady_clock::now();
      auto ok = g.per_worker[worker]->predict_batch(per_gate[gi], scores[gi]);
      if (metrics != nullptr) metrics->record_inference(g.name, seconds_since(m0));
      if (!ok) return fail({500, "inference failed: " + ok.error().message, ""});
    }
    out += ",\"rows\":[";
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) out += ',';
      out += '{';
      // The chain stops at the first gate a row does not pass.
      std::size_t evaluated = 0;
      bool all_pass = true;
      for (std::size_t gi = 0; gi < sel.gates.size(); ++gi) {
        ++evaluated;
        if (!(scores[gi][i].prob >= sel.gates[gi]->p_min)) {
          all_pass = false;
          break;
        }
      }
      append_score(out, scores[0][i], sel.chain ? all_pass : scores[0][i].prob >= sel.gates[0]->p_min);
      if (sel.chain) {
        out += ",\"gates\":[";
        for (std::size_t gi = 0; gi < evaluated; ++gi) {
          if (gi > 0) out += ',';
          append_gate_entry(out, *sel.gates[gi], scores[gi][i], scores[gi][i].prob >= sel.gates[gi]->p_min);
        }
        out += ']';
      }
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
