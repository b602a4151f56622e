// `kafnus status` against a running daemon: readiness, per-flow counts and
// rates, lag per topic, the last commit, error-log rows of the last hour
// per service; as text and as JSON; a clear error when nothing answers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <string>

#include <simdjson.h>

#include "test/support/daemon_process.hpp"
#include "test/support/historic_stream.hpp"
#include "test/support/http_client.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/notifications.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;
using testing::HasSubstr;

namespace {

kt::command_result status(int port, const std::vector<std::string>& more = {}) {
  std::vector<std::string> argv{KAFNUS_DAEMON_BINARY, "status", "--url", "http://127.0.0.1:" + std::to_string(port),
                                "--interval-ms",      "300"};
  argv.insert(argv.end(), more.begin(), more.end());
  return kt::run_command(argv);
}

}  // namespace

TEST(Status, ShowsARunningDaemonAsTextAndJson) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  kt::kafka_producer p(kt::brokers());
  f.publish(p, 0, 100);
  // One row the table's CHECK (temperature < 1000) rejects: an error-log row.
  p.send(f.topic, kt::sensor_notification("Bad", "Sensor", kt::iso_time(5000), 5000),
         {{"Fiware-Service", f.service}, {"Fiware-ServicePath", "/s"}});
  p.flush();
  ASSERT_TRUE(f.wait_rows(100, 60s)) << d.log();
  const auto error_log = f.service + "." + f.service + "_error_log";
  // The daemon creates the error log with its first row, after the 100 rows above.
  auto error_logged = [&] {
    try {
      return f.pg.count(error_log) >= 1;
    } catch (const std::exception&) {
      return false;  // not created yet
    }
  };
  for (int i = 0; i < 100 && !error_logged(); ++i) std::this_thread::sleep_for(100ms);
  // The lag comes from librdkafka's statistics, every 5 s.
  for (int i = 0; i < 150 && d.http("GET", "/metrics").body.find("kafnus_consumer_lag_messages{") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(100ms);
  }

  auto text = status(d.config().admin_port);
  EXPECT_EQ(text.code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr(": UP"));
  EXPECT_THAT(text.output, HasSubstr("Kafka        connected"));
  EXPECT_THAT(text.output, HasSubstr("PostgreSQL   connected"));
  EXPECT_THAT(text.output, HasSubstr("last commit  20"));
  EXPECT_THAT(text.output, HasSubstr("historic"));
  EXPECT_THAT(text.output, HasSubstr(f.topic));
  EXPECT_THAT(text.output, HasSubstr(f.service));

  auto json = status(d.config().admin_port, {"--json"});
  ASSERT_EQ(json.code, 0) << json.output;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.output).get(doc), simdjson::SUCCESS) << json.output;
  EXPECT_EQ(std::string_view(doc["status"].get_string().value()), "UP");
  std::int64_t messages = 0, logged = 0;
  ASSERT_EQ(doc.at_pointer("/flows/0/messages").get(messages), simdjson::SUCCESS);
  EXPECT_EQ(messages, 101);
  ASSERT_EQ(doc["errorLogLastHour"][f.service].get(logged), simdjson::SUCCESS) << json.output;
  EXPECT_EQ(logged, 1);
  EXPECT_TRUE(doc["lagByTopic"][f.topic].is_int64()) << json.output;
  EXPECT_TRUE(doc["lastCommitAt"].is_string()) << json.output;

  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}

TEST(Status, NothingAnsweringIsAClearError) {
  const int port = kt::free_port();
  auto r = status(port);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("kafnus status: 127.0.0.1:" + std::to_string(port) + ": connect: Connection refused"));
  r = kt::run_command({KAFNUS_DAEMON_BINARY, "status", "--url", "https://x:8000"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("only http://host:port is supported"));
}
