#!/usr/bin/env python3
"""Where the slowest notifications of a steady load lost their time.

Reads the file of `kafnus-bench --latency-csv FILE` (a line per notification:
sent, acknowledged by the broker, processed, committed, in µs since the
epoch) and prints, for the notifications at or above a percentile of the
produce -> committed latency (default the 99th), grouped by the 100 ms slice
they were sent in, how long they took on average from produce to the
broker's acknowledgement (the producer's linger and the broker), from there
to processing (the fetch, the consumer's pacing, the transform) and from
there to the commit (the writer's transaction and PostgreSQL's commit).

    python3 bench/latency_tail.py FILE [--percentile 99]
"""

import argparse
import csv
import signal
import sys
from collections import defaultdict


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--percentile", type=float, default=99.0)
    args = ap.parse_args()
    if not 0 < args.percentile < 100:
        sys.exit("--percentile: between 0 and 100")

    rows = []
    try:
        with open(args.file, newline="") as f:
            for r in csv.DictReader(f):
                sent, acked, processed, committed = (int(r[k]) for k in
                                                     ("sent_us", "acked_us", "processed_us", "committed_us"))
                if acked and processed and committed:
                    rows.append((sent, acked, processed, committed))
    except OSError as e:
        sys.exit(f"{args.file}: {e.strerror}")
    except (KeyError, TypeError, ValueError):
        sys.exit(f"{args.file}: not a file of kafnus-bench --latency-csv")
    if not rows:
        sys.exit(f"{args.file}: no notification with all four instants")
    rows.sort()
    totals = sorted(c - s for s, _, _, c in rows)
    cut = totals[int(args.percentile / 100 * (len(totals) - 1))]
    start = rows[0][0]
    slices = defaultdict(list)
    for r in rows:
        if r[3] - r[0] >= cut:
            slices[(r[0] - start) // 100_000].append(r)

    def mean_ms(rs, a, b):
        return sum(r[b] - r[a] for r in rs) / len(rs) / 1000

    tail = [r for rs in slices.values() for r in rs]
    print(f"{len(rows)} notifications; p{args.percentile:g} {cut / 1000:.1f} ms: {len(tail)} at or above it, "
          f"in {len(slices)} of {(rows[-1][0] - start) // 100_000 + 1} slices of 100 ms")
    print(f"{'sent at s':>9} {'count':>6} {'-> acknowledged':>16} {'-> processed':>13} {'-> committed':>13}  (mean ms)")
    for k in sorted(slices):
        rs = slices[k]
        print(f"{k / 10:9.1f} {len(rs):6d} {mean_ms(rs, 0, 1):16.1f} {mean_ms(rs, 1, 2):13.1f} {mean_ms(rs, 2, 3):13.1f}")
    print(f"{'all':>9} {len(tail):6d} {mean_ms(tail, 0, 1):16.1f} {mean_ms(tail, 1, 2):13.1f} {mean_ms(tail, 2, 3):13.1f}")


if __name__ == "__main__":
    main()
