#include "registry/file_registry.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include "registry/test_files.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using quant::testing::unique_dir;
using quant::testing::slurp;
using quant::testing::write_text;

constexpr std::int64_t kCreated = 1764115800000;  // 2025-11-26T00:10:00Z, fixed so files are byte-identical

/// Passes when `result` failed with a message containing every one of `parts`.
template <class T>
::testing::AssertionResult fails_with(const Expected<T>& result, std::initializer_list<std::string_view> parts) {
  if (result) return ::testing::AssertionFailure() << "expected an error, got success";
  for (const auto part : parts) {
    if (result.error().message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "error '" << result.error().message << "' does not contain '" << part << "'";
    }
  }
  return ::testing::AssertionSuccess() << result.error().message;
}

class FileRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = unique_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    root_ = (base_ / "mlruns").string();
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  /// A model directory (with a manifest.json) at `base_/relative`.
  std::string model_dir(const std::string& relative) {
    const fs::path dir = base_ / relative;
    write_text(dir / "manifest.json", "{}");
    return dir.string();
  }
  fs::path model_path(const std::string& name = "gatekeeper") const { return fs::path(root_) / "models" / name; }
  fs::path version_meta(std::int64_t version, const std::string& name = "gatekeeper") const {
    return model_path(name) / ("version-" + std::to_string(version)) / "meta.yaml";
  }
  /// Registers `name` by hand, with `version_yaml` as version-N/meta.yaml.
  void hand_version(std::int64_t version, const std::string& version_yaml, const std::string& name = "gatekeeper") {
    if (!fs::exists(model_path(name) / "meta.yaml")) write_text(model_path(name) / "meta.yaml", "name: " + name + "\n");
    write_text(version_meta(version, name), version_yaml);
  }
  void hand_alias(const std::string& alias, const std::string& text, const std::string& name = "gatekeeper") {
    write_text(model_path(name) / "aliases" / alias, text);
  }
  /// A complete version-N meta.yaml with `location` as storage_location.
  static std::string meta(std::int64_t version, const std::string& location, const std::string& extra = "") {
    return "name: gatekeeper\nversion: " + std::to_string(version) + "\nstatus: READY\ncurrent_stage: None\n" +
           "storage_location: " + location + "\n" + extra;
  }

  fs::path base_;
  std::string root_;
};

TEST_F(FileRegistryTest, RoundTripThroughAlias) {
  const std::string v1 = model_dir("models/v1");
  const std::string v2 = model_dir("models/v2");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, v1, kCreated));
  ASSERT_TRUE(write_version(root_, "gatekeeper", 2, v2, kCreated));
  ASSERT_TRUE(set_alias(root_, "gatekeeper", "champion", 2));

  auto resolved = resolve(root_, "gatekeeper", "champion");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->name, "gatekeeper");
  EXPECT_EQ(resolved->version, 2);
  EXPECT_EQ(resolved->alias, "champion");
  EXPECT_EQ(resolved->dir, v2);
  EXPECT_EQ(slurp(model_path() / "aliases" / "champion"), "2");

  ASSERT_TRUE(set_alias(root_, "gatekeeper", "champion", 1));
  ASSERT_TRUE(set_alias(root_, "gatekeeper", "challenger", 2));
  resolved = resolve(root_, "gatekeeper", "champion");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->version, 1);
  EXPECT_EQ(resolved->dir, v1);
  resolved = resolve(root_, "gatekeeper", "challenger");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->version, 2);
}

TEST_F(FileRegistryTest, NumericVersionNeedsNoAlias) {
  const std::string v3 = model_dir("models/v3");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 3, v3, kCreated));
  auto resolved = resolve(root_, "gatekeeper", "3");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->version, 3);
  EXPECT_EQ(resolved->alias, "");
  EXPECT_EQ(resolved->dir, v3);
}

TEST_F(FileRegistryTest, WritesMlflowLayoutByteForByte) {
  const std::string v1 = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, v1, kCreated));
  const std::string uri = "file://" + v1;
  EXPECT_EQ(slurp(version_meta(1)),
            "creation_timestamp: 1764115800000\ncurrent_stage: None\nlast_updated_timestamp: 1764115800000\n"
            "name: 'gatekeeper'\nrun_id: ''\nsource: '" +
                uri + "'\nstatus: READY\nstorage_location: '" + uri + "'\nversion: 1\n");
  EXPECT_EQ(slurp(model_path() / "meta.yaml"),
            "creation_timestamp: 1764115800000\ndescription: ''\nlast_updated_timestamp: 1764115800000\n"
            "name: 'gatekeeper'\n");
  auto yaml = parse_flat_yaml(slurp(version_meta(1)), "meta.yaml");
  ASSERT_TRUE(yaml) << yaml.error().message;
  for (const char* key :
       {"name", "version", "creation_timestamp", "current_stage", "status", "source", "run_id", "storage_location"}) {
    EXPECT_EQ(yaml->scalars.count(key), 1U) << key;
  }
  EXPECT_EQ(yaml->scalars.at("status"), "READY");
}

