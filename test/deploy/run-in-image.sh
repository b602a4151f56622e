#!/usr/bin/env bash
# Runs the daemon of the image $KAFNUS_TEST_IMAGE the way the tests run the
# binary (test/support/daemon_process.cpp execs this with KAFNUS_TEST_DAEMON_WRAPPER
# set): same arguments, the configuration file and the files it names
# (`file:` keys: mappings.file) mounted read-only at the same paths, the daemon's own variables (KAFNUS_TEST_DAEMON_ENV_NAMES) passed on,
# the host's network (the test services listen on 127.0.0.1). The engine
# passes SIGTERM on to the daemon and ends with its exit code.
set -euo pipefail
kafnus_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/container-engine.sh
source "$kafnus_root/scripts/container-engine.sh"

config=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = --config ]; then config="${args[$((i + 1))]}"; fi
done
mounts=()
if [ -n "$config" ]; then
  mounts=(-v "$config:$config:ro")
  # Files the configuration names besides itself (the conformance suite's
  # Cygnus name mappings), at the same paths; the test keeps them outside
  # the clone, which may be in a directory the image's user cannot enter.
  while IFS= read -r f; do
    [ -n "$f" ] && [ -f "$f" ] && mounts+=(-v "$f:$f:ro")
  done < <(sed -n 's/^[[:space:]]*file:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$config")
fi
envs=()
IFS=',' read -r -a names <<< "${KAFNUS_TEST_DAEMON_ENV_NAMES:-}"
for n in "${names[@]}"; do [ -n "$n" ] && envs+=(-e "$n"); done

exec "${engine[@]}" run --rm --network host "${engine_run_flags[@]}" --label kafnus-test=1 \
  "${mounts[@]}" "${envs[@]}" "$KAFNUS_TEST_IMAGE" "$@"
