// `kafnus healthcheck`, the probe a container's HEALTHCHECK runs: exit 0
// while the running daemon's /readyz says ready, 1 with the reason while it
// is not ready or does not answer (never 2: container runtimes reserve it).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "test/support/daemon_process.hpp"
#include "test/support/historic_stream.hpp"
#include "test/support/http_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;
using testing::HasSubstr;

namespace {

kt::command_result healthcheck(const std::string& config_path, const std::vector<std::string>& env = {}) {
  return kt::run_command({KAFNUS_DAEMON_BINARY, "healthcheck", "--config", config_path, "--timeout-ms", "2000"}, env);
}

}  // namespace

TEST(Healthcheck, ReadyDaemonExitsZeroAndStoppedOneExitsOne) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();

  auto r = healthcheck(d.config_path());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"status\":\"UP\""));

  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(30s), 0) << d.log();
  r = healthcheck(d.config_path());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no answer from admin.listen"));
  EXPECT_THAT(r.output, HasSubstr("Connection refused"));
}

TEST(Healthcheck, DaemonWaitingForTheDatabaseIsNotReady) {
  kt::historic_stream f(1);
  auto cfg = f.config();
  cfg.env = {{"KAFNUS_POSTGRES_PORT", std::to_string(kt::free_port())}};
  kt::daemon_process d(cfg);
  d.start();
  kt::command_result r;
  for (int i = 0; i < 100; ++i) {  // until the admin server listens
    r = healthcheck(d.config_path());
    if (r.output.find("not ready") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not ready (HTTP 503)"));
  EXPECT_THAT(r.output, HasSubstr("PostgreSQL is unreachable"));
  EXPECT_EQ(d.http("GET", "/healthz").status, 200);  // alive, only waiting
}

TEST(Healthcheck, ABadConfigurationIsUnhealthyNotReserved) {
  const auto path = ::testing::TempDir() + kt::unique_name("health") + ".yaml";
  std::ofstream(path) << "kafka:\n  brokers: 127.0.0.1:9092\nadmin:\n  no_such_key: 1\n";
  auto r = healthcheck(path);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("admin.no_such_key"));
}