TEST_F(FileRegistryTest, RelativeStorageLocationIsUnderRoot) {
  write_text(fs::path(root_) / "artifacts" / "gk" / "manifest.json", "{}");
  hand_version(1, meta(1, "artifacts/gk"));
  hand_version(2, meta(2, "'./artifacts/../artifacts/gk/'"));
  for (const char* version : {"1", "2"}) {
    auto resolved = resolve(root_, "gatekeeper", version);
    ASSERT_TRUE(resolved) << resolved.error().message;
    EXPECT_EQ(resolved->dir, (fs::path(root_) / "artifacts" / "gk").string());
  }
}

TEST_F(FileRegistryTest, RelativeRootIsMadeAbsolute) {
  const std::string v1 = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, v1, kCreated));
  const fs::path relative_root = fs::relative(root_, fs::current_path());
  auto resolved = resolve(relative_root.string(), "gatekeeper", "1");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->dir, v1);
}

TEST_F(FileRegistryTest, FileUriIsPercentEncodedAndDecoded) {
  const std::string odd = model_dir("models/with space #1 100%");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, odd, kCreated));
  const std::string text = slurp(version_meta(1));
  EXPECT_NE(text.find("with%20space%20%231%20100%25'"), std::string::npos) << text;
  auto resolved = resolve(root_, "gatekeeper", "1");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->dir, odd);
}

TEST_F(FileRegistryTest, AcceptsEveryLocalFileUriForm) {
  const std::string dir = model_dir("models/v1");
  const std::string forms[] = {"file://" + dir, "file:" + dir, "file://localhost" + dir, "FILE://" + dir + "/",
                               "\"file://" + dir + "\""};
  std::int64_t version = 1;
  for (const auto& form : forms) {
    hand_version(version, meta(version, form));
    auto resolved = resolve(root_, "gatekeeper", std::to_string(version));
    ASSERT_TRUE(resolved) << form << ": " << resolved.error().message;
    EXPECT_EQ(resolved->dir, dir) << form;
    ++version;
  }
}

TEST_F(FileRegistryTest, AbsolutePathLocation) {
  const std::string dir = model_dir("elsewhere/gk");
  hand_version(1, meta(1, dir));
  hand_version(2, meta(2, "'" + dir + "'  # quoted, with a comment"));
  for (const char* version : {"1", "2"}) {
    auto resolved = resolve(root_, "gatekeeper", version);
    ASSERT_TRUE(resolved) << resolved.error().message;
    EXPECT_EQ(resolved->dir, dir);
  }
}

TEST_F(FileRegistryTest, FallsBackToSourceWhenStorageLocationIsAbsentOrNull) {
  const std::string dir = model_dir("models/v1");
  hand_version(1, "name: gatekeeper\nversion: 1\nsource: file://" + dir + "\n");
  hand_version(2, "name: gatekeeper\nversion: 2\nsource: file://" + dir + "\nstorage_location: null\n");
  hand_version(3, "name: gatekeeper\nversion: 3\nsource: file://" + dir + "\nstorage_location: ''\n");
  for (const char* version : {"1", "2", "3"}) {
    auto resolved = resolve(root_, "gatekeeper", version);
    ASSERT_TRUE(resolved) << version << ": " << resolved.error().message;
    EXPECT_EQ(resolved->dir, dir);
  }
}

TEST_F(FileRegistryTest, ReadsMetaYamlAsMlflowWritesIt) {
  const std::string dir = model_dir("mlruns/1/abc123/artifacts/model");
  write_text(model_path() / "meta.yaml",
             "creation_timestamp: 1764115800000\ndescription: null\nlast_updated_timestamp: 1764115900000\n"
             "name: gatekeeper\n");
  write_text(version_meta(4),
             "aliases: []\ncreation_timestamp: 1764115800000\ncurrent_stage: None\ndescription: ''\n"
             "last_updated_timestamp: 1764115800000\nname: gatekeeper\nrun_id: abc123\nrun_link: ''\n"
             "source: file://" +
                 dir + "\nstatus: READY\nstatus_message: null\nstorage_location: file://" + dir +
                 "\ntags:\n  team: research\nuser_id: null\nversion: 4\n");
  hand_alias("champion", "4");
  auto resolved = resolve(root_, "gatekeeper", "champion");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->version, 4);
  EXPECT_EQ(resolved->dir, dir);
}

