#include "model_train/test_data.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "model/manifest.h"

namespace quant::model_train::testing_data {

namespace {
std::vector<std::string> names(std::size_t cols) {
  std::vector<std::string> out;
  for (std::size_t j = 0; j < cols; ++j) out.push_back("f" + std::to_string(j));
  return out;
}
}  // namespace

Dataset classification(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Dataset d;
  d.feature_names = names(cols);
  d.features.resize(rows * cols);
  d.labels.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    float* x = d.features.data() + i * cols;
    for (std::size_t j = 0; j < cols; ++j) x[j] = normal(rng);
    const float logit = 1.5f * x[0] - x[1] + 0.8f * x[2] * x[3];
    d.labels[i] = uniform(rng) < 1.0f / (1.0f + std::exp(-logit)) ? 1.0f : 0.0f;
    if (uniform(rng) < 0.08f) x[0] = std::nanf("");
    if (uniform(rng) < 0.08f) x[1] = std::nanf("");
  }
  return d;
}

Dataset heteroscedastic(std::size_t rows, std::size_t cols, std::uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Dataset d;
  d.feature_names = names(cols);
  d.features.resize(rows * cols);
  d.labels.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    float* x = d.features.data() + i * cols;
    x[0] = 4.0f * uniform(rng) - 2.0f;
    for (std::size_t j = 1; j < cols; ++j) x[j] = uniform(rng) < 0.05f ? std::nanf("") : normal(rng);
    d.labels[i] = scale * (2.0f * x[0] + (0.3f + 0.7f * std::fabs(x[0])) * normal(rng));
  }
  return d;
}

void copy_without_merged_model(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  fs::remove_all(to);
  fs::copy(from, to);
  auto manifest = model::load_manifest(to);
  QUANT_CHECK(manifest.has_value() && manifest->merged.has_value());
  QUANT_CHECK(fs::remove(fs::path(to) / manifest->merged->file));
  manifest->merged.reset();
  std::ofstream out(fs::path(to) / "manifest.json", std::ios::binary | std::ios::trunc);
  out << manifest->to_json().dump(2) << "\n";
  QUANT_CHECK(out.flush().good());
}

}  // namespace quant::model_train::testing_data
