// `kafnus errors list` and `kafnus errors replay` on the real database: the
// issue's scenario through the real daemon (a missing column, the operator
// adds it, replay writes the rows and empties the error log), a replay that
// fails again, a replay killed with SIGKILL and resumed (every row exactly
// once), two replays at once, hostile rows refused and never run, list as
// text and JSON, and the errors an operator gets for a bad configuration,
// an unreachable database or an unknown service.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>
#include <pqxx/pqxx>

#include "ngsi/error_entry.hpp"
#include "ngsi/row.hpp"
#include "postgis/error_log.hpp"
#include "postgis/offsets_store.hpp"
#include "postgis/statements.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/notifications.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace kafnus;
using namespace std::chrono_literals;
using testing::AllOf;
using testing::HasSubstr;
using testing::Not;

namespace {

// A service with its schema, a historic table without a primary key (a
// duplicate would show) and without the `temperature` column, and a
// configuration file for the commands (its offsets schema unique to the test).
struct errors_fixture {
  errors_fixture() : service(kt::unique_name("err")), table(service + ".s_sensor") {
    pg.exec("CREATE SCHEMA " + service);
    pg.exec("CREATE TABLE " + table +
            " (recvtime timestamptz, fiwareservicepath text, entityid text NOT NULL, entitytype text, "
            "timeinstant timestamptz NOT NULL)");
    cfg.offsets_schema = kt::unique_name("kafnus");
    cfg.group = kt::unique_name("group");
    cfg.admin_port = kt::free_port();
    cfg.historic_topics = {service + "_historic"};  // a valid configuration names one; the commands read none
    config_path = ::testing::TempDir() + kt::unique_name("errors") + ".yaml";
    std::ofstream(config_path) << cfg.yaml();
  }
  ~errors_fixture() {
    try {
      pg.exec("DROP SCHEMA IF EXISTS " + service + " CASCADE");
      pg.exec("DROP SCHEMA IF EXISTS " + cfg.offsets_schema + " CASCADE");
    } catch (const std::exception&) {
      // best effort
    }
  }
  errors_fixture(const errors_fixture&) = delete;
  errors_fixture& operator=(const errors_fixture&) = delete;

  std::string error_log() const { return service + "." + service + "_error_log"; }

  kt::command_result errors(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{KAFNUS_DAEMON_BINARY, "errors"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config_path});
    return kt::run_command(argv);
  }

