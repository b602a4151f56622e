#!/usr/bin/env bash
# The benchmark on the local real Kafka and PostGIS (bench/README.md).
#   scripts/bench.sh            1,000,000 notifications per flow
#   scripts/bench.sh --quick    100,000 per flow, 15 s of steady load (about a minute plus the build)
#   scripts/bench.sh --sweep [attributes|entities|tables|table-size|partitions|workers|all]
#                               how cost grows, one thing varied at a time (default all,
#                               ~6 minutes on 2 cores,
#                               most of it the 20,000,000-row prefill); the figures as PNGs beside the JSON
# Other arguments go to kafnus-bench (--rate, --partitions, --flows, --notifications,
# --prefill-rows, --orion-producer: the steady load produced as Orion's Kafka notifier
# does, --latency-csv FILE: every steady notification's instants, for
# bench/latency_tail.py, ...).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
args=()
sweep=""
if [ "${1:-}" = "--quick" ]; then
  shift
  args=(--notifications 100000 --steady-seconds 15)
elif [ "${1:-}" = "--sweep" ]; then
  shift
  sweep=all
  case "${1:-}" in attributes | entities | tables | table-size | partitions | workers | all) sweep="$1"; shift ;; esac
  args=(--sweep "$sweep")
fi
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"  # RelWithDebInfo: -O2, the same build the tests use
"$root/scripts/with-services.sh" "$root/build/bench/kafnus-bench" --out "$root/bench/results" "${args[@]}" "$@"
if [ -n "$sweep" ]; then
  # Debian's python3 has python3-matplotlib (install-deps.sh), whatever else is first on PATH.
  py=/usr/bin/python3
  [ -x "$py" ] || py=python3
  json="$(printf '%s\n' "$root"/bench/results/sweep-*.json | sort | tail -n 1)"  # names sort by time
  "$py" "$root/bench/plot_sweep.py" "$json" "${json%.json}"
  echo "figures: ${json%.json}/ (bench/sweep/ holds the committed copies)"
fi
