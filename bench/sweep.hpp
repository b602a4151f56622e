#pragma once
// kafnus-bench --sweep: how the daemon's cost grows when one thing varies at
// a time (attributes per entity, lastdata entities, historic table size,
// partitions, processing.workers); bench/README.md, "How cost grows".

namespace kafnus::bench {

// Runs `kafnus-bench --sweep DIMENSION [--notifications N] [--prefill-rows R]
// [--out DIR]`: a table per dimension on stdout, the figures as
// DIR/sweep-<stamp>.json (bench/plot_sweep.py draws them). Returns the exit code.
int sweep_main(int argc, char** argv);

}  // namespace kafnus::bench
