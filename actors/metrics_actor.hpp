#pragma once
// The metrics actor: owns the metrics object's lifetime and the admin HTTP
// server (admin_server.hpp), and applies metrics.max_services when it starts. The server starts when the actor is
// spawned and stops when it exits. If admin.listen cannot be bound, the actor fails right away with an error naming
// admin.listen and the OS error, which the supervisor reports.
//
// The other actors update the metrics directly (prometheus-cpp metrics are
// thread-safe), so no message is needed per update. The one message handled:
//   (status_atom) -> std::string   the admin address actually bound, host:port

#include <memory>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>

#include "config/settings.hpp"
#include "messages/interfaces.hpp"
#include "telemetry/metrics.hpp"

namespace kafnus {

msg::metrics_actor::behavior_type metrics_actor(msg::metrics_actor::pointer self, std::shared_ptr<metrics> m,
                                                const std::shared_ptr<const config::settings>& settings);

msg::metrics_actor spawn_metrics_actor(caf::local_actor* parent, std::shared_ptr<metrics> m,
                                       std::shared_ptr<const config::settings> settings);

}  // namespace kafnus
