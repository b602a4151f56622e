#pragma once
// One service's historic stream for integration tests: a schema named like
// the service, a historic table without a primary key (so a duplicate would
// show as an extra row), its topic, and notifications E<i % 50> one second
// apart.

#include <chrono>
#include <string>
#include <thread>

#include "test/support/daemon_process.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/pg_client.hpp"

namespace kafnus::test {

class historic_stream {
 public:
  // partitions <= 0: the topic is not created (a test creates it later).
  explicit historic_stream(int partitions = 3, const std::string& prefix = "it");
  ~historic_stream();
  historic_stream(const historic_stream&) = delete;
  historic_stream& operator=(const historic_stream&) = delete;

  daemon_config config() const;

  // Publishes notifications [from, to) to `topic` (default: the stream's).
  void publish(kafka_producer& p, int from, int to, const std::string& topic = "") const;
  void publish(int from, int to, const std::string& topic = "") const;
  // Publishes notifications [0, total) at 2,000 a second, in the background.
  std::thread publish_paced(int total) const;

  long long rows();
  long long distinct_rows();
  // Waits until the table holds `n` rows (or the timeout passes).
  bool wait_rows(long long n, std::chrono::milliseconds timeout);

  const std::string service;
  const std::string topic;
  const std::string table;
  pg_client pg;
};

}  // namespace kafnus::test
