#include "model/manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/sha256.h"

namespace quant::model {

namespace fs = std::filesystem;

std::string sha256_hex(std::string_view bytes) { return quant::sha256_hex(bytes); }

Expected<std::string> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return make_error("cannot read " + path);
  return out.str();
}

Expected<std::string> sha256_file(const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return make_error(bytes.error().message);
  return sha256_hex(*bytes);
}

namespace {

std::string describe(const std::vector<std::string>& names, std::size_t i) {
  return i < names.size() ? "'" + names[i] + "'" : "(none)";
}

}  // namespace

Expected<void> check_schema(const FeatureSchema& expected, const FeatureSchema& got) {
  const std::size_t n = std::max(expected.names.size(), got.names.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (i >= expected.names.size() || i >= got.names.size() || expected.names[i] != got.names[i]) {
      return make_error("feature mismatch at position " + std::to_string(i) + ": the model's manifest has " +
                        describe(expected.names, i) + ", the input has " + describe(got.names, i) + " (model expects " +
                        std::to_string(expected.names.size()) + " features, input has " +
                        std::to_string(got.names.size()) + "); retrain or use the matching feature pipeline");
    }
  }
  if (expected.hash != got.hash) {
    return make_error("feature hash mismatch: the model's manifest has '" + expected.hash + "', the input has '" +
                      got.hash + "' (same names, different feature definitions); retrain or use the matching pipeline");
  }
  return {};
}

nlohmann::json Manifest::to_json() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& m : models) {
    files.push_back({{"output", m.output},
                     {"file", m.file},
                     {"sha256", m.sha256},
                     {"xgboost_file", m.xgboost_file},
                     {"xgboost_sha256", m.xgboost_sha256},
                     {"version", m.version},
                     {"trees", m.trees},
                     {"alpha", m.alpha}});
  }
  nlohmann::json json = {
      {"format", format},
      {"name", name},
      {"version", version},
      {"features", {{"names", features.names}, {"hash", features.hash}}},
      {"input", {{"name", "features"}, {"shape", {"N", features.names.size()}}, {"type", "float32"}}},
      {"train_window", {{"start", train_start}, {"end", train_end}}},
      {"data_hash", data_hash},
      {"params", params},
      {"metrics", metrics},
      {"xgboost_version", xgboost_version},
      {"models", files}};
  // Only when present: a manifest without it reads and writes back unchanged.
  if (merged) json["merged"] = {{"file", merged->file}, {"sha256", merged->sha256}, {"outputs", merged->outputs}};
  return json;
}

Expected<Manifest> Manifest::from_json(const nlohmann::json& json) {
  try {
    Manifest m;
    m.format = json.at("format").get<int>();
    if (m.format != 1) return make_error("manifest: unsupported format " + std::to_string(m.format));
    m.name = json.at("name").get<std::string>();
    m.version = json.at("version").get<std::int64_t>();
    m.features.names = json.at("features").at("names").get<std::vector<std::string>>();
    m.features.hash = json.at("features").at("hash").get<std::string>();
    m.train_start = json.at("train_window").at("start").get<std::string>();
    m.train_end = json.at("train_window").at("end").get<std::string>();
    m.data_hash = json.at("data_hash").get<std::string>();
    m.params = json.at("params");
    m.metrics = json.at("metrics");
    m.xgboost_version = json.value("xgboost_version", "");
    for (const auto& f : json.at("models")) {
      ModelFile file;
      file.output = f.at("output").get<std::string>();
      file.file = f.at("file").get<std::string>();
      file.sha256 = f.at("sha256").get<std::string>();
      file.xgboost_file = f.value("xgboost_file", "");
      file.xgboost_sha256 = f.value("xgboost_sha256", "");
      file.version = f.at("version").get<std::int64_t>();
      file.trees = f.at("trees").get<int>();
      file.alpha = f.at("alpha").get<double>();
      if (file.file.empty() || file.file.find('/') != std::string::npos) {
        return make_error("manifest: model file '" + file.file + "' must be a plain file name");
      }
      m.models.push_back(std::move(file));
    }
    if (json.contains("merged")) {
      const auto& j = json.at("merged");
      MergedModelFile entry;
      entry.file = j.at("file").get<std::string>();
      entry.sha256 = j.at("sha256").get<std::string>();
      entry.outputs = j.at("outputs").get<std::vector<std::string>>();
      if (entry.file.empty() || entry.file.find('/') != std::string::npos) {
        return make_error("manifest: merged model file '" + entry.file + "' must be a plain file name");
      }
      if (entry.outputs.empty()) return make_error("manifest: merged model '" + entry.file + "' lists no outputs");
      m.merged = std::move(entry);
    }
    if (m.features.names.empty()) return make_error("manifest: features.names is empty");
    return m;
  } catch (const std::exception& e) {
    return make_error(std::string("manifest: ") + e.what());
  }
}

Expected<Manifest> load_manifest(const std::string& dir) {
  const auto path = (fs::path(dir) / "manifest.json").string();
  auto text = read_file_bytes(path);
  if (!text) return make_error("load_manifest: " + text.error().message);
  try {
    auto manifest = Manifest::from_json(nlohmann::json::parse(*text));
    if (!manifest) return make_error(path + ": " + manifest.error().message);
    return manifest;
  } catch (const std::exception& e) {
    return make_error(path + ": " + e.what());
  }
}

Expected<void> verify_files(const std::string& dir, const Manifest& manifest) {
  const auto check = [&](const std::string& file, const std::string& expected) -> Expected<void> {
    if (file.empty()) return {};
    const auto path = (fs::path(dir) / file).string();
    auto hash = sha256_file(path);
    if (!hash) return make_error(hash.error().message);
    if (*hash != expected) {
      return make_error(path + ": SHA-256 " + *hash + " does not match the manifest's " + expected +
                        " (file changed after training; re-export or restore it)");
    }
    return {};
  };
  for (const auto& m : manifest.models) {
    if (auto ok = check(m.file, m.sha256); !ok) return ok;
    if (auto ok = check(m.xgboost_file, m.xgboost_sha256); !ok) return ok;
  }
  if (manifest.merged) return check(manifest.merged->file, manifest.merged->sha256);
  return {};
}

}  // namespace quant::model
