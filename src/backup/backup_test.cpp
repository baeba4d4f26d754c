// Backup and restore through the directory store (the S3 store is exercised
// against a real server by tests/cli/backup_cli_test.sh).

#include "backup/backup.h"

#include <sys/time.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/sha256.h"

namespace quant::backup {
namespace {

namespace fs = std::filesystem;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("quant-backup-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    lake_ = root_ / "lake";
    fs::create_directories(lake_);
    auto s = open_dir_store((root_ / "store").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override { fs::remove_all(root_); }

  /// Writes in place (same inode); `fixed_mtime` sets the mtime back to 2020
  /// as touch -d or tar can (ctime still moves).
  static void write(const fs::path& p, const std::string& text, bool fixed_mtime = true) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    if (fixed_mtime) {
      const timeval times[2] = {{1'600'000'000, 0}, {1'600'000'000, 0}};
      ASSERT_EQ(::utimes(p.c_str(), times), 0);
    }
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  BackupResult backup() {
    BackupOptions o;
    o.lake_root = lake_.string();
    o.tool = "test";
    auto r = run_backup(*store_, o, {});
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : BackupResult{};
  }
  std::size_t object_count() {
    auto l = store_->list("objects/");
    return l ? l->size() : 0;
  }

  fs::path root_, lake_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(BackupTest, DuplicatesAndRenamesCostNoUpload) {
  write(lake_ / "a/data.parquet", "alpha");
  write(lake_ / "b/data.parquet", "alpha");
  write(lake_ / "c/data.parquet", "gamma");
  BackupResult first = backup();
  EXPECT_EQ(first.files, 3);
  EXPECT_EQ(first.uploaded_objects, 2);
  EXPECT_EQ(first.skipped_files, 1);
  EXPECT_EQ(object_count(), 2u);
  fs::rename(lake_ / "c", lake_ / "d");
  BackupResult second = backup();
  EXPECT_EQ(second.uploaded_objects, 0);
  EXPECT_FALSE(second.manifest_key.empty()) << "the renamed lake is a new backup";
  auto m = load_manifest(*store_, "", nullptr);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->files.size(), 3u);
  EXPECT_EQ(m->files[2].path, "d/data.parquet");
}

TEST_F(BackupTest, HiddenFilesAreNotLakeData) {
  write(lake_ / "a/data.parquet", "alpha");
  write(lake_ / ".lock", "");
  write(lake_ / "a/.bars.cache", "derived");
  write(lake_ / ".tmp/spill", "duckdb");
  auto files = scan_lake(lake_.string(), true, {}, nullptr);
  ASSERT_TRUE(files) << files.error().message;
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "a/data.parquet");
  EXPECT_EQ((*files)[0].sha256, sha256_hex("alpha"));
}

TEST_F(BackupTest, TheCacheSkipsOnlyOldUnchangedFiles) {
  write(lake_ / "old", "unchanged");
  ScanStats s1, s2, s3, s4;
  ASSERT_TRUE(scan_lake(lake_.string(), true, {}, &s1));
  EXPECT_EQ(s1.hashed_files, 1);
  ASSERT_TRUE(scan_lake(lake_.string(), true, {}, &s2));
  EXPECT_EQ(s2.cached_files, 0) << "a file written within 2 s is hashed again";
  // Past the 2 s window the entry is kept and believed.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  ASSERT_TRUE(scan_lake(lake_.string(), true, {}, &s2));
  ASSERT_TRUE(scan_lake(lake_.string(), true, {}, &s3));
  EXPECT_EQ(s3.cached_files, 1);
  EXPECT_EQ(s3.hashed_files, 0);
  // Same size, same inode, mtime set back to the same value: ctime tells.
  write(lake_ / "old", "changed!!");
  auto files = scan_lake(lake_.string(), true, {}, &s4);
  ASSERT_TRUE(files);
  EXPECT_EQ(s4.cached_files, 0);
  EXPECT_EQ((*files)[0].sha256, sha256_hex("changed!!"));
  ASSERT_TRUE(scan_lake(lake_.string(), false, {}, &s4));
  EXPECT_EQ(s4.hashed_files, 1) << "use_cache false hashes everything";
}

TEST_F(BackupTest, RestoreChecksEveryHashAndLeavesTheTargetAloneOnCorruption) {
  write(lake_ / "x/data.parquet", "one");
  write(lake_ / "y/data.parquet", "two");
  backup();
  RestoreOptions o;
  o.target = (root_ / "restored").string();
  auto r = run_restore(*store_, o, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(read(root_ / "restored/x/data.parquet"), "one");
  EXPECT_EQ(read(root_ / "restored/y/data.parquet"), "two");

  // Corrupt "two"'s object: same size, other bytes.
  std::ofstream(root_ / "store" / object_key(sha256_hex("two")), std::ios::trunc) << "twX";
  o.target = (root_ / "fresh").string();
  r = run_restore(*store_, o, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("y/data.parquet"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("corrupt"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(root_ / "fresh"));

  o.target = (root_ / "restored").string();
  r = run_restore(*store_, o, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not empty"), std::string::npos) << r.error().message;
  o.force = true;
  r = run_restore(*store_, o, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(read(root_ / "restored/y/data.parquet"), "two") << "the target is left as it was";
  for (const auto& e : fs::directory_iterator(root_))
    EXPECT_EQ(e.path().filename().string().find("restore-"), std::string::npos) << e.path();
}

TEST_F(BackupTest, ForceReplacesTheBackupsFilesAndKeepsOthers) {
  write(lake_ / "x/data.parquet", "one");
  backup();
  write(root_ / "target/x/data.parquet", "stale");
  write(root_ / "target/other.txt", "mine");
  RestoreOptions o;
  o.target = (root_ / "target").string();
  o.force = true;
  auto r = run_restore(*store_, o, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(read(root_ / "target/x/data.parquet"), "one");
  EXPECT_EQ(read(root_ / "target/other.txt"), "mine");
}

TEST_F(BackupTest, AnObjectOfTheWrongSizeIsUploadedAgain) {
  write(lake_ / "x/data.parquet", "complete body");
  backup();
  std::ofstream(root_ / "store" / object_key(sha256_hex("complete body")), std::ios::trunc) << "comp";
  write(lake_ / "y/data.parquet", "more");
  BackupResult r = backup();
  EXPECT_EQ(r.uploaded_objects, 2);
  EXPECT_EQ(read(root_ / "store" / object_key(sha256_hex("complete body"))), "complete body");
}

TEST_F(BackupTest, OlderManifestsStayRestorable) {
  write(lake_ / "x/data.parquet", "v1");
  const std::string first = backup().manifest_key;
  write(lake_ / "x/data.parquet", "v2");
  backup();
  auto list = list_backups(*store_);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  RestoreOptions o;
  o.target = (root_ / "old").string();
  o.manifest = (*list)[0].name;
  ASSERT_TRUE(run_restore(*store_, o, {}));
  EXPECT_EQ(read(root_ / "old/x/data.parquet"), "v1");
  EXPECT_EQ("manifests/" + (*list)[0].name + ".json", first);
  o.manifest = "20000101T000000.000Z";
  o.target = (root_ / "none").string();
  auto missing = run_restore(*store_, o, {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no backup named 20000101T000000.000Z"), std::string::npos);
}

TEST(ManifestTest, RoundTripAndChecks) {
  Manifest m;
  m.created = "2026-12-07T09:00:00.000Z";
  m.tool = "quant test";
  m.files = {{"a/b.parquet", 3, sha256_hex("abc")}};
  auto back = parse_manifest(manifest_json(m), "m.json");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->files, m.files);
  for (const std::string bad : {"../etc/passwd", "/abs", "a//b", "a/./b"}) {
    m.files[0].path = bad;
    auto r = parse_manifest(manifest_json(m), "m.json");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("m.json: files[0]"), std::string::npos) << r.error().message;
  }
  m.files[0] = {"ok", 3, "not-a-hash"};
  EXPECT_FALSE(parse_manifest(manifest_json(m), "m.json"));
  EXPECT_FALSE(parse_manifest("{\"format\": \"other/9\", \"files\": []}", "m.json"));
  EXPECT_FALSE(parse_manifest("not json", "m.json"));
}

TEST(DestinationTest, S3AndPaths) {
  auto d = parse_destination("s3://bucket/some/prefix/");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->s3);
  EXPECT_EQ(d->bucket, "bucket");
  EXPECT_EQ(d->prefix, "some/prefix");
  d = parse_destination("s3://bucket");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->prefix, "");
  EXPECT_FALSE(parse_destination("s3:///x"));
  EXPECT_FALSE(parse_destination(""));
  d = parse_destination("/mnt/backup");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->s3);
  EXPECT_EQ(d->path, "/mnt/backup");
}

}  // namespace
}  // namespace quant::backup
