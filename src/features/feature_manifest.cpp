#include "features/feature_manifest.h"

#include <array>
#include <set>

#include "core/sha256.h"

namespace quant::features {

std::string canonical_json(const std::vector<std::string>& names, const nlohmann::json& params) {
  nlohmann::json j = nlohmann::json::object();
  j["names"] = names;
  j["params"] = params;
  return j.dump();
}

void FeatureManifest::rehash() { hash = sha256_hex(canonical_json(names, params)); }

nlohmann::json FeatureManifest::to_json() const {
  return nlohmann::json{{"names", names}, {"params", params}, {"hash", hash}};
}

Expected<FeatureManifest> FeatureManifest::from_json(const nlohmann::json& json) {
  if (!json.is_object()) return make_error("feature manifest: expected a JSON object");
  FeatureManifest m;
  const auto names = json.find("names");
  if (names == json.end() || !names->is_array()) {
    return make_error("feature manifest: 'names' must be an array of strings");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < names->size(); ++i) {
    const auto& n = (*names)[i];
    if (!n.is_string() || n.get_ref<const std::string&>().empty()) {
      return make_error("feature manifest: names[" + std::to_string(i) + "] must be a non-empty string");
    }
    if (!seen.insert(n.get<std::string>()).second) {
      return make_error("feature manifest: duplicate feature name '" + n.get<std::string>() + "'");
    }
    m.names.push_back(n.get<std::string>());
  }
  const auto params = json.find("params");
  if (params == json.end() || !params->is_object()) return make_error("feature manifest: 'params' must be an object");
  m.params = *params;
  m.rehash();
  const auto hash = json.find("hash");
  if (hash != json.end()) {
    if (!hash->is_string()) return make_error("feature manifest: 'hash' must be a string");
    if (hash->get<std::string>() != m.hash) {
      return make_error("feature manifest: 'hash' " + hash->get<std::string>() +
                        " does not match its names and params (" + m.hash + "): the manifest was edited");
    }
  }
  return m;
}

namespace {
struct Difference {
  std::string path;  // dotted key path, "" when equal
  std::string expected, got;
};

// The first key (dotted path, keys in sorted order) where two JSON values differ.
Difference first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& path) {
  if (a == b) return {};
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.items()) {
      const std::string sub = path.empty() ? key : path + "." + key;
      const auto it = b.find(key);
      if (it == b.end()) return {sub, value.dump(), "(absent)"};
      Difference d = first_difference(value, *it, sub);
      if (!d.path.empty()) return d;
    }
    for (const auto& [key, value] : b.items()) {
      if (!a.contains(key)) return {path.empty() ? key : path + "." + key, "(absent)", value.dump()};
    }
  }
  return {path.empty() ? "(root)" : path, a.dump(), b.dump()};
}
}  // namespace

Expected<void> check_compatible(const FeatureManifest& expected, const FeatureManifest& got) {
  const std::size_t common = std::min(expected.names.size(), got.names.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (expected.names[i] != got.names[i]) {
      return make_error("feature " + std::to_string(i) + ": expected '" + expected.names[i] + "', got '" +
                        got.names[i] + "'");
    }
  }
  if (got.names.size() < expected.names.size()) {
    return make_error("feature " + std::to_string(common) + ": missing '" + expected.names[common] + "' (expected " +
                      std::to_string(expected.names.size()) + " features, got " + std::to_string(got.names.size()) +
                      ")");
  }
  if (got.names.size() > expected.names.size()) {
    return make_error("feature " + std::to_string(common) + ": extra '" + got.names[common] + "' (expected " +
                      std::to_string(expected.names.size()) + " features, got " + std::to_string(got.names.size()) +
                      ")");
  }
  const Difference diff = first_difference(expected.params, got.params, "");
  if (!diff.path.empty()) {
    return make_error("feature params differ at '" + diff.path + "': expected " + diff.expected + ", got " + diff.got);
  }
  return {};
}

}  // namespace quant::features
