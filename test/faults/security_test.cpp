// Security defaults: the admin endpoint binds where it is told, POST
// /logLevel can require a token, secrets never appear in /config, /metrics
// or the log, PostgreSQL connections honour sslmode, and Kafka SASL settings
// pass through (against the local broker's SASL/PLAIN listener).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "test/faults/stream.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/metrics_text.hpp"
#include "test/support/notifications.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

namespace {

// Local addresses listening on a TCP port, from /proc/net/tcp (hex, e.g. 0100007F).
std::vector<std::string> listeners(int port) {
  std::vector<std::string> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);
  char hex_port[8];
  std::snprintf(hex_port, sizeof hex_port, "%04X", port);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state;
    f >> slot >> local >> remote >> state;
    if (state == "0A" && local.substr(local.find(':') + 1) == hex_port) out.push_back(local.substr(0, 8));
  }
  return out;
}

}  // namespace

TEST(Security, AdminBindsOnlyToTheConfiguredAddress) {
  kt::stream s(1);
  kt::daemon_process d(s.config());  // admin.listen 127.0.0.1:<port>
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  EXPECT_EQ(listeners(d.config().admin_port), std::vector<std::string>{"0100007F"});
}

TEST(Security, LogLevelChangesNeedTheTokenAndSecretsNeverShow) {
  kt::stream s(1);
  auto cfg = s.config();
  cfg.log_level = "debug";  // the most verbose log must not leak either
  const std::string token_file = ::testing::TempDir() + kt::unique_name("token");
  std::ofstream(token_file) << "admin-t0ken-s3cret\n";

  // Secrets through every channel: file, environment, YAML.
  setenv("KAFNUS_ADMIN_TOKEN_FILE", token_file.c_str(), 1);
  setenv("KAFNUS_POSTGRES_PASSWORD", "pg-pa55-s3cret", 1);
  setenv("KAFNUS_KAFKA_PROPERTY_SSL_KEY_PASSWORD", "kafka-pa55-s3cret", 1);
  kt::daemon_process d(cfg);
  d.start();
  unsetenv("KAFNUS_ADMIN_TOKEN_FILE");
  unsetenv("KAFNUS_POSTGRES_PASSWORD");
  unsetenv("KAFNUS_KAFKA_PROPERTY_SSL_KEY_PASSWORD");
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();

  EXPECT_EQ(d.http("POST", "/logLevel", R"({"level":"warn"})").status, 401);
  EXPECT_EQ(d.http("POST", "/logLevel", R"({"level":"warn"})", {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(d.http("POST", "/logLevel", R"({"level":"warn"})", {"Authorization: Bearer admin-t0ken-s3cret"}).status,
            200);
  EXPECT_THAT(d.http("GET", "/logLevel").body, HasSubstr("warn"));

  s.publish(0, 10);
  s.wait_rows(10, 30s);
  for (const auto& secret : {"admin-t0ken-s3cret", "pg-pa55-s3cret", "kafka-pa55-s3cret"}) {
    EXPECT_THAT(d.http("GET", "/config").body, Not(HasSubstr(secret)));
    EXPECT_THAT(d.http("GET", "/metrics").body, Not(HasSubstr(secret)));
    EXPECT_THAT(d.http("GET", "/health").body, Not(HasSubstr(secret)));
    EXPECT_THAT(d.log(), Not(HasSubstr(secret)));
  }
  EXPECT_THAT(d.http("GET", "/config").body, HasSubstr("********"));
}

TEST(Security, PostgresConnectionsHonourSslmode) {
  kt::stream s(1);
  auto cfg = s.config();
  // The local server has no TLS: a daemon that requires it must refuse to
  // write in clear text, say why, and report itself not ready.
  setenv("KAFNUS_POSTGRES_SSLMODE", "require", 1);
  kt::daemon_process d(cfg);
  d.start();
  unsetenv("KAFNUS_POSTGRES_SSLMODE");
  EXPECT_TRUE(d.wait_for_log("db.unreachable", 30s)) << d.log();
  EXPECT_THAT(d.log(), HasSubstr("SSL"));
  EXPECT_EQ(d.http("GET", "/readyz").status, 503);
  s.publish(0, 5);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(s.historic_rows(), 0);
  EXPECT_TRUE(d.running());
}

TEST(Security, KafkaSaslSettingsPassThrough) {
  kt::stream s(1);
  auto cfg = s.config();
  setenv("KAFNUS_KAFKA_BROKERS", kt::sasl_brokers().c_str(), 1);
  setenv("KAFNUS_KAFKA_PROPERTY_SECURITY_PROTOCOL", "SASL_PLAINTEXT", 1);
  setenv("KAFNUS_KAFKA_PROPERTY_SASL_MECHANISMS", "PLAIN", 1);
  setenv("KAFNUS_KAFKA_PROPERTY_SASL_USERNAME", "kafnus", 1);
  setenv("KAFNUS_KAFKA_PROPERTY_SASL_PASSWORD", "kafnus-secret", 1);
  kt::daemon_process good(cfg);
  good.start();
  setenv("KAFNUS_KAFKA_PROPERTY_SASL_PASSWORD", "wrong-password", 1);
  auto bad_cfg = cfg;
  bad_cfg.admin_port = kt::free_port();
  bad_cfg.group.clear();
  bad_cfg.offsets_schema.clear();
  kt::daemon_process bad(bad_cfg);
  bad.start();
  for (const char* v :
       {"KAFNUS_KAFKA_BROKERS", "KAFNUS_KAFKA_PROPERTY_SECURITY_PROTOCOL", "KAFNUS_KAFKA_PROPERTY_SASL_MECHANISMS",
        "KAFNUS_KAFKA_PROPERTY_SASL_USERNAME", "KAFNUS_KAFKA_PROPERTY_SASL_PASSWORD"}) {
    unsetenv(v);
  }
  ASSERT_TRUE(good.wait_ready(60s)) << good.log();
  s.publish(0, 20);
  EXPECT_TRUE(s.wait_complete(20, 60s)) << s.describe() << good.log();
  EXPECT_EQ(kt::metric_sample(good.http("GET", "/metrics").body, "kafnus_kafka_up"), 1);
  EXPECT_THAT(good.log(), Not(HasSubstr("kafnus-secret")));

  std::this_thread::sleep_for(5s);
  EXPECT_TRUE(bad.running());
  EXPECT_EQ(kt::metric_sample(bad.http("GET", "/metrics").body, "kafnus_kafka_up"), 0);
  EXPECT_THAT(bad.log(), HasSubstr("Authentication failed"));
  EXPECT_THAT(bad.log(), Not(HasSubstr("wrong-password")));
}
