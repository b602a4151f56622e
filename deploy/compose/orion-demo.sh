#!/usr/bin/env bash
# A real Orion update becomes a row and a point on a Grafana panel:
#   docker compose -f deploy/compose/compose.yaml --profile orion up -d
#   deploy/compose/orion-demo.sh
# Creates one subscription per flow (historic, lastdata, mutable) that
# notifies Kafka (kafkaCustom, topics smc_raw_<flow>), updates a few
# ParkingSpot entities of service "smartcity", servicepath "/parking", then
# shows the rows Kafnus wrote (tables of config/samples/setup.sql) and its
# counters. Run it again for more updates; watch http://127.0.0.1:3000.
# ORION (default http://127.0.0.1:1026), KAFNUS (http://127.0.0.1:8000) and
# COMPOSE (default "docker compose -f <this folder>/compose.yaml") can be changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
orion="${ORION:-http://127.0.0.1:1026}"
kafnus="${KAFNUS:-http://127.0.0.1:8000}"
read -r -a compose <<< "${COMPOSE:-docker compose -f $here/compose.yaml}"
tenant=(-H "Fiware-Service: smartcity" -H "Fiware-ServicePath: /parking")

echo "waiting for Orion ($orion) and Kafnus ($kafnus/readyz)"
for _ in $(seq 1 120); do
  curl -sf "$orion/version" >/dev/null && curl -sf "$kafnus/readyz" >/dev/null && break
  sleep 1
done
curl -sf "$orion/version" >/dev/null || { echo "Orion does not answer at $orion (profile orion up?)" >&2; exit 1; }

existing="$(curl -s "$orion/v2/subscriptions?limit=100" "${tenant[@]}")"
for flow in historic lastdata mutable; do
  description="kafnus-demo:$flow"
  if grep -q "\"$description\"" <<< "$existing"; then echo "subscription $description exists"; continue; fi
  curl -sf -X POST "$orion/v2/subscriptions" "${tenant[@]}" -H 'Content-Type: application/json' -d @- <<JSON
{"description": "$description",
 "subject": {"entities": [{"idPattern": ".*", "type": "ParkingSpot"}],
             "condition": {"attrs": ["TimeInstant"], "alterationTypes": ["entityCreate", "entityUpdate"]}},
 "notification": {"kafkaCustom": {"url": "kafka://kafka:29092", "topic": "smc_raw_$flow"},
                  "attrs": ["TimeInstant", "status", "occupancy", "location"]}}
JSON
  echo "subscription $description created"
done

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
for i in 1 2 3; do
  status=$([ $((RANDOM % 2)) = 0 ] && echo free || echo occupied)
  occupancy=$((RANDOM % 100))
  curl -sf -X POST "$orion/v2/op/update" "${tenant[@]}" -H 'Content-Type: application/json' -d @- <<JSON
{"actionType": "append", "entities": [
  {"id": "Spot-00$i", "type": "ParkingSpot",
   "TimeInstant": {"type": "DateTime", "value": "$(now)"},
   "status": {"type": "Text", "value": "$status"},
   "occupancy": {"type": "Number", "value": $occupancy},
   "location": {"type": "geo:json", "value": {"type": "Point", "coordinates": [-3.70$i, 40.41$i]}}}]}
JSON
  echo "updated Spot-00$i: $status, occupancy $occupancy"
  sleep 1
done

sleep 3
psql_() { "${compose[@]}" exec -T postgis psql -U postgres -d kafnus -c "$1"; }
psql_ "SELECT entityid, timeinstant, status, occupancy, ST_AsText(location) AS location FROM smartcity.parking_parkingspot ORDER BY timeinstant DESC LIMIT 6"
psql_ "SELECT entityid, timeinstant, status, occupancy FROM smartcity.parking_parkingspot_lastdata ORDER BY entityid"
curl -s "$kafnus/metrics" | grep -E '^(messages_processed_total|kafnus_rows_written_total)' || true
echo "Grafana: http://127.0.0.1:3000 (dashboard Kafnus)   Prometheus: http://127.0.0.1:9090"
