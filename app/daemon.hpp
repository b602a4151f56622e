#pragma once
// Wiring: logging, the actor system, the supervisor, signals. Returns the
// process exit code:
//   0  stopped gracefully: in-flight work committed
//   1  the supervisor gave up (an actor failed too often), so systemd restarts it
//   3  the stop took longer than shutdown.timeout_s: work in flight was not
//      committed (it is consumed again at the next start; nothing is lost)

#include <csignal>

#include "config/settings.hpp"

namespace kafnus {

// Blocks SIGINT and SIGTERM in the calling thread (and every thread it
// starts later): the daemon takes them with sigwait. Called first thing in
// main, so a stop requested while the process starts is a graceful stop too.
sigset_t block_stop_signals();

int run_daemon(const config::settings& settings);

}  // namespace kafnus
