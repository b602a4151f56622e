// `kafnus positions show|set` against the real broker, database and a
// running daemon: every form of `set` moves the stored positions, the
// running daemon follows a moved position on a partition that receives
// nothing new, and says who moved it; wrong requests move nothing and say why.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>

#include "test/support/daemon_process.hpp"
#include "test/support/historic_stream.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/notifications.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

namespace {

kt::command_result positions(const kt::daemon_process& d, const std::vector<std::string>& args) {
  std::vector<std::string> argv{KAFNUS_DAEMON_BINARY, "positions"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", d.config_path()});
  return kt::run_command(argv);
}

std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03lldZ", buf, static_cast<long long>(ms));
  return out;
}

// The rows stay at `n` (nothing more arrives within `quiet`).
void expect_rows_stay(kt::historic_stream& f, long long n, std::chrono::milliseconds quiet) {
  std::this_thread::sleep_for(quiet);
  EXPECT_EQ(f.rows(), n);
}

// Starts the daemon and waits until notifications [0, n) are rows.
bool start_and_write(kt::daemon_process& d, kt::historic_stream& f, int n) {
  d.start();
  if (!d.wait_ready(60s)) return false;
  f.publish(0, n);
  return f.wait_rows(n, 60s);
}

// `kafnus positions set ARGS`, after which the running daemon makes the
// table hold exactly `rows`.
kt::command_result set_and_expect_rows(const kt::daemon_process& d, kt::historic_stream& f,
                                       std::vector<std::string> args, long long rows) {
  args.insert(args.begin(), "set");
  auto r = positions(d, args);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(f.wait_rows(rows, 20s)) << d.log();
  expect_rows_stay(f, rows, 1500ms);
  return r;
}

// The table ends up holding exactly `n` rows, the first of them
// notification `first`; then the daemon stops cleanly.
void expect_rows_from_then_stop(kt::daemon_process& d, kt::historic_stream& f, int first, long long n) {
  ASSERT_TRUE(f.wait_rows(n, 60s)) << d.log();
  expect_rows_stay(f, n, 1500ms);
  EXPECT_EQ(f.pg.scalar("SELECT min(timeinstant) = '" + kt::iso_time(first) + "' FROM " + f.table), "t");
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}

}  // namespace

// A first start on an empty database: the consumer reads stored positions
// as its partitions are assigned, which may be before the writer has created
// the offsets table (here it is made to be: the test holds the lock the
// writer takes to create it). No position was ever stored, which is no
// failure: no warning, and the partitions do not wait for a retry (that
// cost a fresh daemon's first records a second).
TEST(Positions, AFirstStartOnAnEmptyDatabaseNeitherWarnsNorWaitsForPositions) {
  kt::historic_stream f(3);
  kt::daemon_process d(f.config());  // its offsets schema does not exist yet
  kt::pg_client ddl_lock;
  ddl_lock.exec("SELECT pg_advisory_lock(hashtext('kafnus-ddl:" + d.config().offsets_schema + "'))");
  d.start();
  ASSERT_TRUE(d.wait_for_log("kafka.assigned", 60s)) << d.log();
  EXPECT_THAT(d.log(), HasSubstr("partitions assigned, starting at their stored positions"));
  EXPECT_THAT(d.log(), Not(HasSubstr("positions.unavailable")));
  ddl_lock.exec("SELECT pg_advisory_unlock_all()");
  f.publish(0, 30);
  ASSERT_TRUE(f.wait_rows(30, 60s)) << d.log();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}

// Partitions Kafnus never committed start where kafka.auto_offset_reset
// says, resolved by the daemon as they are assigned (librdkafka, left to
// it, waited 100 ms for the partition's broker before its first fetch):
// with latest, what was published before is skipped and what comes after
// is written, all of it.
TEST(Positions, AFreshGroupWithLatestSkipsWhatCameBeforeAndWritesWhatComesAfter) {
  kt::historic_stream f(3);
  auto cfg = f.config();
  cfg.kafka_yaml = "auto_offset_reset: latest\n";
  kt::daemon_process d(cfg);
  f.publish(0, 20);
  d.start();
  ASSERT_TRUE(d.wait_for_log("kafka.assigned", 60s)) << d.log();
  f.publish(20, 32);
  expect_rows_from_then_stop(d, f, 20, 12);
}

// A consumer group Kafnus takes over (its offsets committed in Kafka, as
// Kafka Connect's sink leaves them): a partition with no position stored by
// Kafnus starts at the group's committed offset.
TEST(Positions, AFreshDaemonStartsAtItsGroupsOffsetCommittedInKafka) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  f.publish(0, 20);
  kt::commit_group_offset(kt::brokers(), d.config().group, f.topic, 0, 15);
  d.start();
  expect_rows_from_then_stop(d, f, 15, 5);
}

