#!/usr/bin/env bash
# Local real services for the demo, the tests and the benchmark:
#   - Apache Kafka (single-node KRaft): PLAINTEXT on 127.0.0.1:9092, SASL_PLAINTEXT
#     (PLAIN user "kafnus" / "kafnus-secret") on 9094, its controller on 9093
#   - PostgreSQL 15 + PostGIS on 127.0.0.1:5432, database "tests" with PostGIS
# Ports: a default port another process holds is replaced by a free one, said in
# one line. KAFNUS_DEV_PG_PORT, KAFNUS_DEV_KAFKA_PORT, KAFNUS_DEV_KAFKA_SASL_PORT
# and KAFNUS_DEV_KAFKA_CONTROLLER_PORT choose them (a chosen port another process
# holds is an error). The ports in use are kept in .deps/services.env, which the
# tests, the demo and the bench follow; `scripts/services.sh env` prints them as
# shell exports. Nothing here stops, reconfigures or takes the port of a server
# it did not start.
# Data, logs and pid files live under .deps/ (git-ignored). As root, PostgreSQL
# runs as user postgres; when postgres cannot reach .deps (a clone in a private
# directory, e.g. root's home), its data, log and socket live in
# /var/lib/kafnus-dev/<hash of the clone's path>/ (owner postgres, mode 0700).
# KAFNUS_DEV_KAFKA_LIBS: the Kafka jars to run (default: the ones
# scripts/install-deps.sh fetched into .deps/).
# Usage: scripts/services.sh start|stop|status|env|reset|restart-postgres|
#        stop-postgres|start-postgres|stop-kafka|start-kafka
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/versions.sh
source "$root/scripts/versions.sh"

deps="$root/.deps"
run="$deps/run"
logs="$deps/logs"
state="$deps/services.env"
kafka_libs="${KAFNUS_DEV_KAFKA_LIBS:-$deps/kafka-$KAFKA_VERSION/libs}"
kafka_data="$deps/kafka-data"
pg_bin="/usr/lib/postgresql/15/bin"
pg_private_base="/var/lib/kafnus-dev"
PG_DATABASE=tests

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# PostgreSQL refuses to run as root: as root, run it as the "postgres" system
# user (created by Debian's package); as a normal user, run it as that user.
# Its tools run from / so that they can read their working directory.
as_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

is_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }

# ----------------------------------------------------------------- ports
# Each port is KAFNUS_DEV_<NAME>_PORT when a service starts, else the one
# .deps/services.env recorded, else its default.
port_names=(PG KAFKA KAFKA_SASL KAFKA_CONTROLLER)
declare -A port=([PG]=5432 [KAFKA]=9092 [KAFKA_SASL]=9094 [KAFKA_CONTROLLER]=9093)
declare -A port_label=([PG]="PostgreSQL" [KAFKA]="Kafka" [KAFKA_SASL]="Kafka's SASL listener"
                       [KAFKA_CONTROLLER]="Kafka's controller")
declare -A wanted=()
# Where PostgreSQL's data, log and socket live when not in .deps (as root, when
# postgres cannot reach .deps); empty: in .deps.
pg_home=""

if [ -f "$state" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      KAFNUS_DEV_PG_DIR) pg_home="$value" ;;
      KAFNUS_DEV_*_PORT)
        name="${key#KAFNUS_DEV_}"; name="${name%_PORT}"
        if [ -n "${port[$name]+set}" ]; then
          is_port "$value" || die "$state: $key=$value is not a port; delete the file to choose again"
          port[$name]="$value"
        fi ;;
    esac
  done < "$state"
fi
if [ -n "$pg_home" ] && [[ ! "$pg_home" =~ ^$pg_private_base/[0-9a-f]{12}$ ]]; then
  die "$state: KAFNUS_DEV_PG_DIR=$pg_home is not a folder this script makes; remove that line"
fi
for name in "${port_names[@]}"; do
  var="KAFNUS_DEV_${name}_PORT"
  if [ -n "${!var:-}" ]; then
    is_port "${!var}" || die "$var=${!var} is not a port (1-65535)"
    wanted[$name]="${!var}"
  fi
