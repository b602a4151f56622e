#pragma once
// The atoms that name commands between actors (CAF 0.17 spelling; a later
// CAF moves these to CAF_BEGIN_TYPE_ID_BLOCK, only this file changes).

#include <caf/atom.hpp>

namespace kafnus::msg {

using poll_atom =
    caf::atom_constant<caf::atom("poll")>;  // consumer: poll the broker once more (with its loop generation)
using flush_atom = caf::atom_constant<caf::atom("flush")>;    // writer: the batch delay expired
using retry_atom = caf::atom_constant<caf::atom("retry")>;    // writer: retry after a transient failure
using commit_atom = caf::atom_constant<caf::atom("commit")>;  // writer: wait for the commit it sent
using rewind_atom =
    caf::atom_constant<caf::atom("rewind")>;  // consumer: in-flight work was lost, seek to stored positions
using drain_atom =
    caf::atom_constant<caf::atom("drain")>;  // consumer: stop fetching, finish in-flight work, leave the group
using drained_atom = caf::atom_constant<caf::atom("drained")>;    // consumer -> supervisor: drain finished
using stop_atom = caf::atom_constant<caf::atom("stop")>;          // supervisor: graceful stop requested
using restart_atom = caf::atom_constant<caf::atom("restart")>;    // supervisor: restart a failed actor
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;  // supervisor: graceful stop took too long
using force_atom = caf::atom_constant<caf::atom("force")>;        // supervisor: stopped actors did not go down
using status_atom = caf::atom_constant<caf::atom("status")>;      // metrics actor: which address the admin server bound
using wire_atom = caf::atom_constant<caf::atom("wire")>;          // supervisor: the handles an actor sends to
using tick_atom = caf::atom_constant<caf::atom("tick")>;          // periodic housekeeping

}  // namespace kafnus::msg
