#include "test/support/historic_stream.hpp"

#include "test/support/notifications.hpp"
#include "test/support/test_env.hpp"

namespace kafnus::test {

using namespace std::chrono_literals;

historic_stream::historic_stream(int partitions, const std::string& prefix)
    : service(unique_name(prefix)), topic(service + "_historic"), table(service + ".s_sensor") {
  pg.exec("CREATE SCHEMA " + service);
  pg.exec("CREATE TABLE " + table +
          " (recvtime timestamptz, fiwareservicepath text, entityid text NOT NULL, entitytype text, "
          "timeinstant timestamptz NOT NULL, temperature double precision CHECK (temperature < 1000))");
  if (partitions > 0) create_topics(brokers(), {topic}, partitions);
}

historic_stream::~historic_stream() {
  try {
    pg.exec("DROP SCHEMA IF EXISTS " + service + " CASCADE");
    delete_topics(brokers(), {topic});
  } catch (const std::exception&) {
    // best effort
  }
}

daemon_config historic_stream::config() const {
  daemon_config c;
  c.historic_topics = {topic};
  c.extra_yaml = "batching:\n  max_rows: 500\n";
  return c;
}

void historic_stream::publish(kafka_producer& p, int from, int to, const std::string& to_topic) const {
  for (int i = from; i < to; ++i) {
    p.send(to_topic.empty() ? topic : to_topic,
           sensor_notification("E" + std::to_string(i % 50), "Sensor", iso_time(i), i % 100),
           {{"Fiware-Service", service}, {"Fiware-ServicePath", "/s"}}, "E" + std::to_string(i % 50));
  }
  p.flush();
}

void historic_stream::publish(int from, int to, const std::string& to_topic) const {
  kafka_producer p(brokers());
  publish(p, from, to, to_topic);
}

std::thread historic_stream::publish_paced(int total) const {
  return std::thread([this, total] {
    kafka_producer p(brokers());
    for (int from = 0; from < total; from += 200) {
      publish(p, from, std::min(from + 200, total));
      std::this_thread::sleep_for(100ms);
    }
  });
}

long long historic_stream::rows() { return pg.count(table); }

long long historic_stream::distinct_rows() {
  return std::stoll(pg.scalar("SELECT count(*) FROM (SELECT DISTINCT entityid, timeinstant FROM " + table + ") d"));
}

bool historic_stream::wait_rows(long long n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (rows() >= n) return true;
    } catch (const std::exception&) {
      // the database may be restarting
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

}  // namespace kafnus::test
