#pragma once
// consumer -> processor: consecutive Kafka records of one partition, and the
// flows they feed (a topic may feed several). A partition always goes to the same processor of the pool.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "messages/source_range.hpp"
#include "ngsi/flow.hpp"

namespace kafnus::msg {

struct raw_record {
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = 0;  // broker/producer timestamp, for latency
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct raw_batch {
  std::vector<ngsi::flow> flows{ngsi::flow::historic};  // the flows of the source topic (each record feeds all)
  source_range source;
  std::vector<raw_record> records;
  // Counts the batch's bytes as waiting for processing until the batch (and
  // every copy of it) is gone: processed, or dropped with a processor that
  // failed. The consumer takes no more records while too many wait.
  std::shared_ptr<void> queued;
};

}  // namespace kafnus::msg
