// The metrics actor: serves while alive, stops serving when it exits, and
// fails with a clear reason when admin.listen cannot be bound.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "actors/metrics_actor.hpp"
#include "admin/admin_server.hpp"
#include "config/loader.hpp"
#include "messages/atoms.hpp"
#include "test/support/http_client.hpp"

using testing::HasSubstr;

namespace {

std::shared_ptr<const kafnus::config::settings> settings_on(int port) {
  auto s = kafnus::config::load_string(
      "kafka:\n  brokers: k:9092\npostgres:\n  database: tests\nadmin:\n  listen: \"127.0.0.1:" + std::to_string(port) +
          "\"\n",
      {});
  return std::make_shared<const kafnus::config::settings>(std::move(s));
}

class MetricsActor : public testing::Test {
 protected:
  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
  std::shared_ptr<kafnus::metrics> m_ = std::make_shared<kafnus::metrics>();
};

TEST_F(MetricsActor, ServesWhileAliveAndStopsOnExit) {
  const int port = kafnus::test::free_port();
  caf::scoped_actor self{sys_};
  auto actor = kafnus::spawn_metrics_actor(self.ptr(), m_, settings_on(port));
  self->request(actor, caf::infinite, kafnus::msg::status_atom::value)
      .receive([&](const std::string& address) { EXPECT_EQ(address, "127.0.0.1:" + std::to_string(port)); },
               [&](caf::error& e) { FAIL() << sys_.render(e); });
  EXPECT_EQ(kafnus::test::http_call(port, "GET", "/healthz").status, 200);

  self->monitor(actor);
  self->send_exit(actor, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  // The server stops while the actor cleans up, which may end just after
  // the down message: give it a few seconds to refuse connections.
  bool refused = false;
  for (int attempt = 0; attempt < 50 && !refused; ++attempt) {
    try {
      kafnus::test::http_call(port, "GET", "/healthz");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } catch (const std::runtime_error&) {
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
}

TEST_F(MetricsActor, FailsNamingAdminListenWhenTheAddressIsBusy) {
  kafnus::admin_server holder(m_, "127.0.0.1", 0, kafnus::admin_options{});
  caf::scoped_actor self{sys_};
  auto actor = kafnus::spawn_metrics_actor(self.ptr(), m_, settings_on(holder.port()));
  self->monitor(actor);
  self->receive([&](const caf::down_msg& dm) {
    ASSERT_TRUE(dm.reason);
    const auto reason = to_string(dm.reason);  // what the supervisor logs
    EXPECT_THAT(reason, HasSubstr("admin.listen 127.0.0.1:" + std::to_string(holder.port())));
    EXPECT_THAT(reason, HasSubstr("Address already in use"));
  });
}

}  // namespace
