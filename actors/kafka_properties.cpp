#include "actors/kafka_properties.hpp"

#include <memory>

#include <librdkafka/rdkafkacpp.h>

namespace kafnus {

std::map<std::string, std::string> consumer_properties(const config::kafka_settings& kafka) {
  std::map<std::string, std::string> p = {
      // Defaults an operator may override in kafka.properties.
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"statistics.interval.ms", "5000"},
      {"session.timeout.ms", "45000"},
      {"max.poll.interval.ms", "300000"},
      // Bounded prefetch: the daemon's memory must not grow with a backlog.
      {"queued.max.messages.kbytes", "8192"},
      {"fetch.max.bytes", "8388608"},
      {"enable.partition.eof", "false"},
      // librdkafka 2.0 backs a partition's fetch off by this much whenever its
      // bounded prefetch queue is full — which back-pressure makes routine:
      // the 500 ms default left the pipeline idle half of the time.
      {"fetch.error.backoff.ms", "20"},
  };
  for (const auto& [k, v] : kafka.properties) p[k] = v;
  // Kafnus's own (the configuration rejects these in kafka.properties).
  p["bootstrap.servers"] = kafka.brokers;
  p["group.id"] = kafka.group_id;
  p["client.id"] = kafka.client_id;
  p["auto.offset.reset"] = kafka.auto_offset_reset;
  p["enable.auto.commit"] = "false";        // positions live in PostgreSQL, with the rows
  p["enable.auto.offset.store"] = "false";
  return p;
}

std::vector<std::string> check_consumer_properties(const config::kafka_settings& kafka) {
  std::vector<std::string> problems;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : consumer_properties(kafka)) {
    std::string err;
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) problems.push_back("kafka.properties." + k + ": " + err);
  }
  return problems;
}

}  // namespace kafnus
