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
stop_after=()
case "$before" in *"Kafka: running"*) ;; *) stop_after+=(stop-kafka) ;; esac
case "$before" in *"PostgreSQL: running"*) ;; *) stop_after+=(stop-postgres) ;; esac
cleanup() {
  for action in "${stop_after[@]}"; do "$root/scripts/services.sh" "$action" || true; done
  case "$before" in *"Kafka: running"*) echo "[services] Kafka left running: it was running before" ;; esac
  case "$before" in *"PostgreSQL: running"*) echo "[services] PostgreSQL left running: it was running before" ;; esac
}
trap cleanup EXIT
"$root/scripts/services.sh" start
exports="$("$root/scripts/services.sh" env)"
eval "$exports"
"$@"
