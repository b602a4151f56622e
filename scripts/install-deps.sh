#!/usr/bin/env bash
# Installs everything Kafnus needs to build, test and demo on a fresh Debian 12
# machine: the C++ toolchain and libraries from Debian, PostgreSQL 15 + PostGIS,
# promtool, and Apache Kafka (jars from Maven Central) into .deps/ (git-ignored).
# Idempotent: a second run only checks what is already there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/versions.sh
source "$root/scripts/versions.sh"

apt_packages=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  libcaf-dev librdkafka-dev prometheus-cpp-dev libpqxx-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libsimdjson-dev libspdlog-dev libfmt-dev
  libcli11-dev libcivetweb-dev libjemalloc-dev
  postgresql-15 postgresql-15-postgis-3 postgresql-client-15
  prometheus
  clang libclang-rt-14-dev clang-format clang-tidy shellcheck
  default-jre-headless maven
  python3 python3-matplotlib kcat
  podman runc mmdebstrap docker-compose
)

log() { printf '[install-deps] %s\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    log "not root and no sudo: cannot install Debian packages"; fi
fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Java and Maven may come from the machine rather than from Debian packages.
if command -v java >/dev/null 2>&1; then missing=("${missing[@]/default-jre-headless}"); fi
if command -v mvn >/dev/null 2>&1; then missing=("${missing[@]/maven}"); fi
clean=()
for p in "${missing[@]}"; do [ -n "$p" ] && clean+=("$p"); done

if [ "${#clean[@]}" -gt 0 ]; then
  log "installing Debian packages: ${clean[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists of a fresh machine are empty or stale.
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${clean[@]}" >/dev/null
else
  log "Debian packages: all present"
fi

# A PostgreSQL the machine already runs (Debian's package starts a cluster on
# 5432) is left alone: scripts/services.sh runs its own cluster under .deps/ on
# a free port, and never stops, reconfigures or takes a server it did not start.

# Apache Kafka from Maven Central: kafka_2.13 and its runtime dependencies.
kafka_dir="$root/.deps/kafka-$KAFKA_VERSION"
if [ -f "$kafka_dir/.complete" ]; then
  log "Apache Kafka $KAFKA_VERSION: present in $kafka_dir"
else
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central"
  work="$root/.deps/kafka-fetch"
  rm -rf "$work" "$kafka_dir"
  mkdir -p "$work" "$kafka_dir/libs"
  cat > "$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.kafnus</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  (cd "$work" && mvn -q -B dependency:copy-dependencies \
      -DoutputDirectory="$kafka_dir/libs" -DincludeScope=runtime)
  touch "$kafka_dir/.complete"
  rm -rf "$work"
  log "Apache Kafka $KAFKA_VERSION: $(find "$kafka_dir/libs" -name '*.jar' | wc -l) jars in $kafka_dir/libs"
fi