  // Rows the daemon would have written, as error-log entries of the real
  // error-log writer (the statements render_statement writes).
  void log_rows(int from, int to, const std::string& in_service = "") {
    const auto s = in_service.empty() ? service : in_service;
    pqxx::connection conn(kt::pg_connection_string());
    postgis::ensure_kafnus_tables(conn, cfg.offsets_schema);
    std::vector<ngsi::error_entry> entries;
    for (int i = from; i < to; ++i) {
      ngsi::row r;
      r.set_table({s, "s_sensor"});
      r.set_service(s);
      r.columns = {{"entityid", ngsi::value::text_value("E" + std::to_string(i))},
                   {"entitytype", ngsi::value::text_value("Sensor")},
                   {"fiwareservicepath", ngsi::value::text_value("/s")},
                   {"recvtime", ngsi::value::timestamp(1'735'689'600'000'000)},
                   {"timeinstant", ngsi::value::timestamp(1'735'689'600'000'000 + i * 1'000'000LL)},
                   {"temperature", ngsi::value::number(std::to_string(i % 40))}};
      entries.push_back(ngsi::error_entry{s, 1'735'689'600'000'000 + i * 1000LL,
                                          "ERROR: column \"temperature\" of relation \"s_sensor\" does not exist",
                                          postgis::render_statement(r)});
    }
    postgis::error_log_writer writer(cfg.offsets_schema);
    pqxx::work tx(conn);
    const auto counts = writer.write(tx, entries);
    tx.commit();
    ASSERT_EQ(counts.per_service + counts.fallback, entries.size());
  }

  void add_temperature() { pg.exec("ALTER TABLE " + table + " ADD COLUMN temperature double precision"); }

  const std::string service;
  const std::string table;
  kt::daemon_config cfg;
  std::string config_path;
  kt::pg_client pg;
};

// A command started in the background, its output in a file.
struct background_command {
  explicit background_command(const std::vector<std::string>& argv) {
    output_path = ::testing::TempDir() + kt::unique_name("cmd") + ".out";
    pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      std::vector<char*> args;
      args.reserve(argv.size() + 1);
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~background_command() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait();
    }
  }
  background_command(const background_command&) = delete;
  background_command& operator=(const background_command&) = delete;

  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string output() const {
    std::ifstream in(output_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  pid_t pid = -1;
  std::string output_path;
};

std::vector<std::string> replay_argv(const errors_fixture& f, std::vector<std::string> more = {}) {
  std::vector<std::string> argv{KAFNUS_DAEMON_BINARY, "errors",     "replay", "--service", f.service,
                                "--config",           f.config_path};
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

}  // namespace

// The scenario: the daemon logs rows its table cannot take (a
// missing column); the operator adds the column; replay writes them.
TEST(Errors, ReplayWritesTheRowsOnceTheOperatorAddsTheMissingColumn) {
  errors_fixture f;
  const auto topic = f.service + "_historic";
  kt::create_topics(kt::brokers(), {topic}, 1);
  auto cfg = f.cfg;
  cfg.historic_topics = {topic};
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  {
    kt::kafka_producer p(kt::brokers());
    for (int i = 0; i < 20; ++i) {
      p.send(topic, kt::sensor_notification("E" + std::to_string(i), "Sensor", kt::iso_time(i), i),
             {{"Fiware-Service", f.service}, {"Fiware-ServicePath", "/s"}});
    }
    p.flush();
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline &&
         (!f.pg.table_exists(f.service, f.service + "_error_log") || f.pg.count(f.error_log()) < 20)) {
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(f.pg.count(f.error_log()), 20) << d.log();
  EXPECT_EQ(f.pg.count(f.table), 0);

  // What the operator sees first.
  auto list = f.errors({"list", "--service", f.service});
  EXPECT_EQ(list.code, 0) << list.output;
  EXPECT_THAT(list.output, AllOf(HasSubstr(f.service + ".s_sensor"), HasSubstr("temperature"), HasSubstr("20 rows")));

  // Before the fix, a dry run says they would run; nothing changes.
  auto dry = f.errors({"replay", "--service", f.service, "--dry-run"});
  EXPECT_EQ(dry.code, 0) << dry.output;
  EXPECT_THAT(dry.output, HasSubstr("would replay  20"));
  EXPECT_EQ(f.pg.count(f.error_log()), 20);

  // The fix, then the replay.
  f.add_temperature();
  auto replay = f.errors({"replay", "--service", f.service});
  EXPECT_EQ(replay.code, 0) << replay.output;
  EXPECT_THAT(replay.output, HasSubstr("replayed      20"));
  EXPECT_EQ(f.pg.count(f.table), 20);
  EXPECT_EQ(f.pg.count(f.table, "temperature IS NOT NULL"), 20);
  EXPECT_EQ(f.pg.scalar("SELECT temperature FROM " + f.table + " WHERE entityid = 'E7'"), "7");
  EXPECT_EQ(f.pg.count(f.error_log()), 0);

  // Nothing is replayed twice.
  auto again = f.errors({"replay", "--service", f.service});
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr(": 0 error-log rows"));
  EXPECT_EQ(f.pg.count(f.table), 20);

  kt::delete_topics(kt::brokers(), {topic});
}

TEST(Errors, AFailedReplayKeepsTheRowWithTheNewError) {
  errors_fixture f;
  f.log_rows(0, 3);
  f.pg.exec("UPDATE " + f.error_log() + " SET error = 'the old cause'");
  const auto before = f.pg.query("SELECT \"timestamp\", query FROM " + f.error_log() + " ORDER BY 1");

  auto r = f.errors({"replay", "--service", f.service});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("failed        3"), HasSubstr("column \"temperature\" of relation")));
  EXPECT_EQ(f.pg.count(f.table), 0);
  EXPECT_EQ(f.pg.count(f.error_log(), "error LIKE '%column \"temperature\" of relation \"s_sensor\" does not exist%'"),
            3);
  // Same rows, same time, same statement: only the cause is new.
  EXPECT_EQ(f.pg.query("SELECT \"timestamp\", query FROM " + f.error_log() + " ORDER BY 1"), before);

  // --limit takes the oldest first; --since filters by the row's time.
  f.add_temperature();
  auto one = f.errors({"replay", "--service", f.service, "--limit", "1"});
  EXPECT_EQ(one.code, 0) << one.output;
  EXPECT_EQ(f.pg.count(f.table), 1);
  EXPECT_EQ(f.pg.scalar("SELECT entityid FROM " + f.table), "E0");
  auto none = f.errors({"replay", "--service", f.service, "--since", "2030-01-01"});
  EXPECT_THAT(none.output, HasSubstr(": 0 error-log rows"));
  auto recent = f.errors({"replay", "--service", f.service, "--since", "2025-01-01T00:00:00.002Z"});
  EXPECT_EQ(recent.code, 0) << recent.output;
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(entityid, ',' ORDER BY entityid) FROM " + f.table), "E0,E2");
}

// A replay killed with SIGKILL midway, then run again: every row exactly
// once in a table without a key, the error log empty.
TEST(Errors, AReplayKilledMidwayResumesWithoutDuplicates) {
  errors_fixture f;
  constexpr int kRows = 3000;
  f.log_rows(0, kRows);
  f.add_temperature();
  ASSERT_EQ(f.pg.count(f.error_log()), kRows);
  long long at_kill = 0;
  {
    background_command replay(replay_argv(f));
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline && f.pg.count(f.table) < kRows / 5) {
      std::this_thread::sleep_for(10ms);
    }
    ::kill(replay.pid, SIGKILL);
    EXPECT_EQ(replay.wait(), 128 + SIGKILL) << replay.output();
  }
  // The killed client's server process ends its transaction when it finds
  // the client gone: a COMMIT already sent still commits.
  std::this_thread::sleep_for(1s);
  at_kill = f.pg.count(f.table);
  EXPECT_GE(at_kill, kRows / 5);
  EXPECT_LT(at_kill, kRows) << "the replay finished before the kill; the test proves nothing";
  // Whatever committed is gone from the log, and only that.
  EXPECT_EQ(f.pg.count(f.table) + f.pg.count(f.error_log()), kRows);

  // Two replays at once take the rest: each row by exactly one of them.
  background_command a(replay_argv(f, {"--json"}));
  background_command b(replay_argv(f, {"--json"}));
  EXPECT_EQ(a.wait(), 0) << a.output();
  EXPECT_EQ(b.wait(), 0) << b.output();
  EXPECT_EQ(f.pg.count(f.table), kRows);
  EXPECT_EQ(std::stoll(f.pg.scalar("SELECT count(DISTINCT entityid) FROM " + f.table)), kRows);
  EXPECT_EQ(f.pg.count(f.error_log()), 0);
  // Their reports add up: every row replayed by one, skipped by the other or not seen.
  simdjson::dom::parser parser;
  std::int64_t replayed = 0;
  for (auto* c : {&a, &b}) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(c->output()).get(doc), simdjson::SUCCESS) << c->output();
    replayed += doc["replayed"].get_int64().value();
  }
  EXPECT_EQ(replayed, kRows - at_kill);
}

