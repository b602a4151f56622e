#include "actors/supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/consumer.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/processor.hpp"
#include "actors/retry_policy.hpp"
#include "actors/writer.hpp"
#include "telemetry/log.hpp"
#include "telemetry/service_manager.hpp"

namespace kafnus {
namespace {

using clock = std::chrono::steady_clock;

// After the deadline's kill, how long stopped actors get to go down.
constexpr auto kForceAfter = std::chrono::seconds(2);

enum class role { metrics, writer, processor, consumer };

// One supervised actor and its restart history.
struct child {
  role kind;
  int index;  // processors: position in the pool
  std::string name;
  retry_policy backoff;
  caf::strong_actor_ptr handle;  // null while not running
  clock::time_point started{};
  bool ever_restarted = false;
  std::deque<clock::time_point> failures;  // within supervisor.window_s
};

class supervisor_impl : public msg::supervisor_actor::base {
 public:
  supervisor_impl(caf::actor_config& cfg, std::shared_ptr<const config::settings> s, std::shared_ptr<metrics> m,
                  children_factory f, std::chrono::milliseconds start_grace)
      : msg::supervisor_actor::base(cfg),
        settings_(std::move(s)),
        m_(std::move(m)),
        factory_(std::move(f)),
        start_grace_(start_grace) {
    add(role::metrics, 0, "metrics");
    add(role::writer, 0, "writer");
    const int n = processor_count(*settings_);
    processors_.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) add(role::processor, i, "processor-" + std::to_string(i));
    add(role::consumer, 0, "consumer");
  }

  void on_exit() override {
    metrics_ = nullptr;
    writer_ = nullptr;
    processors_.clear();
    consumer_ = nullptr;
  }

  behavior_type make_behavior() override {
    set_down_handler([this](caf::down_msg& dm) { on_down(dm); });
    for (std::size_t c = 0; c < children_.size(); ++c) start(c);
    wire();
    log::info("daemon.started", "pipeline started", {{"processors", std::to_string(processors_.size())}});
    return {
        [this](msg::restart_atom, std::size_t c) {
          if (stopping_) return;
          start(c);
          wire();
          // The work it held is gone: the consumer seeks back to the stored positions.
          const auto kind = children_[c].kind;
          if ((kind == role::writer || kind == role::processor) && consumer_) send(consumer_, msg::rewind_atom::value);
        },
        [this](msg::stop_atom) { begin_stop(); },
        [this](msg::deadline_atom) {
          if (stopped_children()) return;
          log::warn("daemon.stop_timeout",
                    "graceful stop took longer than shutdown.timeout_s; stopping now (uncommitted work is "
                    "consumed again at the next start)",
                    {{"timeout_s", std::to_string(settings_->shutdown.timeout_s)}, {"waiting_for", running_names()}});
          timed_out_ = true;
          stop_children(caf::exit_reason::kill);
          delayed_send(this, kForceAfter, msg::force_atom::value);
        },
        [this](msg::force_atom) {
          if (stopped_children()) return;
          // An actor blocked in a database or broker call cannot take the
          // kill until the call returns: the process exits without it.
          log::error("daemon.stop_forced", "actors did not stop; exiting without them", {{"actors", running_names()}});
          finish_stop();
        },
    };
  }

 private:
  void add(role kind, int index, std::string name) {
    const auto& sv = settings_->supervisor;
    children_.push_back(child{
        kind,
        index,
        std::move(name),
        retry_policy(std::chrono::milliseconds(sv.backoff_initial_ms), std::chrono::milliseconds(sv.backoff_max_ms)),
        nullptr,
        {},
        false,
        {}});
  }

  void start(std::size_t i) {
    auto& c = children_[i];
    switch (c.kind) {
      case role::metrics:
        metrics_ = factory_.metrics(this);
        c.handle = caf::actor_cast<caf::strong_actor_ptr>(metrics_);
        break;
      case role::writer:
        writer_ = factory_.writer(this);
        c.handle = caf::actor_cast<caf::strong_actor_ptr>(writer_);
        break;
      case role::processor: {
        auto& p = processors_.at(static_cast<std::size_t>(c.index));
        p = factory_.processor(this, c.index);
        c.handle = caf::actor_cast<caf::strong_actor_ptr>(p);
        break;
      }
      case role::consumer:
        consumer_ = factory_.consumer(this);
        c.handle = caf::actor_cast<caf::strong_actor_ptr>(consumer_);
        break;
    }
    monitor(c.handle);
    c.started = clock::now();
  }

  // Every actor learns where it sends: processors the writer, the writer the
  // consumer, and last the consumer the pool and the writer (it starts
  // fetching then, so the others are wired before its first record).
  void wire() {
    for (const auto& p : processors_) {
      if (p && writer_) send(p, msg::wire_atom::value, writer_);
    }
    if (writer_ && consumer_) send(writer_, msg::wire_atom::value, msg::ack_receiver{consumer_});
    if (consumer_) send(consumer_, msg::wire_atom::value, processors_, writer_);
  }

