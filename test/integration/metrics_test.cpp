// The running daemon's observability: /metrics counts match what was sent,
// lag returns to 0, every endpoint answers (errors included), and the log
// level changes live.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

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

using kafnus::test::metric_sample;
double sample(const std::string& text, const std::string& series) { return metric_sample(text, series); }

// Sum of every sample of a metric name (any labels).
double total(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != ' ' && next != '{') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace

TEST(Metrics, CountsMatchWhatWasSentAndLagReturnsToZero) {
  const auto service = kt::unique_name("mt");
  const auto topic = service + "_historic";
  kt::pg_client pg;
  pg.exec("CREATE SCHEMA " + service);
  pg.exec("CREATE TABLE " + service +
          ".s_sensor (recvtime timestamptz, fiwareservicepath text, entityid text, entitytype text, "
          "timeinstant timestamptz, temperature double precision)");
  kt::create_topics(kt::brokers(), {topic}, 2);
  kt::daemon_config cfg;
  cfg.historic_topics = {topic};
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();

  constexpr int kGood = 150, kBad = 7;
  {
    kt::kafka_producer p(kt::brokers());
    const kt::headers h{{"Fiware-Service", service}, {"Fiware-ServicePath", "/s"}};
    for (int i = 0; i < kGood; ++i)
      p.send(topic, kt::sensor_notification("E" + std::to_string(i), "Sensor", kt::iso_time(i), i), h);
    for (int i = 0; i < kBad; ++i) p.send(topic, "not json " + std::to_string(i), h);
    p.flush();
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::string m;
  do {
    std::this_thread::sleep_for(500ms);
    m = d.http("GET", "/metrics").body;
  } while (std::chrono::steady_clock::now() < deadline &&
           (sample(m, "messages_processed_total{flow=\"historic\"}") < kGood + kBad ||
            m.find("kafnus_consumer_lag_messages{") == std::string::npos ||
            total(m, "kafnus_consumer_lag_messages") != 0 || total(m, "kafnus_rows_written_total") < kGood));

  EXPECT_EQ(sample(m, "messages_processed_total{flow=\"historic\"}"), kGood + kBad);
  EXPECT_EQ(sample(m, "kafnus_messages_consumed_total{topic=\"" + topic + "\"}"), kGood + kBad);
  EXPECT_EQ(sample(m, "kafnus_rows_written_total{flow=\"historic\",service=\"" + service + "\"}"), kGood);
  EXPECT_EQ(sample(m, "kafnus_error_log_rows_total{flow=\"historic\",service=\"" + service + "\"}"), kBad);
  EXPECT_EQ(sample(m, "kafnus_record_errors_total{flow=\"historic\"}"), kBad);
  EXPECT_EQ(total(m, "kafnus_consumer_lag_messages"), 0) << "lag did not return to 0";
  EXPECT_THAT(m, HasSubstr("kafnus_consumer_lag_messages{"));
  EXPECT_EQ(sample(m, "kafnus_kafka_up"), 1);
  EXPECT_EQ(sample(m, "kafnus_postgres_up"), 1);
  EXPECT_EQ(sample(m, "kafnus_in_flight_messages"), 0);
  EXPECT_GE(sample(m, "message_processing_time_seconds{flow=\"historic\"}"), 0);
  EXPECT_GT(total(m, "kafnus_db_write_duration_seconds_count"), 0);
  EXPECT_GT(total(m, "kafnus_end_to_end_latency_seconds_count"), 0);
  EXPECT_GT(sample(m, "process_resident_memory_bytes"), 0);
  EXPECT_GT(sample(m, "kafnus_resident_memory_bytes{kind=\"file\"}"), 0);
#ifdef KAFNUS_DAEMON_ON_JEMALLOC
  // What the daemon holds, against the pages that hold it.
  const double allocated = sample(m, "kafnus_allocator_bytes{kind=\"allocated\"}");
  EXPECT_GT(allocated, 1 << 20);
  EXPECT_GE(sample(m, "kafnus_allocator_bytes{kind=\"active\"}"), allocated);
  EXPECT_GE(sample(m, "kafnus_allocator_bytes{kind=\"mapped\"}"), allocated);
#else
  EXPECT_THAT(m, testing::Not(HasSubstr("kafnus_allocator_bytes")));
#endif
  EXPECT_EQ(pg.count(service + ".s_sensor"), kGood);

  auto health = d.http("GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_THAT(health.body, HasSubstr("\"messages\":" + std::to_string(kGood + kBad)));
  EXPECT_EQ(d.http("GET", "/healthz").status, 200);
  EXPECT_EQ(d.http("GET", "/readyz").status, 200);
  pg.exec("DROP SCHEMA " + service + " CASCADE");
  kt::delete_topics(kt::brokers(), {topic});
}

TEST(Metrics, EveryEndpointAnswersItsErrorsToo) {
  kt::daemon_config cfg;
  cfg.historic_topics = {kt::unique_name("ep")};
  kt::create_topics(kt::brokers(), cfg.historic_topics, 1);
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  EXPECT_EQ(d.http("GET", "/metrics", "", {"Accept: application/json"}).status, 406);
  EXPECT_EQ(d.http("GET", "/metrics", "", {"Accept: text/plain"}).status, 200);
  EXPECT_EQ(d.http("GET", "/nope").status, 404);
  EXPECT_EQ(d.http("PUT", "/config").status, 405);
  EXPECT_EQ(d.http("DELETE", "/logLevel").status, 405);
  EXPECT_EQ(d.http("POST", "/logLevel", "{not json").status, 400);
  EXPECT_EQ(d.http("POST", "/logLevel", R"({"level":"verbose"})").status, 400);
  auto config = d.http("GET", "/config");
  EXPECT_EQ(config.status, 200);
  EXPECT_THAT(config.body, HasSubstr(cfg.historic_topics[0]));
  kt::delete_topics(kt::brokers(), cfg.historic_topics);
}

TEST(Metrics, TheLogLevelChangesLive) {
  kt::daemon_config cfg;
  cfg.historic_topics = {kt::unique_name("lvl")};
  kt::create_topics(kt::brokers(), cfg.historic_topics, 1);
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  EXPECT_THAT(d.log(), Not(HasSubstr(" debug ")));
  EXPECT_THAT(d.http("GET", "/logLevel").body, HasSubstr("info"));
  auto r = d.http("POST", "/logLevel", R"({"level":"debug"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(d.http("GET", "/logLevel").body, HasSubstr("debug"));
  // A record that cannot be parsed is logged at debug level only.
  kt::kafka_producer p(kt::brokers());
  p.send(cfg.historic_topics[0], "not json");
  p.flush();
  EXPECT_TRUE(d.wait_for_log("processor.record_errors", 30s)) << d.log();
  kt::delete_topics(kt::brokers(), cfg.historic_topics);
}
