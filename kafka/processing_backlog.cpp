#include "kafka/processing_backlog.hpp"

#include <algorithm>

namespace kafnus::kafka {

processing_backlog::processing_backlog(std::size_t processors, std::int64_t limit_each) : limit_each_(limit_each) {
  resize(processors);
}

void processing_backlog::resize(std::size_t processors) {
  waiting_.clear();
  for (std::size_t i = 0; i < processors; ++i) waiting_.push_back(std::make_shared<std::atomic<std::int64_t>>(0));
}

std::shared_ptr<void> processing_backlog::ticket(std::size_t i, std::int64_t bytes) {
  bytes = std::max<std::int64_t>(bytes, 1);  // a batch of empty records waits too (idle())
  auto counter = waiting_.at(i);
  counter->fetch_add(bytes, std::memory_order_relaxed);
  // Released: whatever the processor did with the batch (sending its rows
  // on) happens before an idle() that reads the count this leaves.
  return {nullptr, [counter, bytes](void*) { counter->fetch_sub(bytes, std::memory_order_release); }};
}

bool processing_backlog::all_busy(const std::vector<std::int64_t>& taken) const {
  if (waiting_.empty()) return false;
  for (std::size_t i = 0; i < waiting_.size(); ++i) {
    const std::int64_t extra = i < taken.size() ? taken[i] : 0;
    if (waiting(i) + extra < limit_each_) return false;
  }
  return true;
}

}  // namespace kafnus::kafka
