#pragma once
// Wiring: logging, the actor system, the supervisor, signals. Returns the
// process exit code: 0 after a graceful stop, non-zero when the supervisor
// gave up (too many restarts) so systemd restarts the daemon.

#include "config/settings.hpp"

namespace kafnus {

int run_daemon(const config::settings& settings);

}  // namespace kafnus
