// The long soak (KAFNUS_LONG_TESTS=1; KAFNUS_SOAK_MINUTES, default 30):
// a steady stream at 2,000 notifications a second into all three flows, and
// a random fault every 30–90 s — kill -9, SIGTERM and restart, PostgreSQL
// restart, Kafka restart, a new topic appearing (the historic flow follows a
// pattern). At the end every notification is exactly one row per flow, the
// daemon's resident memory stayed bounded, and every error in its log has a
// cause the test injected. Its figures go to the README's Guarantees table.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "test/faults/stream.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

kt::command_result services(const std::string& action) {
  return kt::run_command({std::string(KAFNUS_SOURCE_DIR) + "/scripts/services.sh", action});
}

// Resident memory of a process in KiB (0 when it is gone).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// The events of the log's error lines ("... error event=db.lost ...").
std::map<std::string, int> error_events(const std::string& log) {
  std::map<std::string, int> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find(" error event=");
    if (at == std::string::npos) continue;
    const auto begin = at + 13;
    out[line.substr(begin, line.find(' ', begin) - begin)]++;
  }
  return out;
}

}  // namespace

TEST(Soak, ASteadyStreamThroughRandomFaultsEndsExactlyOnceWithBoundedMemory) {
  const char* long_tests = std::getenv("KAFNUS_LONG_TESTS");
  if (!long_tests || std::string(long_tests) != "1") GTEST_SKIP() << "KAFNUS_LONG_TESTS=1 runs the soak";
  const char* minutes_env = std::getenv("KAFNUS_SOAK_MINUTES");
  const int minutes = minutes_env ? std::atoi(minutes_env) : 30;
  constexpr int kRate = 2000;
  const int total = kRate * 60 * minutes;

  kt::stream s(6);
  auto cfg = s.config();
  cfg.historic_topics = {s.historic_pattern()};
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();

  std::atomic<bool> done{false};
  std::atomic<bool> abandon{false};
  std::thread publisher([&] {
    for (int from = 0; from < total && !abandon; from += kRate) {
      s.publish(from, std::min(from + kRate, total), kRate);
    }
    done = true;
  });
  std::atomic<long> peak_rss{0};
  std::thread sampler([&] {
    while (!done) {
      if (const auto pid = d.pid(); pid > 0) peak_rss = std::max(peak_rss.load(), rss_kib(pid));
      std::this_thread::sleep_for(500ms);
    }
  });

  struct joiner {  // a failed assertion must not leave the threads running
    std::atomic<bool>& abandon;
    std::thread& a;
    std::thread& b;
    ~joiner() {
      abandon = true;
      if (a.joinable()) a.join();
      if (b.joinable()) b.join();
    }
  } join_threads{abandon, publisher, sampler};
  std::mt19937 rng(20261201);
  const char* names[] = {"kill -9", "SIGTERM + restart", "PostgreSQL restart", "Kafka restart", "new topic"};
  std::map<std::string, int> injected;
  while (!done) {
    const auto wait = std::chrono::seconds(std::uniform_int_distribution<int>(30, 90)(rng));
    const auto until = steady::now() + wait;
    while (!done && steady::now() < until) std::this_thread::sleep_for(500ms);
    if (done) break;
    const int fault = std::uniform_int_distribution<int>(0, 4)(rng);
    injected[names[fault]]++;
    std::cout << "fault: " << names[fault] << "\n" << std::flush;
    switch (fault) {
      case 0:
        d.signal(SIGKILL);
        ASSERT_EQ(d.wait_exit(10s), 128 + SIGKILL);
        d.start();
        break;
      case 1:
        d.signal(SIGTERM);
        ASSERT_EQ(d.wait_exit(40s), 0) << d.log();
        d.start();
        break;
      case 2: ASSERT_EQ(services("restart-postgres").code, 0); break;
      case 3:
        ASSERT_EQ(services("stop-kafka").code, 0);
        std::this_thread::sleep_for(5s);
        ASSERT_EQ(services("start-kafka").code, 0);
        break;
      case 4: s.add_historic_topic(3); break;
    }
  }
  publisher.join();
  sampler.join();
  const auto published = steady::now();
  ASSERT_TRUE(s.wait_complete(total, 600s)) << s.describe();
  const double catch_up = std::chrono::duration<double>(steady::now() - published).count();
  s.expect_exactly_once(total);

  // Errors only with a cause the test injected.
  std::set<std::string> caused;
  if (injected["PostgreSQL restart"]) caused.insert({"db.lost", "db.unreachable"});
  if (injected["Kafka restart"]) caused.insert("kafka.disconnected");
  for (const auto& [event, n] : error_events(d.log())) {
    EXPECT_TRUE(caused.count(event)) << n << " error lines '" << event << "' without an injected cause";
  }
  // Bounded by the in-flight limits (32 MiB of records, the prefetch queues,
  // the daemon itself), whatever the backlog after an outage.
  EXPECT_LT(peak_rss.load(), 256 * 1024) << "peak RSS " << peak_rss.load() << " KiB";
  std::cout << "soak: " << minutes << " min, " << total << " notifications x 3 flows, faults:";
  for (const auto& [name, n] : injected) std::cout << " " << name << "=" << n;
  std::cout << ", peak RSS " << peak_rss.load() / 1024 << " MiB, catch-up after the last record " << catch_up << " s\n";
  EXPECT_TRUE(d.running()) << d.log();
}
