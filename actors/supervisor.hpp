#pragma once
// The supervisor: spawns the metrics actor, the writer, the processor pool
// (processing.workers) and the consumer; monitors them; restarts a failed one with
// exponential backoff (rewiring the others to it, and making the consumer
// seek back to the stored positions when in-flight work was lost); and gives
// up — quitting with an error that names the actor and its last failure —
// when one actor fails more than supervisor.max_restarts times within
// supervisor.window_s, so the service manager restarts the whole daemon.
//
// On stop_atom it stops gracefully: the consumer drains (stops fetching,
// waits for every in-flight batch to commit, leaves the group), then the
// others stop; past shutdown.timeout_s it stops them anyway.

#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "telemetry/metrics.hpp"
#include "config/settings.hpp"

namespace kafnus {

caf::actor spawn_supervisor(caf::actor_system& sys, std::shared_ptr<const config::settings> settings,
                            std::shared_ptr<metrics> m);

}  // namespace kafnus
