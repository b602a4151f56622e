#!/usr/bin/env bash
# Runs a command with Kafka and PostgreSQL + PostGIS started (scripts/services.sh),
# and stops them afterwards whatever the command's outcome; exits with its code.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started=0
cleanup() { if [ "$started" = 1 ]; then "$root/scripts/services.sh" stop || true; fi; }
trap cleanup EXIT
"$root/scripts/services.sh" start
started=1
"$@"
