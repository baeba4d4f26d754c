#include "model/manifest.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace quant::model {
namespace {

TEST(ManifestTest, Sha256OfKnownText) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ManifestTest, CheckSchemaNamesTheFirstDifference) {
  const FeatureSchema model{{"a", "b", "c"}, "h1"};
  EXPECT_TRUE(check_schema(model, model));
  auto swapped = check_schema(model, {{"a", "c", "b"}, "h1"});
  ASSERT_FALSE(swapped);
  EXPECT_NE(swapped.error().message.find("position 1"), std::string::npos) << swapped.error().message;
  EXPECT_NE(swapped.error().message.find("'b'"), std::string::npos);
  auto missing = check_schema(model, {{"a", "b"}, "h1"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("position 2"), std::string::npos) << missing.error().message;
  auto hash = check_schema(model, {{"a", "b", "c"}, "h2"});
  ASSERT_FALSE(hash);
  EXPECT_NE(hash.error().message.find("hash"), std::string::npos) << hash.error().message;
}

TEST(ManifestTest, JsonRoundTripAndRejectsBadShape) {
  Manifest m;
  m.features = {{"x", "y"}, "abc"};
  m.train_start = "2024-01-02";
  m.train_end = "2024-06-28";
  m.data_hash = "d1";
  m.params = {{"eta", 0.05}};
  m.models.push_back({"prob", "gatekeeper_prob.onnx", "00", "", "", 3, 10, 0.0});
  auto back = Manifest::from_json(m.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->to_json(), m.to_json());
  auto j = m.to_json();
  j["models"][0]["file"] = "../evil.onnx";
  EXPECT_FALSE(Manifest::from_json(j));
  j = m.to_json();
  j.erase("data_hash");
  EXPECT_FALSE(Manifest::from_json(j));
  EXPECT_FALSE(load_manifest("/nonexistent/dir"));
}

TEST(ManifestTest, MergedEntryIsOptionalAndRoundTrips) {
  Manifest m;
  m.features = {{"x"}, ""};
  m.models.push_back({"prob", "gatekeeper_prob.onnx", "00", "", "", 1, 10, 0.0});
  EXPECT_FALSE(m.to_json().contains("merged"));  // older manifests stay byte for byte what they were
  auto back = Manifest::from_json(m.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_FALSE(back->merged);

  m.merged = MergedModelFile{"gatekeeper.onnx", "11", {"prob"}};
  back = Manifest::from_json(m.to_json());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(back->merged);
  EXPECT_EQ(back->merged->file, "gatekeeper.onnx");
  EXPECT_EQ(back->merged->sha256, "11");
  EXPECT_EQ(back->merged->outputs, std::vector<std::string>{"prob"});
  EXPECT_EQ(back->to_json(), m.to_json());

  auto j = m.to_json();
  j["merged"]["file"] = "../gatekeeper.onnx";
  EXPECT_FALSE(Manifest::from_json(j));
  j = m.to_json();
  j["merged"]["outputs"] = nlohmann::json::array();
  EXPECT_FALSE(Manifest::from_json(j));
  j = m.to_json();
  j["merged"].erase("sha256");
  EXPECT_FALSE(Manifest::from_json(j));
}

}  // namespace
}  // namespace quant::model
