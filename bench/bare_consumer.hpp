#pragma once
// The floor under the daemon's CPU at a steady rate: librdkafka alone, with
// the daemon's own consumer properties (kafka::consumer_properties), one
// thread polling as the daemon's consumer does and dropping every record.
// Whatever the daemon spends per notification above it is its own (thread
// hand-offs, the transform, the writer's transactions); what is below it no
// change inside the daemon can save at that fetch pattern.
//
// The bench runs it as a child process of its own (`kafnus-bench
// --bare-consumer TOPIC PARTITIONS COUNT`), so that its CPU is not mixed
// with that of the bench's producer, which lives in the bench's process.

#include <cstdint>
#include <functional>
#include <string>

namespace kafnus::bench {

// The child's side: assigns TOPIC's PARTITIONS at their high watermarks,
// prints "ready", reads COUNT records, then prints "read N cpu_seconds S" —
// S its CPU from the first record read to the last — and exits 0; it gives
// up 120 s after "ready" (what it read printed all the same, exit 1).
int bare_consumer_main(int argc, char** argv);

// The parent's side: starts the child, calls `load` once the child is
// ready (`load` sends the `count` records into `topic`), and returns the
// child's CPU µs per record. Throws when the child fails or reads fewer
// than `count` records.
double bare_consumer_cpu_us(const std::string& topic, int partitions, std::uint64_t count,
                            const std::function<void()>& load);

}  // namespace kafnus::bench
