#include "test/support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace kafnus::test {

private_temp_dir::private_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): before any thread
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("cannot create a directory like " + pattern);
  path_ = buf.data();
  ::setenv("TEST_TMPDIR", (path_ + "/").c_str(), 1);  // NOLINT(concurrency-mt-unsafe): before any thread
}

private_temp_dir::~private_temp_dir() {
  std::error_code ec;
  const bool empty = std::filesystem::is_empty(path_, ec);
  if (!empty && (keep_ || std::getenv("KAFNUS_KEEP_TEST_DATA") != nullptr)) {  // NOLINT(concurrency-mt-unsafe)
    std::cerr << "test files kept in " << path_ << "\n";
    return;
  }
  std::filesystem::remove_all(path_, ec);
}

}  // namespace kafnus::test