done

save_state() {
  mkdir -p "$deps"
  {
    echo "# Written by scripts/services.sh: the ports its services listen on (127.0.0.1)"
    echo "# and where PostgreSQL keeps its data when not in .deps. The tests, the demo and"
    echo "# the bench read it. KAFNUS_DEV_<NAME>_PORT at start chooses a port."
    for name in "${port_names[@]}"; do echo "KAFNUS_DEV_${name}_PORT=${port[$name]}"; done
    if [ -n "$pg_home" ]; then echo "KAFNUS_DEV_PG_DIR=$pg_home"; fi
  } > "$state.tmp"
  mv "$state.tmp" "$state"
}

# Who holds port $1 if service $2 wanted it: another of these services (by its
# port), or another process listening on it; nothing when it is free.
port_holder() {
  local other
  for other in "${port_names[@]}"; do
    if [ "$other" != "$2" ] && [ "${port[$other]}" = "$1" ]; then echo "${port_label[$other]}"; return; fi
  done
  if port_open "$1"; then echo "another process"; fi
}

# The first free port after $1 for service $2.
free_port_after() {
  local p
  for p in $(seq $(($1 + 1)) $(($1 + 200))); do
    if [ "$p" -le 65535 ] && [ -z "$(port_holder "$p" "$2")" ]; then echo "$p"; return; fi
  done
  die "no free port in $(($1 + 1))-$(($1 + 200)) for ${port_label[$2]}; choose one with KAFNUS_DEV_${2}_PORT"
}

# Settles the ports of a service about to start (names in $@): a port a
# variable chose must be free; a taken one no variable chose is replaced by a
# free port. Records them in .deps/services.env.
claim_ports() {
  local name var p holder
  for name in "$@"; do
    if [ -n "${wanted[$name]:-}" ]; then port[$name]="${wanted[$name]}"; fi
  done
  for name in "$@"; do
    var="KAFNUS_DEV_${name}_PORT"
    p="${port[$name]}"
    holder="$(port_holder "$p" "$name")"
    [ -n "$holder" ] || continue
    if [ -n "${wanted[$name]:-}" ]; then
      die "port $p, chosen by $var, is taken by $holder; choose a free port with $var=<port>, or unset $var to have one picked"
    fi
    port[$name]="$(free_port_after "$p" "$name")"
    log "port $p is taken by $holder: ${port_label[$name]} listens on ${port[$name]} instead (choose with $var)"
  done
  save_state
}

# A service already running keeps its ports (a variable asking for another is
# an error); records them, for a cluster started before this file existed.
keep_ports() {
  local name var
  for name in "$@"; do
    var="KAFNUS_DEV_${name}_PORT"
    if [ -n "${wanted[$name]:-}" ] && [ "${wanted[$name]}" != "${port[$name]}" ]; then
      die "${port_label[$name]} already runs on port ${port[$name]}; stop it (scripts/services.sh stop) to move it to $var=${wanted[$name]}"
    fi
  done
  save_state
}

# ---------------------------------------------------------------- Kafka
kafka_config() {
  mkdir -p "$logs" "$run"
  install -d -m 0700 "$kafka_data"
  cat > "$deps/kafka-server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${port[KAFKA_CONTROLLER]}
listeners=PLAINTEXT://127.0.0.1:${port[KAFKA]},CONTROLLER://127.0.0.1:${port[KAFKA_CONTROLLER]},SASL_PLAINTEXT://127.0.0.1:${port[KAFKA_SASL]}
advertised.listeners=PLAINTEXT://127.0.0.1:${port[KAFKA]},SASL_PLAINTEXT://127.0.0.1:${port[KAFKA_SASL]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_kafnus="kafnus-secret";
log.dirs=$kafka_data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.ms=1000
# Large records (the hostile-input tests send 10 MB values).
message.max.bytes=33554432
EOF
  cat > "$deps/kafka-log4j2.yaml" <<EOF
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
EOF
}

