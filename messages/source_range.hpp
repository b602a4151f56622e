#pragma once
// Which Kafka records a batch came from, and the stored position it moves:
// the writer commits `next_position` for (topic, partition) only if the
// stored position is still `expected_position`, in the same transaction as
// the rows, so two owners of a partition can never both commit it.

#include <cstdint>
#include <string>

namespace kafnus::msg {

inline constexpr std::int64_t kNoPosition = -1;

struct source_range {
  std::string topic;
  std::int32_t partition = 0;
  std::uint64_t epoch = 0;                       // consumer's assignment epoch; stale acks are ignored
  std::int64_t expected_position = kNoPosition;  // stored position before this range (-1: none stored yet)
  std::int64_t next_position = 0;                // last offset + 1
  std::int64_t messages = 0;                     // records in the range (credits)
  std::int64_t bytes = 0;                        // value bytes in the range (credits)
  std::int64_t oldest_timestamp_ms = 0;          // earliest record timestamp, for end-to-end latency
};

}  // namespace kafnus::msg
