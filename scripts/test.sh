#!/usr/bin/env bash
# Runs every test on a fresh machine: installs dependencies, builds with
# warnings as errors, starts the real Kafka and PostGIS, runs the unit,
# integration, conformance, fault and scripts tests, then stops the services.
#   scripts/test.sh                 everything (quick fault variants)
#   scripts/test.sh --sanitize      everything, then the unit and integration tests
#                                   again under AddressSanitizer + UndefinedBehaviorSanitizer
#                                   (build-asan/) and the actor and admin tests under
#                                   ThreadSanitizer (build-tsan/); what CI runs
#   scripts/test.sh -L unit         only a label: unit | integration | conformance | faults | scripts | deploy
#   KAFNUS_LONG_TESTS=1 scripts/test.sh -L faults   the long fault variants too
# Other arguments go to ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sanitize=0
ctest_args=()
for a in "$@"; do
  if [ "$a" = "--sanitize" ]; then sanitize=1; else ctest_args+=("$a"); fi
done

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DKAFNUS_WERROR=ON

# The sanitizer builds: every target the unit and integration tests need
# (ASan + UBSan), and the actor and admin unit tests (TSan).
asan_targets=(kafnus kafnus_text_tests kafnus_ngsi_tests kafnus_config_tests kafnus_postgis_tests kafnus_kafka_tests
              kafnus_messages_tests kafnus_telemetry_tests kafnus_admin_tests kafnus_actors_tests kafnus_integration_tests)
tsan_targets=(kafnus_actors_tests kafnus_admin_tests)
if [ "$sanitize" = 1 ]; then
  echo "[test] building the sanitizer variants (build-asan/, build-tsan/)"
  cmake --preset asan >/dev/null
  cmake --build "$root/build-asan" --target "${asan_targets[@]}" -- -j"$(nproc)"
  cmake --preset tsan >/dev/null
  cmake --build "$root/build-tsan" --target "${tsan_targets[@]}" -- -j"$(nproc)"
fi

exec "$root/scripts/with-services.sh" "$root/scripts/run-tests.sh" "$@"
