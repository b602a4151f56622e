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
// (every free returned at once) cost twice the CPU (bench/README). MALLOC_CONF
// in the environment still overrides any of them.

#ifdef KAFNUS_WITH_JEMALLOC
extern "C" {
// Read by jemalloc at its first allocation (jemalloc(3), "malloc_conf").
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "narenas:2,background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0";
}
#endif
