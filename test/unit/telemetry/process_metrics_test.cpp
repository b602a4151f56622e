// The process_* metrics read from /proc/self.

#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <string>

#include "telemetry/process_metrics.hpp"

namespace {

std::map<std::string, prometheus::MetricFamily> by_name() {
  std::map<std::string, prometheus::MetricFamily> out;
  for (auto& f : kafnus::process_collector().Collect()) out[f.name] = f;
  return out;
}

}  // namespace

TEST(ProcessMetrics, ReportsMemoryCpuStartTimeAndDescriptors) {
  auto families = by_name();
  for (const char* name : {"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_cpu_seconds_total",
                           "process_start_time_seconds", "process_open_fds"}) {
    ASSERT_EQ(families.count(name), 1u) << name;
    ASSERT_EQ(families[name].metric.size(), 1u) << name;
    EXPECT_FALSE(families[name].help.empty()) << name;
  }
  EXPECT_EQ(families["process_cpu_seconds_total"].type, prometheus::MetricType::Counter);
  EXPECT_EQ(families["process_resident_memory_bytes"].type, prometheus::MetricType::Gauge);

  EXPECT_GT(families["process_resident_memory_bytes"].metric[0].gauge.value, 1024.0 * 1024);
  EXPECT_GE(families["process_virtual_memory_bytes"].metric[0].gauge.value,
            families["process_resident_memory_bytes"].metric[0].gauge.value);
  EXPECT_GE(families["process_cpu_seconds_total"].metric[0].counter.value, 0.0);
  EXPECT_GE(families["process_open_fds"].metric[0].gauge.value, 3.0);  // stdin, stdout, stderr at least

  // Started in the last day, not in the future (the test process is young).
  const double start = families["process_start_time_seconds"].metric[0].gauge.value;
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 86400);
}

TEST(ProcessMetrics, CpuTimeGrowsWithWork) {
  auto cpu = [] { return by_name()["process_cpu_seconds_total"].metric[0].counter.value; };
  const double before = cpu();
  volatile double sink = 0;
  const auto until = std::clock() + CLOCKS_PER_SEC / 5;  // ~0.2 s of CPU
  while (std::clock() < until) sink = sink + 1;
  EXPECT_GT(cpu(), before);
}

// Where the resident memory is: the kinds of /proc/self/status, which add up
// to about the resident total. The allocator's account is there only when
// jemalloc is linked (the daemon, not this test: checked on the daemon by
// integration.Metrics).
TEST(ProcessMetrics, ResidentMemoryByKind) {
  auto families = by_name();
  ASSERT_EQ(families.count("kafnus_resident_memory_bytes"), 1u);
  std::map<std::string, double> kinds;
  for (const auto& m : families["kafnus_resident_memory_bytes"].metric) {
    ASSERT_EQ(m.label.size(), 1u);
    kinds[m.label[0].value] = m.gauge.value;
  }
  ASSERT_EQ(kinds.size(), 3u);
  EXPECT_GT(kinds["anonymous"], 0);
  EXPECT_GT(kinds["file"], 0) << "the program's own code is mapped from its file";
  const double total = families["process_resident_memory_bytes"].metric[0].gauge.value;
  EXPECT_NEAR(kinds["anonymous"] + kinds["file"] + kinds["shared"], total, total / 4);
  EXPECT_EQ(families.count("kafnus_allocator_bytes"), 0u) << "this test runs on the system allocator";
}
