#pragma once
// What the processors have been handed and not processed yet, per processor.
// The consumer takes records from librdkafka only while some processor is
// short of work: records taken while every processor is busy would only wait
// in the processors' mailboxes, beside librdkafka's bounded prefetch queue,
// which holds them anyway. (Without it, a backlog the processors could not
// keep up with filled the whole in-flight limit with raw records, ~1 KB
// each, and left the writer's next transaction short of room.)
//
// A batch's bytes count from the moment its ticket is made until the ticket
// and every copy of it are gone: processed, or dropped with a processor that
// failed, so a restart cannot leave bytes counted forever.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace kafnus::kafka {

class processing_backlog {
 public:
  // Each of `processors` counts as busy from `limit_each` bytes on.
  processing_backlog(std::size_t processors, std::int64_t limit_each);

  // The pool changed size (the supervisor wired another one): counts start
  // again; tickets of the old pool release into counters no one reads.
  void resize(std::size_t processors);
  std::size_t size() const { return waiting_.size(); }

  // Counts `bytes` for processor `i` until the returned ticket (and its
  // copies) are destroyed.
  std::shared_ptr<void> ticket(std::size_t i, std::int64_t bytes);

  // Bytes waiting for processor i.
  std::int64_t waiting(std::size_t i) const { return waiting_[i]->load(std::memory_order_relaxed); }

  // Nothing waits for processor i: every batch handed to it is gone, and
  // what it sent on the way (its rows to the writer) was sent before.
  bool idle(std::size_t i) const { return waiting_.at(i)->load(std::memory_order_acquire) == 0; }

  // Every processor has at least its limit waiting, counting `taken` (bytes
  // taken for each but not handed over yet; empty: none).
  bool all_busy(const std::vector<std::int64_t>& taken = {}) const;

 private:
  std::vector<std::shared_ptr<std::atomic<std::int64_t>>> waiting_;
  std::int64_t limit_each_;
};

}  // namespace kafnus::kafka
