#include "bench/probes.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kafnus::bench {
namespace {

// The value of an unlabelled sample in Prometheus text, 0 when absent.
double metric_value(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size() + 2));
}

double ticks_to_seconds(long ticks) { return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK)); }

}  // namespace

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string fmt(double v, int precision) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << v;
  return o.str();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> stat_fields(pid_t pid) {
  const std::string content = read_all("/proc/" + std::to_string(pid) + "/stat");
  std::vector<std::string> out;
  const auto close = content.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream rest(content.substr(close + 2));
  for (std::string field; rest >> field;) out.push_back(field);
  return out;
}

process_sample sample(pid_t pid) {
  process_sample s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stol(line.substr(6));
  }
  const auto f = stat_fields(pid);
  if (f.size() > 12) s.cpu_seconds = ticks_to_seconds(std::stol(f[11]) + std::stol(f[12]));
  return s;
}

double postgres_cpu_seconds(pid_t postmaster) {
  const auto pm = stat_fields(postmaster);
  if (pm.size() < 15) return 0;
  long ticks = std::stol(pm[11]) + std::stol(pm[12]) + std::stol(pm[13]) + std::stol(pm[14]);
  const auto parent = std::to_string(postmaster);
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto f = stat_fields(static_cast<pid_t>(std::stol(name)));
    if (f.size() > 12 && f[1] == parent) ticks += std::stol(f[11]) + std::stol(f[12]);
  }
  return ticks_to_seconds(ticks);
}

pid_t postmaster_of(test::pg_client& pg) {
  const auto f = stat_fields(static_cast<pid_t>(std::stol(pg.scalar("SELECT pg_backend_pid()"))));
  return f.size() > 1 ? static_cast<pid_t>(std::stol(f[1])) : -1;
}

pid_t pid_of_daemon(test::daemon_process& d) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (read_all((e.path() / "cmdline").string()).find(d.config_path()) != std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return -1;
}

double rows_per_transaction(test::daemon_process& d) {
  const auto metrics = d.http("GET", "/metrics").body;
  const double tx = metric_value(metrics, "kafnus_db_batch_rows_count");
  return tx > 0 ? metric_value(metrics, "kafnus_db_batch_rows_sum") / tx : 0;
}

catch_up_figures measure_catch_up(test::daemon_process& d, test::pg_client& pg, std::uint64_t n) {
  using namespace std::chrono_literals;
  catch_up_figures f;
  const pid_t pid = pid_of_daemon(d);
  const pid_t postmaster = postmaster_of(pg);
  const auto cpu0 = sample(pid).cpu_seconds;
  const auto pg_cpu0 = postgres_cpu_seconds(postmaster);
  const auto offsets = d.config().offsets_schema + ".offsets";
  const auto ready = clock_type::now();
  auto t0 = ready;
  auto nothing_done_at = ready;  // the last time no position had moved yet
  bool started = false;
  for (;;) {
    f.peak_rss_kib = std::max(f.peak_rss_kib, sample(pid).rss_kib);
    const auto asked = clock_type::now();
    std::uint64_t done = 0;
    try {
      done = std::stoull(pg.scalar("SELECT coalesce(sum(next_offset), 0) FROM " + offsets));
    } catch (const std::exception&) {
      done = 0;  // the daemon creates the table on start
    }
    // The catch-up started after the last look that found nothing done (a
    // short run may be over by the first look that finds anything).
    if (!started && done == 0) nothing_done_at = asked;
    if (!started && done > 0) {
      started = true;
      t0 = nothing_done_at;
      f.startup_seconds = std::chrono::duration<double>(t0 - ready).count();
    }
    if (done >= n) break;
    if (!d.running()) throw std::runtime_error("the daemon exited during catch-up:\n" + d.log());
    if (seconds_since(ready) > 3600) throw std::runtime_error("catch-up did not finish within an hour");
    std::this_thread::sleep_for(50ms);
  }
  f.catchup_seconds = seconds_since(t0);
  f.daemon_cpu_seconds = sample(pid).cpu_seconds - cpu0;
  f.postgres_cpu_seconds = postgres_cpu_seconds(postmaster) - pg_cpu0;
  f.rows_per_transaction = rows_per_transaction(d);
  return f;
}

}  // namespace kafnus::bench
