#include "actors/metrics_actor.hpp"

#include <caf/all.hpp>

#include "admin/admin_server.hpp"
#include "messages/atoms.hpp"
#include "telemetry/log.hpp"

namespace kafnus {

msg::metrics_actor::behavior_type metrics_actor(msg::metrics_actor::pointer self, std::shared_ptr<metrics> m,
                                                const std::shared_ptr<const config::settings>& settings) {
  // Per-service series only appear once records are consumed, by a consumer
  // the supervisor spawns after this actor.
  m->set_max_services(static_cast<std::size_t>(settings->metrics.max_services));
  admin_options options;
  options.token = settings->admin.token;
  options.effective_yaml = settings->effective_yaml;
  options.kafka_down_after = std::chrono::seconds(settings->admin.kafka_down_after_s);
  options.threads = settings->admin.threads;
  options.request_timeout_ms = settings->admin.request_timeout_ms;
  std::shared_ptr<admin_server> server;
  try {
    server =
        std::make_shared<admin_server>(std::move(m), settings->admin.host, settings->admin.port, std::move(options));
  } catch (const std::exception& e) {
    // Quitting before returning a behavior ends the actor with this reason.
    log::error("admin.failed", e.what());
    self->quit(caf::make_error(caf::sec::runtime_error, std::string(e.what())));
    return msg::metrics_actor::behavior_type::make_empty_behavior();
  }
  log::info("admin.listening", "admin server listening",
            {{"address", server->address()}, {"protected", settings->admin.token.empty() ? "no" : "yes"}});
  // Stop serving as soon as the actor is gone, whatever the reason.
  self->attach_functor([server](const caf::error&) { server->stop(); });
  return {
      [server](msg::status_atom) { return server->address(); },
  };
}

msg::metrics_actor spawn_metrics_actor(caf::local_actor* parent, std::shared_ptr<metrics> m,
                                       std::shared_ptr<const config::settings> settings) {
  return parent->spawn(metrics_actor, std::move(m), std::move(settings));
}

}  // namespace kafnus
