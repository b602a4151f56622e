#!/usr/bin/env bash
# Runs the built tests against services that are already up (scripts/test.sh
# starts them through scripts/with-services.sh): ctest in build/, then, with
# --sanitize, the unit and integration tests of build-asan/ and the unit
# tests of build-tsan/. Other arguments go to the first ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

sanitize=0
ctest_args=()
for a in "$@"; do
  if [ "$a" = "--sanitize" ]; then sanitize=1; else ctest_args+=("$a"); fi
done

(cd "$root/build" && ctest --output-on-failure --timeout 900 "${ctest_args[@]+"${ctest_args[@]}"}")
[ "$sanitize" = 1 ] || exit 0

# scripts/test.sh --sanitize builds the sanitizer variants while the suite
# above runs; their status file appears when that build is over.
if [ -n "${KAFNUS_SANITIZER_BUILD_STATUS:-}" ]; then
  if [ ! -f "$KAFNUS_SANITIZER_BUILD_STATUS" ]; then
    echo "[test] waiting for the sanitizer build (log: ${KAFNUS_SANITIZER_BUILD_LOG:-})"
    while [ ! -f "$KAFNUS_SANITIZER_BUILD_STATUS" ]; do
      if [ -n "${KAFNUS_SANITIZER_BUILD_PID:-}" ] && ! kill -0 "$KAFNUS_SANITIZER_BUILD_PID" 2>/dev/null; then
        sleep 1  # (its status file is written just before it ends)
        [ -f "$KAFNUS_SANITIZER_BUILD_STATUS" ] && break
        echo "[test] the sanitizer build ended without a status; its log: ${KAFNUS_SANITIZER_BUILD_LOG:-}" >&2
        exit 1
      fi
      sleep 2
    done
  fi
  if [ "$(cat "$KAFNUS_SANITIZER_BUILD_STATUS")" != 0 ]; then
    echo "[test] the sanitizer build failed; the end of its log (${KAFNUS_SANITIZER_BUILD_LOG:-}):" >&2
    tail -n 60 "${KAFNUS_SANITIZER_BUILD_LOG:-/dev/null}" >&2
    exit 1
  fi
fi

echo "[test] unit and integration tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/, leak suppressions in test/lsan.supp)"
(cd "$root/build-asan" &&
  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$root/test/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure --timeout 900 -L 'unit|integration')

echo "[test] actor and admin tests under ThreadSanitizer (build-tsan/, suppressions in test/tsan.supp)"
(cd "$root/build-tsan" &&
  TSAN_OPTIONS="halt_on_error=1 suppressions=$root/test/tsan.supp" ctest --output-on-failure --timeout 900 -L unit)
