// scripts/services.sh in a second clone that lives in a private directory
// (mode 0700, like a clone in root's home), while this tree's services hold
// their ports: the clone's services move to free ports and say so, start
// Kafka and PostgreSQL + PostGIS where user postgres can reach them, answer,
// and stop, and the services that were running before still run;
// scripts/with-services.sh stops only the services it started. A port a
// variable chose but another process holds is an error naming both.
//
// The clone is a copy of this tree's scripts/ (all services.sh needs, and the
// working tree's version of it); it runs the Kafka jars install-deps fetched
// into this tree's .deps (KAFNUS_DEV_KAFKA_LIBS) instead of fetching them again.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>
#include <pqxx/pqxx>

#include "test/support/daemon_process.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
namespace fs = std::filesystem;
using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;

namespace {

const char* const kPortVariables[] = {"KAFNUS_DEV_PG_PORT", "KAFNUS_DEV_KAFKA_PORT", "KAFNUS_DEV_KAFKA_SASL_PORT",
                                      "KAFNUS_DEV_KAFKA_CONTROLLER_PORT"};

bool listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

int port_of(const std::string& address) { return std::stoi(address.substr(address.rfind(':') + 1)); }

// The port the broker at `brokers` advertises (a metadata request), or -1
// when no broker answers within a few seconds.
int advertised_kafka_port(const std::string& brokers) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("log_level", "0", err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) throw std::runtime_error("librdkafka: " + err);
  RdKafka::Metadata* raw = nullptr;
  const auto rc = producer->metadata(true, nullptr, &raw, 5000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (rc != RdKafka::ERR_NO_ERROR || metadata->brokers()->empty()) return -1;
  return metadata->brokers()->front()->port();
}

std::string pg_scalar(int port, const std::string& sql) {
  pqxx::connection c("host=127.0.0.1 port=" + std::to_string(port) + " dbname=tests user=postgres connect_timeout=5");
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<std::string>();
}

// The jars of the Kafka that scripts/versions.sh pins, which
// scripts/install-deps.sh fetched into this tree's .deps.
std::string kafka_libs() {
  const fs::path source(KAFNUS_SOURCE_DIR);
  std::ifstream versions(source / "scripts/versions.sh");
  const std::string key = "KAFKA_VERSION=";
  std::string line;
  while (std::getline(versions, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    const auto version = line.substr(key.size(), line.find_first_of(" \t#", key.size()) - key.size());
    const auto home = source / ".deps" / ("kafka-" + version);
    if (!fs::exists(home / ".complete")) {
      throw std::runtime_error("no Kafka " + version + " jars in " + home.string() + ": run scripts/install-deps.sh");
    }
    return (home / "libs").string();
  }
  throw std::runtime_error("no KAFKA_VERSION in scripts/versions.sh");
}

// A private directory (mkdtemp: mode 0700) holding a clone of this tree's
// scripts/; its services are reset (stopped, data removed) at the end.
class private_clone {
 public:
  private_clone() {
    // The clone picks its own ports (the test starts no thread before this).
    for (const char* v : kPortVariables) ::unsetenv(v);  // NOLINT(concurrency-mt-unsafe)
    std::string dir = (fs::temp_directory_path() / "kafnus-private-XXXXXX").string();
    if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
    parent_ = dir;
    root_ = parent_ / "kafnus";
    fs::create_directories(root_);
    fs::copy(fs::path(KAFNUS_SOURCE_DIR) / "scripts", root_ / "scripts", fs::copy_options::recursive);
  }
  ~private_clone() {
    services("reset");
    fs::remove_all(parent_);
  }
  private_clone(const private_clone&) = delete;
  private_clone& operator=(const private_clone&) = delete;

  const fs::path& root() const { return root_; }

  kt::command_result services(const std::string& action, std::vector<std::string> env = {}) const {
    return script({"services.sh", action}, std::move(env));
  }

  // The clone's scripts/with-services.sh running `command`.
  kt::command_result with_services(const std::vector<std::string>& command) const {
    std::vector<std::string> argv{"with-services.sh"};
    argv.insert(argv.end(), command.begin(), command.end());
    return script(std::move(argv));
  }

  // A port the clone's services.sh recorded in its .deps/services.env.
  int recorded_port(const std::string& key) const {
    const auto file = (root_ / ".deps/services.env").string();
    const auto value = kt::services_env_value(file, key, "");
    if (value.empty()) throw std::runtime_error("no " + key + " in " + file);
    return std::stoi(value);
  }

 private:
  // The clone's scripts/<argv[0]> with `argv`'s arguments, using this tree's Kafka jars.
  kt::command_result script(std::vector<std::string> argv, std::vector<std::string> env = {}) const {
    argv[0] = (root_ / "scripts" / argv[0]).string();
    env.push_back("KAFNUS_DEV_KAFKA_LIBS=" + kafka_libs_);
    return kt::run_command(argv, env);
  }

  std::string kafka_libs_ = kafka_libs();
  fs::path parent_;
  fs::path root_;
};

// The ports of this tree's running services (scripts/with-services.sh).
struct running_services {
  int pg = kt::pg_port();
  int kafka = port_of(kt::brokers());
  int kafka_sasl = port_of(kt::sasl_brokers());

  void expect_running() const {
    EXPECT_THAT(pg_scalar(pg, "SELECT postgis_lib_version()"), StartsWith("3."));
    EXPECT_EQ(advertised_kafka_port(kt::brokers()), kafka);
    EXPECT_TRUE(listening(kafka_sasl));
  }
};

}  // namespace

TEST(ServicesScript, APrivateCloneStartsItsOwnServicesOnFreePortsBesideRunningOnes) {
  const running_services first;
  ASSERT_TRUE(listening(first.pg) && listening(first.kafka))
      << "this tree's services must run (scripts/services.sh start): they hold the ports the clone must avoid";
  std::map<int, bool> default_taken;
  for (int p : {5432, 9092, 9094, 9093}) default_taken[p] = listening(p);

  private_clone clone;
  const auto start = clone.services("start");
  ASSERT_EQ(start.code, 0) << start.output;
  for (const auto& [p, taken] : default_taken) {
    if (taken) {
      EXPECT_THAT(start.output, HasSubstr("port " + std::to_string(p) + " is taken by another process"));
    }
  }

  const int pg = clone.recorded_port("KAFNUS_DEV_PG_PORT");
  const int kafka = clone.recorded_port("KAFNUS_DEV_KAFKA_PORT");
  const int sasl = clone.recorded_port("KAFNUS_DEV_KAFKA_SASL_PORT");
  const int controller = clone.recorded_port("KAFNUS_DEV_KAFKA_CONTROLLER_PORT");
  for (int p : {pg, kafka, sasl, controller}) {
    EXPECT_FALSE(default_taken.count(p) && default_taken[p]) << p << " was taken before the clone started";
    EXPECT_NE(p, first.pg);
    EXPECT_NE(p, first.kafka);
    EXPECT_NE(p, first.kafka_sasl);
  }

  // Its own PostgreSQL + PostGIS and its own broker answer on those ports.
  EXPECT_THAT(pg_scalar(pg, "SELECT postgis_full_version()"), HasSubstr("POSTGIS="));
  const auto data_directory = pg_scalar(pg, "SHOW data_directory");
  if (::geteuid() == 0) {
    // User postgres cannot reach the private directory: the data lives in a
    // folder of its own, said in the log.
    EXPECT_THAT(data_directory, StartsWith("/var/lib/kafnus-dev/"));
    EXPECT_THAT(start.output, HasSubstr("PostgreSQL data in " + data_directory));
    EXPECT_EQ(fs::status(fs::path(data_directory).parent_path()).permissions() & fs::perms::all, fs::perms::owner_all);
  } else {
    EXPECT_EQ(data_directory, (clone.root() / ".deps/pg-data").string());
  }
  EXPECT_THAT(start.output, HasSubstr("data in " + data_directory));
  EXPECT_EQ(advertised_kafka_port("127.0.0.1:" + std::to_string(kafka)), kafka);
  EXPECT_TRUE(listening(sasl));
  EXPECT_TRUE(listening(controller));

  // The tests of the clone would find them through `services.sh env`.
  const auto env = clone.services("env");
  EXPECT_THAT(env.output, HasSubstr("export KAFNUS_TEST_BROKERS=127.0.0.1:" + std::to_string(kafka) + "\n"));
  EXPECT_THAT(env.output, HasSubstr("export KAFNUS_TEST_PG_PORT=" + std::to_string(pg) + "\n"));

  // A command run with its services (a test run, the bench) while they were
  // already running leaves them running.
  const auto with = clone.with_services({"true"});
  EXPECT_EQ(with.code, 0) << with.output;
  EXPECT_THAT(with.output, HasSubstr("Kafka left running: it was running before"));
  EXPECT_THAT(with.output, HasSubstr("PostgreSQL left running: it was running before"));
  EXPECT_TRUE(listening(pg)) << with.output;
  EXPECT_TRUE(listening(kafka)) << with.output;

  const auto stop = clone.services("stop");
  EXPECT_EQ(stop.code, 0) << stop.output;
  EXPECT_FALSE(listening(pg));
  EXPECT_FALSE(listening(kafka));
  first.expect_running();

  // A second start keeps the recorded ports.
  const auto again = clone.services("start-postgres");
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(clone.recorded_port("KAFNUS_DEV_PG_PORT"), pg);
  EXPECT_EQ(pg_scalar(pg, "SHOW data_directory"), data_directory);

  // With only PostgreSQL running, it starts Kafka and stops only Kafka.
  const auto half = clone.with_services({"true"});
  EXPECT_EQ(half.code, 0) << half.output;
  EXPECT_THAT(half.output, HasSubstr("stopping Kafka"));
  EXPECT_THAT(half.output, Not(HasSubstr("stopping PostgreSQL")));
  EXPECT_TRUE(listening(pg)) << half.output;
  EXPECT_FALSE(listening(kafka)) << half.output;

  const auto reset = clone.services("reset");
  EXPECT_EQ(reset.code, 0) << reset.output;
  EXPECT_FALSE(fs::exists(data_directory));
  EXPECT_FALSE(fs::exists(clone.root() / ".deps/services.env"));
  first.expect_running();
}

TEST(ServicesScript, APortAVariableChoseButAnotherProcessHoldsIsAnError) {
  const running_services first;
  ASSERT_TRUE(listening(first.pg) && listening(first.kafka))
      << "this tree's services must run (scripts/services.sh start): they hold the ports the clone must avoid";
  private_clone clone;

  const auto pg = clone.services("start-postgres", {"KAFNUS_DEV_PG_PORT=" + std::to_string(first.pg)});
  EXPECT_NE(pg.code, 0);
  EXPECT_THAT(pg.output, HasSubstr("port " + std::to_string(first.pg) + ", chosen by KAFNUS_DEV_PG_PORT, is taken"));
  EXPECT_THAT(pg.output, Not(HasSubstr("starting PostgreSQL")));

  const auto kafka = clone.services("start-kafka", {"KAFNUS_DEV_KAFKA_PORT=" + std::to_string(first.kafka)});
  EXPECT_NE(kafka.code, 0);
  EXPECT_THAT(kafka.output,
              HasSubstr("port " + std::to_string(first.kafka) + ", chosen by KAFNUS_DEV_KAFKA_PORT, is taken"));
  EXPECT_THAT(kafka.output, Not(HasSubstr("starting Kafka")));

  const auto bad = clone.services("start", {"KAFNUS_DEV_KAFKA_SASL_PORT=ninety"});
  EXPECT_NE(bad.code, 0);
  EXPECT_THAT(bad.output, HasSubstr("KAFNUS_DEV_KAFKA_SASL_PORT=ninety is not a port"));
  first.expect_running();
}
