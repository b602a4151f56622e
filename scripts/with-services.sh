#!/usr/bin/env bash
# Runs a command with Kafka and PostgreSQL + PostGIS started (scripts/services.sh),
# and stops them afterwards whatever the command's outcome; exits with its code.
# The command finds them through KAFNUS_TEST_BROKERS, KAFNUS_TEST_SASL_BROKERS and
# KAFNUS_TEST_PG_HOST / _PORT (the ports may not be the defaults: services.sh env).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started=0
cleanup() { if [ "$started" = 1 ]; then "$root/scripts/services.sh" stop || true; fi; }
trap cleanup EXIT
"$root/scripts/services.sh" start
started=1
exports="$("$root/scripts/services.sh" env)"
eval "$exports"
"$@"
