#include "telemetry/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// jemalloc's control interface, when the daemon is linked with it (app/
// allocator.cpp); null in builds and tests that keep the system allocator.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp, std::size_t newlen)
    __attribute__((weak));

namespace kafnus {
namespace {

struct proc_stat {
  double cpu_seconds = 0;    // utime + stime
  double start_seconds = 0;  // since boot
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

// /proc/self/stat: the command name (field 2) may hold spaces and
// parentheses, so the fields are counted from the last ')'.
std::optional<proc_stat> read_proc_stat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string skip;
  unsigned long long utime = 0, stime = 0, starttime = 0, vsize = 0;
  long long rss_pages = 0;
  // Fields 3..13 precede utime (14); see proc(5).
  for (int i = 3; i <= 13; ++i) fields >> skip;
  fields >> utime >> stime;
  for (int i = 16; i <= 21; ++i) fields >> skip;
  fields >> starttime >> vsize >> rss_pages;
  if (!fields) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  proc_stat s;
  s.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  s.start_seconds = static_cast<double>(starttime) / ticks;
  s.virtual_bytes = static_cast<double>(vsize);
  s.resident_bytes = static_cast<double>(rss_pages) * page;
  return s;
}

// The boot time, seconds since the epoch ("btime" of /proc/stat).
std::optional<double> boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      if (in >> t) return t;
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::optional<double> open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return std::nullopt;
  double n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++n;
  }
  return n;  // includes the descriptor of the listing itself, as other clients do
}

std::optional<double> max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<double>(limit.rlim_cur);
}

// Resident memory by kind (RssAnon, RssFile, RssShmem of /proc/self/status),
// in bytes.
std::vector<std::pair<std::string, double>> resident_kinds() {
  std::ifstream in("/proc/self/status");
  std::vector<std::pair<std::string, double>> out;
  std::string key;
  while (in >> key) {
    const char* kind = key == "RssAnon:"    ? "anonymous"
                       : key == "RssFile:"  ? "file"
                       : key == "RssShmem:" ? "shared"
                                            : nullptr;
    double kib = 0;
    if (kind != nullptr && in >> kib) out.emplace_back(kind, kib * 1024);
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return out;
}

// jemalloc's statistics ("stats.*" of mallctl), refreshed first; empty
// without jemalloc.
std::vector<std::pair<std::string, double>> allocator_kinds() {
  std::vector<std::pair<std::string, double>> out;
  if (mallctl == nullptr) return out;
  std::uint64_t epoch = 1;
  std::size_t len = sizeof epoch;
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return out;
  for (const char* kind : {"allocated", "active", "metadata", "resident", "mapped", "retained"}) {
    std::size_t v = 0;
    len = sizeof v;
    if (mallctl(("stats." + std::string(kind)).c_str(), &v, &len, nullptr, 0) == 0) {
      out.emplace_back(kind, static_cast<double>(v));
    }
  }
  return out;
}

prometheus::MetricFamily gauges(const char* name, const char* help,
                                const std::vector<std::pair<std::string, double>>& kinds) {
  prometheus::MetricFamily f{name, help, prometheus::MetricType::Gauge, {}};
  for (const auto& [kind, value] : kinds) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"kind", kind});
    metric.gauge.value = value;
    f.metric.push_back(std::move(metric));
  }
  return f;
}

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {metric}};
}

}  // namespace

std::vector<prometheus::MetricFamily> process_collector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  if (auto s = read_proc_stat()) {
    out.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                         MetricType::Counter, s->cpu_seconds));
    out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                         s->resident_bytes));
    out.push_back(
        family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, s->virtual_bytes));
    if (auto boot = boot_time()) {
      out.push_back(family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge, *boot + s->start_seconds));
    }
  }
  if (auto kinds = resident_kinds(); !kinds.empty()) {
    out.push_back(gauges("kafnus_resident_memory_bytes",
                         "Resident memory by kind: anonymous (the heap, stacks), file (the mapped code of the "
                         "program and its libraries, shared with other processes using them), shared.",
                         kinds));
  }
  if (auto kinds = allocator_kinds(); !kinds.empty()) {
    out.push_back(gauges("kafnus_allocator_bytes",
                         "jemalloc's statistics: allocated (what the program holds), active (the pages of "
                         "what it holds), metadata, resident (pages jemalloc holds, freed ones not yet "
                         "returned among them), mapped, retained (address space kept, not resident).",
                         kinds));
  }
  if (auto n = open_fds()) {
    out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *n));
  }
  if (auto n = max_fds()) {
    out.push_back(family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, *n));
  }
  return out;
}

}  // namespace kafnus
