#!/usr/bin/env bash
# Local real services for the demo, the tests and the benchmark:
#   - Apache Kafka (single-node KRaft) on 127.0.0.1:9092 (PLAINTEXT) and
#     127.0.0.1:9094 (SASL_PLAINTEXT, PLAIN user "kafnus" / "kafnus-secret")
#   - PostgreSQL 15 + PostGIS on 127.0.0.1:5432, database "tests" with PostGIS
# Data, logs and pid files live under .deps/ (git-ignored), never in the system
# cluster. Usage: scripts/services.sh start|stop|status|restart-postgres|
#                 stop-postgres|start-postgres|stop-kafka|start-kafka
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/versions.sh
source "$root/scripts/versions.sh"

deps="$root/.deps"
run="$deps/run"
logs="$deps/logs"
kafka_libs="$deps/kafka-$KAFKA_VERSION/libs"
kafka_data="$deps/kafka-data"
pg_data="$deps/pg-data"
pg_bin="/usr/lib/postgresql/15/bin"

KAFKA_PORT=9092
KAFKA_SASL_PORT=9094
KAFKA_CONTROLLER_PORT=9093
PG_PORT=5432
PG_DATABASE=tests

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, run it as the "postgres" system
# user (created by Debian's package); as a normal user, run it as that user.
pg_user() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- Kafka
kafka_config() {
  mkdir -p "$kafka_data" "$logs" "$run"
  cat > "$deps/kafka-server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT
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
  [ -f "$kafka_libs/../.complete" ] || die "Kafka jars missing: run scripts/install-deps.sh first"
  if pid_alive "$run/kafka.pid"; then log "Kafka already running (pid $(cat "$run/kafka.pid"))"; return; fi
  port_open $KAFKA_PORT && die "port $KAFKA_PORT is taken by another process; stop it first"
  kafka_config
  local cp="$kafka_libs/*"
  if [ ! -f "$kafka_data/meta.properties" ]; then
    local cluster_id
    cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)"
    java -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$deps/kafka-server.properties" >"$logs/kafka-format.log" 2>&1 \
      || die "formatting KRaft storage failed, see $logs/kafka-format.log"
  fi
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
  # The JVM options of Kafka's own kafka-server-start.sh (KAFKA_JVM_PERFORMANCE_OPTS):
  # G1 aiming at 20 ms pauses. With G1's 200 ms default the broker's young
  # collections paused produce and fetch for ~30 ms every few seconds.
  nohup java -Xms256m -Xmx768m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$deps/kafka-log4j2.yaml" \
    -cp "$cp" kafka.Kafka "$deps/kafka-server.properties" \
    >"$logs/kafka.log" 2>&1 < /dev/null &
  echo $! > "$run/kafka.pid"
  local i
  for i in $(seq 1 120); do
    if kcat -b 127.0.0.1:$KAFKA_PORT -L -m 2 >/dev/null 2>&1; then
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
    local i
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$run/kafka.pid"
}

# ----------------------------------------------------------- PostgreSQL
pg_ctl_() { as_pg "$pg_bin/pg_ctl" -D "$pg_data" "$@"; }

pg_start() {
  [ -x "$pg_bin/postgres" ] || die "PostgreSQL 15 missing: run scripts/install-deps.sh first"
  mkdir -p "$logs" "$run"
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    mkdir -p "$pg_data"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$pg_data"
    chmod 700 "$pg_data"
    as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$logs/pg-initdb.log" 2>&1 || die "initdb failed, see $logs/pg-initdb.log"
    cat >> "$pg_data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$pg_data'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
timezone = 'UTC'
log_min_messages = warning
EOF
  fi
  if as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "PostgreSQL already running"
  else
    port_open $PG_PORT && die "port $PG_PORT is taken by another process (a system PostgreSQL?); stop it first"
    log "starting PostgreSQL 15 + PostGIS on 127.0.0.1:$PG_PORT"
    touch "$logs/postgres.log"; [ "$(id -u)" -eq 0 ] && chown postgres: "$logs/postgres.log"
    pg_ctl_ -l "$logs/postgres.log" -w -t 60 start >/dev/null \
      || die "PostgreSQL did not start, see $logs/postgres.log"
  fi
  local i
  for i in $(seq 1 60); do
    "$pg_bin/pg_isready" -h 127.0.0.1 -p $PG_PORT -q && break
    sleep 0.5
  done
  "$pg_bin/pg_isready" -h 127.0.0.1 -p $PG_PORT -q || die "PostgreSQL does not accept connections"
  if ! psql -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$PG_DATABASE'" | grep -q 1; then
    psql -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres -qc "CREATE DATABASE $PG_DATABASE" >/dev/null
  fi
  PGOPTIONS=--client-min-messages=warning psql -h 127.0.0.1 -p $PG_PORT -U postgres -d $PG_DATABASE -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  log "PostgreSQL is accepting connections (database '$PG_DATABASE' with PostGIS)"
}

pg_stop() {
  if [ -f "$pg_data/PG_VERSION" ] && as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    pg_ctl_ -m fast -w -t 60 stop >/dev/null || true
  fi
}

status() {
  local rc=0
  if pid_alive "$run/kafka.pid" && port_open $KAFKA_PORT; then
    log "Kafka: running (pid $(cat "$run/kafka.pid")) on 127.0.0.1:$KAFKA_PORT"
  else log "Kafka: stopped"; rc=1; fi
  if [ -f "$pg_data/PG_VERSION" ] && as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "PostgreSQL: running on 127.0.0.1:$PG_PORT"
  else log "PostgreSQL: stopped"; rc=1; fi
  return $rc
}

case "${1:-}" in
  start) pg_start; kafka_start ;;
  stop) kafka_stop; pg_stop ;;
  status) status ;;
  start-postgres) pg_start ;;
  stop-postgres) pg_stop ;;
  restart-postgres) pg_stop; pg_start ;;
  start-kafka) kafka_start ;;
  stop-kafka) kafka_stop ;;
  reset) kafka_stop; pg_stop; rm -rf "$kafka_data" "$pg_data"; log "data removed" ;;
  *) echo "usage: $0 start|stop|status|reset|start-postgres|stop-postgres|restart-postgres|start-kafka|stop-kafka" >&2; exit 2 ;;
esac