// SIGINT (or SIGTERM) stops a replay between two rows, with its summary.
TEST(Errors, AnInterruptedReplayStopsBetweenRows) {
  errors_fixture f;
  constexpr int kRows = 3000;
  f.log_rows(0, kRows);
  f.add_temperature();
  background_command replay(replay_argv(f));
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && f.pg.count(f.table) < kRows / 5) {
    std::this_thread::sleep_for(10ms);
  }
  ::kill(replay.pid, SIGINT);
  EXPECT_EQ(replay.wait(), 130) << replay.output();
  EXPECT_THAT(replay.output(), HasSubstr("interrupted: the rows not reached are untouched"));
  EXPECT_LT(f.pg.count(f.table), kRows);
  EXPECT_EQ(f.pg.count(f.table) + f.pg.count(f.error_log()), kRows);
}

// Rows whose query is not a statement Kafnus writes are refused and never
// run, whatever they would do.
TEST(Errors, HostileRowsAreRefusedAndNeverRun) {
  errors_fixture f;
  f.log_rows(0, 1);  // creates the error log
  f.add_temperature();
  const auto marker = f.service + ".marker";
  const auto s = f.service;
  const std::vector<std::string> hostile = {
      "CREATE TABLE " + marker + " (x int)",
      "DROP TABLE " + f.table,
      "INSERT INTO \"" + s + "\".\"s_sensor\" (\"entityid\") VALUES ('x'); CREATE TABLE " + marker + " (x int)",
      "INSERT INTO \"" + s + "\".\"s_sensor\" (\"entityid\") VALUES ((SELECT 'x' FROM pg_sleep(0)))",
      "INSERT INTO \"" + s + "\".\"s_sensor\" (\"entityid\") VALUES (E'x')",
      "INSERT INTO \"" + s + "\".\"s_sensor\" (\"entityid\") VALUES ('x') -- ",
      "INSERT INTO \"" + f.cfg.offsets_schema +
          "\".\"offsets\" (\"consumer_group\", \"topic\", \"kafka_partition\", \"next_offset\") VALUES ('g', 't', 0, "
          "0)",
      "INSERT INTO \"" + s + "\".\"" + s + "_error_log\" (\"timestamp\", \"error\") VALUES ('2025-01-01', 'x')",
      "-- not a statement: Kafka record t/0@1 (2 bytes): {}",
      "DELETE FROM \"" + s + "\".\"s_sensor\" WHERE \"entityid\" = 'E0'",
  };
  for (const auto& q : hostile) {
    std::string literal = "'";
    for (char c : q) literal += c == '\'' ? std::string("''") : std::string(1, c);
    f.pg.exec("INSERT INTO " + f.error_log() + " VALUES (now(), 'planted', " + literal + "')");
  }
  f.pg.exec("INSERT INTO " + f.error_log() + " VALUES (now(), 'no query', NULL)");
  const auto planted = static_cast<long long>(hostile.size()) + 1;

  auto r = f.errors({"replay", "--service", f.service, "--json", "--verbose"});
  EXPECT_EQ(r.code, 0) << r.output;  // refused rows are reported, not failures
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.output).get(doc), simdjson::SUCCESS) << r.output;
  EXPECT_EQ(doc["replayed"].get_int64().value(), 1);  // the one good row
  EXPECT_EQ(doc["refused"].get_int64().value(), planted);
  EXPECT_EQ(doc["failed"].get_int64().value(), 0);
  EXPECT_THAT(r.output, AllOf(HasSubstr("not a statement Kafnus writes"), HasSubstr("outside the service's schema"),
                              HasSubstr("one of Kafnus's own tables"), HasSubstr("lastdata delete"),
                              HasSubstr("the query is NULL"), HasSubstr("a Kafka record")));
  EXPECT_FALSE(f.pg.table_exists(f.service, "marker"));
  EXPECT_TRUE(f.pg.table_exists(f.service, "s_sensor"));
  EXPECT_EQ(f.pg.count(f.table), 1);
  EXPECT_EQ(f.pg.count(f.table, "entityid = 'x'"), 0);
  EXPECT_EQ(f.pg.count(f.cfg.offsets_schema + ".offsets"), 0);
  EXPECT_EQ(f.pg.count(f.error_log()), planted);
  EXPECT_EQ(f.pg.count(f.error_log(), "error IN ('planted', 'no query')"), planted);  // left as they were
}

