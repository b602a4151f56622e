#pragma once
// The supervisor: starts the metrics actor, the writer, the processor pool
// (processing.workers) and the consumer; wires them to each other (one
// wire_atom message each, sent again whenever one is restarted); monitors
// them; restarts a failed one with exponential backoff (retry_policy), making
// the consumer seek back to the stored positions when work in flight was
// lost with it; and gives up — quitting with an error that names the actor
// and its last failure — when one actor fails more than
// supervisor.max_restarts times within supervisor.window_s, so the service
// manager restarts the whole daemon. An actor that fails within 2 s of its
// first start cannot work with this configuration: it gives up at once.
//
// On stop_atom it stops gracefully: it asks the consumer to drain (stop
// fetching, wait for every in-flight batch to commit, close), then stops the
// others. Past shutdown.timeout_s it kills them, and 2 s later it quits
// without those that are still blocked.
//
// Exit reasons (the daemon's exit code): none (0), runtime_error when it
// gave up (1), request_timeout when the stop timed out (3).

#include <chrono>
#include <functional>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>

#include "config/settings.hpp"
#include "messages/interfaces.hpp"
#include "telemetry/metrics.hpp"

namespace kafnus {

// How the supervisor starts each kind of child. The daemon's are the real
// actors (real_children); a test can start stand-ins.
struct children_factory {
  std::function<msg::metrics_actor(caf::local_actor*)> metrics;
  std::function<msg::writer_actor(caf::local_actor*)> writer;
  std::function<msg::processor_actor(caf::local_actor*, int index)> processor;
  std::function<msg::consumer_actor(caf::local_actor*)> consumer;
};

children_factory real_children(const std::shared_ptr<const config::settings>& settings,
                               const std::shared_ptr<metrics>& m);

// processing.workers, 0 resolved to one per CPU core.
int processor_count(const config::settings& s);

// `start_grace`: a child failing this soon after its first start makes the
// supervisor give up at once (the configuration cannot work).
msg::supervisor_actor spawn_supervisor(caf::actor_system& sys, std::shared_ptr<const config::settings> settings,
                                       std::shared_ptr<metrics> m, children_factory children,
                                       std::chrono::milliseconds start_grace = std::chrono::seconds(2));

}  // namespace kafnus