kafka_start() {
  [ -f "$kafka_libs/../.complete" ] \
    || die "Kafka jars missing in $kafka_libs: run scripts/install-deps.sh first"
  if pid_alive "$run/kafka.pid"; then
    keep_ports KAFKA KAFKA_SASL KAFKA_CONTROLLER
    log "Kafka already running (pid $(cat "$run/kafka.pid")) on 127.0.0.1:${port[KAFKA]}"
    return
  fi
  claim_ports KAFKA KAFKA_SASL KAFKA_CONTROLLER
  kafka_config
  local cp="$kafka_libs/*"
  if [ ! -f "$kafka_data/meta.properties" ]; then
    local cluster_id
    cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)"
    java -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$deps/kafka-server.properties" >"$logs/kafka-format.log" 2>&1 \
      || die "formatting KRaft storage failed, see $logs/kafka-format.log"
  fi
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:${port[KAFKA]} (SASL ${port[KAFKA_SASL]}, controller ${port[KAFKA_CONTROLLER]})"
  # The JVM options of Kafka's own kafka-server-start.sh: its heap
  # (KAFKA_HEAP_OPTS, 1 GiB) and G1 aiming at 20 ms pauses
  # (KAFKA_JVM_PERFORMANCE_OPTS). With G1's 200 ms default the broker's young
  # collections paused produce and fetch for ~30 ms every few seconds; with a
  # 256-768 MiB heap they paused them ~10 ms every ~2 s at 5,000 records/s,
  # with 1 GiB a few times a minute (bench/README.md, 2026-12-05 evening).
  nohup java -Xms1g -Xmx1g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$deps/kafka-log4j2.yaml" \
    -cp "$cp" kafka.Kafka "$deps/kafka-server.properties" \
    >"$logs/kafka.log" 2>&1 < /dev/null &
  echo $! > "$run/kafka.pid"
  local _
  for _ in $(seq 1 120); do
    if kcat -b "127.0.0.1:${port[KAFKA]}" -L -m 2 >/dev/null 2>&1; then
      log "Kafka is accepting connections"; return; fi
    pid_alive "$run/kafka.pid" || die "Kafka exited during start, see $logs/kafka.log"
    sleep 0.5
  done
  die "Kafka did not accept connections within 60 s, see $logs/kafka.log"
}

kafka_stop() {
  if pid_alive "$run/kafka.pid"; then
    local pid; pid="$(cat "$run/kafka.pid")"
    log "stopping Kafka (pid $pid)"
    kill "$pid" 2>/dev/null || true
    local _
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$run/kafka.pid"
}

# ----------------------------------------------------------- PostgreSQL
pg_paths() {
  if [ -n "$pg_home" ]; then
    pg_data="$pg_home/pg-data"; pg_log="$pg_home/postgres.log"
  else
    pg_data="$deps/pg-data"; pg_log="$logs/postgres.log"
  fi
}
pg_paths

# As root, a cluster not made yet goes where user postgres can reach it: .deps
# when postgres can, else a folder of its own under /var/lib/kafnus-dev.
pg_place() {
  mkdir -p "$logs" "$run"
  if [ -z "$pg_home" ] && is_root && [ ! -f "$pg_data/PG_VERSION" ] && ! as_pg test -x "$logs"; then
    pg_home="$pg_private_base/$(printf '%s' "$root" | sha256sum | cut -c1-12)"
    pg_paths
    save_state
    log "user postgres cannot reach $deps (a private directory): PostgreSQL data in $pg_data"
  fi
  if [ -n "$pg_home" ]; then
    install -d -m 0711 "$pg_private_base"
    install -d -m 0700 -o postgres -g postgres "$pg_home"
    # Says which clone the folder belongs to, for whoever finds it.
    printf '%s\n' "$root" > "$pg_home/clone"
  fi
}

pg_ctl_() { as_pg "$pg_bin/pg_ctl" -D "$pg_data" "$@"; }

pg_running() { [ -f "$pg_data/PG_VERSION" ] && pg_ctl_ status >/dev/null 2>&1; }

psql_() { psql -h 127.0.0.1 -p "${port[PG]}" -U postgres "$@"; }

