#!/usr/bin/env bash
# The demo on a fresh machine: installs, builds, starts Kafka and PostGIS,
# runs the daemon, publishes the sample notifications of config/samples/,
# shows the rows Kafnus wrote and its metrics, then keeps it running until
# Ctrl-C (use --no-wait to stop right after showing them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
wait_at_end=1
[ "${1:-}" = "--no-wait" ] && wait_at_end=0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
psql_() { psql -h 127.0.0.1 -p "$KAFNUS_TEST_PG_PORT" -U postgres -d tests -v ON_ERROR_STOP=1 "$@"; }

say "Installing dependencies"
"$root/scripts/install-deps.sh"
say "Building"
"$root/scripts/build.sh"
say "Starting Kafka and PostgreSQL + PostGIS"
"$root/scripts/services.sh" start
# Their ports (not always 5432 and 9092: services.sh moves off ports others hold).
exports="$("$root/scripts/services.sh" env)"
eval "$exports"

demo_dir="$root/.deps/demo"
mkdir -p "$demo_dir"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    echo "stopping Kafnus (SIGTERM: it commits what is in flight and leaves the group)"
    kill -TERM "$daemon_pid"; wait "$daemon_pid" || true
  fi
  "$root/scripts/services.sh" stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Creating the demo tables (config/samples/setup.sql)"
psql_ -q -o /dev/null -f "$root/config/samples/setup.sql"

"$root/build/test/support/kafnus-publish" --brokers "$KAFNUS_TEST_BROKERS" \
  --create-topics smc_raw_historic,smc_raw_lastdata,smc_raw_mutable --partitions 3 >/dev/null

say "Starting Kafnus (config/samples/kafnus-demo.yaml), log in $demo_dir/kafnus.log"
KAFNUS_KAFKA_BROKERS="$KAFNUS_TEST_BROKERS" KAFNUS_POSTGRES_PORT="$KAFNUS_TEST_PG_PORT" \
  "$root/build/app/kafnus" run --config "$root/config/samples/kafnus-demo.yaml" >"$demo_dir/kafnus.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:8000/readyz >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$demo_dir/kafnus.log"; exit 1; }
  sleep 0.2
done
echo "daemon started, consuming"

say "Publishing config/samples/notifications.jsonl"
"$root/build/test/support/kafnus-publish" --brokers "$KAFNUS_TEST_BROKERS" "$root/config/samples/notifications.jsonl"

expected=9
for _ in $(seq 1 100); do
  n=$(psql_ -tAc "SELECT count(*) FROM smartcity.parking_parkingspot" 2>/dev/null || echo 0)
  [ "$n" -ge "$expected" ] && break
  sleep 0.2
done
sleep 1

say "Rows written by Kafnus"
psql_ -c "SELECT entityid, timeinstant, status, occupancy, ST_AsText(location) AS location FROM smartcity.parking_parkingspot ORDER BY timeinstant, entityid"
psql_ -c "SELECT entityid, timeinstant, status, occupancy FROM smartcity.parking_parkingspot_lastdata ORDER BY entityid"
psql_ -c "SELECT entityid, timeinstant, temperature, readings, ST_AsText(location) AS location FROM smartcity.environment_weatherobserved ORDER BY timeinstant"
say "The error log (a notification without TimeInstant was sent on purpose)"
psql_ -c "SELECT timestamp, error, left(query, 100) AS query FROM smartcity.smartcity_error_log ORDER BY timestamp"

kafnus_() {
  KAFNUS_KAFKA_BROKERS="$KAFNUS_TEST_BROKERS" KAFNUS_POSTGRES_PORT="$KAFNUS_TEST_PG_PORT" \
    "$root/build/app/kafnus" "$@" --config "$root/config/samples/kafnus-demo.yaml"
}
say "kafnus errors list (the error log by table and cause; kafnus errors replay re-runs it once fixed)"
kafnus_ errors list || true
say "kafnus positions show (the stored positions, the records Kafka holds, the lag)"
kafnus_ positions show || true

say "Metrics: http://127.0.0.1:8000/metrics   health: http://127.0.0.1:8000/health"
curl -s http://127.0.0.1:8000/metrics | grep -E '^(messages_processed_total|kafnus_rows_written_total|kafnus_error_log_rows_total)' || true
curl -s http://127.0.0.1:8000/health; echo

if [ "$wait_at_end" = 1 ]; then
  say "Kafnus is running. Publish more with: build/test/support/kafnus-publish FILE.jsonl   Ctrl-C stops everything."
  wait "$daemon_pid" || true
fi
