#pragma once
// What the consumer reads from librdkafka's statistics JSON
// (statistics.interval.ms): whether any broker is up, and the lag of each
// partition.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kafnus::kafka {

struct partition_lag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t lag = 0;
};

struct consumer_stats {
  std::optional<bool> broker_up;    // nullopt: the document lists no brokers
  std::vector<partition_lag> lags;  // partitions with a known lag (consumer_lag >= 0)
};

// nullopt when the text is not a statistics document.
std::optional<consumer_stats> parse_consumer_stats(std::string_view json);

// librdkafka 2.0 looks at a full prefetch queue again only once a second
// (fixed in 2.1): after back-pressure stopped taking records, a partition
// with records waiting could stay idle for that second. When a poll found
// nothing although the broker has more than a few records beyond the next
// offset, the consumer seeks to that offset, which restarts the fetcher at
// once. A few offsets short is no backlog (transaction markers end a
// partition that way) and must not cause a seek every 100 ms forever.
inline constexpr std::int64_t kFetchRestartMinBacklog = 16;
inline bool idle_fetcher_needs_restart(std::int64_t next_fetch, std::int64_t high_watermark) {
  return next_fetch > 0 && high_watermark - next_fetch > kFetchRestartMinBacklog;
}

}  // namespace kafnus::kafka
