#!/usr/bin/env bash
# Deploy test (label deploy): the container image, built from the Containerfile
# by scripts/image.sh, then
#   - `kafnus --version` in it names the revision it was built from; its
#     labels say version, revision, source, licenses;
#   - it runs as a non-root user, exposes 8000, has a HEALTHCHECK and STOPSIGNAL
#     SIGTERM; what it adds to the base image is printed (and its total size);
#   - the conformance cases pass with the daemon of the image (host network,
#     the test Kafka and PostgreSQL);
#   - configured by KAFNUS_* variables only, it becomes healthy, /readyz
#     answers 200, and a stop exits 0 within the grace period.
# Usage: image_test.sh <build dir>. Exit 77 (skipped) only where no container
# engine can run at all.
set -euo pipefail
kafnus_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:?usage: image_test.sh <build dir>}"

# shellcheck source=test/deploy/engine-or-skip.sh
source "$kafnus_root/test/deploy/engine-or-skip.sh"
# shellcheck disable=SC1091
source "$kafnus_root/.deps/services.env"

image=localhost/kafnus:deploy-test
failures=0
check() {  # check <description> <command...>
  local what="$1"; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
cleanup() {
  "${engine[@]}" ps -aq --filter label=kafnus-test=1 | xargs -r "${engine[@]}" rm -f >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$kafnus_root/scripts/image.sh" "$image"

revision="$(git -C "$kafnus_root" rev-parse --short HEAD)"
version_line="$("${engine[@]}" run --rm "${engine_run_flags[@]}" "$image" --version)"
echo "     $version_line"
check "kafnus --version names the revision $revision" grep -q "($revision" <<< "$version_line"

inspect() { "${engine[@]}" image inspect --format "$1" "$image"; }
label() { inspect "{{index .Config.Labels \"org.opencontainers.image.$1\"}}"; }
check "label version is the project's" [ "$(label version)" = "$(sed -n 's/^project(kafnus VERSION \([0-9.]*\).*/\1/p' "$kafnus_root/CMakeLists.txt")" ]
check "label revision is $revision" grep -q "^$revision" <<< "$(label revision)"
check "a licenses label is set" [ -n "$(inspect '{{index .Config.Labels "org.opencontainers.image.licenses"}}')" ]
check "runs as user 10001, not root" [ "$("${engine[@]}" run --rm "${engine_run_flags[@]}" --entrypoint id "$image" -u)" = 10001 ]
check "exposes 8000" grep -q 8000 <<< "$(inspect '{{json .Config.ExposedPorts}}')"
check "stops with SIGTERM" [ "$(inspect '{{.Config.StopSignal}}')" = SIGTERM ]
check "has a HEALTHCHECK running kafnus healthcheck" grep -q healthcheck <<< "$(inspect '{{json .Config.Healthcheck}}')"
check "the default configuration is at /etc/kafnus/kafnus.yaml and valid" \
  "${engine[@]}" run --rm "${engine_run_flags[@]}" "$image" check-config --config /etc/kafnus/kafnus.yaml >/dev/null

size="$(inspect '{{.Size}}')"
base_size="$("${engine[@]}" image inspect --format '{{.Size}}' "$runtime_base")"
echo "     image size $((size / 1000000)) MB: base $runtime_base $((base_size / 1000000)) MB + Kafnus $(((size - base_size) / 1000000)) MB"
# The official debian:bookworm-slim is ~75 MB: 75 MB more keep the image under 150 MB.
check "Kafnus adds at most 75 MB to the base image" [ $((size - base_size)) -le 75000000 ]

echo "     the conformance cases with the daemon of the image"
check "conformance cases pass through the container" \
  env KAFNUS_TEST_DAEMON_WRAPPER="$kafnus_root/test/deploy/run-in-image.sh" KAFNUS_TEST_IMAGE="$image" \
  "$build/test/conformance/kafnus_conformance_tests" --gtest_brief=1

# Configured by variables only, as an operator runs it.
admin_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
name="kafnus-deploy-test-$$"
"${engine[@]}" run -d --name "$name" --label kafnus-test=1 --network host "${engine_run_flags[@]}" \
  -e KAFNUS_KAFKA_BROKERS="127.0.0.1:$KAFNUS_DEV_KAFKA_PORT" -e KAFNUS_KAFKA_GROUP_ID="deploy-test-$$" \
  -e KAFNUS_POSTGRES_HOST=127.0.0.1 -e KAFNUS_POSTGRES_PORT="$KAFNUS_DEV_PG_PORT" \
  -e KAFNUS_POSTGRES_DATABASE=tests -e KAFNUS_POSTGRES_USER=postgres \
  -e KAFNUS_POSTGRES_OFFSETS_SCHEMA="deploy_test_$$" \
  -e KAFNUS_FLOWS_HISTORIC_TOPICS="deploy_test_$$_historic" \
  -e KAFNUS_ADMIN_LISTEN="127.0.0.1:$admin_port" "$image" >/dev/null
ready=0
for _ in $(seq 1 60); do
  # podman runs a HEALTHCHECK on demand (its timers need systemd); docker on its own.
  if [ "$engine_name" = podman ]; then
    if "${engine[@]}" healthcheck run "$name" >/dev/null 2>&1; then ready=1; break; fi
  elif [ "$("${engine[@]}" inspect --format '{{.State.Health.Status}}' "$name")" = healthy ]; then
    ready=1; break
  fi
  sleep 1
done
check "the HEALTHCHECK says healthy within 60 s" [ "$ready" = 1 ]
check "/readyz answers 200" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/readyz")" = 200 ]
start=$(date +%s.%N)
"${engine[@]}" stop -t 45 "$name" >/dev/null
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
code="$("${engine[@]}" inspect --format '{{.State.ExitCode}}' "$name")"
echo "     stopped in $elapsed s, exit code $code"
check "a stop exits 0" [ "$code" = 0 ]
check "a stop takes less than the 45 s grace" python3 -c "import sys; sys.exit(0 if $elapsed < 45 else 1)"
if [ "$failures" -gt 0 ]; then
  echo "---- log of $name"; "${engine[@]}" logs "$name" 2>&1 | tail -30
fi

echo "$failures failure(s)"
[ "$failures" = 0 ]