TEST(Errors, ListCountsByServiceTableAndErrorAsTextAndJson) {
  errors_fixture f;
  f.log_rows(0, 5);
  f.pg.exec("INSERT INTO " + f.error_log() +
            " VALUES ('2025-01-02T00:00:00Z', 'ERROR: value too long - DETAIL: row 1', "
            "'INSERT INTO \"" +
            f.service +
            "\".\"other\" (\"a\") VALUES (1)'), "
            "('2025-01-03T00:00:00Z', 'ERROR: value too long - DETAIL: row 2', "
            "'INSERT INTO \"" +
            f.service +
            "\".\"other\" (\"a\") VALUES (2)'), "
            "('2025-01-04T00:00:00Z', 'bad JSON', '-- not a statement: Kafka record t/0@9 (1 bytes): x')");
  // A service without a schema: its rows are in the fallback log.
  const auto homeless = kt::unique_name("homeless");
  f.log_rows(0, 2, homeless);

  auto text = f.errors({"list", "--service", f.service});
  EXPECT_EQ(text.code, 0) << text.output;
  EXPECT_THAT(text.output,
              AllOf(HasSubstr("SERVICE"), HasSubstr(f.service + ".s_sensor"), HasSubstr(f.service + ".other"),
                    HasSubstr("(not a statement)"), HasSubstr("ERROR: value too long\n"), Not(HasSubstr("DETAIL")),
                    HasSubstr("8 rows in 3 groups"), Not(HasSubstr(homeless))));

  auto json = f.errors({"list", "--service", f.service, "--json"});
  EXPECT_EQ(json.code, 0) << json.output;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.output).get(doc), simdjson::SUCCESS) << json.output;
  EXPECT_EQ(doc["rows"].get_int64().value(), 8);
  bool found = false;
  for (auto g : doc["groups"].get_array()) {
    if (std::string_view(g["table"].get_string().value()) != f.service + ".other") continue;
    found = true;
    EXPECT_EQ(g["rows"].get_int64().value(), 2);
    EXPECT_EQ(std::string_view(g["error"].get_string().value()), "ERROR: value too long");
    EXPECT_EQ(std::string_view(g["oldest"].get_string().value()), "2025-01-02T00:00:00.000Z");
    EXPECT_EQ(std::string_view(g["newest"].get_string().value()), "2025-01-03T00:00:00.000Z");
    EXPECT_EQ(std::string_view(g["service"].get_string().value()), f.service);
    EXPECT_EQ(std::string_view(g["errorLog"].get_string().value()), f.error_log());
  }
  EXPECT_TRUE(found) << json.output;

  // --since by the rows' time.
  auto since = f.errors({"list", "--service", f.service, "--since", "2025-01-03", "--json"});
  ASSERT_EQ(parser.parse(since.output).get(doc), simdjson::SUCCESS) << since.output;
  EXPECT_EQ(doc["rows"].get_int64().value(), 2);

  // Every service: ours, and the one in the fallback log, marked.
  auto all = f.errors({"list"});
  EXPECT_EQ(all.code, 0) << all.output;
  EXPECT_THAT(all.output, AllOf(HasSubstr(f.service + " "), HasSubstr(homeless + "*"),
                                HasSubstr("* in " + f.cfg.offsets_schema + ".error_log")));
  auto fallback = f.errors({"list", "--service", homeless});
  EXPECT_THAT(fallback.output, AllOf(HasSubstr(homeless + ".s_sensor"), HasSubstr("2 rows in 1 group")));
  // and its rows replay once its schema exists
  f.pg.exec("CREATE SCHEMA " + homeless);
  f.pg.exec("CREATE TABLE " + homeless +
            ".s_sensor (recvtime timestamptz, fiwareservicepath text, entityid text, entitytype text, "
            "timeinstant timestamptz, temperature float)");
  auto replay = f.errors({"replay", "--service", homeless});
  EXPECT_EQ(replay.code, 0) << replay.output;
  EXPECT_THAT(replay.output, HasSubstr(f.cfg.offsets_schema + ".error_log"));
  EXPECT_EQ(f.pg.count(homeless + ".s_sensor"), 2);
  EXPECT_EQ(f.pg.count(f.cfg.offsets_schema + ".error_log", "service = '" + homeless + "'"), 0);
  f.pg.exec("DROP SCHEMA " + homeless + " CASCADE");
}

