#include "app/daemon.hpp"

#include <malloc.h>
#include <pthread.h>
#include <csignal>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "actors/supervisor.hpp"
#include "app/version.hpp"
#include "kafka/kafka_properties.hpp"
#include "messages/atoms.hpp"
#include "postgis/connection.hpp"
#include "telemetry/log.hpp"
#include "telemetry/metrics.hpp"
#include "text/ascii.hpp"

namespace kafnus {
namespace {

void log_start(const config::settings& s) {
  log::info("daemon.starting", "Kafnus starting",
            {{"version", kVersion},
             {"revision", kGitRevision},
             {"brokers", s.kafka.brokers},
             {"group", s.kafka.group_id},
             {"instance_id", s.kafka.instance_id.empty() ? "(dynamic membership)" : s.kafka.instance_id},
             {"historic_topics", text::join(s.flows.historic.topics)},
             {"lastdata_topics", text::join(s.flows.lastdata.topics)},
             {"mutable_topics", text::join(s.flows.mutable_.topics)},
             {"database", postgis::describe(s.postgres)},
             {"datamodel", std::string(config::name_of(s.datamodel.default_datamodel))},
             {"unknown_columns", std::string(config::name_of(s.writer.unknown_columns))},
             {"admin", s.admin.listen}});
  for (const auto& w : s.warnings) log::warn("config.warning", w);
}

// How long, after the actors stopped, the actor system may take to let its
// threads go; an actor blocked in a call that never returned keeps one.
constexpr auto kTeardownLimit = std::chrono::seconds(3);

int exit_code_of(const caf::error& reason) {
  if (!reason) return 0;
  return reason == caf::sec::request_timeout ? 3 : 1;
}

}  // namespace

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR2);  // internal: releases the signal thread at exit
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int run_daemon(const config::settings& loaded) {
  config::settings s = loaded;
  s.kafka.instance_id = kafka::resolve_instance_id(loaded);
#ifndef KAFNUS_WITH_JEMALLOC
  // Built with glibc's malloc (-DKAFNUS_JEMALLOC=OFF): it gives every thread
  // that allocates its own arena (up to 8 per core); memory freed in one is
  // not reused by another, and under a backlog the resident size grew half
  // again. One arena per core is plenty here. (jemalloc: app/allocator.cpp.)
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
#endif
  log::init(s.log.level, s.log.format);
  if (auto problems = kafka::check_consumer_properties(s.kafka); !problems.empty()) {
    std::cerr << "kafnus: invalid configuration:\n";
    for (const auto& p : problems) std::cerr << "  - " << p << "\n";
    return 2;
  }
  log_start(s);

  // Signals are taken by one thread with sigwait; every other thread,
  // including CAF's and librdkafka's, inherits them blocked.
  const sigset_t signals = block_stop_signals();

  int code = 0;
  {
    auto cfg_ptr = std::make_unique<caf::actor_system_config>();
    auto& cfg = *cfg_ptr;
    // Work sharing wakes an idle worker through a condition variable the
    // moment a processor has a batch; work stealing's idle workers poll with
    // sleeps of up to 10 ms, which left the processors idle while batches
    // waited in their mailboxes.
    cfg.set("scheduler.policy", caf::atom("sharing"));
    auto sys_ptr = std::make_unique<caf::actor_system>(cfg);
    auto& sys = *sys_ptr;
    auto m = std::make_shared<metrics>(static_cast<std::size_t>(s.metrics.max_services));
    auto shared = std::make_shared<const config::settings>(s);
    auto supervisor = spawn_supervisor(sys, shared, m, real_children(shared, m));

    std::thread signal_thread([&signals, supervisor] {
      bool stopping = false;
      for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0 || sig == SIGUSR2) return;
        if (!stopping) {
          stopping = true;
          log::info("daemon.signal", sig == SIGTERM ? "SIGTERM received" : "SIGINT received");
          caf::anon_send(supervisor, msg::stop_atom::value);
        } else {
          log::warn("daemon.signal", "second signal: exiting immediately");
          std::_Exit(1);
        }
      }
    });

    {
      caf::scoped_actor self{sys};
      self->monitor(supervisor);
      self->receive([&](caf::down_msg& dm) { code = exit_code_of(dm.reason); });
    }
    pthread_kill(signal_thread.native_handle(), SIGUSR2);
    signal_thread.join();
    supervisor = nullptr;
    // Tearing the actor system down waits for every detached actor's
    // thread. One blocked in a call that never returns (a statement the
    // database does not answer) would hold the process forever: past the
    // limit, a watchdog exits without it (exactly-once makes that safe).
    std::mutex mutex;
    std::condition_variable cv;
    bool torn_down = false;
    std::thread watchdog([&] {
      std::unique_lock<std::mutex> lock(mutex);
      if (cv.wait_for(lock, kTeardownLimit, [&] { return torn_down; })) return;
      const int forced = code == 0 ? 3 : code;
      log::error("daemon.exit", "actors did not stop; exiting without them", {{"code", std::to_string(forced)}});
      std::_Exit(forced);
    });
    sys_ptr.reset();
    cfg_ptr.reset();
    {
      std::lock_guard<std::mutex> lock(mutex);
      torn_down = true;
    }
    cv.notify_one();
    watchdog.join();
  }
  const char* how = code == 0 ? "exited cleanly"
                    : code == 3
                        ? "stop timed out; work in flight was not committed (it is consumed again at the next start)"
                        : "exited after a failure";
  log::info("daemon.exit", how, {{"code", std::to_string(code)}});
  return code;
}

}  // namespace kafnus
