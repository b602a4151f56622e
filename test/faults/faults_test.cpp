// Faults on the real broker and database, each test counting rows against
// what was published: nothing lost, nothing duplicated. Faults are real (the
// daemon killed, PostgreSQL and Kafka stopped) and only touch 127.0.0.1.
// KAFNUS_LONG_TESTS=1 runs the long variants (50,000 notifications and five
// kills; PostgreSQL down for 2 minutes); the default quick variants keep CI
// well inside its budget.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <random>
#include <thread>

#include "test/faults/stream.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/historic_stream.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/metrics_text.hpp"
#include "test/support/notifications.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;
using testing::HasSubstr;

namespace {

bool long_tests() {
  const char* v = std::getenv("KAFNUS_LONG_TESTS");
  return v && std::string(v) == "1";
}

kt::command_result services(const std::string& action) {
  return kt::run_command({std::string(KAFNUS_SOURCE_DIR) + "/scripts/services.sh", action});
}

// Restores a service stopped by a test even when an assertion fails.
struct restart_on_exit {
  std::string action;
  ~restart_on_exit() { services(action); }
};

}  // namespace

TEST(Faults, SigkillAtRandomPointsThenRestartGivesExactlyOneRowPerNotification) {
  const int total = long_tests() ? 50000 : 12000;
  const int kills = long_tests() ? 5 : 3;
  kt::stream s(8);
  kt::daemon_process d(s.config());
  // The stream keeps arriving while the daemon is killed and restarted.
  std::thread publisher([&] { s.publish(0, total, long_tests() ? 2000 : 1000); });
  std::mt19937 rng(20261124);
  std::vector<long long> at_kill;
  for (int k = 0; k < kills; ++k) {
    d.start();
    ASSERT_TRUE(d.wait_ready(60s)) << d.log();
    s.wait_rows(s.historic_rows() + 1, 30s);  // it is writing
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(rng)));
    d.signal(SIGKILL);
    ASSERT_EQ(d.wait_exit(10s), 128 + SIGKILL);
    at_kill.push_back(s.historic_rows());
  }
  EXPECT_LT(at_kill.front(), total) << "the stream ended before the first kill: the test proves nothing";
  d.start();
  publisher.join();
  ASSERT_TRUE(s.wait_complete(total, 180s)) << s.describe() << d.log();
  s.expect_exactly_once(total);
}

TEST(Faults, PostgresDownUnderLoadPausesThenResumesAlone) {
  const int total = long_tests() ? 20000 : 6000;
  const auto outage = long_tests() ? 120s : 15s;
  kt::stream s(4);
  auto cfg = s.config();
  cfg.extra_yaml += "batching:\n  in_flight_messages: 2000\n";
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  s.publish(0, total / 3);
  ASSERT_TRUE(s.wait_rows(1, 30s));
  {
    restart_on_exit restore{"start-postgres"};
    ASSERT_EQ(services("stop-postgres").code, 0);
    s.publish(total / 3, total);  // the load continues while the database is down
    const auto until = std::chrono::steady_clock::now() + outage;
    bool reported = false;
    double max_in_flight = 0;
    while (std::chrono::steady_clock::now() < until) {
      auto h = d.http("GET", "/health");
      reported = reported || (h.status == 503 && h.body.find("\"connected\":false") != std::string::npos);
      auto m = d.http("GET", "/metrics");
      max_in_flight = std::max(max_in_flight, kt::metric_sample(m.body, "kafnus_in_flight_messages"));
      std::this_thread::sleep_for(500ms);
    }
    EXPECT_TRUE(reported) << "/health did not report the outage";
    EXPECT_LE(max_in_flight, 2000 + 5000) << "consumption did not pause at the in-flight limit";
    EXPECT_TRUE(d.running()) << d.log();
  }
  ASSERT_TRUE(s.wait_complete(total, 180s)) << s.describe() << d.log();
  s.expect_exactly_once(total);
  EXPECT_EQ(d.http("GET", "/health").status, 200);
  EXPECT_THAT(d.log(), HasSubstr("db.recovered"));
}