TEST_F(FileRegistryTest, AliasFileIsWhitespaceTrimmed) {
  const std::string dir = model_dir("models/v7");
  hand_version(7, meta(7, dir));
  hand_alias("champion", "  7\r\n");
  auto resolved = resolve(root_, "gatekeeper", "champion");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->version, 7);
}

TEST_F(FileRegistryTest, ErrorUnknownModel) {
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "champion"), {"no model 'gatekeeper'", "is absent"}));
  EXPECT_TRUE(fails_with(resolve((base_ / "nowhere").string(), "gatekeeper", "1"), {"no model 'gatekeeper'"}));
}

TEST_F(FileRegistryTest, ErrorMissingModelMetaYaml) {
  fs::create_directories(model_path());
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {(model_path() / "meta.yaml").string(), "missing"}));
}

TEST_F(FileRegistryTest, ErrorModelMetaYamlNamesAnotherModel) {
  write_text(model_path() / "meta.yaml", "name: book\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {"meta.yaml", "name is 'book'", "expected 'gatekeeper'"}));
}

TEST_F(FileRegistryTest, ErrorMissingAliasFileListsTheAliases) {
  const std::string dir = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, dir, kCreated));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "champion"),
                         {(model_path() / "aliases" / "champion").string(), "no alias 'champion'", "aliases: none"}));
  ASSERT_TRUE(set_alias(root_, "gatekeeper", "challenger", 1));
  ASSERT_TRUE(set_alias(root_, "gatekeeper", "baseline", 1));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "champion"), {"aliases: baseline, challenger)"}));
}

TEST_F(FileRegistryTest, ErrorAliasFileDoesNotHoldAVersion) {
  const std::string dir = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, dir, kCreated));
  for (const char* text : {"abc", "", "  \n", "0", "-1", "+1", "3.0", "1 2", "99999999999999999999"}) {
    hand_alias("champion", text);
    EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "champion"),
                           {(model_path() / "aliases" / "champion").string(), "not a version number"}))
        << "alias text '" << text << "'";
  }
}

TEST_F(FileRegistryTest, ErrorVersionArgumentOutOfRange) {
  const std::string dir = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, dir, kCreated));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "0"), {"version '0'", "not a version number"}));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "99999999999999999999"), {"not a version number"}));
}

TEST_F(FileRegistryTest, ErrorInvalidNameOrAlias) {
  EXPECT_TRUE(fails_with(resolve(root_, "", "1"), {"model name is empty"}));
  EXPECT_TRUE(fails_with(resolve(root_, "..", "1"), {"'..'", "not allowed"}));
  EXPECT_TRUE(fails_with(resolve(root_, "../etc", "1"), {"path separator"}));
  EXPECT_TRUE(fails_with(resolve(root_, "a%2Fb", "1"), {"'%'"}));
  EXPECT_TRUE(fails_with(resolve("", "gatekeeper", "1"), {"root directory is empty"}));
  const std::string dir = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, dir, kCreated));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", ""), {"alias is empty"}));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "../version-1/meta.yaml"), {"is not valid"}));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "champ ion"), {"'champ ion' is not valid"}));
}

TEST_F(FileRegistryTest, ErrorMissingVersionMetaYaml) {
  const std::string dir = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, dir, kCreated));
  hand_alias("champion", "5");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "champion"),
                         {version_meta(5).string(), "missing", "version 5", "alias 'champion'"}));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "7"), {version_meta(7).string(), "not registered"}));
  fs::create_directories(version_meta(8).parent_path());  // a writer's leftover: directory without meta.yaml
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "8"), {version_meta(8).string(), "missing"}));
}

TEST_F(FileRegistryTest, ErrorMissingKeys) {
  const std::string dir = model_dir("models/v1");
  hand_version(1, "version: 1\nstorage_location: " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {version_meta(1).string(), "missing key 'name'"}));
  hand_version(2, "name: gatekeeper\nstorage_location: " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "2"), {version_meta(2).string(), "missing key 'version'"}));
  hand_version(3, "name: gatekeeper\nversion: 3\nstatus: READY\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "3"),
                         {version_meta(3).string(), "missing key 'storage_location'", "'source'"}));
  hand_version(4, "name: gatekeeper\nversion: 4\nsource: null\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "4"), {"missing key 'storage_location'"}));
  hand_version(5, "name: ~\nversion: 5\nsource: " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "5"), {"key 'name' is null"}));
}