pg_start() {
  [ -x "$pg_bin/postgres" ] || die "PostgreSQL 15 missing: run scripts/install-deps.sh first"
  if pg_running; then
    keep_ports PG
    log "PostgreSQL already running on 127.0.0.1:${port[PG]} (data in $pg_data)"
  else
    claim_ports PG
    pg_place
    if [ ! -f "$pg_data/PG_VERSION" ]; then
      mkdir -p "$pg_data"
      if is_root; then chown -R postgres: "$pg_data"; fi
      chmod 700 "$pg_data"
      as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$logs/pg-initdb.log" 2>&1 || die "initdb failed, see $logs/pg-initdb.log"
      # No port here: pg_ctl passes the one of .deps/services.env at each start.
      cat >> "$pg_data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg_data'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
timezone = 'UTC'
log_min_messages = warning
EOF
    fi
    log "starting PostgreSQL 15 + PostGIS on 127.0.0.1:${port[PG]} (data in $pg_data, log $pg_log)"
    touch "$pg_log"; chmod 600 "$pg_log"
    if is_root; then chown postgres: "$pg_log"; fi
    pg_ctl_ -l "$pg_log" -o "-p ${port[PG]}" -w -t 60 start >/dev/null \
      || die "PostgreSQL did not start, see $pg_log"
  fi
  local _
  for _ in $(seq 1 60); do
    "$pg_bin/pg_isready" -h 127.0.0.1 -p "${port[PG]}" -q && break
    sleep 0.5
  done
  "$pg_bin/pg_isready" -h 127.0.0.1 -p "${port[PG]}" -q || die "PostgreSQL does not accept connections"
  if ! psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$PG_DATABASE'" | grep -q 1; then
    psql_ -d postgres -qc "CREATE DATABASE $PG_DATABASE" >/dev/null
  fi
  PGOPTIONS=--client-min-messages=warning psql_ -d $PG_DATABASE -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  log "PostgreSQL is accepting connections (database '$PG_DATABASE' with PostGIS)"
}

pg_stop() {
  if pg_running; then
    log "stopping PostgreSQL"
    pg_ctl_ -m fast -w -t 60 stop >/dev/null || true
  fi
}

status() {
  local rc=0
  if pid_alive "$run/kafka.pid" && port_open "${port[KAFKA]}"; then
    log "Kafka: running (pid $(cat "$run/kafka.pid")) on 127.0.0.1:${port[KAFKA]} (SASL ${port[KAFKA_SASL]}, controller ${port[KAFKA_CONTROLLER]})"
  else log "Kafka: stopped"; rc=1; fi
  if pg_running; then
    log "PostgreSQL: running on 127.0.0.1:${port[PG]} (data in $pg_data)"
  else log "PostgreSQL: stopped"; rc=1; fi
  return $rc
}

# What a client needs to reach the services, as shell exports under the names
# the tests read (scripts/with-services.sh and scripts/demo.sh eval them).
env_exports() {
  echo "export KAFNUS_TEST_BROKERS=127.0.0.1:${port[KAFKA]}"
  echo "export KAFNUS_TEST_SASL_BROKERS=127.0.0.1:${port[KAFKA_SASL]}"
  echo "export KAFNUS_TEST_PG_HOST=127.0.0.1"
  echo "export KAFNUS_TEST_PG_PORT=${port[PG]}"
}

reset() {
  kafka_stop; pg_stop
  rm -rf "$kafka_data" "$pg_data"
  if [ -n "$pg_home" ]; then rm -rf "$pg_home"; fi
  rm -f "$state"
  log "data removed"
}

case "${1:-}" in
  start) pg_start; kafka_start ;;
  stop) kafka_stop; pg_stop ;;
  status) status ;;
  env) env_exports ;;
  reset) reset ;;
  start-postgres) pg_start ;;
  stop-postgres) pg_stop ;;
  restart-postgres) pg_stop; pg_start ;;
  start-kafka) kafka_start ;;
  stop-kafka) kafka_stop ;;
  *) echo "usage: $0 start|stop|status|env|reset|start-postgres|stop-postgres|restart-postgres|start-kafka|stop-kafka" >&2; exit 2 ;;
esac