// Partitions assigned while PostgreSQL is unreachable wait for their stored
// positions; once it answers, those Kafnus never committed start where
// Kafka says: the group's committed offset (a group taken over from Kafka
// Connect), else the first record (kafka.auto_offset_reset earliest).
TEST(Faults, PartitionsAssignedWhilePostgresIsDownStartWhereKafkaSaysOnceItAnswers) {
  kt::historic_stream f(1);
  const auto fresh_topic = kt::unique_name("it_fresh");
  kt::create_topics(kt::brokers(), {fresh_topic}, 1);
  auto cfg = f.config();
  cfg.historic_topics.push_back(fresh_topic);
  kt::daemon_process d(cfg);
  f.publish(0, 20);
  f.publish(100, 120, fresh_topic);
  kt::commit_group_offset(kt::brokers(), d.config().group, f.topic, 0, 15);
  {
    restart_on_exit restore{"start-postgres"};
    ASSERT_EQ(services("stop-postgres").code, 0);
    d.start();
    ASSERT_TRUE(d.wait_for_log("PostgreSQL unreachable, they wait for their stored positions", 60s)) << d.log();
  }
  ASSERT_TRUE(f.wait_rows(5 + 20, 60s)) << d.log();
  f.publish(20, 25);
  f.publish(120, 125, fresh_topic);
  ASSERT_TRUE(f.wait_rows(5 + 20 + 10, 60s)) << d.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(f.rows(), 35);
  EXPECT_EQ(f.distinct_rows(), 35);
  const auto before = "timeinstant < '" + kt::iso_time(100) + "'";
  EXPECT_EQ(f.pg.scalar("SELECT min(timeinstant) = '" + kt::iso_time(15) + "' FROM " + f.table + " WHERE " + before),
            "t");
  EXPECT_EQ(f.pg.scalar("SELECT min(timeinstant) = '" + kt::iso_time(100) + "' FROM " + f.table + " WHERE NOT (" +
                        before + ")"),
            "t");
  // Resolved to offsets by the daemon, not left logical (-2) for librdkafka,
  // whose offset query waited 100 ms for the partition's broker.
  EXPECT_THAT(d.log(), HasSubstr("partition=" + f.topic + "/0 offset=15"));
  EXPECT_THAT(d.log(), HasSubstr("partition=" + fresh_topic + "/0 offset=0"));
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
  kt::delete_topics(kt::brokers(), {fresh_topic});
}

TEST(Faults, KafkaRestartMidStreamLosesAndDuplicatesNothing) {
  const int total = long_tests() ? 20000 : 6000;
  kt::stream s(4);
  kt::daemon_process d(s.config());
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  s.publish(0, total / 2);
  ASSERT_TRUE(s.wait_rows(1, 30s));
  {
    restart_on_exit restore{"start-kafka"};
    ASSERT_EQ(services("stop-kafka").code, 0);
    std::this_thread::sleep_for(5s);
    EXPECT_TRUE(d.running()) << d.log();
    ASSERT_EQ(services("start-kafka").code, 0);
  }
  s.publish(total / 2, total);
  ASSERT_TRUE(s.wait_complete(total, 180s)) << s.describe() << d.log();
  s.expect_exactly_once(total);
}