TEST(Positions, ARewoundIdlePartitionIsFollowedAndTheLogSaysWhoMovedIt) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  ASSERT_TRUE(start_and_write(d, f, 100)) << d.log();

  auto show = positions(d, {"show"});
  ASSERT_EQ(show.code, 0) << show.output;
  EXPECT_THAT(show.output, testing::ContainsRegex(f.topic + "/0 +100 +0 +100 +0 "));

  // Nothing new is published: only the periodic comparison can notice.
  const auto set =
      set_and_expect_rows(d, f, {"--topic", f.topic, "--to-offset", "40", "--reason", "fixed the sensor table"}, 160);
  EXPECT_THAT(set.output, HasSubstr("moved " + f.topic + "/0 of group " + d.config().group + ": 100 -> 40"));
  ASSERT_TRUE(d.wait_for_log("kafka.position_moved", 5s)) << d.log();
  EXPECT_THAT(d.log(), HasSubstr("from=100 to=40"));
  EXPECT_THAT(d.log(), HasSubstr("fixed the sensor table (--to-offset 40)"));
  EXPECT_THAT(d.log(), testing::ContainsRegex("moved_by=\"?[^ ]+@[^ ]+ \\(database role "));

  show = positions(d, {"show", "--json"});
  ASSERT_EQ(show.code, 0) << show.output;
  EXPECT_THAT(show.output, HasSubstr("\"topic\":\"" + f.topic +
                                     "\",\"partition\":0,\"stored\":100,\"oldest\":0,"
                                     "\"end\":100,\"lag\":0"));
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}

TEST(Positions, ToATimeToTheEarliestAndToTheLatestOnEveryPartition) {
  kt::historic_stream f(2);
  kt::daemon_process d(f.config());
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  f.publish(0, 60);
  std::this_thread::sleep_for(1200ms);
  const auto between = iso_now();
  std::this_thread::sleep_for(1200ms);
  f.publish(60, 100);
  ASSERT_TRUE(f.wait_rows(100, 60s)) << d.log();

  // The 40 records produced after `between` are consumed again.
  auto set = set_and_expect_rows(d, f, {"--topic", f.topic, "--to-time", between}, 140);
  EXPECT_THAT(set.output, HasSubstr(f.topic + "/0"));
  EXPECT_THAT(set.output, HasSubstr(f.topic + "/1"));
  set_and_expect_rows(d, f, {"--topic", f.topic, "--to-earliest"}, 240);

  // A backlog published while the daemon is stopped, skipped by --to-latest.
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(30s), 0) << d.log();
  f.publish(100, 150);
  set = positions(d, {"set", "--topic", f.topic, "--to-latest", "--dry-run"});
  ASSERT_EQ(set.code, 0) << set.output;
  EXPECT_THAT(set.output, HasSubstr("dry run: nothing moved"));
  set = positions(d, {"set", "--topic", f.topic, "--to-latest"});
  ASSERT_EQ(set.code, 0) << set.output;
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  expect_rows_stay(f, 240, 3s);
  f.publish(150, 160);
  ASSERT_TRUE(f.wait_rows(250, 30s)) << d.log();
  expect_rows_stay(f, 250, 1s);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}

TEST(Positions, AnotherGroupIsMovedWithoutDisturbingTheRunningOne) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  ASSERT_TRUE(start_and_write(d, f, 50)) << d.log();
  const auto other = d.config().group + "-other";
  auto set = positions(d, {"set", "--topic", f.topic, "--partition", "0", "--to-offset", "10", "--group", other});
  ASSERT_EQ(set.code, 0) << set.output;
  EXPECT_THAT(set.output, HasSubstr(": none -> 10"));
  EXPECT_THAT(set.output, HasSubstr("is not this configuration's"));
  auto show = positions(d, {"show", "--group", other});
  ASSERT_EQ(show.code, 0) << show.output;
  EXPECT_THAT(show.output, testing::ContainsRegex(f.topic + "/0 +10 +0 +50 +40 "));
  expect_rows_stay(f, 50, 3s);
  EXPECT_THAT(d.log(), testing::Not(HasSubstr("kafka.position_moved")));
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}

TEST(Positions, WrongRequestsMoveNothingAndSayWhy) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());  // its configuration only; never started
  f.publish(0, 5);

  auto r = positions(d, {"set", "--topic", f.topic + "-missing", "--to-earliest"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Unknown topic or partition"));
  EXPECT_THAT(r.output, HasSubstr("nothing moved"));

  r = positions(d, {"set", "--topic", f.topic, "--to-offset", "99"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("offset 99 is outside the records of " + f.topic + "/0 [0, 5]"));

  r = positions(d, {"set", "--topic", f.topic, "--partition", "3", "--to-earliest"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("has no partition 3"));

  r = positions(d, {"set", "--topic", f.topic, "--to-time", "yesterday"});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--to-time yesterday"));

  r = positions(d, {"set", "--topic", f.topic});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("exactly one of --to-time"));

  r = positions(d, {"set", "--topic", f.topic, "--to-earliest", "--to-latest"});
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("excludes"));

  // The offsets table of a schema no daemon has used.
  r = positions(d, {"show"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(d.config().offsets_schema + ".offsets does not exist"));

  // Nothing was stored by any of them.
  EXPECT_EQ(f.pg.scalar("SELECT to_regclass('\"" + d.config().offsets_schema + "\".offsets') IS NULL"), "t");

  r = kt::run_command(
      {KAFNUS_DAEMON_BINARY, "positions", "set", "--topic", f.topic, "--to-earliest", "--config", d.config_path()},
      {"KAFNUS_POSTGRES_PORT=" + std::to_string(kt::free_port())});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("cannot move the stored positions in PostgreSQL"));
  EXPECT_THAT(r.output, HasSubstr("nothing moved"));
}
