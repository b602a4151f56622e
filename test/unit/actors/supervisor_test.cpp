// The supervisor on CAF's deterministic test coordinator, with stand-ins for
// its children: wiring at start, restart with backoff and rewiring, giving up
// after too many failures, giving up when a child fails right at its first
// start, the graceful stop through the consumer's drain, and the deadline.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/supervisor.hpp"
#include "telemetry/log.hpp"

namespace msg = kafnus::msg;
using namespace std::chrono_literals;

namespace {

// What the stand-ins saw, and the handles the factory handed out.
struct seen {
  std::vector<msg::writer_actor> writers;
  std::vector<msg::processor_actor> processors;
  std::vector<msg::consumer_actor> consumers;
  std::vector<msg::metrics_actor> metrics;
  int writer_wired = 0;
  int processor_wired = 0;
  std::vector<std::size_t> consumer_wired;  // pool size of each wiring
  int rewinds = 0;
  int drains = 0;
  bool answer_drain = true;
};

msg::writer_actor::behavior_type writer_standin(msg::writer_actor::pointer, const std::shared_ptr<seen>& s) {
  return {
      [](msg::row_batch&) {},
      [](msg::polled_rows&) {},
      [s](msg::wire_atom, msg::ack_receiver&) { ++s->writer_wired; },
      [](msg::flush_atom, std::uint64_t) {},
      [](msg::retry_atom) {},
      [](msg::commit_atom) {},
      [](msg::tick_atom) {},
  };
}

msg::processor_actor::behavior_type processor_standin(msg::processor_actor::pointer, const std::shared_ptr<seen>& s) {
  return {
      [](msg::raw_batch&) {},
      [s](msg::wire_atom, msg::writer_actor&) { ++s->processor_wired; },
  };
}

msg::consumer_actor::behavior_type consumer_standin(msg::consumer_actor::pointer self, const std::shared_ptr<seen>& s) {
  return {
      [](msg::write_ack&) {},
      [s](msg::wire_atom, std::vector<msg::processor_actor>& pool, msg::writer_actor&) {
        s->consumer_wired.push_back(pool.size());
      },
      [s](msg::rewind_atom) { ++s->rewinds; },
      [self, s](msg::drain_atom) -> caf::typed_response_promise<msg::drained_atom> {
        ++s->drains;
        auto rp = self->make_response_promise<msg::drained_atom>();
        if (s->answer_drain) rp.deliver(msg::drained_atom::value);
        return rp;
      },
      [](msg::poll_atom, std::uint64_t) {},
      [](msg::tick_atom) {},
  };
}

// (An argument, as every actor function of the daemon has: CAF 0.17 binds an
// empty argument tuple through a null pointer, which UBSan reports.)
msg::metrics_actor::behavior_type metrics_standin(msg::metrics_actor::pointer, const std::shared_ptr<seen>&) {
  return {[](msg::status_atom) { return std::string("127.0.0.1:0"); }, [](msg::tick_atom) {}};
}

kafnus::children_factory standins(const std::shared_ptr<seen>& s) {
  kafnus::children_factory f;
  f.metrics = [s](caf::local_actor* parent) {
    s->metrics.push_back(parent->spawn(metrics_standin, s));
    return s->metrics.back();
  };
  f.writer = [s](caf::local_actor* parent) {
    s->writers.push_back(parent->spawn(writer_standin, s));
    return s->writers.back();
  };
  f.processor = [s](caf::local_actor* parent, int) {
    s->processors.push_back(parent->spawn(processor_standin, s));
    return s->processors.back();
  };
  f.consumer = [s](caf::local_actor* parent) {
    s->consumers.push_back(parent->spawn(consumer_standin, s));
    return s->consumers.back();
  };
  return f;
}

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() : sys(testing(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    kafnus::log::init("error", "text");
    settings->processing.workers = 2;
    settings->supervisor.max_restarts = 2;
    settings->supervisor.window_s = 60;
    settings->supervisor.backoff_initial_ms = 500;
    settings->supervisor.backoff_max_ms = 30000;
    settings->shutdown.timeout_s = 30;
  }

  ~SupervisorTest() override {
    // Stop whatever still runs, so the actor system can go.
    auto kill = [](const auto& handles) {
      for (const auto& h : handles) caf::anon_send_exit(caf::actor_cast<caf::actor>(h), caf::exit_reason::kill);
    };
    if (sup) caf::anon_send_exit(caf::actor_cast<caf::actor>(sup), caf::exit_reason::kill);
    kill(s->writers);
    kill(s->processors);
    kill(s->consumers);
    kill(s->metrics);
    sched.run();
    sys.await_actors_before_shutdown(false);
  }

  void start(std::chrono::milliseconds start_grace = 0ms) {
    sup = kafnus::spawn_supervisor(sys, settings, m, standins(s), start_grace);
    caf::actor_cast<caf::abstract_actor*>(sup)->attach_functor([this](const caf::error& reason) {
      exited = true;
      exit_reason = reason;
    });
    sched.run();
  }

  void fail(const caf::strong_actor_ptr& child) {
    caf::anon_send_exit(caf::actor_cast<caf::actor>(child), caf::exit_reason::kill);
    sched.run();
  }
  template <class Handle>
  void fail(const Handle& child) {
    fail(caf::actor_cast<caf::strong_actor_ptr>(child));
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<kafnus::config::settings> settings = std::make_shared<kafnus::config::settings>();
  std::shared_ptr<kafnus::metrics> m = std::make_shared<kafnus::metrics>();
  std::shared_ptr<seen> s = std::make_shared<seen>();
  msg::supervisor_actor sup;
  bool exited = false;
  caf::error exit_reason;
};

}  // namespace

TEST_F(SupervisorTest, StartsEveryChildAndWiresThemConsumerLast) {
  start();
  EXPECT_EQ(s->metrics.size(), 1u);
  EXPECT_EQ(s->writers.size(), 1u);
  EXPECT_EQ(s->processors.size(), 2u);
  EXPECT_EQ(s->consumers.size(), 1u);
  EXPECT_EQ(s->processor_wired, 2);
  EXPECT_EQ(s->writer_wired, 1);
  ASSERT_EQ(s->consumer_wired.size(), 1u);
  EXPECT_EQ(s->consumer_wired[0], 2u) << "the consumer gets the whole pool";
  EXPECT_FALSE(exited);
}

TEST_F(SupervisorTest, AFailedProcessorIsRestartedAfterItsBackoffAndTheConsumerRewinds) {
  start();
  fail(s->processors[0]);
  EXPECT_EQ(s->processors.size(), 2u) << "not before its backoff";
  EXPECT_TRUE(sched.has_pending_timeout());
  sched.trigger_timeout();
  sched.run();
  ASSERT_EQ(s->processors.size(), 3u);
  EXPECT_EQ(s->processor_wired, 2 + 2) << "every processor is told the writer again";
  ASSERT_EQ(s->consumer_wired.size(), 2u) << "the consumer gets the new pool";
  EXPECT_EQ(s->rewinds, 1) << "work the processor held is gone: back to the stored positions";
  EXPECT_EQ(m->actor_restarts("processor").Value(), 1);
  EXPECT_FALSE(exited);
}

TEST_F(SupervisorTest, ARestartedWriterIsWiredToTheConsumerAndProcessorsAreToldAboutIt) {
  start();
  fail(s->writers[0]);
  sched.trigger_timeout();
  sched.run();
  ASSERT_EQ(s->writers.size(), 2u);
  EXPECT_EQ(s->writer_wired, 2);
  EXPECT_EQ(s->processor_wired, 4);
  EXPECT_EQ(s->rewinds, 1);
}

TEST_F(SupervisorTest, ARestartedConsumerGetsThePoolWithoutARewind) {
  start();
  fail(s->consumers[0]);
  sched.trigger_timeout();
  sched.run();
  ASSERT_EQ(s->consumers.size(), 2u);
  EXPECT_EQ(s->consumer_wired.size(), 2u);
  EXPECT_EQ(s->writer_wired, 2) << "the writer acknowledges to the new consumer";
  EXPECT_EQ(s->rewinds, 0);
}

TEST_F(SupervisorTest, GivesUpWhenAChildFailsMoreThanMaxRestartsWithinTheWindow) {
  start();
  for (int i = 0; i < 2; ++i) {
    fail(s->writers.back());
    ASSERT_FALSE(exited) << "failure " << i + 1 << " of max_restarts 2 is restarted";
    sched.trigger_timeout();
    sched.run();
  }
  EXPECT_EQ(s->writers.size(), 3u);
  fail(s->writers.back());
  sched.run();
  EXPECT_TRUE(exited);
  EXPECT_EQ(exit_reason, caf::sec::runtime_error) << "exit code 1, so systemd restarts the daemon";
}

TEST_F(SupervisorTest, TheBackoffGrowsWithFailuresInTheWindow) {
  settings->supervisor.max_restarts = 5;
  start();
  fail(s->writers.back());
  EXPECT_EQ(sched.advance_time(499ms), 0u) << "first restart after backoff_initial_ms (500)";
  EXPECT_EQ(sched.advance_time(1ms), 1u);
  sched.run();
  fail(s->writers.back());
  EXPECT_EQ(sched.advance_time(999ms), 0u) << "the second failure in the window waits twice as long";
  EXPECT_EQ(sched.advance_time(1ms), 1u);
  sched.run();
  EXPECT_EQ(s->writers.size(), 3u);
}

TEST_F(SupervisorTest, AChildFailingRightAtItsFirstStartStopsTheDaemonAtOnce) {
  start(1h);
  fail(s->metrics[0]);  // e.g. admin.listen taken
  EXPECT_TRUE(exited);
  EXPECT_EQ(exit_reason, caf::sec::runtime_error);
  EXPECT_EQ(s->metrics.size(), 1u) << "no restart: the configuration cannot work";
}

TEST_F(SupervisorTest, AGracefulStopDrainsTheConsumerThenStopsEveryChild) {
  start();
  caf::anon_send(sup, msg::stop_atom::value);
  sched.run();
  EXPECT_EQ(s->drains, 1);
  EXPECT_TRUE(exited);
  EXPECT_FALSE(exit_reason) << "exit code 0";
  EXPECT_TRUE(m->health().draining.load());
}

TEST_F(SupervisorTest, AStopThatOutlastsTheDeadlineKillsTheChildrenAndSaysSo) {
  s->answer_drain = false;  // the consumer never finishes its drain
  start();
  caf::anon_send(sup, msg::stop_atom::value);
  sched.run();
  EXPECT_FALSE(exited);
  sched.trigger_timeouts();  // shutdown.timeout_s
  sched.run();
  EXPECT_TRUE(exited);
  EXPECT_EQ(exit_reason, caf::sec::request_timeout) << "exit code 3: work in flight was not committed";
}
