#pragma once
// A processor actor (a pool of processing.workers of them, each serving
// every flow): turns each raw_batch into a row_batch (batch_transform:
// ngsi::transform, following the rules of the batch's flow) and hands it to
// the writer. (The consumer does the same for a poll of a few records.)
// Records that cannot become rows become error-log entries in the same
// batch, so their offsets commit with everything else and nothing stalls a
// partition.

#include <memory>

#include <caf/local_actor.hpp>

#include "config/settings.hpp"
#include "messages/interfaces.hpp"
#include "telemetry/metrics.hpp"

namespace kafnus {

struct processor_wiring {
  std::shared_ptr<const config::settings> settings;
  std::shared_ptr<metrics> m;
  int index = 0;  // position in the pool, for logs
};

// Spawned unwired: the supervisor sends it the writer (wire_atom) before
// the consumer can send it anything.
msg::processor_actor spawn_processor(caf::local_actor* parent, processor_wiring wiring);

}  // namespace kafnus