  void on_down(const caf::down_msg& dm) {
    std::size_t i = 0;
    while (i < children_.size() && children_[i].handle != caf::actor_cast<caf::strong_actor_ptr>(dm.source)) ++i;
    if (i == children_.size()) return;
    auto& c = children_[i];
    c.handle = nullptr;
    forget(c);
    if (stopping_) {
      if (stopped_children()) finish_stop();
      return;
    }
    const std::string reason = to_string(dm.reason);
    const auto now = clock::now();
    if (!c.ever_restarted && now - c.started < start_grace_) {
      log::error("daemon.start_failed", "actor " + c.name + " failed to start; exiting",
                 {{"actor", c.name}, {"reason", reason}});
      give_up();
      return;
    }
    c.ever_restarted = true;
    const auto window = std::chrono::seconds(settings_->supervisor.window_s);
    while (!c.failures.empty() && now - c.failures.front() > window) c.failures.pop_front();
    if (c.failures.empty()) c.backoff.reset();  // a first failure in the window waits the least
    c.failures.push_back(now);
    const int count = static_cast<int>(c.failures.size());
    if (count > settings_->supervisor.max_restarts) {
      log::error("daemon.giving_up",
                 "actor " + c.name + " failed " + std::to_string(count) + " times within " +
                     std::to_string(settings_->supervisor.window_s) +
                     " s; exiting so the service manager restarts Kafnus",
                 {{"actor", c.name}, {"reason", reason}});
      give_up();
      return;
    }
    const auto wait = c.backoff.next();
    m_->actor_restarts(c.kind == role::processor ? "processor" : c.name).Increment();
    log::warn("actor.restarting", "actor " + c.name + " failed; restarting it",
              {{"actor", c.name},
               {"reason", reason},
               {"restart_in_ms", std::to_string(wait.count())},
               {"failures_in_window", std::to_string(count)}});
    delayed_send(this, wait, msg::restart_atom::value, i);
  }

  // Drops the typed handle of a child that went down.
  void forget(const child& c) {
    switch (c.kind) {
      case role::metrics: metrics_ = nullptr; break;
      case role::writer: writer_ = nullptr; break;
      case role::processor: processors_.at(static_cast<std::size_t>(c.index)) = nullptr; break;
      case role::consumer: consumer_ = nullptr; break;
    }
  }

  void give_up() {
    gave_up_ = true;
    stopping_ = true;
    delayed_send(this, std::chrono::seconds(settings_->shutdown.timeout_s), msg::deadline_atom::value);
    stop_children(caf::exit_reason::user_shutdown);
  }

  std::string running_names() const {
    std::string s;
    for (const auto& c : children_) {
      if (c.handle) s += (s.empty() ? "" : ",") + c.name;
    }
    return s;
  }

  void begin_stop() {
    if (stopping_) return;
    stopping_ = true;
    service_manager::notify("STOPPING=1");
    m_->health().draining = true;
    log::info("daemon.stopping", "graceful stop requested",
              {{"timeout_s", std::to_string(settings_->shutdown.timeout_s)}});
    delayed_send(this, std::chrono::seconds(settings_->shutdown.timeout_s), msg::deadline_atom::value);
    if (!consumer_) return stop_children(caf::exit_reason::user_shutdown);
    request(consumer_, caf::infinite, msg::drain_atom::value)
        .then(
            [this](msg::drained_atom) {
              log::info("daemon.drained", "in-flight work committed; stopping the actors");
              stop_children(caf::exit_reason::user_shutdown);
            },
            [this](caf::error& e) {
              log::warn("daemon.drain_failed", "the consumer could not drain; stopping the actors",
                        {{"reason", to_string(e)}});
              stop_children(caf::exit_reason::user_shutdown);
            });
  }

  // The consumer goes first (it must not hand out work to stopped actors),
  // the metrics actor last (health stays served while stopping).
  void stop_children(caf::exit_reason reason) {
    for (auto r : {role::consumer, role::processor, role::writer, role::metrics}) {
      for (const auto& c : children_) {
        if (c.kind == r && c.handle) send_exit(c.handle, reason);
      }
    }
    if (stopped_children()) finish_stop();
  }

  bool stopped_children() const {
    return std::none_of(children_.begin(), children_.end(), [](const child& c) { return static_cast<bool>(c.handle); });
  }

  void finish_stop() {
    if (gave_up_) {
      quit(caf::make_error(caf::sec::runtime_error));
    } else if (timed_out_) {
      quit(caf::make_error(caf::sec::request_timeout));
    } else {
      log::info("daemon.stopped", "stopped");
      quit();
    }
  }

  std::shared_ptr<const config::settings> settings_;
  std::shared_ptr<metrics> m_;
  children_factory factory_;
  std::chrono::milliseconds start_grace_;
  std::vector<child> children_;
  msg::metrics_actor metrics_;
  msg::writer_actor writer_;
  std::vector<msg::processor_actor> processors_;
  msg::consumer_actor consumer_;
  bool stopping_ = false;
  bool gave_up_ = false;
  bool timed_out_ = false;
};

}  // namespace

int processor_count(const config::settings& s) {
  if (s.processing.workers > 0) return s.processing.workers;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

children_factory real_children(const std::shared_ptr<const config::settings>& settings,
                               const std::shared_ptr<metrics>& m) {
  children_factory f;
  f.metrics = [settings, m](caf::local_actor* parent) { return spawn_metrics_actor(parent, m, settings); };
  f.writer = [settings, m](caf::local_actor* parent) { return spawn_writer(parent, writer_wiring{settings, m}); };
  f.processor = [settings, m](caf::local_actor* parent, int index) {
    return spawn_processor(parent, processor_wiring{settings, m, index});
  };
  f.consumer = [settings, m](caf::local_actor* parent) { return spawn_consumer(parent, consumer_wiring{settings, m}); };
  return f;
}

msg::supervisor_actor spawn_supervisor(caf::actor_system& sys, std::shared_ptr<const config::settings> settings,
                                       std::shared_ptr<metrics> m, children_factory children,
                                       std::chrono::milliseconds start_grace) {
  return sys.spawn<supervisor_impl>(std::move(settings), std::move(m), std::move(children), start_grace);
}

}  // namespace kafnus
