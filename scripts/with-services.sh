#!/usr/bin/env bash
# Runs a command with Kafka and PostgreSQL + PostGIS started (scripts/services.sh),
# and afterwards stops those it started, whatever the command's outcome; exits
# with its code. A service that was running before (the demo's, a developer's)
# is left running.
# The command finds them through KAFNUS_TEST_BROKERS, KAFNUS_TEST_SASL_BROKERS and
# KAFNUS_TEST_PG_HOST / _PORT (the ports may not be the defaults: services.sh env).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
before="$("$root/scripts/services.sh" status 2>&1 || true)"
stop_after=()  # services.sh actions, Kafka's first (as `services.sh stop`)
left=()        # names of the services that were running
for service in Kafka:kafka PostgreSQL:postgres; do
  name="${service%%:*}"
  case "$before" in
    *"$name: running"*) left+=("$name") ;;
    *) stop_after+=("stop-${service#*:}") ;;
  esac
done
cleanup() {
  for action in "${stop_after[@]}"; do "$root/scripts/services.sh" "$action" || true; done
  for name in "${left[@]}"; do echo "[services] $name left running: it was running before"; done
}
trap cleanup EXIT
"$root/scripts/services.sh" start
exports="$("$root/scripts/services.sh" env)"
eval "$exports"
"$@"
