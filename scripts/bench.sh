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
"$root/scripts/build.sh"  # RelWithDebInfo: -O2, the same build the tests use
"$root/scripts/with-services.sh" "$root/build/bench/kafnus-bench" --out "$root/bench/results" "${args[@]}" "$@"
