#pragma once
// Counts per key over the last hour, in one-minute buckets: what
// `kafnus status` shows as error-log rows of the last hour per service.
// Thread-safe (the writer adds, admin threads read). At most `max_keys`
// keys; later ones are counted under "_other", like the metrics' labels.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace kafnus {

class recent_counts {
 public:
  static constexpr int kMinutes = 60;
  using clock = std::chrono::system_clock;

  explicit recent_counts(std::size_t max_keys = 1000) : max_keys_(max_keys) {}

  void add(const std::string& key, std::int64_t n, clock::time_point now = clock::now());
  // Every key with a count in the last kMinutes minutes (up to `now`).
  std::map<std::string, std::int64_t> last_hour(clock::time_point now = clock::now()) const;

 private:
  struct bucket {
    std::int64_t minute = -1;  // minutes since the epoch this bucket counts
    std::int64_t count = 0;
  };
  using buckets = std::array<bucket, kMinutes>;

  mutable std::mutex mutex_;
  std::size_t max_keys_;
  std::map<std::string, buckets> keys_;
};

}  // namespace kafnus
