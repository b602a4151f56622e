#pragma once
// `kafnus healthcheck`: asks the running daemon's /readyz on the address of
// admin.listen (a wildcard address is asked on the loopback one) and turns
// the answer into an exit code, for a container's HEALTHCHECK or any probe
// that runs a command. Needs nothing but the daemon's own binary.
//   0  ready: consuming, PostgreSQL reachable, Kafka not lost too long
//   1  not ready (the reasons are printed), or the daemon does not answer

#include <chrono>
#include <iosfwd>

#include "config/settings.hpp"

namespace kafnus {

int run_healthcheck(const config::admin_settings& admin, std::chrono::milliseconds timeout, std::ostream& out,
                    std::ostream& err);

}  // namespace kafnus
