#include "execution/journal.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace quant::execution {
namespace {

namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("journal_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path() const { return (dir_ / "sub" / "journal.jsonl").string(); }
  fs::path dir_;
};

TEST_F(JournalTest, RecordsSurviveAReopenInOrder) {
  {
    auto j = Journal::open(path());
    ASSERT_TRUE(j) << j.error().message;
    EXPECT_TRUE(j->recovered().empty());
    j->append({{"k", "out"}, {"n", 1}});
    j->append({{"k", "out"}, {"n", 2}});
    EXPECT_TRUE(j->dirty());
    ASSERT_TRUE(j->sync());
    EXPECT_FALSE(j->dirty());
    j->append({{"k", "out"}, {"n", 3}});  // never synced: lost, as a crash would lose it
  }
  auto j = Journal::open(path());
  ASSERT_TRUE(j) << j.error().message;
  ASSERT_EQ(j->recovered().size(), 2u);
  EXPECT_EQ(j->recovered()[1]["n"], 2);
  j->append({{"k", "out"}, {"n", 3}});
  ASSERT_TRUE(j->sync());
  auto again = Journal::open(path());
  ASSERT_TRUE(again);
  ASSERT_EQ(again->recovered().size(), 3u);
  EXPECT_EQ(again->recovered()[2]["n"], 3);
}

TEST_F(JournalTest, ATornLastLineIsCutOffAndTheJournalGoesOn) {
  {
    auto j = Journal::open(path());
    ASSERT_TRUE(j);
    j->append({{"n", 1}});
    ASSERT_TRUE(j->sync());
  }
  {
    std::ofstream out(path(), std::ios::app | std::ios::binary);
    out << R"({"n": 2, "msg": "cut in the mid)";
  }
  auto j = Journal::open(path());
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ(j->recovered().size(), 1u);
  EXPECT_EQ(j->torn_bytes(), std::string(R"({"n": 2, "msg": "cut in the mid)").size());
  j->append({{"n", 2}});
  ASSERT_TRUE(j->sync());
  auto again = Journal::open(path());
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->recovered().size(), 2u);
  EXPECT_EQ(again->torn_bytes(), 0u);
}

TEST_F(JournalTest, ADamagedLineInTheMiddleIsAnErrorNamingFileAndLine) {
  fs::create_directories(fs::path(path()).parent_path());
  {
    std::ofstream out(path(), std::ios::binary);
    out << "{\"n\":1}\nnot json\n{\"n\":3}\n";
  }
  auto j = Journal::open(path());
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().message.find("journal.jsonl:2"), std::string::npos) << j.error().message;
}

}  // namespace
}  // namespace quant::execution
