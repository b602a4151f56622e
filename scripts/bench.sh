#!/usr/bin/env bash
# The benchmark on the local real Kafka and PostGIS (bench/README.md).
#   scripts/bench.sh            1,000,000 notifications per flow
#   scripts/bench.sh --quick    100,000 per flow, 15 s of steady load (under 5 minutes)
# Other arguments go to kafnus-bench (--rate, --partitions, --flows, ...).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
args=()
if [ "${1:-}" = "--quick" ]; then
  shift
  args=(--notifications 100000 --steady-seconds 15)
fi
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=Release
started=0
cleanup() { if [ "$started" = 1 ]; then "$root/scripts/services.sh" stop || true; fi; }
trap cleanup EXIT
"$root/scripts/services.sh" start
started=1
"$root/build/bench/kafnus-bench" --out "$root/bench/results" "${args[@]}" "$@"
