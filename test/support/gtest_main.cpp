// main() of every test program: gtest's, with the run's files in a directory
// of its own, removed when every test passed (kept, and named, otherwise).

#include <gtest/gtest.h>

#include "test/support/temp_dir.hpp"

int main(int argc, char** argv) {
  kafnus::test::private_temp_dir files("kafnus-test");
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  if (rc != 0) files.keep();
  return rc;
}
