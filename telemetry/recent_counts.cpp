#include "telemetry/recent_counts.hpp"

namespace kafnus {
namespace {

std::int64_t minute_of(recent_counts::clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

}  // namespace

void recent_counts::add(const std::string& key, std::int64_t n, clock::time_point now) {
  if (n <= 0) return;
  const auto minute = minute_of(now);
  const std::lock_guard<std::mutex> lock(mutex_);
  auto it = keys_.find(key);
  if (it == keys_.end()) it = keys_.emplace(keys_.size() < max_keys_ ? key : std::string("_other"), buckets{}).first;
  auto& b = it->second[static_cast<std::size_t>(minute % kMinutes)];
  if (b.minute != minute) b = bucket{minute, 0};
  b.count += n;
}

std::map<std::string, std::int64_t> recent_counts::last_hour(clock::time_point now) const {
  const auto minute = minute_of(now);
  std::map<std::string, std::int64_t> out;
  const std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, slots] : keys_) {
    std::int64_t total = 0;
    for (const auto& b : slots) {
      if (b.minute > minute - kMinutes && b.minute <= minute) total += b.count;
    }
    if (total > 0) out.emplace(key, total);
  }
  return out;
}

}  // namespace kafnus