TEST_F(FileRegistryTest, ErrorNameOrVersionMismatch) {
  const std::string dir = model_dir("models/v1");
  hand_version(1, "name: book\nversion: 1\nstorage_location: " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {version_meta(1).string(), "name is 'book'"}));
  hand_version(2, meta(3, dir));
  EXPECT_TRUE(
      fails_with(resolve(root_, "gatekeeper", "2"), {version_meta(2).string(), "version is '3'", "expected 2"}));
  hand_version(4, "name: gatekeeper\nversion: four\nstorage_location: " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "4"), {"version is 'four'"}));
}

TEST_F(FileRegistryTest, ErrorStatusNotReady) {
  const std::string dir = model_dir("models/v1");
  hand_version(1, "name: gatekeeper\nversion: 1\nstatus: PENDING_REGISTRATION\nstorage_location: " + dir + "\n");
  hand_alias("champion", "1");
  EXPECT_TRUE(
      fails_with(resolve(root_, "gatekeeper", "champion"),
                 {version_meta(1).string(), "status is 'PENDING_REGISTRATION', not READY", "alias 'champion'"}));
}

TEST_F(FileRegistryTest, ErrorDeletedVersion) {
  const std::string dir = model_dir("models/v1");
  hand_version(1, "name: gatekeeper\nversion: 1\ncurrent_stage: Deleted_Internal\nstorage_location: " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {version_meta(1).string(), "is deleted"}));
}

TEST_F(FileRegistryTest, ErrorKeyIsNotAFlatScalar) {
  const std::string dir = model_dir("models/v1");
  hand_version(1, "name: gatekeeper\nversion: 1\nstorage_location:\n- " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"),
                         {version_meta(1).string(), "'storage_location' is not a flat scalar"}));
  hand_version(2, "name: gatekeeper\nversion: 2\nstatus: {code: READY}\nstorage_location: " + dir + "\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "2"), {"'status' is not a flat scalar"}));
}

TEST_F(FileRegistryTest, ErrorUnsupportedLocations) {
  const std::pair<const char*, const char*> cases[] = {
      {"s3://bucket/models/gk", "URI scheme 's3:' is not supported"},
      {"runs:/abc123/model", "URI scheme 'runs:'"},
      {"models:/gatekeeper/1", "URI scheme 'models:'"},
      {"mlflow-artifacts:/1/abc/artifacts", "URI scheme 'mlflow-artifacts:'"},
      {"file://server/share/gk", "names host 'server'"},
      {"file:relative/gk", "does not hold an absolute path"},
      {"file://localhost", "has no path"},
      {"file:///tmp/bad%zzescape", "bad percent escape"},
      {"file:///tmp/nul%00byte", "%00"},
  };
  std::int64_t version = 1;
  for (const auto& [location, expected] : cases) {
    hand_version(version, meta(version, location));
    EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", std::to_string(version)),
                           {version_meta(version).string(), "storage_location", expected}))
        << location;
    ++version;
  }
}

TEST_F(FileRegistryTest, ErrorDirectoryAbsent) {
  const std::string missing = (base_ / "gone").string();
  hand_version(1, meta(1, "file://" + missing));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"),
                         {version_meta(1).string(), "directory " + missing + " does not exist"}));
  hand_version(2, "name: gatekeeper\nversion: 2\nsource: relative/gone\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "2"),
                         {"source 'relative/gone'", (fs::path(root_) / "relative/gone").string(), "does not exist"}));
}

TEST_F(FileRegistryTest, ErrorNoManifest) {
  const fs::path empty = base_ / "empty_model";
  fs::create_directories(empty);
  hand_version(1, meta(1, empty.string()));
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {version_meta(1).string(), "no manifest.json in"}));
}

