#include "actors/supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/consumer.hpp"
#include "telemetry/log.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/processor.hpp"
#include "actors/writer.hpp"
#include "messages/atoms.hpp"
#include "messages/types.hpp"

namespace kafnus {
namespace {

using clock = std::chrono::steady_clock;

// After the deadline's kill, how long stopped actors get to go down.
constexpr auto kForceAfter = std::chrono::seconds(2);

enum class role { metrics, writer, processor, consumer };

// One supervised actor and its restart history.
struct child {
  role kind;
  int index = 0;  // processors: position in the pool
  std::string name;
  caf::actor handle;
  clock::time_point started{};
  bool ever_restarted = false;
  std::deque<clock::time_point> failures;
};

int processor_count(const config::settings& s) {
  if (s.processing.workers > 0) return s.processing.workers;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

class supervisor_actor : public caf::event_based_actor {
 public:
  supervisor_actor(caf::actor_config& cfg, std::shared_ptr<const config::settings> s, std::shared_ptr<metrics> m)
      : caf::event_based_actor(cfg), settings_(std::move(s)), m_(std::move(m)) {
    children_.push_back({role::metrics, 0, "metrics", {}, {}, false, {}});
    children_.push_back({role::writer, 0, "writer", {}, {}, false, {}});
    const int n = processor_count(*settings_);
    for (int i = 0; i < n; ++i) {
      children_.push_back({role::processor, i, "processor-" + std::to_string(i), {}, {}, false, {}});
    }
    children_.push_back({role::consumer, 0, "consumer", {}, {}, false, {}});
  }

  caf::behavior make_behavior() override {
    set_down_handler([this](caf::down_msg& dm) { on_down(dm); });
    for (std::size_t c = 0; c < children_.size(); ++c) start(c);
    log::info("daemon.started", "pipeline started",
              {{"processors", std::to_string(children_.size() - 3)}});
    return {
        [this](msg::restart_atom, std::size_t c) {
          if (!stopping_) {
            start(c);
            rewire(c);
          }
        },
        [this](msg::stop_atom) { begin_stop(); },
        [this](msg::drained_atom) {
          log::info("daemon.drained", "in-flight work committed; stopping the actors");
          stop_children(caf::exit_reason::user_shutdown);
        },
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
          log::error("daemon.stop_forced", "actors did not stop; exiting without them",
                     {{"actors", running_names()}});
          finish_stop();
        },
    };
  }

 private:
  caf::actor& handle_of(role r) {
    for (auto& c : children_) {
      if (c.kind == r) return c.handle;
    }
    throw std::logic_error("no such child");
  }

  std::vector<caf::actor> processors() const {
    std::vector<caf::actor> out;
    for (const auto& c : children_) {
      if (c.kind == role::processor) out.push_back(c.handle);
    }
    return out;
  }

  void start(std::size_t i) {
    auto& c = children_[i];
    switch (c.kind) {
      case role::metrics: c.handle = spawn_metrics_actor(this, m_, settings_); break;
      case role::writer: c.handle = spawn_writer(this, writer_wiring{settings_, m_}); break;
      case role::processor:
        c.handle = spawn_processor(this, processor_wiring{settings_, m_, c.index, handle_of(role::writer)});
        break;
      case role::consumer: c.handle = spawn_consumer(this, consumer_wiring{settings_, m_, processors()}); break;
    }
    monitor(c.handle);
    c.started = clock::now();
  }

  // Points the others at a restarted actor; in-flight work it held is gone,
  // so the consumer seeks back to the stored positions.
  void rewire(std::size_t i) {
    const auto& c = children_[i];
    const auto& consumer = handle_of(role::consumer);
    if (c.kind == role::writer) {
      for (const auto& p : children_) {
        if (p.kind == role::processor && p.handle) send(p.handle, msg::writer_atom::value, c.handle);
      }
      if (consumer) send(consumer, msg::rewind_atom::value);
    } else if (c.kind == role::processor && consumer) {
      send(consumer, msg::processor_atom::value, c.index, c.handle);
      send(consumer, msg::rewind_atom::value);
    }
  }

  void on_down(const caf::down_msg& dm) {
    std::size_t i = 0;
    while (i < children_.size() && children_[i].handle.address() != dm.source) ++i;
    if (i == children_.size()) return;
    auto& c = children_[i];
    c.handle = caf::actor{};
    if (stopping_) {
      if (stopped_children()) finish_stop();
      return;
    }
    const std::string reason = to_string(dm.reason);
    const auto now = clock::now();
    // An actor that fails right at the first start cannot work with this
    // configuration (admin.listen taken, …): no point retrying.
    if (!c.ever_restarted && now - c.started < std::chrono::seconds(2)) {
      log::error("daemon.start_failed", "actor " + c.name + " failed to start; exiting",
                 {{"actor", c.name}, {"reason", reason}});
      give_up();
      return;
    }
    c.ever_restarted = true;
    c.failures.push_back(now);
    while (!c.failures.empty() && now - c.failures.front() > std::chrono::seconds(settings_->supervisor.window_s)) {
      c.failures.pop_front();
    }
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
    const auto& sv = settings_->supervisor;
    auto backoff = std::chrono::milliseconds(sv.backoff_initial_ms);
    for (int k = 1; k < count && backoff.count() < sv.backoff_max_ms; ++k) backoff *= 2;
    backoff = std::min(backoff, std::chrono::milliseconds(sv.backoff_max_ms));
    m_->actor_restarts(c.kind == role::processor ? "processor" : c.name).Increment();
    log::warn("actor.restarting", "actor " + c.name + " failed; restarting it",
              {{"actor", c.name}, {"reason", reason}, {"restart_in_ms", std::to_string(backoff.count())},
               {"failures_in_window", std::to_string(count)}});
    delayed_send(this, backoff, msg::restart_atom::value, i);
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
    m_->health().draining = true;
    log::info("daemon.stopping", "graceful stop requested",
              {{"timeout_s", std::to_string(settings_->shutdown.timeout_s)}});
    delayed_send(this, std::chrono::seconds(settings_->shutdown.timeout_s), msg::deadline_atom::value);
    if (const auto& consumer = handle_of(role::consumer)) {
      send(consumer, msg::drain_atom::value);
    } else {
      stop_children(caf::exit_reason::user_shutdown);
    }
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

  // The exit reason tells the daemon its exit code: runtime_error (gave
  // up: 1), request_timeout (the stop timed out, work left uncommitted: 3).
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
  std::vector<child> children_;
  bool stopping_ = false;
  bool gave_up_ = false;
  bool timed_out_ = false;
};

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, std::shared_ptr<const config::settings> settings,
                            std::shared_ptr<metrics> m) {
  return sys.spawn<supervisor_actor>(std::move(settings), std::move(m));
}

}  // namespace kafnus
