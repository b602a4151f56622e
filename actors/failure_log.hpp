#pragma once
// How an actor reports the exception that kills it: one log line naming the
// actor and the cause, then the failure CAF hands to the supervisor (which
// logs the restart). Without it CAF would print its own unstructured line.

#include <exception>
#include <string>

#include <caf/error.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

#include "telemetry/log.hpp"

namespace kafnus {

inline caf::scheduled_actor::exception_handler log_failure(std::string event, std::string actor) {
  return [event = std::move(event), actor = std::move(actor)](caf::scheduled_actor*,
                                                              std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      log::error(event, e.what(), {{"actor", actor}});
    } catch (...) {
      log::error(event, "unknown exception", {{"actor", actor}});
    }
    return caf::make_error(caf::sec::runtime_error);
  };
}

}  // namespace kafnus
