#pragma once
// The typed interface of every actor: what each one accepts, so that a wrong
// message is a compile error rather than a runtime drop. Messages the actors
// send to themselves (timers) are part of their interfaces too.
//
//   consumer --raw_batch--> processor --row_batch--> writer --write_ack--> consumer
//   consumer --polled_rows--> writer (the few records of a poll at a low rate)
//
// Handles reach each other through one wiring message from the supervisor
// (wire_atom), sent again whenever an actor is restarted.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/types.hpp"

namespace kafnus::msg {

// Where the writer acknowledges committed (or conflicting) batches: the
// consumer, seen through the one message the writer sends it.
using ack_receiver = caf::typed_actor<caf::reacts_to<write_ack>>;

using writer_actor =
    caf::typed_actor<caf::reacts_to<row_batch>,                  // rows to commit with their positions
                     caf::reacts_to<polled_rows>,                // rows the consumer made itself (a poll's)
                     caf::reacts_to<wire_atom, ack_receiver>,    // the consumer to acknowledge to
                     caf::reacts_to<flush_atom, std::uint64_t>,  // self: the batch delay expired (timer generation)
                     caf::reacts_to<retry_atom>,                 // self: retry after a transient failure
                     caf::reacts_to<commit_atom>,                // self: wait for the commit sent
                     caf::reacts_to<tick_atom>>;                 // self: connection health check

using processor_actor = caf::typed_actor<caf::reacts_to<raw_batch>,                 // records to turn into rows
                                         caf::reacts_to<wire_atom, writer_actor>>;  // the writer to hand rows to

using consumer_actor =
    caf::typed_actor<caf::reacts_to<write_ack>,  // a batch is committed, or its position conflicted
                     caf::reacts_to<wire_atom, std::vector<processor_actor>, writer_actor>,  // the pool; the writer
                     caf::reacts_to<rewind_atom>,                      // in-flight work was lost with a restarted actor
                     caf::replies_to<drain_atom>::with<drained_atom>,  // stop fetching, commit, close; answer when done
                     caf::reacts_to<poll_atom, std::uint64_t>,         // self: poll the broker (loop generation)
                     caf::reacts_to<tick_atom>>;                       // self: housekeeping

using metrics_actor =
    caf::typed_actor<caf::replies_to<status_atom>::with<std::string>,  // the admin address actually bound
                     caf::reacts_to<tick_atom>>;  // self: tell systemd how the daemon is (READY=1, WATCHDOG=1)

using supervisor_actor =
    caf::typed_actor<caf::reacts_to<stop_atom>,                  // graceful stop requested (a signal)
                     caf::reacts_to<restart_atom, std::size_t>,  // self: restart a failed child after its backoff
                     caf::reacts_to<deadline_atom>,              // self: the graceful stop took too long
                     caf::reacts_to<force_atom>>;                // self: stopped children did not go down

}  // namespace kafnus::msg