// Kafka gone: once it has been unreachable for admin.kafka_down_after_s,
// /health and /readyz answer 503 saying so, /healthz stays 200 (the daemon
// is only waiting: it must not be restarted); everything is back to 200
// when Kafka returns, and nothing is lost or duplicated. Needs the consumer
// to report its connection through health_state::set_kafka_connected().
TEST(Faults, KafkaDownTurnsHealthDownAfterTheGraceWhileLivenessStaysUp) {
  const int total = 2000;
  const auto outage = long_tests() ? 60s : 25s;
  constexpr int kGrace = 5;
  kt::stream s(2);
  // The admin section is written by daemon_config: set the grace through the environment.
  ::setenv("KAFNUS_ADMIN_KAFKA_DOWN_AFTER_S", std::to_string(kGrace).c_str(), 1);
  kt::daemon_process d(s.config());
  d.start();
  ::unsetenv("KAFNUS_ADMIN_KAFKA_DOWN_AFTER_S");
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  s.publish(0, total / 2);
  ASSERT_TRUE(s.wait_rows(total / 2, 60s)) << s.describe() << d.log();
  EXPECT_EQ(d.http("GET", "/health").status, 200);
  {
    restart_on_exit restore{"start-kafka"};
    // The clock starts before the stop: the broker drops its connections
    // early in its shutdown, seconds before the script sees it exit.
    const auto stopped = std::chrono::steady_clock::now();
    ASSERT_EQ(services("stop-kafka").code, 0);
    bool health_down = false, ready_down = false, early_down = false, liveness_failed = false;
    std::string reason;
    while (std::chrono::steady_clock::now() - stopped < outage) {
      const auto since = std::chrono::steady_clock::now() - stopped;
      const auto h = d.http("GET", "/health");
      const auto r = d.http("GET", "/readyz");
      if (h.status == 503 || r.status == 503) {
        // The disconnection is noticed some time after the stop, so never before the grace.
        early_down = early_down || since < std::chrono::seconds(kGrace);
      }
      if (h.status == 503 && h.body.find("Kafka has been unreachable") != std::string::npos) {
        health_down = true;
        reason = h.body;
      }
      ready_down = ready_down || (r.status == 503 && r.body.find("Kafka has been unreachable") != std::string::npos);
      liveness_failed = liveness_failed || d.http("GET", "/healthz").status != 200;
      std::this_thread::sleep_for(500ms);
    }
    EXPECT_TRUE(health_down) << "/health never reported the Kafka outage: " << d.http("GET", "/health").body;
    EXPECT_TRUE(ready_down) << "/readyz never reported the Kafka outage";
    EXPECT_FALSE(early_down) << "DOWN before admin.kafka_down_after_s had passed";
    EXPECT_FALSE(liveness_failed) << "/healthz failed while the daemon was only waiting for Kafka";
    EXPECT_THAT(reason, HasSubstr(R"("kafka":{"connected":false,"downSince":")"));
    EXPECT_TRUE(d.running()) << d.log();
    ASSERT_EQ(services("start-kafka").code, 0);
  }
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline && d.http("GET", "/health").status != 200) {
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(d.http("GET", "/health").status, 200) << d.http("GET", "/health").body;
  EXPECT_EQ(d.http("GET", "/readyz").status, 200);
  s.publish(total / 2, total);
  ASSERT_TRUE(s.wait_complete(total, 180s)) << s.describe() << d.log();
  s.expect_exactly_once(total);
}

TEST(Faults, TwoDaemonsShareAGroupOneKilledAndRestarted) {
  const int total = long_tests() ? 30000 : 10000;
  kt::stream s(8);
  const auto [first, second] = kt::two_instances(s.config());
  kt::daemon_process a(first);
  kt::daemon_process b(second);
  a.start();
  b.start();
  ASSERT_TRUE(a.wait_ready(60s)) << a.log();
  ASSERT_TRUE(b.wait_ready(60s)) << b.log();
  std::thread publisher([&] { s.publish(0, total, 1000); });
  s.wait_rows(total / 4, 60s);
  b.signal(SIGKILL);
  ASSERT_EQ(b.wait_exit(10s), 128 + SIGKILL);
  s.wait_rows(total / 2, 90s);
  b.start();
  publisher.join();
  ASSERT_TRUE(s.wait_complete(total, 180s)) << s.describe() << a.log() << b.log();
  s.expect_exactly_once(total);
  EXPECT_TRUE(a.running());
  EXPECT_TRUE(b.running());
}
