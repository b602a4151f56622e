// deploy/systemd/kafnus.service: systemd accepts it (systemd-analyze verify,
// with the unit's paths pointed at this build) and its sandboxing scores
// under 2.0 ("OK") in systemd-analyze security.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "test/support/daemon_process.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;

namespace {

const std::string kUnit = std::string(KAFNUS_SOURCE_DIR) + "/deploy/systemd/kafnus.service";

bool have_systemd_analyze() { return kt::run_command({"sh", "-c", "command -v systemd-analyze"}).code == 0; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The unit with its binary and configuration where this build has them.
std::string unit_for_this_build() {
  auto text = read_file(kUnit);
  text = std::regex_replace(text, std::regex("/usr/bin/kafnus"), KAFNUS_DAEMON_BINARY);
  text = std::regex_replace(text, std::regex("/etc/kafnus/kafnus.yaml"),
                            std::string(KAFNUS_SOURCE_DIR) + "/config/kafnus.yaml");
  const auto dir = ::testing::TempDir() + kt::unique_name("unit");
  kt::run_command({"mkdir", "-p", dir});
  const auto path = dir + "/kafnus.service";
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(SystemdUnit, SystemdAcceptsIt) {
  if (!have_systemd_analyze()) GTEST_SKIP() << "systemd-analyze is not installed";
  const auto r = kt::run_command({"systemd-analyze", "verify", unit_for_this_build()});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "verify reports nothing for a sound unit";
}

TEST(SystemdUnit, ItIsNotifyTypedWatchedAndRestartedOnFailure) {
  const auto text = read_file(kUnit);
  for (const char* line :
       {"Type=notify", "WatchdogSec=", "Restart=on-failure", "DynamicUser=yes", "ProtectSystem=strict",
        "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
        "RestrictAddressFamilies=", "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n"}) {
    EXPECT_THAT(text, testing::HasSubstr(line));
  }
  // The stop grace outlasts shutdown.timeout_s (30 s by default).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("TimeoutStopSec=([0-9]+)")));
  EXPECT_GT(std::stoi(m[1]), 30);
}

TEST(SystemdUnit, ItsSandboxScoresUnderTwo) {
  if (!have_systemd_analyze()) GTEST_SKIP() << "systemd-analyze is not installed";
  const auto r = kt::run_command({"systemd-analyze", "security", "--offline=true", unit_for_this_build()});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("Overall exposure level for kafnus.service: ([0-9.]+) (\\w+)")))
      << r.output;
  std::cout << "systemd-analyze security: " << m[1] << " " << m[2] << "\n";
  EXPECT_LT(std::stod(m[1]), 2.0) << r.output;
}
