#include "features/feature_manifest.h"

#include <gtest/gtest.h>

namespace quant::features {
namespace {

FeatureManifest sample() {
  FeatureManifest m;
  m.names = {"ret_log_1", "ret_log_5", "atr_pct"};
  m.params = {{"version", 1}, {"bar", {{"return_windows", {1, 5}}, {"atr_period", 14}}}};
  m.rehash();
  return m;
}

TEST(FeatureManifestTest, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(FeatureManifestTest, HashIsOfTheCanonicalJsonAndIgnoresKeyInsertionOrder) {
  const FeatureManifest a = sample();
  FeatureManifest b;
  b.names = a.names;
  b.params = {{"bar", {{"atr_period", 14}, {"return_windows", {1, 5}}}}, {"version", 1}};
  b.rehash();
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.hash.size(), 64u);
  EXPECT_EQ(
      canonical_json(a.names, a.params),
      R"({"names":["ret_log_1","ret_log_5","atr_pct"],"params":{"bar":{"atr_period":14,"return_windows":[1,5]},"version":1}})");
  EXPECT_EQ(a.hash, sha256_hex(canonical_json(a.names, a.params)));
}

TEST(FeatureManifestTest, JsonRoundTrip) {
  const FeatureManifest a = sample();
  const auto b = FeatureManifest::from_json(nlohmann::json::parse(a.to_json().dump()));
  ASSERT_TRUE(b.has_value()) << b.error().message;
  EXPECT_EQ(b->names, a.names);
  EXPECT_EQ(b->params, a.params);
  EXPECT_EQ(b->hash, a.hash);
}

TEST(FeatureManifestTest, FromJsonRejectsBadShapesAndEditedContent) {
  auto j = sample().to_json();
  j["params"]["bar"]["atr_period"] = 20;
  auto r = FeatureManifest::from_json(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("does not match"), std::string::npos) << r.error().message;

  j = sample().to_json();
  j["names"][1] = "";
  r = FeatureManifest::from_json(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("names[1]"), std::string::npos) << r.error().message;

  j = sample().to_json();
  j["names"][2] = "ret_log_1";
  r = FeatureManifest::from_json(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("duplicate"), std::string::npos) << r.error().message;

  EXPECT_FALSE(FeatureManifest::from_json(nlohmann::json::array()).has_value());
}

TEST(FeatureManifestTest, CheckCompatibleNamesTheFirstDifference) {
  const FeatureManifest a = sample();
  EXPECT_TRUE(check_compatible(a, a).has_value());

  FeatureManifest b = a;
  b.names[1] = "ret_log_15";
  b.rehash();
  auto r = check_compatible(a, b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "feature 1: expected 'ret_log_5', got 'ret_log_15'");

  b = a;
  b.names.pop_back();
  r = check_compatible(a, b);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("missing 'atr_pct'"), std::string::npos) << r.error().message;

  b = a;
  b.names.emplace_back("volume_z");
  r = check_compatible(a, b);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("extra 'volume_z'"), std::string::npos) << r.error().message;

  b = a;
  b.params["bar"]["atr_period"] = 20;
  r = check_compatible(a, b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "feature params differ at 'bar.atr_period': expected 14, got 20");

  b = a;
  b.params["hmm"] = {{"states", 3}};
  r = check_compatible(a, b);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("'hmm'"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace quant::features
