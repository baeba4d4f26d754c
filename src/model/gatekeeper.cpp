#include "model/gatekeeper.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <limits>

namespace quant::model {

namespace {

constexpr const char* kOutputs[] = {"prob", "q10", "q90"};

std::string quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out;
}

}  // namespace

Expected<Gatekeeper> Gatekeeper::load(const std::string& dir, const FeatureSchema& schema, OnnxOptions options) {
  auto manifest = load_manifest(dir);
  if (!manifest) return make_error("gatekeeper: " + manifest.error().message);
  if (auto ok = check_schema(manifest->features, schema); !ok) {
    return make_error("gatekeeper: " + dir + ": refusing the input: " + ok.error().message);
  }
  if (auto ok = verify_files(dir, *manifest); !ok) return make_error("gatekeeper: " + ok.error().message);
  Gatekeeper g;
  g.manifest_ = std::move(*manifest);
  auto find_output = [&](const char* output) {
    return std::find_if(g.manifest_.models.begin(), g.manifest_.models.end(),
                        [&](const ModelFile& m) { return m.output == output; });
  };
  // The quantile models come as a pair or not at all: a gate that only
  // classifies (an order-book model, say) answers q10 = q90 = NaN.
  const bool has_q10 = find_output("q10") != g.manifest_.models.end();
  const bool has_q90 = find_output("q90") != g.manifest_.models.end();
  if (has_q10 != has_q90) {
    return make_error("gatekeeper: " + dir + ": manifest has a '" + (has_q10 ? "q10" : "q90") +
                      "' model without its '" + (has_q10 ? "q90" : "q10") + "' twin");
  }
  g.has_quantiles_ = has_q10;
  const std::size_t outputs = g.has_quantiles_ ? 3 : 1;
  for (std::size_t k = 0; k < outputs; ++k) {
    if (find_output(kOutputs[k]) == g.manifest_.models.end()) {
      return make_error("gatekeeper: " + dir + ": manifest has no '" + kOutputs[k] + "' model");
    }
  }

  // Loads one file as a session computing outputs [first, first + count).
  // Hashes exactly the bytes it loads: a file replaced after verify_files
  // must not slip in.
  const auto add_session = [&](const std::string& file, const std::string& sha256, std::size_t first,
                               std::size_t count) -> Expected<void> {
    const auto path = (std::filesystem::path(dir) / file).string();
    auto bytes = read_file_bytes(path);
    if (!bytes) return make_error("gatekeeper: " + bytes.error().message);
    if (const auto hash = sha256_hex(*bytes); hash != sha256) {
      return make_error("gatekeeper: " + path + ": SHA-256 " + hash + " does not match the manifest's " + sha256 +
                        " (file changed while loading; re-export or restore it)");
    }
    auto model = OnnxModel::load_bytes(*bytes, options);
    if (!model) return make_error("gatekeeper: " + path + ": " + model.error().message);
    const std::vector<std::string> expected(std::begin(kOutputs) + first, std::begin(kOutputs) + first + count);
    if ((*model)->feature_count() != static_cast<std::int64_t>(g.feature_count()) ||
        (*model)->output_names() != expected) {
      return make_error("gatekeeper: " + path + ": expected outputs " + quoted(expected) + " over " +
                        std::to_string(g.feature_count()) + " features; the file gives outputs " +
                        quoted((*model)->output_names()) + " over " + std::to_string((*model)->feature_count()) +
                        " features");
    }
    g.sessions_.push_back({std::move(*model), first, count});
    return {};
  };
  if (const auto& merged = g.manifest_.merged) {
    const std::vector<std::string> expected(std::begin(kOutputs), std::begin(kOutputs) + outputs);
    if (merged->outputs != expected) {
      return make_error("gatekeeper: " + dir + ": manifest lists merged model '" + merged->file + "' with outputs " +
                        quoted(merged->outputs) + ", its models give " + quoted(expected) +
                        " (re-export the directory, or drop the merged entry and file)");
    }
    if (auto ok = add_session(merged->file, merged->sha256, 0, outputs); !ok) return tl::unexpected(ok.error());
  } else {
    // Written before the merged file existed: one session per model. The
    // merged graph is these graphs side by side, so the scores are the same.
    for (std::size_t k = 0; k < outputs; ++k) {
      const auto& m = *find_output(kOutputs[k]);
      if (auto ok = add_session(m.file, m.sha256, k, 1); !ok) return tl::unexpected(ok.error());
    }
  }
  // Bind the single-row buffers now, so the first predict does not allocate.
  const std::vector<float> zeros(g.feature_count(), 0.0f);
  if (auto warm = g.predict(zeros); !warm) return make_error("gatekeeper: warm-up failed: " + warm.error().message);
  return g;
}

Expected<GatekeeperScore> Gatekeeper::predict(std::span<const float> row) {
  if (row.size() != feature_count()) {
    return make_error("gatekeeper: row has " + std::to_string(row.size()) + " values, the model takes " +
                      std::to_string(feature_count()));
  }
  GatekeeperScore s;
  const std::span<float> outputs[] = {{&s.prob, 1}, {&s.q10, 1}, {&s.q90, 1}};
  for (const auto& session : sessions_) {
    if (auto ok = session.model->run_into_many(row, 1, std::span(outputs).subspan(session.first, session.count)); !ok) {
      return make_error("gatekeeper: " + ok.error().message);
    }
  }
  if (!has_quantiles_) {
    s.q10 = s.q90 = std::numeric_limits<float>::quiet_NaN();
  } else if (s.q10 > s.q90) {
    std::swap(s.q10, s.q90);
  }
  return s;
}

Expected<void> Gatekeeper::predict_batch(std::span<const float> features, std::span<GatekeeperScore> out) {
  const std::size_t rows = out.size();
  if (rows == 0 || features.size() != rows * feature_count()) {
    return make_error("gatekeeper: batch has " + std::to_string(features.size()) + " values, expected " +
                      std::to_string(rows) + " rows of " + std::to_string(feature_count()));
  }
  batch_prob_.resize(rows);
  batch_q10_.resize(rows);
  batch_q90_.resize(rows);
  const std::span<float> outputs[] = {batch_prob_, batch_q10_, batch_q90_};
  for (const auto& session : sessions_) {
    if (auto ok =
            session.model->run_into_many(features, rows, std::span(outputs).subspan(session.first, session.count));
        !ok) {
      return make_error("gatekeeper: " + ok.error().message);
    }
  }
  if (!has_quantiles_) {
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t i = 0; i < rows; ++i) out[i] = {batch_prob_[i], nan, nan};
    return {};
  }
  for (std::size_t i = 0; i < rows; ++i) {
    out[i] = {batch_prob_[i], std::min(batch_q10_[i], batch_q90_[i]), std::max(batch_q10_[i], batch_q90_[i])};
  }
  return {};
}

}  // namespace quant::model
