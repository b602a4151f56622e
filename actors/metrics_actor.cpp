#include "actors/metrics_actor.hpp"

#include <caf/all.hpp>

#include "admin/admin_server.hpp"
#include "admin/health_report.hpp"
#include "messages/atoms.hpp"
#include "telemetry/log.hpp"
#include "telemetry/service_manager.hpp"

namespace kafnus {

msg::metrics_actor::behavior_type metrics_actor(msg::metrics_actor::pointer self, std::shared_ptr<metrics> m,
                                                const std::shared_ptr<const config::settings>& settings) {
  // Per-service series only appear once records are consumed, by a consumer
  // the supervisor spawns after this actor.
  m->set_max_services(static_cast<std::size_t>(settings->metrics.max_services));
  const auto m_for_ticks = m;
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
  // systemd (Type=notify): READY=1 the first time the daemon is ready, then
  // WATCHDOG=1 as long as this actor's timer runs (the scheduler is alive)
  // and the consumer's poll loop is. Ticks at least three times per
  // WatchdogSec.
  const auto grace = std::chrono::seconds(settings->admin.kafka_down_after_s);
  const auto watchdog = service_manager::watchdog_interval();
  const auto period = watchdog.count() > 0 ? std::min<std::chrono::microseconds>(watchdog / 3, std::chrono::seconds(1))
                                           : std::chrono::microseconds(std::chrono::seconds(1));
  auto ready_sent = std::make_shared<bool>(false);
  self->send(self, msg::tick_atom::value);
  return {
      [server](msg::status_atom) { return server->address(); },
      [self, m = m_for_ticks, grace, watchdog, period, ready_sent](msg::tick_atom) {
        const auto now = std::chrono::system_clock::now();
        auto& h = m->health();
        if (!*ready_sent && assess(h, now, grace).ready) {
          *ready_sent = service_manager::notify("READY=1\nSTATUS=consuming");
          if (*ready_sent) log::debug("daemon.ready", "told the service manager: ready");
        }
        const auto since_poll = std::chrono::milliseconds(
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() -
            h.last_poll_ms.load());
        if (watchdog.count() > 0 &&
            since_poll < std::max<std::chrono::microseconds>(watchdog, std::chrono::seconds(10))) {
          service_manager::notify("WATCHDOG=1");
        }
        self->delayed_send(self, period, msg::tick_atom::value);
      },
  };
}

msg::metrics_actor spawn_metrics_actor(caf::local_actor* parent, std::shared_ptr<metrics> m,
                                       std::shared_ptr<const config::settings> settings) {
  return parent->spawn(metrics_actor, std::move(m), std::move(settings));
}

}  // namespace kafnus
