// The daemon's memory allocator: jemalloc (linked into the kafnus binary
// only; libraries and tests keep the system allocator).
//
// Why: rows are built by the processor threads and freed by the writer
// thread. glibc's malloc serves such cross-thread frees under the owning
// arena's lock and consolidates free chunks as it goes; in the benchmark's
// profile malloc and free took a fifth of the daemon's CPU. jemalloc's
// thread caches and per-size slabs make both cheap (+20 % historic catch-up
// on two cores, bench/README.md).
//
// The settings bound resident memory: two arenas (jemalloc's default is four
// per core; two is one per core on the two-core machines it was tuned on,
// and the allocating threads are few: processors, writer, consumer), dirty
// pages returned to the kernel after 200 ms (not ten seconds) by a
// background thread, so a drained backlog gives its memory back and a
// backlog's peak holds less freed memory. At the peak of a catch-up,
// jemalloc held ~24 MiB of freed pages with 1 s: 200 ms took the peak RSS
// down by ~7 MiB at no CPU cost that three alternating pairs could see; 0
// (every free returned at once) cost twice the CPU (bench/README).
//
// oversize_threshold: allocations of 2 MiB and more go to jemalloc's arena
// for huge extents, whose pages are returned to the kernel as soon as they
// are freed instead of waiting out the 200 ms decay beside the small
// objects. The daemon's only such allocations are librdkafka's fetch
// responses (fetch.max.bytes = 2 MiB of records and their framing: jemalloc
// stats of a 100,000-notification catch-up count 51 of them, in its 2.5 MiB
// size class, and nothing else that large); under a backlog several are
// freed every second, and with the default threshold (8 MiB) their pages
// sat among the arenas' dirty ones. Three alternating 300,000-per-flow runs:
// peak RSS 53-64 MiB against 62-66 MiB with jemalloc's default, CPU and
// throughput within the runs' noise (bench/README, 2026-12-04). MALLOC_CONF
// in the environment still overrides any of them.

#ifdef KAFNUS_WITH_JEMALLOC
extern "C" {
// Read by jemalloc at its first allocation (jemalloc(3), "malloc_conf").
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf =
    "narenas:2,background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0,"
    "oversize_threshold:2097152";
}
#endif
