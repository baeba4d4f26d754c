#include "serve/infer.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/metrics.h"

namespace quant::serve {

using nlohmann::json;


namespace {

constexpr std::size_t kMaxRows = 1024;

struct Failure {
  ApiError error;
};

ApiError bad(std::string message, std::string field = {}) { return {400, std::move(message), std::move(field)}; }

/// Printable form of a client-supplied name for messages (bounded, escaped by the JSON writer).
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

void append_string(std::string& out, std::string_view s) {
  out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

struct Selection {
  std::vector<const LoadedGate*> gates;  ///< in chain order
  bool chain = false;
};

/// Checks every key of a feature object against the allowed names, and that
/// every value is a finite number that fits a float.
std::optional<ApiError> check_features(const json& features, const std::string& path, const Selection& sel,
                                       const ModelSet& set) {
  if (!features.is_object()) return bad(path + " must be an object of feature name → number", path);
  for (const auto& [name, value] : features.items()) {
    const bool known = sel.chain ? set.all_features.count(name) > 0 : sel.gates[0]->column.count(name) > 0;
    const std::string field = path + "." + shown(name);
    if (!known) {
      return bad("unknown feature '" + shown(name) + "' (model '" + (sel.chain ? std::string("chain") : sel.gates[0]->name) +
                     "' takes " + std::to_string(sel.chain ? set.all_features.size() : sel.gates[0]->features.size()) +
                     " features: see GET /models)",
                 field);
    }
    if (!value.is_number()) return bad("feature '" + shown(name) + "' must be a number", field);
    const double v = value.get<double>();
    if (!std::isfinite(v) || !std::isfinite(static_cast<float>(v))) {
      return bad("feature '" + shown(name) + "' must be finite (and within float range)", field);
    }
  }
  for (const LoadedGate* g : sel.gates) {
    for (const auto& name : g->features) {
      if (!features.contains(name)) return bad("missing feature '" + name + "'", path + "." + name);
    }
  }
  return std::nullopt;
}

void fill_row(const json& features, const LoadedGate& gate, float* row) {
  for (std::size_t i = 0; i < gate.features.size(); ++i) row[i] = static_cast<float>(features[gate.features[i]].get<double>());
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
  out += ",\"version\":" + std::to_string(g.version) + ",";
  append_score(out, s, pass);
  out += '}';
}

}  // namespace

Answer handle_infer(std::string_view body, const ModelSet& set, unsigned worker, Metrics* metrics) {
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [](const ApiError& e) { return Answer{e.status, error_body(e)}; };

  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) {  // syntax errors, and numbers out of range such as 1e999
    return fail(bad(std::string("body is not valid JSON: ") + e.what()));
  }
  if (!doc.is_object()) return fail(bad("body must be a JSON object"));
  for (const auto& [key, value] : doc.items()) {
    if (key != "model" && key != "version" && key != "symbol" && key != "ts" && key != "features" && key != "rows") {
      return fail(bad("unknown field '" + shown(key) + "'", shown(key)));
    }
  }
  for (const char* key : {"model", "symbol", "ts"}) {
    if (doc.contains(key) && !doc[key].is_string()) return fail(bad(std::string(key) + " must be a string", key));
  }

  Selection sel;
  if (doc.contains("model")) {
    const auto& name = doc["model"].get_ref<const std::string&>();
    const LoadedGate* g = set.find(name);
    if (g == nullptr) {
      std::string loaded;
      for (const auto& gate : set.gates) loaded += (loaded.empty() ? "" : ", ") + gate.name;
      return fail({404, "model '" + shown(name) + "' is not loaded (loaded: " + loaded + ")", "model"});
    }
    sel.gates.push_back(g);
  } else {
    sel.chain = true;
    for (const auto& g : set.gates) sel.gates.push_back(&g);
  }
  if (doc.contains("version")) {
    const auto& v = doc["version"];
    if (v.is_string()) {
      if (v.get_ref<const std::string&>() != "champion") {
        return fail(bad("version must be \"champion\" or a version number", "version"));
      }
    } else if (v.is_number_integer()) {
      const LoadedGate& g = *sel.gates[0];
      if ((v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) ||
          v.get<std::int64_t>() != g.version) {
        return fail({404, "model '" + g.name + "' version " + v.dump() + " is not loaded (loaded: " +
                              std::to_string(g.version) + ")",
                     "version"});
      }
    } else {
      return fail(bad("version must be \"champion\" or a version number", "version"));
    }
  }

