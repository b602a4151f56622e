#pragma once
// What /health, /healthz and /readyz say: pure functions of the live
// health_state the actors maintain, the current time and the Kafka grace
// (admin.kafka_down_after_s), so every verdict can be tested without a
// broker or a clock.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "telemetry/metrics.hpp"

namespace kafnus {

// Ready: consuming (subscribed, assigned or waiting for an assignment), the
// database reachable, and Kafka not lost for longer than `kafka_grace`.
// Kafka counts as lost from the daemon's start until its first connection
// and from each disconnection until the next (health_state::kafka_down_since_ms);
// the grace lets a start or a broker restart pass without a DOWN, and a
// daemon that is only waiting for Kafka stays alive (/healthz is 200).
// Drives the 200/503 of /health and /readyz.
struct readiness {
  bool ready = false;
  std::vector<std::string> reasons;  // why not ready, for operators; empty when ready
};
readiness assess(const health_state& h, std::chrono::system_clock::time_point now, std::chrono::seconds kafka_grace);

// How long Kafka has been lost at `now` (zero while connected).
std::chrono::milliseconds kafka_down_for(const health_state& h, std::chrono::system_clock::time_point now);

// The /health body: status and the reasons behind it, uptime, version,
// connection states and per-flow counts with the time of the last processed
// message.
std::string health_json(const health_state& h, std::chrono::system_clock::time_point now,
                        std::chrono::seconds kafka_grace);

// The /healthz body: the process is alive and serving.
std::string liveness_json(const health_state& h, std::chrono::system_clock::time_point now);

// The /readyz body: the readiness verdict, its reasons and the conditions behind it.
std::string readiness_json(const health_state& h, std::chrono::system_clock::time_point now,
                           std::chrono::seconds kafka_grace);

// "2024-05-01T12:00:00.123Z" for milliseconds since the epoch.
std::string iso8601_utc(std::int64_t ms_since_epoch);

}  // namespace kafnus
