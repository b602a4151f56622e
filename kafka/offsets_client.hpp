#pragma once
// The broker's side of stored positions, for the command line (`kafnus
// positions`): the partitions of a topic, their record ranges, and the
// offset of the first record at or after a time. A consumer handle that
// never subscribes, so it never joins the daemon's group or takes its
// partitions. Every failure is a std::runtime_error naming what was asked
// and what the broker (or librdkafka) said.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace RdKafka {
class KafkaConsumer;
}

namespace kafnus::kafka {

class offsets_client {
 public:
  explicit offsets_client(const config::kafka_settings& kafka, int timeout_ms = 10000);
  ~offsets_client();
  offsets_client(const offsets_client&) = delete;
  offsets_client& operator=(const offsets_client&) = delete;

  // The topics of the cluster (internal ones left out), sorted.
  std::vector<std::string> topics();
  // The partitions of `topic`, sorted; throws when the topic does not exist.
  std::vector<std::int32_t> partitions(const std::string& topic);

  struct range {
    std::int64_t low = 0;   // the oldest record still held
    std::int64_t high = 0;  // the end: the offset the next record gets
  };
  range records(const std::string& topic, std::int32_t partition);

  // Offset of the first record whose timestamp is at or after `epoch_ms`;
  // the partition's end when every record is older.
  std::int64_t offset_at(const std::string& topic, std::int32_t partition, std::int64_t epoch_ms);

 private:
  struct events;
  std::string failure(const std::string& what, const std::string& err) const;
  std::unique_ptr<events> events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  int timeout_ms_;
};

}  // namespace kafnus::kafka
