// The test programs' private directory for their files.

#include "test/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using kafnus::test::private_temp_dir;

namespace {

// TEST_TMPDIR as the test program's main() set it, put back after each test.
class PrivateTempDir : public ::testing::Test {
 protected:
  void SetUp() override { before_ = ::testing::TempDir(); }
  void TearDown() override { ::setenv("TEST_TMPDIR", before_.c_str(), 1); }  // NOLINT(concurrency-mt-unsafe)
  std::string before_;
};

TEST_F(PrivateTempDir, TheProgramsFilesGoToADirectoryOfItsOwn) {
  // main() made one: TempDir() is not /tmp itself.
  EXPECT_NE(before_, "/tmp/");
  EXPECT_NE(before_.find("/kafnus-test-"), std::string::npos) << before_;
  EXPECT_TRUE(fs::is_directory(before_));
}

TEST_F(PrivateTempDir, IsRemovedWithWhatItHoldsUnlessKept) {
  if (std::getenv("KAFNUS_KEEP_TEST_DATA") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    GTEST_SKIP() << "KAFNUS_KEEP_TEST_DATA keeps every directory";
  }
  std::string removed, kept;
  {
    private_temp_dir dir("kafnus-temp-dir-test");
    removed = dir.path();
    EXPECT_EQ(::testing::TempDir(), removed + "/");
    std::ofstream(::testing::TempDir() + "daemon.log") << "a line\n";
    fs::create_directory(::testing::TempDir() + "sub");
    std::ofstream(::testing::TempDir() + "sub/file") << "x";
  }
  EXPECT_FALSE(fs::exists(removed));
  {
    private_temp_dir dir("kafnus-temp-dir-test");
    kept = dir.path();
    std::ofstream(::testing::TempDir() + "daemon.log") << "a line\n";
    dir.keep();
  }
  EXPECT_TRUE(fs::exists(kept + "/daemon.log"));
  fs::remove_all(kept);
  // Kept, but with nothing in it (a run that failed before writing any
  // file): nothing to look at, so it goes too.
  std::string empty;
  {
    private_temp_dir dir("kafnus-temp-dir-test");
    empty = dir.path();
    dir.keep();
  }
  EXPECT_FALSE(fs::exists(empty));
}

TEST_F(PrivateTempDir, IsUnderTmpdir) {
  const auto base = fs::path(before_) / "base";
  fs::create_directories(base);
  const char* old = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  const std::string restore = old != nullptr ? old : "";
  ::setenv("TMPDIR", base.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  std::string path;
  {
    private_temp_dir dir("kafnus-temp-dir-test");
    path = dir.path();
  }
  if (old != nullptr) {
    ::setenv("TMPDIR", restore.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  } else {
    ::unsetenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  }
  EXPECT_EQ(fs::path(path).parent_path(), base);
}

}  // namespace
