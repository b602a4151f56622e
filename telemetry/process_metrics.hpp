#pragma once
// The standard process_* metrics of this process (Linux), read from
// /proc/self at scrape time: resident and virtual memory, CPU time, start
// time, open and maximum file descriptors. prometheus-cpp has no process
// collector, so the admin server appends these to the registry's families.
// Beside them, where the resident memory is: kafnus_resident_memory_bytes by
// kind (anonymous, file, shared), and kafnus_allocator_bytes, jemalloc's own
// account, when the daemon runs on jemalloc.

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace kafnus {

class process_collector : public prometheus::Collectable {
 public:
  // A value that cannot be read (no /proc) is left out, never reported as 0.
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace kafnus
