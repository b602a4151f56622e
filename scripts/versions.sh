# shellcheck shell=bash
# Pinned versions of what scripts/install-deps.sh fetches outside Debian.
# shellcheck disable=SC2034
KAFKA_VERSION=4.3.1        # org.apache.kafka:kafka_2.13 (KRaft broker, Java 17)
LOG4J_VERSION=2.25.4       # log4j-slf4j-impl: the broker's logging binding
