#include "test/faults/stream.hpp"

#include <cstdlib>
#include <sstream>
#include <thread>

#include "test/support/kafka_client.hpp"
#include "test/support/notifications.hpp"
#include "test/support/test_env.hpp"

namespace kafnus::test {
namespace {

constexpr int kEntities = 40;

std::string entity(int i) { return (i % 2 ? "M" : "S") + std::to_string(i % kEntities); }
std::string type(int i) { return i % 2 ? "Meter" : "Sensor"; }

}  // namespace

stream::stream(int partitions) : service_(unique_name("ft")) {
  const char* suffix[] = {"historic", "lastdata", "mutable"};
  std::vector<std::string> topics;
  for (int f = 0; f < 3; ++f) {
    topic_[f] = service_ + "_" + suffix[f];
    topics.push_back(topic_[f]);
  }
  create_topics(brokers(), topics, partitions);
  historic_topic_ = topic_[0];
  const std::string cols =
      "recvtime timestamptz, fiwareservicepath text, entityid text NOT NULL, entitytype text, "
      "timeinstant timestamptz NOT NULL, temperature double precision";
  const auto s = service_;
  pg_.exec("CREATE SCHEMA " + s);
  pg_.exec("CREATE TABLE " + s + ".s_sensor (" + cols + ")");
  pg_.exec("CREATE TABLE " + s + ".s_meter (" + cols + ", PRIMARY KEY (timeinstant, entityid))");
  for (const char* t : {"s_sensor", "s_meter"}) {
    pg_.exec("CREATE TABLE " + s + "." + t + "_lastdata (" + cols + ", PRIMARY KEY (entityid))");
    pg_.exec("CREATE TABLE " + s + "." + t + "_mutable (" + cols + ", PRIMARY KEY (entityid, timeinstant))");
  }
}

stream::~stream() {
  if (std::getenv("KAFNUS_KEEP_TEST_DATA")) return;  // for a post-mortem of a failed run
  try {
    pg_.exec("DROP SCHEMA IF EXISTS " + service_ + " CASCADE");
    std::vector<std::string> topics = {topic_[0], topic_[1], topic_[2]};
    topics.insert(topics.end(), extra_topics_.begin(), extra_topics_.end());
    delete_topics(brokers(), topics);
  } catch (const std::exception&) {
    // best effort
  }
}

daemon_config stream::config() const {
  daemon_config c;
  c.historic_topics = {topic_[0]};
  c.lastdata_topics = {topic_[1]};
  c.mutable_topics = {topic_[2]};
  c.extra_yaml = "batching:\n  max_rows: 400\n";
  return c;
}

std::string stream::historic_pattern() const { return "^" + topic_[0] + "(_[0-9]+)?$"; }

std::string stream::add_historic_topic(int partitions) {
  const auto name = topic_[0] + "_" + std::to_string(extra_topics_.size() + 1);
  create_topics(brokers(), {name}, partitions);
  extra_topics_.push_back(name);
  std::lock_guard<std::mutex> lock(mutex_);
  historic_topic_ = name;
  return name;
}

void stream::publish(int from, int to, int per_second) const {
  kafka_producer p(brokers());
  std::string historic;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    historic = historic_topic_;
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = from; i < to; ++i) {
    if (per_second > 0) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(1000000LL * (i - from) / per_second));
    }
    const auto body = sensor_notification(entity(i), type(i), iso_time(i), i % 1000);
    for (const auto& t : {historic, topic_[1], topic_[2]}) {
      p.send(t, body, {{"Fiware-Service", service_}, {"Fiware-ServicePath", "/s"}}, entity(i));
    }
  }
  p.flush();
}

long long stream::count(const std::string& table) {
  try {
    return pg_.count(service_ + "." + table);
  } catch (const std::exception&) {
    return -1;  // the database may be down
  }
}

long long stream::historic_rows() { return count("s_sensor") + count("s_meter"); }

bool stream::wait_rows(long long historic, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (historic_rows() >= historic) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool stream::wait_complete(int total, std::chrono::seconds timeout) {
  const long long sensors = (total + 1) / 2, meters = total / 2;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (count("s_sensor") >= sensors && count("s_meter") >= meters && count("s_sensor_mutable") >= sensors &&
        count("s_meter_mutable") >= meters &&
        count("s_sensor_lastdata") + count("s_meter_lastdata") >= std::min<long long>(total, kEntities)) {
      // Lastdata converges last: wait until every entity shows its final TimeInstant.
      const auto stale = pg_.scalar("SELECT count(*) FROM (SELECT entityid, timeinstant FROM " + service_ +
                                    ".s_sensor_lastdata UNION ALL " + "SELECT entityid, timeinstant FROM " + service_ +
                                    ".s_meter_lastdata) l WHERE timeinstant < (SELECT "
                                    "max(timeinstant) FROM (SELECT entityid, timeinstant FROM " +
                                    service_ +
                                    ".s_sensor UNION ALL SELECT "
                                    "entityid, timeinstant FROM " +
                                    service_ + ".s_meter) h WHERE h.entityid = l.entityid)");
      if (stale == "0") return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

void stream::expect_exactly_once(int total) {
  std::this_thread::sleep_for(std::chrono::seconds(1));  // anything late would show now
  const long long sensors = (total + 1) / 2, meters = total / 2;
  EXPECT_EQ(count("s_sensor"), sensors) << "table without primary key";
  EXPECT_EQ(pg_.scalar("SELECT count(DISTINCT (entityid, timeinstant)) FROM " + service_ + ".s_sensor"),
            std::to_string(sensors));
  EXPECT_EQ(count("s_meter"), meters) << "table with primary key";
  EXPECT_EQ(count("s_sensor_mutable"), sensors);
  EXPECT_EQ(count("s_meter_mutable"), meters);
  EXPECT_EQ(count("s_sensor_lastdata") + count("s_meter_lastdata"), std::min<long long>(total, kEntities));
  const auto log = service_ + "." + service_ + "_error_log";
  if (pg_.table_exists(service_, service_ + "_error_log")) {
    EXPECT_EQ(pg_.count(log), 0) << pg_.scalar("SELECT string_agg(error, ' | ') FROM " + log);
  }
}

std::string stream::describe() {
  std::ostringstream o;
  for (const char* t :
       {"s_sensor", "s_meter", "s_sensor_lastdata", "s_meter_lastdata", "s_sensor_mutable", "s_meter_mutable"}) {
    o << t << "=" << count(t) << " ";
  }
  return o.str() + "\n";
}

}  // namespace kafnus::test