TEST_F(FileRegistryTest, ErrorMalformedMetaYamlNamesFileAndLine) {
  const std::string dir = model_dir("models/v1");
  hand_version(1, "name: gatekeeper\nversion 1\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {version_meta(1).string() + ":2:", "`key: value`"}));
  hand_version(2, "name: 'gatekeeper\nversion: 2\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "2"), {version_meta(2).string() + ":1:", "unterminated"}));
  hand_version(3, "name: gatekeeper\nversion: 3\nname: book\n");
  EXPECT_TRUE(
      fails_with(resolve(root_, "gatekeeper", "3"), {version_meta(3).string() + ":3:", "duplicate key 'name'"}));
  write_text(model_path() / "meta.yaml", "  indented: first\n");
  EXPECT_TRUE(fails_with(resolve(root_, "gatekeeper", "1"), {(model_path() / "meta.yaml").string() + ":1:"}));
}

TEST_F(FileRegistryTest, WriteVersionRefusesBadInput) {
  const std::string dir = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, dir, kCreated));
  EXPECT_TRUE(fails_with(write_version(root_, "gatekeeper", 1, dir, kCreated),
                         {(model_path() / "version-1").string(), "already exists", "immutable"}));
  EXPECT_TRUE(fails_with(write_version(root_, "gatekeeper", 0, dir), {"version 0", "< 1"}));
  EXPECT_TRUE(fails_with(write_version(root_, "gate/keeper", 2, dir), {"path separator"}));
  EXPECT_TRUE(fails_with(write_version("", "gatekeeper", 2, dir), {"root directory is empty"}));
  EXPECT_TRUE(fails_with(write_version(root_, "gatekeeper", 2, (base_ / "gone").string()), {"does not exist"}));
  fs::create_directories(base_ / "bare");
  EXPECT_TRUE(fails_with(write_version(root_, "gatekeeper", 2, (base_ / "bare").string()), {"no manifest.json in"}));
  EXPECT_FALSE(fs::exists(model_path() / "version-2"));
}

TEST_F(FileRegistryTest, SetAliasRefusesBadInput) {
  const std::string dir = model_dir("models/v1");
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, dir, kCreated));
  EXPECT_TRUE(fails_with(set_alias(root_, "gatekeeper", "champion", 2), {version_meta(2).string(), "not registered"}));
  EXPECT_TRUE(fails_with(set_alias(root_, "book", "champion", 1), {"not registered"}));
  EXPECT_TRUE(fails_with(set_alias(root_, "gatekeeper", "latest", 1), {"reserved"}));
  EXPECT_TRUE(fails_with(set_alias(root_, "gatekeeper", "v2", 1), {"reserved"}));
  EXPECT_TRUE(fails_with(set_alias(root_, "gatekeeper", "42", 1), {"all digits"}));
  EXPECT_TRUE(fails_with(set_alias(root_, "gatekeeper", "../x", 1), {"is not valid"}));
  EXPECT_TRUE(fails_with(set_alias(root_, "gatekeeper", "", 1), {"alias is empty"}));
  EXPECT_TRUE(fails_with(set_alias(root_, "gatekeeper", "champion", 0), {"< 1"}));
  EXPECT_FALSE(fs::exists(model_path() / "aliases" / "champion"));
  EXPECT_TRUE(set_alias(root_, "gatekeeper", "v2-candidate", 1));  // only v<digits> is reserved
}

TEST_F(FileRegistryTest, SetAliasLeavesNoTemporaryFiles) {
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, model_dir("models/v1"), kCreated));
  ASSERT_TRUE(write_version(root_, "gatekeeper", 2, model_dir("models/v2"), kCreated));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(set_alias(root_, "gatekeeper", "champion", 1 + i % 2));
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(model_path())) {
    names.push_back(fs::relative(entry.path(), model_path()).string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"aliases", "aliases/champion", "meta.yaml", "version-1",
                                             "version-1/meta.yaml", "version-2", "version-2/meta.yaml"}));
  EXPECT_EQ(slurp(model_path() / "aliases" / "champion"), "2");
}

// The alias is replaced by rename, so a reader racing the writer sees version
// 1 or 2, never an empty or half-written file. (A writer that truncated and
// rewrote the file in place would make this fail with "holds ''".)
TEST_F(FileRegistryTest, ConcurrentReaderNeverSeesAPartialAlias) {
  ASSERT_TRUE(write_version(root_, "gatekeeper", 1, model_dir("models/v1"), kCreated));
  ASSERT_TRUE(write_version(root_, "gatekeeper", 2, model_dir("models/v2"), kCreated));
  ASSERT_TRUE(set_alias(root_, "gatekeeper", "champion", 1));
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::string first_failure;
  std::thread reader([&] {
    while (!done.load()) {
      auto resolved = resolve(root_, "gatekeeper", "champion");
      if (!resolved || (resolved->version != 1 && resolved->version != 2)) {
        if (failures.fetch_add(1) == 0) first_failure = resolved ? "bad version" : resolved.error().message;
      }
    }
  });
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(set_alias(root_, "gatekeeper", "champion", 2 - i % 2));
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
}

