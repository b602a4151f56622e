#pragma once
// The files a test run writes (daemon configs and logs, fixtures) go to a
// directory of this process's own, not loose into /tmp: gtest's TempDir()
// and every helper that uses it read TEST_TMPDIR, which this sets.

#include <string>

namespace kafnus::test {

class private_temp_dir {
 public:
  // Creates <TMPDIR or /tmp>/<prefix>-XXXXXX and points TEST_TMPDIR at it.
  explicit private_temp_dir(const std::string& prefix);
  // Removes the directory unless keep() was called or KAFNUS_KEEP_TEST_DATA
  // is set and it holds something.
  ~private_temp_dir();
  private_temp_dir(const private_temp_dir&) = delete;
  private_temp_dir& operator=(const private_temp_dir&) = delete;

  const std::string& path() const { return path_; }
  // Leaves the directory for a post-mortem (a failed test's logs) and says where it is.
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace kafnus::test
