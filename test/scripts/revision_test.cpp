// The revision `kafnus --version` names follows the checkout: a build after
// a commit (or `git pull`, a checkout) configures again and the generated
// header names the new HEAD, not the one the build directory was first
// configured at. Runs on a clone in a private directory: configures it,
// commits, and has ninja bring build.ninja up to date.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test/support/daemon_process.hpp"

namespace kt = kafnus::test;
namespace fs = std::filesystem;
using testing::HasSubstr;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string head_of(const std::string& repo) {
  auto r = kt::run_command({"git", "-C", repo, "rev-parse", "--short", "HEAD"});
  EXPECT_EQ(r.code, 0) << r.output;
  while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == '\r')) r.output.pop_back();
  return r.output;
}

}  // namespace

TEST(Revision, ABuildAfterACommitNamesTheNewHead) {
  if (kt::run_command({"git", "-C", KAFNUS_SOURCE_DIR, "rev-parse", "--git-dir"}).code != 0) {
    GTEST_SKIP() << "the source is not a git checkout (a container build names its revision with -DKAFNUS_REVISION)";
  }
  const fs::path dir = fs::path(testing::TempDir()) / "revision";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto src = (dir / "src").string();
  const auto build = (dir / "build").string();
  auto r = kt::run_command({"git", "clone", "-q", "--no-hardlinks", KAFNUS_SOURCE_DIR, src});
  ASSERT_EQ(r.code, 0) << r.output;
  // The working tree's build file (what is tested), committed in the clone.
  fs::copy_file(fs::path(KAFNUS_SOURCE_DIR) / "CMakeLists.txt", fs::path(src) / "CMakeLists.txt",
                fs::copy_options::overwrite_existing);
  const auto commit = [&](const std::string& message) {
    return kt::run_command({"git", "-C", src, "-c", "user.name=Kafnus tests", "-c", "user.email=tests@kafnus.invalid",
                            "commit", "-q", "--allow-empty", "-am", message});
  };
  r = commit("the working tree's CMakeLists.txt");
  ASSERT_EQ(r.code, 0) << r.output;
  r = kt::run_command({"cmake", "-S", src, "-B", build, "-G", "Ninja"});
  ASSERT_EQ(r.code, 0) << r.output;
  const auto header = fs::path(build) / "generated" / "app" / "version.hpp";
  const auto before = head_of(src);
  ASSERT_FALSE(before.empty());
  EXPECT_THAT(read_file(header), HasSubstr("\"" + before + "\""));

  r = commit("a commit after the build was configured");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto after = head_of(src);
  ASSERT_NE(after, before);
  r = kt::run_command({"ninja", "-C", build, "build.ninja"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(read_file(header), HasSubstr("\"" + after + "\"")) << "the build still names " << before;
  fs::remove_all(dir);
}
