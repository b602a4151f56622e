// The consumer on the real broker: positions outside a partition's records
// (a re-created topic, retention), topics that appear after the start, by
// name and by pattern, a restart after kill -9 that resumes at once (static
// membership), an instance that never comes back, and a quick stop after a
// long catch-up.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "test/support/daemon_process.hpp"
#include "test/support/historic_stream.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/metrics_text.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;
using testing::HasSubstr;

namespace {

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

// Writes 20 notifications through the daemon, stops it, deletes the topic
// and creates it again with the same name and 10 new records: the stored
// position (20) lies beyond the new topic's end.
void write_twenty_then_recreate_the_topic(kt::historic_stream& f, kt::daemon_process& d) {
  d.start();
  f.publish(0, 20);
  ASSERT_TRUE(f.wait_rows(20, 60s)) << d.log();
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(30s), 0) << d.log();
  kt::delete_topics(kt::brokers(), {f.topic});
  std::this_thread::sleep_for(2s);
  kt::create_topics(kt::brokers(), {f.topic}, 1);
  f.publish(100, 110);
}

}  // namespace

TEST(Consumer, ATopicDeletedAndRecreatedIsReadFromItsStart) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  ASSERT_NO_FATAL_FAILURE(write_twenty_then_recreate_the_topic(f, d));
  d.start();
  ASSERT_TRUE(f.wait_rows(30, 60s)) << "rows: " << f.rows() << "\n" << d.log();
  f.publish(110, 125);
  ASSERT_TRUE(f.wait_rows(45, 60s)) << "rows: " << f.rows() << "\n" << d.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(f.rows(), 45);
  EXPECT_EQ(f.distinct_rows(), 45);
  EXPECT_THAT(d.log(), HasSubstr("event=kafka.position_reset"));
  EXPECT_THAT(d.log(), HasSubstr("position=20 low_watermark=0 high_watermark=10 resume_at=0"));
  const auto page = d.http("GET", "/metrics").body;
  EXPECT_EQ(kt::metric_sample(page, "kafnus_position_resets_total{topic=\"" + f.topic + "\"}"), 1) << page;
}

TEST(Consumer, RecordsDeletedByRetentionBeforeTheyWereReadAreCountedAndTheRestIsRead) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  d.start();
  f.publish(0, 10);
  ASSERT_TRUE(f.wait_rows(10, 60s)) << d.log();
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(30s), 0) << d.log();
  f.publish(10, 40);
  kt::delete_records_before(kt::brokers(), f.topic, 0, 25);  // 15 records never read are gone
  d.start();
  ASSERT_TRUE(f.wait_rows(25, 60s)) << "rows: " << f.rows() << "\n" << d.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(f.rows(), 25);
  EXPECT_THAT(d.log(), HasSubstr("records_lost=15"));
  const auto page = d.http("GET", "/metrics").body;
  EXPECT_EQ(kt::metric_sample(page, "kafnus_records_lost_total{topic=\"" + f.topic + "\"}"), 15) << page;
}

TEST(Consumer, PositionOutOfRangeFailStopsTheDaemonNamingThePartitionAndTheFix) {
  kt::historic_stream f(1);
  auto cfg = f.config();
  cfg.kafka_yaml = "position_out_of_range: fail\n";
  kt::daemon_process d(cfg);
  ASSERT_NO_FATAL_FAILURE(write_twenty_then_recreate_the_topic(f, d));
  d.start();
  EXPECT_EQ(d.wait_exit(60s), 1) << d.log();
  EXPECT_THAT(d.log(), HasSubstr("kafka.position_out_of_range is fail"));
  EXPECT_THAT(d.log(), HasSubstr("position 20 of " + f.topic + "/0"));
  EXPECT_EQ(f.rows(), 20) << "nothing of the new topic was written";
}

TEST(Consumer, TopicsCreatedAfterTheStartAreConsumedWithinTenSecondsOfTheirCreation) {
  kt::historic_stream f(0);  // no topic yet
  const auto late = f.service + "_late_historic";
  const auto by_pattern = f.service + "_p1_historic";
  auto cfg = f.config();
  cfg.historic_topics = {f.topic, late, "^" + f.service + "_p[0-9]+_historic$"};
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();

  std::this_thread::sleep_for(3s);
  kt::create_topics(kt::brokers(), {f.topic}, 2);
  auto created = steady::now();
  f.publish(0, 5);
  ASSERT_TRUE(f.wait_rows(5, 10s)) << "first topic not consumed within 10 s of its creation\n" << d.log();
  const double first = seconds_since(created);

  std::this_thread::sleep_for(7s);
  kt::create_topics(kt::brokers(), {late}, 2);
  created = steady::now();
  f.publish(5, 10, late);
  ASSERT_TRUE(f.wait_rows(10, 10s)) << "second topic not consumed within 10 s of its creation\n" << d.log();
  const double second = seconds_since(created);

  kt::create_topics(kt::brokers(), {by_pattern}, 2);
  created = steady::now();
  f.publish(10, 15, by_pattern);
  ASSERT_TRUE(f.wait_rows(15, 10s)) << "a topic matching the pattern not consumed within 10 s\n" << d.log();
  const double third = seconds_since(created);
  std::cout << "consumed after creation: " << first << " s, " << second << " s, by pattern " << third << " s\n";

  // One line per missing topic, not one per metadata refresh.
  const auto log = d.log();
  std::size_t missing = 0;
  for (auto at = log.find("event=kafka.topic_missing"); at != std::string::npos;
       at = log.find("event=kafka.topic_missing", at + 1)) {
    ++missing;
  }
  EXPECT_LE(missing, 3u) << log;
  EXPECT_THAT(log, testing::Not(HasSubstr("kafka.consume_error")));
  kt::delete_topics(kt::brokers(), {late, by_pattern});
}

