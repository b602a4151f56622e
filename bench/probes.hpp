#pragma once
// What the benchmark reads about processes from /proc (CPU, RSS, who is
// who) and how it prints figures; shared by the main run and the sweep.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "test/support/daemon_process.hpp"
#include "test/support/pg_client.hpp"

namespace kafnus::bench {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0);
std::string fmt(double v, int precision = 0);
std::string read_all(const std::string& path);

// The fields of /proc/<pid>/stat after the command name: [0] is field 3
// (state), [1] the parent's pid, [11] utime, [12] stime, [13] cutime,
// [14] cstime (clock ticks).
std::vector<std::string> stat_fields(pid_t pid);

struct process_sample {
  long rss_kib = 0;
  double cpu_seconds = 0;
};
process_sample sample(pid_t pid);

// CPU seconds PostgreSQL has used so far: the postmaster's own and that of
// its children, the finished ones (reaped into its cutime/cstime) and the
// live ones (backends, checkpointer, walwriter, autovacuum, …).
double postgres_cpu_seconds(pid_t postmaster);

// The postmaster serving `pg`: the parent of its backend.
pid_t postmaster_of(test::pg_client& pg);

// The daemon's pid, found by its unique config path (a wrapper may stand between).
pid_t pid_of_daemon(test::daemon_process& d);

// A started daemon catching up on a backlog of `n` records: timed from its
// first committed batch (joining the group is start-up, reported apart) to
// the moment its stored positions sum to `n`; its CPU and PostgreSQL's over
// that time, its peak RSS, and rows per transaction from its own metrics.
struct catch_up_figures {
  double startup_seconds = 0;  // ready to the first committed batch
  double catchup_seconds = 0;  // first committed batch to the last
  double daemon_cpu_seconds = 0;
  double postgres_cpu_seconds = 0;
  double rows_per_transaction = 0;
  long peak_rss_kib = 0;
};
catch_up_figures measure_catch_up(test::daemon_process& d, test::pg_client& pg, std::uint64_t n);

// The daemon's own kafnus_db_batch_rows: rows per transaction so far.
double rows_per_transaction(test::daemon_process& d);

}  // namespace kafnus::bench
