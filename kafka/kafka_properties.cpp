#include "kafka/kafka_properties.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdio>

#include <memory>

#include <librdkafka/rdkafkacpp.h>

namespace kafnus::kafka {

std::map<std::string, std::string> consumer_properties(const config::kafka_settings& kafka) {
  std::map<std::string, std::string> p = {
      // Defaults an operator may override in kafka.properties.
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"statistics.interval.ms", "5000"},
      {"session.timeout.ms", "45000"},
      {"max.poll.interval.ms", "300000"},
      // Bounded prefetch: the daemon's memory must not grow with a backlog.
      // librdkafka fetches while its queue holds less than the first, and a
      // fetch brings up to the second on top of it. The queue must cover a
      // fetch's round trip on a busy machine (at 2 MiB the consumer ran dry
      // and a catch-up lost a fifth of its throughput); the fetch need not:
      // 2 MiB fetches instead of 8 took the peak RSS ~7 MiB lower at the
      // same throughput (bench/README.md).
      {"queued.max.messages.kbytes", "8192"},
      {"fetch.max.bytes", "2097152"},
      {"enable.partition.eof", "false"},
      // librdkafka 2.0 backs a partition's fetch off by this much whenever its
      // bounded prefetch queue is full — which back-pressure makes routine:
      // the 500 ms default left the pipeline idle half of the time.
      {"fetch.error.backoff.ms", "20"},
      // Orion creates a topic with its first notification, often long after
      // Kafnus started: librdkafka's 5-minute default left such topics
      // unconsumed for minutes. A metadata request every 5 s is cheap.
      {"topic.metadata.refresh.interval.ms", "5000"},
  };
  for (const auto& [k, v] : kafka.properties) p[k] = v;
  // Kafnus's own (the configuration rejects these in kafka.properties).
  p["bootstrap.servers"] = kafka.brokers;
  p["group.id"] = kafka.group_id;
  p["client.id"] = kafka.client_id;
  // Where a partition never consumed starts. A stored position outside the
  // partition's records is Kafnus's decision (kafka.position_out_of_range):
  // the consumer checks it at assignment and notices librdkafka's resets.
  p["auto.offset.reset"] = std::string(config::name_of(kafka.auto_offset_reset));
  if (!kafka.instance_id.empty() && kafka.instance_id != "auto") p["group.instance.id"] = kafka.instance_id;
  p["enable.auto.commit"] = "false";  // positions live in PostgreSQL, with the rows
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

}  // namespace kafnus::kafka

namespace kafnus::kafka {

std::string resolve_instance_id(const config::settings& s) {
  if (s.kafka.instance_id != "auto") return s.kafka.instance_id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
  // Kafka takes [a-zA-Z0-9._-] in group.instance.id.
  std::string id = "kafnus-";
  for (const char* c = host; *c; ++c) {
    const auto u = static_cast<unsigned char>(*c);
    id += (std::isalnum(u) || u == '.' || u == '_' || u == '-') ? *c : '_';
  }
  return id + "-" + std::to_string(s.admin.port);
}

}  // namespace kafnus::kafka
