#pragma once
// The writer actor (detached: libpqxx blocks): owns the database connection
// and commits row_batches — rows, error-log entries and the new stored
// positions in one transaction each (postgis::batch_writer). Group commit:
// it writes as soon as no other batch waits in its mailbox, at most
// batching.max_rows / max_bytes per transaction, transactions that are not
// full at least batching.min_interval_ms apart. A transient failure is
// retried with capped exponential backoff for as long as it lasts, the same
// leading batches each time (never more; a statement timeout twice halves
// them); repeated non-transient failures switch to isolating rows. Each batch
// is acknowledged (write_ack) to the consumer the supervisor wired it to,
// only once committed or found conflicting.

#include <memory>

#include <caf/local_actor.hpp>

#include "config/settings.hpp"
#include "messages/interfaces.hpp"
#include "telemetry/metrics.hpp"

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