// A role that may run the statements but not delete error-log rows: nothing
// is written without its row's deletion, and the message says what is missing.
TEST(Errors, WithoutThePrivilegeToDeleteNothingIsReplayed) {
  errors_fixture f;
  f.log_rows(0, 3);
  f.add_temperature();
  const auto role = kt::unique_name("role");
  f.pg.exec("CREATE ROLE " + role + " LOGIN");
  f.pg.exec("GRANT USAGE ON SCHEMA " + f.service + " TO " + role + "; GRANT SELECT, INSERT ON " + f.table + " TO " +
            role + "; GRANT SELECT, UPDATE ON " + f.error_log() + " TO " + role);
  auto cfg = f.cfg;
  cfg.pg_user = role;
  const auto path = ::testing::TempDir() + kt::unique_name("role") + ".yaml";
  std::ofstream(path) << cfg.yaml();
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{KAFNUS_DAEMON_BINARY, "errors"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", path});
    return kt::run_command(argv);
  };

  auto dry = run({"replay", "--service", f.service, "--dry-run"});
  EXPECT_EQ(dry.code, 0) << dry.output;
  EXPECT_THAT(dry.output, AllOf(HasSubstr("would replay  3"),
                                HasSubstr("warning: left out " + f.cfg.offsets_schema + ".error_log: the role")));

  auto r = run({"replay", "--service", f.service});
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("permission denied"), HasSubstr("needs SELECT, UPDATE and DELETE")));
  EXPECT_EQ(f.pg.count(f.table), 0);
  EXPECT_EQ(f.pg.count(f.error_log()), 3);
  f.pg.exec("DROP OWNED BY " + role + " CASCADE; DROP ROLE " + role);
}

