#pragma once
// A Kafka producer and topic administration for tests, on librdkafka.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace RdKafka {
class Producer;
}

namespace kafnus::test {

using headers = std::vector<std::pair<std::string, std::string>>;

class kafka_producer {
 public:
  // linger_ms: how long a record waits for others to share its request
  // (librdkafka's linger.ms, whose default is 5).
  explicit kafka_producer(const std::string& brokers, int linger_ms = 5);
  ~kafka_producer();
  kafka_producer(const kafka_producer&) = delete;
  kafka_producer& operator=(const kafka_producer&) = delete;

  // Queues a record (partition -1: the default partitioner by key, or round
  // robin when the key is empty). Throws when librdkafka refuses it.
  // `tag` (non-zero) is handed to the on_delivery callback once the broker
  // acknowledged the record.
  void send(const std::string& topic, const std::string& value, const headers& h = {}, const std::string& key = "",
            int partition = -1, std::uint64_t tag = 0);
  // Called, from poll() or flush(), with the tag of each record the broker
  // acknowledged.
  void on_delivery(std::function<void(std::uint64_t tag)> f);
  // Serves the acknowledgements that arrived (without waiting).
  void poll();
  // Waits until every queued record is acknowledged; throws on delivery errors.
  void flush();
  // Learns the leaders of `topic`'s partitions (and so connects to them)
  // before the first send: a fresh producer otherwise holds its first
  // records while it asks, which a latency measure would count. Throws when
  // they are not known within `timeout_ms`.
  void prepare(const std::string& topic, int timeout_ms = 10000);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Creates topics with `partitions` partitions (already existing: fine).
void create_topics(const std::string& brokers, const std::vector<std::string>& topics, int partitions);

// Deletes topics (missing: fine).
void delete_topics(const std::string& brokers, const std::vector<std::string>& topics);

// Deletes the records of a partition below `offset` (what retention does);
// kHighWatermark: all of them.
inline constexpr long long kHighWatermark = -1;
void delete_records_before(const std::string& brokers, const std::string& topic, int partition, long long offset);

// Commits `offset` for `group` on a partition, as another consumer of the
// group (Kafka Connect's sink, say) leaves it; throws when Kafka refuses.
void commit_group_offset(const std::string& brokers, const std::string& group, const std::string& topic, int partition,
                         long long offset);

// A member of a consumer group, as the group coordinator describes it.
struct group_member {
  std::string member_id;
  std::string instance_id;  // group.instance.id, "" for a dynamic member
  std::string client_id;
  std::string host;
};

// The members of a consumer group (empty when it has none or does not exist).
std::vector<group_member> group_members(const std::string& brokers, const std::string& group);

// A record read back by read_records.
struct consumed_record {
  std::string topic;
  int partition = 0;
  long long offset = 0;
  std::string value;
  headers hdrs;
};

// Reads up to `max` records from the beginning of `topic` with a throwaway
// group, waiting at most `timeout_ms` in total.
std::vector<consumed_record> read_records(const std::string& brokers, const std::string& topic, std::size_t max,
                                          int timeout_ms);

}  // namespace kafnus::test