TEST(Consumer, ARestartedInstanceWritesAgainWithinFiveSecondsOfItsStart) {
  kt::historic_stream f(4);
  constexpr int kTotal = 8000;
  auto cfg = f.config();
  // The 45 s session timeout of production: a restart must not wait for it.
  cfg.kafka_properties["session.timeout.ms"] = "45000";
  kt::daemon_process d(cfg);
  d.start();
  std::thread publisher = f.publish_paced(kTotal);
  ASSERT_TRUE(f.wait_rows(kTotal / 4, 60s)) << d.log();
  d.signal(SIGKILL);
  ASSERT_EQ(d.wait_exit(10s), 128 + SIGKILL);
  const auto at_kill = f.rows();
  const auto restarted = steady::now();
  d.start();
  ASSERT_TRUE(f.wait_rows(at_kill + 1, 5s)) << "no new row within 5 s of the restart\n" << d.log();
  std::cout << "first new row " << seconds_since(restarted) << " s after the restart\n";
  publisher.join();
  EXPECT_LT(at_kill, kTotal) << "the stream finished before the kill; the test proves nothing";
  ASSERT_TRUE(f.wait_rows(kTotal, 120s)) << "rows: " << f.rows() << "\n" << d.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(f.rows(), kTotal);
  EXPECT_EQ(f.distinct_rows(), kTotal);
}

TEST(Consumer, AnInstanceThatNeverComesBackHandsItsPartitionsOver) {
  kt::historic_stream f(4);
  constexpr int kTotal = 6000;
  const auto [first, second] = kt::two_instances(f.config());
  kt::daemon_process a(first);
  kt::daemon_process b(second);
  a.start();
  b.start();
  ASSERT_TRUE(a.wait_ready(60s)) << a.log();
  ASSERT_TRUE(b.wait_ready(60s)) << b.log();
  ASSERT_TRUE(a.wait_for_log("kafka.assigned", 30s)) << a.log();
  ASSERT_TRUE(b.wait_for_log("kafka.assigned", 30s)) << b.log();
  std::thread publisher = f.publish_paced(kTotal);
  ASSERT_TRUE(f.wait_rows(kTotal / 4, 60s));
  b.signal(SIGKILL);
  ASSERT_EQ(b.wait_exit(10s), 128 + SIGKILL);
  publisher.join();
  // b's partitions move to a once b's session (6 s for test daemons) expires.
  ASSERT_TRUE(f.wait_rows(kTotal, 90s)) << "rows: " << f.rows() << "\n" << a.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(f.rows(), kTotal);
  EXPECT_EQ(f.distinct_rows(), kTotal);
}

TEST(Consumer, SigtermAfterACatchUpWithSmallInFlightLimitsExitsWithinTwoSeconds) {
  kt::historic_stream f(4);
  constexpr int kTotal = 200000;
  f.publish(0, kTotal);
  auto cfg = f.config();
  cfg.extra_yaml = "batching:\n  max_rows: 500\n  in_flight_messages: 1000\n";
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(f.wait_rows(kTotal, 180s)) << "rows: " << f.rows() << "\n" << d.log();
  std::this_thread::sleep_for(2s);  // idle
  const auto t0 = steady::now();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
  const double took = seconds_since(t0);
  std::cout << "SIGTERM -> exit: " << took << " s\n";
  EXPECT_LT(took, 2.0) << d.log();
}

// Started before Orion created any of its topics, a daemon stops at once:
// no group join can be under way, so there is nothing to wait for (it used
// to wait 10 s for a join that never starts).
TEST(Consumer, SigtermBeforeAnySubscribedTopicExistsExitsWithinTwoSeconds) {
  kt::daemon_config cfg;
  const auto prefix = kt::unique_name("absent");
  cfg.historic_topics = {prefix + "_historic"};
  cfg.lastdata_topics = {prefix + "_lastdata"};
  cfg.mutable_topics = {"^" + prefix + "_m.*$"};
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  ASSERT_TRUE(d.wait_for_log("kafka.connected", 30s)) << d.log();
  const auto t0 = steady::now();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
  const double took = seconds_since(t0);
  std::cout << "SIGTERM -> exit with no subscribed topic: " << took << " s\n";
  EXPECT_LT(took, 2.0) << d.log();
}
