#pragma once
// The consumer actor: owns the librdkafka consumer (blocking poll, so it is
// spawned detached). It
//   - subscribes to every flow's topics and hands each partition's records,
//     in order, as raw_batch messages to one processor of the pool (always
//     the same one for a partition, so its order is kept); a poll of a few
//     records (a low rate) it transforms itself (batch_transform) and hands
//     to the writer, for partitions whose processor has nothing waiting;
//   - on assignment, starts each partition at the position stored in
//     PostgreSQL (the source of truth), not Kafka's committed offset;
//   - never lets more than batching.in_flight_{messages,bytes} be consumed
//     but unacknowledged: beyond it, partitions are paused until acks return;
//   - takes records only while some processor has less than a sixteenth of
//     batching.in_flight_bytes waiting (kafka::processing_backlog);
//   - on a conflict ack (another owner moved a partition) or a rewind (an
//     actor with in-flight work was restarted), seeks the partition back to
//     its stored position, and ignores acks of the work it abandoned;
//   - commits acknowledged positions to Kafka too, so lag tools keep working;
//   - on drain, stops fetching, waits for every in-flight batch, commits and
//     closes the consumer (a static member stays in the group until its
//     session expires; a restart takes its partitions back at once).

#include <memory>

#include <caf/local_actor.hpp>

#include "config/settings.hpp"
#include "messages/interfaces.hpp"
#include "telemetry/metrics.hpp"

namespace kafnus {

struct consumer_wiring {
  std::shared_ptr<const config::settings> settings;
  std::shared_ptr<metrics> m;
  bool detached = true;  // its own thread (librdkafka's poll blocks); false: on the scheduler, for deterministic tests
};

// Spawns the consumer detached (librdkafka's poll blocks). It subscribes at
// once and starts polling when the supervisor sends it the processor pool
// and the writer (wire_atom; a null writer: every batch to the pool).
msg::consumer_actor spawn_consumer(caf::local_actor* parent, consumer_wiring wiring);

}  // namespace kafnus