  const bool has_features = doc.contains("features"), has_rows = doc.contains("rows");
  if (has_features == has_rows) return fail(bad("give exactly one of 'features' (one row) and 'rows' (a batch)"));

  // One buffer per worker thread: rows are rebuilt in place, request after request.
  thread_local std::vector<float> values;
  std::string out;
  out.reserve(256);
  out += "{\"model\":";
  append_string(out, sel.gates[0]->name);
  out += ",\"version\":" + std::to_string(sel.gates[0]->version);
  for (const char* key : {"symbol", "ts"}) {
    if (doc.contains(key)) {
      out += ",\"" + std::string(key) + "\":";
      append_string(out, doc[key].get_ref<const std::string&>());
    }
  }

  if (has_features) {
    const json& features = doc["features"];
    if (auto e = check_features(features, "features", sel, set)) return fail(*e);
    std::vector<model::GatekeeperScore> scores;
    scores.reserve(sel.gates.size());
    bool all_pass = true;
    for (const LoadedGate* g : sel.gates) {
      values.resize(g->features.size());
      fill_row(features, *g, values.data());
      const auto m0 = std::chrono::steady_clock::now();
      auto score = g->per_worker[worker]->predict(values);
      if (metrics != nullptr) {
        metrics->record_inference(g->name, std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count());
      }
      if (!score) return fail({500, "inference failed: " + score.error().message, ""});
      scores.push_back(*score);
      if (!(score->prob >= g->p_min)) {
        all_pass = false;
        break;  // the chain stops at the first gate that does not pass
      }
    }
    out += ',';
    append_score(out, scores[0], sel.chain ? all_pass : scores[0].prob >= sel.gates[0]->p_min);
    if (sel.chain) {
      out += ",\"gates\":[";
      for (std::size_t i = 0; i < scores.size(); ++i) {
        if (i > 0) out += ',';
        append_gate_entry(out, *sel.gates[i], scores[i], scores[i].prob >= sel.gates[i]->p_min);
      }
      out += ']';
    }
  } else {
    const json& rows = doc["rows"];
    if (!rows.is_array() || rows.empty() || rows.size() > kMaxRows) {
      return fail(bad("rows must be an array of 1 to " + std::to_string(kMaxRows) + " feature objects", "rows"));
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (auto e = check_features(rows[r], "rows[" + std::to_string(r) + "]", sel, set)) return fail(*e);
    }
    const std::size_t n = rows.size();
    std::vector<std::vector<model::GatekeeperScore>> scores(sel.gates.size(), std::vector<model::GatekeeperScore>(n));
    for (std::size_t gi = 0; gi < sel.gates.size(); ++gi) {
      const LoadedGate& g = *sel.gates[gi];
      const std::size_t f = g.features.size();
      values.resize(n * f);
      for (std::size_t r = 0; r < n; ++r) fill_row(rows[r], g, values.data() + r * f);
      const auto m0 = std::chrono::steady_clock::now();
      auto ok = g.per_worker[worker]->predict_batch(values, scores[gi]);
      if (metrics != nullptr) {
        metrics->record_inference(g.name, std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count());
      }
      if (!ok) return fail({500, "inference failed: " + ok.error().message, ""});
    }
    out += ",\"rows\":[";
    for (std::size_t r = 0; r < n; ++r) {
      if (r > 0) out += ',';
      out += '{';
      // The chain stops at the first gate a row does not pass.
      std::size_t evaluated = 0;
      bool all_pass = true;
      for (std::size_t gi = 0; gi < sel.gates.size(); ++gi) {
        ++evaluated;
        if (!(scores[gi][r].prob >= sel.gates[gi]->p_min)) {
          all_pass = false;
          break;
        }
      }
      append_score(out, scores[0][r], sel.chain ? all_pass : scores[0][r].prob >= sel.gates[0]->p_min);
      if (sel.chain) {
        out += ",\"gates\":[";
        for (std::size_t gi = 0; gi < evaluated; ++gi) {
          if (gi > 0) out += ',';
          append_gate_entry(out, *sel.gates[gi], scores[gi][r], scores[gi][r].prob >= sel.gates[gi]->p_min);
        }
        out += ']';
      }
      out += '}';
    }
    out += ']';
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  out += ",\"latency_us\":" + std::to_string(us) + "}";
  return {200, std::move(out)};
}

}  // namespace quant::serve
