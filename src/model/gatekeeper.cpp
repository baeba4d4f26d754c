#include "model/gatekeeper.h"

#include <algorithm>
#include <filesystem>

namespace quant::model {

Expected<Gatekeeper> Gatekeeper::load(const std::string& dir, const FeatureSchema& schema, OnnxOptions options) {
  auto manifest = load_manifest(dir);
  if (!manifest) return make_error("gatekeeper: " + manifest.error().message);
  if (auto ok = check_schema(manifest->features, schema); !ok) {
    return make_error("gatekeeper: " + dir + ": refusing the input: " + ok.error().message);
  }
  if (auto ok = verify_files(dir, *manifest); !ok) return make_error("gatekeeper: " + ok.error().message);
  Gatekeeper g;
  g.manifest_ = std::move(*manifest);
  for (const char* output : {"prob", "q10", "q90"}) {
    const auto it = std::find_if(g.manifest_.models.begin(), g.manifest_.models.end(),
                                 [&](const ModelFile& m) { return m.output == output; });
    if (it == g.manifest_.models.end()) return make_error("gatekeeper: " + dir + ": manifest has no '" + output + "' model");
    const auto path = (std::filesystem::path(dir) / it->file).string();
    auto model = OnnxModel::load_file(path, options);
    if (!model) return make_error("gatekeeper: " + model.error().message);
    if ((*model)->feature_count() != static_cast<std::int64_t>(g.feature_count()) ||
        (*model)->output_names() != std::vector<std::string>{output}) {
      return make_error("gatekeeper: " + path + ": expected one output '" + output + "' over " +
                        std::to_string(g.feature_count()) + " features");
    }
    auto& slot = std::string_view(output) == "prob" ? g.prob_ : std::string_view(output) == "q10" ? g.q10_ : g.q90_;
    slot = std::move(*model);
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
  if (auto ok = prob_->run_into(row, 1, std::span<float>(&s.prob, 1)); !ok) return make_error(ok.error().message);
  if (auto ok = q10_->run_into(row, 1, std::span<float>(&s.q10, 1)); !ok) return make_error(ok.error().message);
  if (auto ok = q90_->run_into(row, 1, std::span<float>(&s.q90, 1)); !ok) return make_error(ok.error().message);
  if (s.q10 > s.q90) std::swap(s.q10, s.q90);
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
  if (auto ok = prob_->run_into(features, rows, batch_prob_); !ok) return make_error(ok.error().message);
  if (auto ok = q10_->run_into(features, rows, batch_q10_); !ok) return make_error(ok.error().message);
  if (auto ok = q90_->run_into(features, rows, batch_q90_); !ok) return make_error(ok.error().message);
  for (std::size_t i = 0; i < rows; ++i) {
    out[i] = {batch_prob_[i], std::min(batch_q10_[i], batch_q90_[i]), std::max(batch_q10_[i], batch_q90_[i])};
  }
  return {};
}

}  // namespace quant::model
