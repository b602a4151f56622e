#pragma once
// A stream of notifications for the fault tests: one service (its own
// schema), two entity types — "Sensor" into tables without a primary key
// (a duplicate would show as an extra row) and "Meter" into tables with one
// (a duplicate would show as an error-log row) — each notification sent to
// the historic, lastdata and mutable topics, as Orion does for three
// subscriptions.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test/support/daemon_process.hpp"
#include "test/support/pg_client.hpp"

namespace kafnus::test {

class stream {
 public:
  explicit stream(int partitions);
  ~stream();

  daemon_config config() const;
  // The historic flow by pattern: the stream's historic topic and every
  // topic add_historic_topic() creates later match it.
  std::string historic_pattern() const;
  // Creates a new historic topic matching historic_pattern(); publish()
  // sends historic notifications there from now on. Returns its name.
  std::string add_historic_topic(int partitions);
  // Publishes notifications [from, to); `per_second` > 0 paces them.
  void publish(int from, int to, int per_second = 0) const;

  long long historic_rows();
  bool wait_rows(long long historic, std::chrono::seconds timeout);
  // Waits until every table holds what `total` notifications give.
  bool wait_complete(int total, std::chrono::seconds timeout);
  // Asserts exactly one row per notification everywhere, no error-log row.
  void expect_exactly_once(int total);
  std::string describe();

  const std::string& service() const { return service_; }

 private:
  long long count(const std::string& table);
  std::string service_;
  std::string topic_[3];
  std::vector<std::string> extra_topics_;
  mutable std::mutex mutex_;    // guards historic_topic_
  std::string historic_topic_;  // where publish() sends the historic notifications
  pg_client pg_;
};

}  // namespace kafnus::test
