#!/usr/bin/env bash
# Runs every test on a fresh machine: installs dependencies, builds with
# warnings as errors, starts the real Kafka and PostGIS, runs the unit,
# integration, conformance, fault and scripts tests, then stops the services
# it started (services already running are left running).
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
# (ASan + UBSan), and the actor and admin unit tests (TSan). They compile
# while the default suite runs, which mostly waits on Kafka, PostgreSQL and
# daemons (a fifth of the machine's CPU): at the lowest CPU priority, so the
# tests get the cores whenever they want them. scripts/run-tests.sh waits for
# the build's status file before it runs the sanitizer tests.
asan_targets=(kafnus kafnus_text_tests kafnus_ngsi_tests kafnus_config_tests kafnus_postgis_tests kafnus_kafka_tests
              kafnus_messages_tests kafnus_telemetry_tests kafnus_admin_tests kafnus_actors_tests kafnus_integration_tests)
tsan_targets=(kafnus_actors_tests kafnus_admin_tests)
build_pid=""
if [ "$sanitize" = 1 ]; then
  mkdir -p "$root/build-asan"
  export KAFNUS_SANITIZER_BUILD_LOG="$root/build-asan/sanitizer-build.log"
  export KAFNUS_SANITIZER_BUILD_STATUS="$root/build-asan/sanitizer-build.status"
  rm -f "$KAFNUS_SANITIZER_BUILD_STATUS"
  echo "[test] building the sanitizer variants (build-asan/, build-tsan/) in the background, log: $KAFNUS_SANITIZER_BUILD_LOG"
  (
    rc=0
    {
      cmake --preset asan >/dev/null &&
        nice -n 19 cmake --build "$root/build-asan" --target "${asan_targets[@]}" -- -j"$(nproc)" &&
        cmake --preset tsan >/dev/null &&
        nice -n 19 cmake --build "$root/build-tsan" --target "${tsan_targets[@]}" -- -j"$(nproc)"
    } >"$KAFNUS_SANITIZER_BUILD_LOG" 2>&1 || rc=$?
    echo "$rc" >"$KAFNUS_SANITIZER_BUILD_STATUS.tmp" && mv "$KAFNUS_SANITIZER_BUILD_STATUS.tmp" "$KAFNUS_SANITIZER_BUILD_STATUS"
  ) &
  build_pid=$!
  export KAFNUS_SANITIZER_BUILD_PID="$build_pid"
fi

rc=0
"$root/scripts/with-services.sh" "$root/scripts/run-tests.sh" "$@" || rc=$?
kill_tree() {
  local child
  for child in $(pgrep -P "$1" || true); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
if [ -n "$build_pid" ] && kill -0 "$build_pid" 2>/dev/null; then
  # The tests stopped before they needed it (a failure): the build goes too.
  kill_tree "$build_pid"
  wait "$build_pid" 2>/dev/null || true
fi
exit "$rc"
