#include "actors/supervisor.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <vector>

#include <caf/all.hpp>

#include "actors/consumer.hpp"
#include "actors/log.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/processor.hpp"
#include "actors/writer.hpp"
#include "messages/atoms.hpp"
#include "messages/types.hpp"

namespace kafnus {
namespace {

using clock = std::chrono::steady_clock;

enum child : int { metrics_child, writer_child, historic_child, lastdata_child, mutable_child, consumer_child, kChildren };

const char* child_name(int c) {
  static const char* names[] = {"metrics", "writer", "processor-historic", "processor-lastdata", "processor-mutable",
                                "consumer"};
  return names[c];
}


class supervisor_actor : public caf::event_based_actor {
 public:
  supervisor_actor(caf::actor_config& cfg, std::shared_ptr<const config::settings> s, std::shared_ptr<metrics> m)
      : caf::event_based_actor(cfg), settings_(std::move(s)), m_(std::move(m)) {}

  caf::behavior make_behavior() override {
    set_down_handler([this](caf::down_msg& dm) { on_down(dm); });
    for (int c = 0; c < kChildren; ++c) {
      if (enabled(c)) start(c);
    }
    log::info("daemon.started", "pipeline started");
    return {
        [this](msg::restart_atom, int c) {
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
          if (!stopped_children()) {
            log::warn("daemon.stop_timeout",
                      "graceful stop took longer than shutdown.timeout_s; stopping now (uncommitted work is "
                      "consumed again at the next start)",
                      {{"timeout_s", std::to_string(settings_->shutdown.timeout_s)}});
            timed_out_ = true;
            stop_children(caf::exit_reason::kill);
          }
        },
    };
  }

 private:
  bool enabled(int c) const {
    const auto& f = settings_->flows;
    switch (c) {
      case historic_child: return !f.historic.topics.empty();
      case lastdata_child: return !f.lastdata.topics.empty();
      case mutable_child: return !f.mutable_.topics.empty();
      default: return true;
    }
  }

  void start(int c) {
    caf::actor a;
    switch (c) {
      case metrics_child: a = spawn_metrics_actor(this, m_, settings_); break;
      case writer_child: a = spawn_writer(this, writer_wiring{settings_, m_}); break;
      case historic_child:
      case lastdata_child:
      case mutable_child:
        a = spawn_processor(this, processor_wiring{settings_, m_, static_cast<ngsi::flow>(c - historic_child),
                                                   children_[writer_child]});
        break;
      case consumer_child: a = spawn_consumer(this, consumer_wiring{settings_, m_, processors()}); break;
      default: return;
    }
    monitor(a);
    children_[c] = a;
    started_at_[c] = clock::now();
  }

  std::array<caf::actor, 3> processors() const {
    return {children_[historic_child], children_[lastdata_child], children_[mutable_child]};
  }

  // Points the others at a restarted actor; in-flight work it held is gone,
  // so the consumer seeks back to the stored positions.
  void rewire(int c) {
    const auto& consumer = children_[consumer_child];
    if (c == writer_child) {
      for (int p = historic_child; p <= mutable_child; ++p) {
        if (children_[p]) send(children_[p], msg::writer_atom::value, children_[writer_child]);
      }
      if (consumer) send(consumer, msg::rewind_atom::value);
    } else if (c >= historic_child && c <= mutable_child) {
      if (consumer) {
        send(consumer, msg::processor_atom::value, c - historic_child, children_[c]);
        send(consumer, msg::rewind_atom::value);
      }
    }
  }

  void on_down(const caf::down_msg& dm) {
    int c = 0;
    while (c < kChildren && children_[c].address() != dm.source) ++c;
    if (c == kChildren) return;
    children_[c] = caf::actor{};
    if (stopping_) {
      if (stopped_children()) finish_stop();
      return;
    }
    const std::string reason = to_string(dm.reason);
    // An actor that fails right at the first start cannot work with this
    // configuration (admin.listen taken, …): no point retrying.
    if (!ever_restarted_[c] && clock::now() - started_at_[c] < std::chrono::seconds(2)) {
      log::error("daemon.start_failed", std::string("actor ") + child_name(c) + " failed to start; exiting",
                 {{"actor", child_name(c)}, {"reason", reason}});
      gave_up_ = true;
      stopping_ = true;
      stop_children(caf::exit_reason::user_shutdown);
      return;
    }
    ever_restarted_[c] = true;
    auto& history = failures_[c];
    const auto now = clock::now();
    history.push_back(now);
    while (!history.empty() && now - history.front() > std::chrono::seconds(settings_->supervisor.window_s)) {
      history.pop_front();
    }
    const int count = static_cast<int>(history.size());
    if (count > settings_->supervisor.max_restarts) {
      log::error("daemon.giving_up",
                 std::string("actor ") + child_name(c) + " failed " + std::to_string(count) + " times within " +
                     std::to_string(settings_->supervisor.window_s) +
                     " s; exiting so the service manager restarts Kafnus",
                 {{"actor", child_name(c)}, {"reason", reason}});
      gave_up_ = true;
      stopping_ = true;
      stop_children(caf::exit_reason::user_shutdown);
      return;
    }
    const auto& sv = settings_->supervisor;
    auto backoff = std::chrono::milliseconds(sv.backoff_initial_ms);
    for (int i = 1; i < count && backoff.count() < sv.backoff_max_ms; ++i) backoff *= 2;
    backoff = std::min(backoff, std::chrono::milliseconds(sv.backoff_max_ms));
    m_->actor_restarts(child_name(c)).Increment();
    log::warn("actor.restarting", std::string("actor ") + child_name(c) + " failed; restarting it",
              {{"actor", child_name(c)}, {"reason", reason}, {"restart_in_ms", std::to_string(backoff.count())},
               {"failures_in_window", std::to_string(count)}});
    delayed_send(this, backoff, msg::restart_atom::value, c);
  }

  void begin_stop() {
    if (stopping_) return;
    stopping_ = true;
    m_->health().draining = true;
    log::info("daemon.stopping", "graceful stop requested",
              {{"timeout_s", std::to_string(settings_->shutdown.timeout_s)}});
    delayed_send(this, std::chrono::seconds(settings_->shutdown.timeout_s), msg::deadline_atom::value);
    if (children_[consumer_child]) {
      send(children_[consumer_child], msg::drain_atom::value);
    } else {
      stop_children(caf::exit_reason::user_shutdown);
    }
  }

  // The consumer goes first (it must not hand out work to stopped actors),
  // the metrics actor last (health stays served while stopping).
  void stop_children(caf::exit_reason reason) {
    for (int c : {consumer_child, historic_child, lastdata_child, mutable_child, writer_child, metrics_child}) {
      if (children_[c]) send_exit(children_[c], reason);
    }
    if (stopped_children()) finish_stop();
  }

  bool stopped_children() const {
    return std::none_of(children_.begin(), children_.end(), [](const caf::actor& a) { return static_cast<bool>(a); });
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
  std::array<caf::actor, kChildren> children_;
  std::array<std::deque<clock::time_point>, kChildren> failures_;
  std::array<clock::time_point, kChildren> started_at_{};
  std::array<bool, kChildren> ever_restarted_{};
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