TEST(FlatYamlTest, ParsesScalarsQuotesCommentsAndNulls) {
  auto yaml = parse_flat_yaml(
      "---\n"
      "# a comment\n"
      "plain: some value # trailing comment\n"
      "single: 'it''s: # not a comment'\n"
      "double: \"a\\\"b\\\\c\\n\"\n"
      "url: file:///a/b#frag\n"
      "empty_quoted: ''\n"
      "nothing:\n"
      "tilde: ~\n"
      "word_null: null\n"
      "none: None\n"
      "crlf: value\r\n"
      "list:\n"
      "- a\n"
      "- b\n"
      "map:\n"
      "  k: v\n"
      "flow: [1, 2]\n"
      "block: |\n"
      "  text\n"
      "...\n",
      "test.yaml");
  ASSERT_TRUE(yaml) << yaml.error().message;
  EXPECT_EQ(yaml->scalars.at("plain"), "some value");
  EXPECT_EQ(yaml->scalars.at("single"), "it's: # not a comment");
  EXPECT_EQ(yaml->scalars.at("double"), "a\"b\\c\n");
  EXPECT_EQ(yaml->scalars.at("url"), "file:///a/b#frag");
  EXPECT_EQ(yaml->scalars.at("empty_quoted"), "");
  EXPECT_EQ(yaml->scalars.at("none"), "None");  // MLflow's stage name, a string in YAML
  EXPECT_EQ(yaml->scalars.at("crlf"), "value");
  EXPECT_EQ(yaml->nulls, (std::set<std::string>{"nothing", "tilde", "word_null"}));
  EXPECT_EQ(yaml->nested, (std::set<std::string>{"list", "map", "flow", "block"}));
  EXPECT_EQ(yaml->scalars.size(), 7U);
}

TEST(FlatYamlTest, RejectsWhatItCannotRead) {
  EXPECT_TRUE(fails_with(parse_flat_yaml("a: 1\njust text\n", "f.yaml"), {"f.yaml:2:", "`key: value`"}));
  EXPECT_TRUE(fails_with(parse_flat_yaml("a:b\n", "f.yaml"), {"f.yaml:1:"}));
  EXPECT_TRUE(fails_with(parse_flat_yaml("a: 'x' y\n", "f.yaml"), {"after the closing quote"}));
  EXPECT_TRUE(fails_with(parse_flat_yaml("a: \"x\\q\"\n", "f.yaml"), {"unsupported escape \\q"}));
  EXPECT_TRUE(fails_with(parse_flat_yaml("a: \"x\n", "f.yaml"), {"unterminated"}));
  EXPECT_TRUE(fails_with(parse_flat_yaml("- item\n", "f.yaml"), {"f.yaml:1:", "before any key"}));
  EXPECT_TRUE(fails_with(parse_flat_yaml("a: 1\na: 2\n", "f.yaml"), {"f.yaml:2:", "duplicate key 'a'"}));
}

// Any model name the registry accepts survives write_version -> both meta.yaml files -> resolve,
// including quotes, colons, '#', spaces and bytes above ASCII.
RC_GTEST_PROP(FileRegistryProperty, AnyValidNameRoundTrips, ()) {
  const auto name = *rc::gen::suchThat(
      rc::gen::container<std::string>(
          rc::gen::oneOf(rc::gen::inRange<char>(0x20, 0x7f), rc::gen::element('\'', '"', ':', '#', ' ', '-'),
                         rc::gen::element(static_cast<char>(0xc3), static_cast<char>(0xa9)))),
      [](const std::string& s) {
        return !s.empty() && s.size() <= 100 && s != "." && s != ".." && s.find_first_of("/\\%") == std::string::npos;
      });
  const fs::path base = unique_dir("prop");
  const fs::path dir = base / "model dir";
  fs::create_directories(dir);
  { std::ofstream(dir / "manifest.json") << "{}"; }
  const std::string root = (base / "mlruns").string();
  const auto written = write_version(root, name, 1, dir.string(), kCreated);
  const auto resolved = resolve(root, name, "1");
  fs::remove_all(base);
  RC_ASSERT(written.has_value());
  RC_ASSERT(resolved.has_value());
  RC_ASSERT(resolved->name == name);
  RC_ASSERT(resolved->dir == dir.string());
}

}  // namespace
}  // namespace quant::registry
