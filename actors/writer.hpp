#pragma once
// The writer actor (detached: libpqxx blocks): owns the database connection
// and commits row_batches — rows, error-log entries and the new stored
// positions in one transaction each (postgis::batch_writer). Batches from
// every flow are combined until batching.max_rows / max_bytes is reached or
// batching.max_delay_ms passes. A transient failure is retried with capped
// exponential backoff for as long as it lasts, holding the batches (and so
// the consumer's credits: consumption pauses); each batch is acknowledged
// to its consumer only once committed.

#include <memory>

#include <caf/local_actor.hpp>

#include "telemetry/metrics.hpp"
#include "config/settings.hpp"
#include "messages/interfaces.hpp"

namespace kafnus {

struct writer_wiring {
  std::shared_ptr<const config::settings> settings;
  std::shared_ptr<metrics> m;
  bool detached = true;  // its own thread (libpqxx blocks); false: on the scheduler, for deterministic tests
};

// Spawned unwired: the supervisor sends it the consumer to acknowledge to
// (wire_atom) before any batch can reach it.
msg::writer_actor spawn_writer(caf::local_actor* parent, writer_wiring wiring);

}  // namespace kafnus
