#!/usr/bin/env bash
# Runs every test on a fresh machine: installs dependencies, builds with
# warnings as errors, starts the real Kafka and PostGIS, runs the unit,
# integration, conformance, fault and scripts tests, then stops the services.
#   scripts/test.sh                 everything (quick fault variants)
#   scripts/test.sh -L unit         only a label: unit | integration | conformance | faults | scripts
#   KAFNUS_LONG_TESTS=1 scripts/test.sh -L faults   the long fault variants too
# Other arguments go to ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DKAFNUS_WERROR=ON

cd "$root/build"
"$root/scripts/with-services.sh" ctest --output-on-failure --timeout 900 "$@"