TEST(Errors, SaysWhatIsWrongAndExitsNonZero) {
  errors_fixture f;
  // An unknown service.
  auto unknown = f.errors({"replay", "--service", "no_such_service_here"});
  EXPECT_EQ(unknown.code, 3);
  EXPECT_THAT(unknown.output, AllOf(HasSubstr("service 'no_such_service_here' has no error log"),
                                    HasSubstr("no_such_service_here.no_such_service_here_error_log")));
  // A bad --since, a forbidden --schema.
  auto since = f.errors({"list", "--since", "yesterday"});
  EXPECT_EQ(since.code, 2);
  EXPECT_THAT(since.output, AllOf(HasSubstr("--since 'yesterday'"), HasSubstr("30m")));
  auto schema = f.errors({"replay", "--service", f.service, "--schema", f.cfg.offsets_schema});
  EXPECT_EQ(schema.code, 2);
  EXPECT_THAT(schema.output, HasSubstr("never a target"));
  // --service is required by replay.
  auto no_service = kt::run_command({KAFNUS_DAEMON_BINARY, "errors", "replay", "--config", f.config_path});
  EXPECT_NE(no_service.code, 0);
  EXPECT_THAT(no_service.output, HasSubstr("--service"));

  // A configuration that is not valid.
  const auto bad = ::testing::TempDir() + kt::unique_name("bad") + ".yaml";
  std::ofstream(bad) << "kafka:\n  brokers: 127.0.0.1:9092\n";
  auto invalid = kt::run_command({KAFNUS_DAEMON_BINARY, "errors", "list", "--config", bad});
  EXPECT_EQ(invalid.code, 2);
  EXPECT_THAT(invalid.output, HasSubstr("postgres.database is required"));

  // A database nobody listens on.
  auto down_cfg = f.cfg;
  down_cfg.postgres_yaml = "  connect_timeout_s: 2\n";
  auto yaml = down_cfg.yaml();
  const auto port_at = yaml.find("  port: ");
  yaml.replace(port_at, yaml.find('\n', port_at) - port_at, "  port: " + std::to_string(kt::free_port()));
  const auto down = ::testing::TempDir() + kt::unique_name("down") + ".yaml";
  std::ofstream(down) << yaml;
  auto unreachable = kt::run_command({KAFNUS_DAEMON_BINARY, "errors", "list", "--config", down});
  EXPECT_EQ(unreachable.code, 3);
  EXPECT_THAT(unreachable.output, AllOf(HasSubstr("cannot connect to PostgreSQL at"), HasSubstr("postgres.*")));
}
