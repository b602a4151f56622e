#include "actors/processor.hpp"

#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actors/batch_transform.hpp"
#include "actors/failure_log.hpp"
#include "messages/atoms.hpp"
#include "messages/types.hpp"

namespace kafnus {
namespace {

class processor_impl : public msg::processor_actor::base {
 public:
  processor_impl(caf::actor_config& cfg, processor_wiring w)
      : msg::processor_actor::base(cfg), w_(std::move(w)), transform_(*w_.settings, w_.m) {}

  void on_exit() override { writer_ = nullptr; }  // handles between actors form a cycle: let go

  behavior_type make_behavior() override {
    set_exception_handler(log_failure("processor.failed", "processor-" + std::to_string(w_.index)));
    return {
        [this](msg::raw_batch& batch) { send(writer_, transform_(batch)); },
        [this](msg::wire_atom, msg::writer_actor writer) { writer_ = std::move(writer); },
    };
  }

 private:
  processor_wiring w_;
  msg::writer_actor writer_;
  batch_transform transform_;
};

}  // namespace

msg::processor_actor spawn_processor(caf::local_actor* parent, processor_wiring wiring) {
  return parent->spawn<processor_impl>(std::move(wiring));
}

}  // namespace kafnus
